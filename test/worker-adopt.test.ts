// The example worker's --adopt mode: one process works for the agents others spawn (a visualiser's agent_spawn calls),
// so their tasks really run, as a compose deployment's worker service does.
import { join } from "node:path";
import t, { type Test } from "tap";
import { agentAttach, agentList, agentSpawn, agentStatus, agentTerminate, agentUsage, swarmInit, taskOrchestrate, taskWait } from "../src/protocol/tools/index.js";
import { LineClient } from "../scripts/line-client.js";
import { daemonWithClient, freePort, tempDir } from "./helpers/daemon.js";
import { spawnListening } from "./helpers/spawn.js";
import { callTool } from "./helpers/tools.js";
import { startAdoptingWorker, type Worker } from "./helpers/workers.js";

const HEARTBEAT = ["--heartbeat", "0.2"];

/** Runs a shell task needing `capability` and returns what it printed; 20 s at most. */
async function run(t: Test, c: LineClient, swarmId: string, script: string, capability: string): Promise<string> {
  const { taskId } = await callTool(t, c, taskOrchestrate, { swarmId, task: script, requiredCapabilities: [capability] });
  const done = await callTool(t, c, taskWait, { taskId, timeoutMs: 20_000 });
  t.equal(done.status, "completed", script);
  return (done.result as { stdout: string }).stdout;
}

/** Waits until the worker's log has a line matching `pattern`; 10 s at most. */
async function logged(w: Worker, pattern: RegExp): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (!w.log.some((l) => pattern.test(l)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return w.log.some((l) => pattern.test(l));
}

t.test("--adopt works for agents that others spawn, as they are spawned, and their tasks run", async (t) => {
  const { d, c } = await daemonWithClient(t);
  const w = startAdoptingWorker(t, d.port, HEARTBEAT);
  await logged(w, /adopting the agents no worker serves, of every active swarm/);
  // VisionFlow's calls, after the worker started: a swarm, then agents by type.
  const { swarmId } = await callTool(t, c, swarmInit, { topology: "mesh", maxAgents: 10, strategy: "balanced" });
  const coder = await callTool(t, c, agentSpawn, { type: "coder", swarmId });
  const tester = await callTool(t, c, agentSpawn, { agentType: "tester", swarmId });
  await w.attached(2);
  const listed = await callTool(t, c, agentList, { swarmId });
  t.same(listed.agents.map((a) => [a.id, a.status, a.runtime.kind, a.runtime.attached]), [
    [coder.agentId, "idle", "worker", true],
    [tester.agentId, "idle", "worker", true],
  ]);
  t.equal(await run(t, c, swarmId, "echo $SWARMD_AGENT_ID", "testing"), `${tester.agentId}\n`, "the tester ran the tester's task");
  t.equal(await run(t, c, swarmId, "echo $SWARMD_AGENT_ID", "code"), `${coder.agentId}\n`, "and the coder the coder's");
});

t.test("--adopt leaves other workers' agents and those --swarm and --type exclude, and lets go when told", async (t) => {
  const { d, c } = await daemonWithClient(t);
  const one = await callTool(t, c, swarmInit, { initialAgents: [{ type: "coder" }, { type: "coder" }, { type: "tester" }] });
  const two = await callTool(t, c, swarmInit, { initialAgents: [{ type: "coder" }] });
  const [served, free] = one.agents.map((a) => a.agentId) as [string, string];
  const other = await LineClient.connect(d.port);
  t.teardown(() => other.close());
  await callTool(t, other, agentAttach, { agentId: served });

  const w = startAdoptingWorker(t, d.port, [...HEARTBEAT, "--swarm", one.swarmId, "--type", "coder"]);
  await w.attached(1);
  await new Promise((r) => setTimeout(r, 600)); // three more looks
  const attached = async (swarmId: string) => (await callTool(t, c, agentList, { swarmId })).agents.filter((a) => a.runtime.attached).map((a) => a.id);
  t.same((await attached(one.swarmId)).sort(), [served, free].sort(), "the free coder of its swarm (and the one served already), not the tester");
  t.same(await attached(two.swarmId), [], "nor the other swarm's coder");
  t.same(w.log.filter((l) => l.includes("attached")), [`[worker] attached ${free} (push)`], "it attached to the free coder alone");

  // The other worker goes away: its agent is offline, and adopted at the next look.
  other.close();
  await w.attached(2);
  t.ok(w.log.some((l) => l.includes(`attached ${served}`)), "the agent whose worker left is adopted");
  t.equal((await callTool(t, c, agentStatus, { agentId: served })).status, "idle", "and live again");

  // Terminated: let go. Taken over by another worker: let go, and not taken back while that worker serves it.
  await callTool(t, c, agentTerminate, { agentId: free });
  t.ok(await logged(w, new RegExp(`terminated: ${free}`)), "a terminated agent is let go");
  const again = await LineClient.connect(d.port);
  t.teardown(() => again.close());
  await callTool(t, again, agentAttach, { agentId: served, takeover: true });
  t.ok(await logged(w, new RegExp(`detached: ${served} \\(takeover\\)`)), "an agent taken over is let go");
  await new Promise((r) => setTimeout(r, 600));
  const report = await callTool(t, again, agentUsage, { agentId: served, cpuPercent: 1, memoryPercent: 1 });
  t.same(report.agentIds, [served], "the new worker still serves it: --adopt took nothing back");
  t.equal(w.log.filter((l) => l.includes(`attached ${served}`)).length, 1, "attached to it once");
});

t.test("--adopt: each agent shows what its own commands use, not the whole worker's", async (t) => {
  const { d, c } = await daemonWithClient(t);
  const { swarmId, agents } = await callTool(t, c, swarmInit, { initialAgents: [{ type: "coder" }, { type: "tester" }] });
  const [coder, tester] = agents.map((a) => a.agentId) as [string, string];
  const w = startAdoptingWorker(t, d.port, HEARTBEAT);
  await w.attached(2);
  await callTool(t, c, taskOrchestrate, { swarmId, task: 'timeout 3 sh -c "while :; do :; done"; true', requiredCapabilities: ["testing"] });
  const deadline = Date.now() + 15_000;
  let seen: Array<[string, number | null, string]> = [];
  while (Date.now() < deadline) {
    const listed = (await callTool(t, c, agentList, { swarmId })).agents;
    seen = listed.map((a) => [a.id, a.cpu_usage, a.status]);
    const busy = listed.find((a) => a.id === tester);
    if (busy?.status === "busy" && (busy.cpu_usage ?? 0) >= 50) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const [idle, busy] = [seen.find(([id]) => id === coder), seen.find(([id]) => id === tester)];
  t.ok((busy?.[1] ?? 0) >= 50, `the tester's busy loop shows on the tester (${busy?.[1]}% CPU)`);
  t.ok(idle?.[1] !== null && (idle?.[1] ?? 100) < 20, `the idle coder beside it shows its own, idle figure (${idle?.[1]}%)`);
});

t.test("--adopt after a daemon restart: the agents come back offline, and are adopted again", async (t) => {
  const db = join(tempDir(t), "adopt.db");
  const port = await freePort();
  const first = await spawnListening(t, ["--db", db, "--port", String(port)]);
  const c = await LineClient.connect(port);
  const { swarmId, agents } = await callTool(t, c, swarmInit, { initialAgents: [{ type: "coder" }] });
  const w = startAdoptingWorker(t, port, HEARTBEAT);
  await w.attached(1);
  first.proc.kill("SIGKILL");
  await first.exited;
  c.close();
  await spawnListening(t, ["--db", db, "--port", String(port)]);
  await w.attached(2);
  const r = await LineClient.connect(port);
  t.teardown(() => r.close());
  t.equal(await run(t, r, swarmId, "echo $SWARMD_AGENT_ID", "code"), `${agents[0]?.agentId}\n`);
});
