import { join } from "node:path";
import t, { type Test } from "tap";
import {
  agentAttach,
  agentList,
  agentSpawn,
  swarmInit,
  swarmList,
  swarmStatus,
  taskOrchestrate,
  taskStatus,
  taskWait,
} from "../src/protocol/tools/index.js";
import { LineClient } from "../scripts/line-client.js";
import { freePort, tempDir } from "./helpers/daemon.js";
import { spawnListening } from "./helpers/spawn.js";
import { callTool } from "./helpers/tools.js";
import { startWorker } from "./helpers/workers.js";

async function connect(t: Test, port: number): Promise<LineClient> {
  const c = await LineClient.connect(port);
  t.teardown(() => c.close());
  return c;
}

t.test("after kill -9 and a new start, swarms and agents are as they were; worker-run agents are offline", async (t) => {
  const db = join(tempDir(t), "restart.db");
  const first = await spawnListening(t, ["--db", db]);
  const c = await connect(t, first.port);
  const kept = await callTool(t, c, swarmInit, { topology: "ring", name: "kept", initialAgents: [{ type: "coordinator" }, { type: "coder" }] });
  await callTool(t, c, agentSpawn, { type: "tester", swarmId: kept.swarmId, name: "T" });
  const worker = await connect(t, first.port);
  await callTool(t, worker, agentAttach, { agentId: kept.agents[1]?.agentId as string });
  const before = {
    list: await callTool(t, c, swarmList, {}),
    status: await callTool(t, c, swarmStatus, { swarmId: kept.swarmId, include_topology: true }),
    agents: await callTool(t, c, agentList, { swarmId: kept.swarmId }),
  };
  first.proc.kill("SIGKILL");
  await first.exited;

  const second = await spawnListening(t, ["--db", db]);
  const r = await connect(t, second.port);
  const list = await callTool(t, r, swarmList, {});
  t.same(
    list,
    { ...before.list, swarms: before.list.swarms.map((x) => ({ ...x, activeAgents: x.activeAgents - 1 })) },
    "swarm_list is unchanged but for the agent that lost its worker",
  );
  const status = await callTool(t, r, swarmStatus, { swarmId: kept.swarmId, include_topology: true });
  t.same(status.graph, { ...before.status.graph, nodes: before.status.graph?.nodes.map((n) => (n.id === kept.agents[1]?.agentId ? { ...n, status: "offline" } : n)) });
  const agents = await callTool(t, r, agentList, { swarmId: kept.swarmId });
  t.same(
    agents.agents.map((a) => [a.id, a.name, a.type, a.status, a.runtime.kind, a.runtime.attached]),
    before.agents.agents.map((a) => [a.id, a.name, a.type, a.id === kept.agents[1]?.agentId ? "offline" : a.status, a.runtime.kind, false]),
    "the same agents; the one whose worker died is offline, not active",
  );
  t.same(agents.agents.map((a) => a.createdAt), before.agents.agents.map((a) => a.createdAt));
});

t.test("kill -9 mid-run: after a restart the workers come back and the swarm finishes the work", async (t) => {
  const db = join(tempDir(t), "midrun.db");
  const port = await freePort();
  const first = await spawnListening(t, ["--db", db, "--port", String(port)]);
  const c = await LineClient.connect(port);
  const swarm = await callTool(t, c, swarmInit, { initialAgents: [{ type: "coder" }, { type: "coder" }] });
  const workers = swarm.agents.map((a) => startWorker(t, port, a.agentId));
  await Promise.all(workers.map((w) => w.attached()));
  const done = await callTool(t, c, taskOrchestrate, { task: "echo early" });
  await callTool(t, c, taskWait, { taskId: done.taskId, timeoutMs: 10_000 });
  const work = [];
  for (let i = 0; i < 4; i++) work.push(await callTool(t, c, taskOrchestrate, { task: `sleep 0.6; echo job ${i}` }));
  const blocked = await callTool(t, c, taskOrchestrate, { task: "echo blocked", requiredCapabilities: ["nobody"] });
  await new Promise((r) => setTimeout(r, 200)); // two jobs are running, two wait
  first.proc.kill("SIGKILL");
  await first.exited;
  c.close();

  const second = await spawnListening(t, ["--db", db, "--port", String(port)]);
  void second;
  const r = await connect(t, port);
  t.same((await callTool(t, r, taskStatus, { taskId: done.taskId })).result, { exitCode: 0, stdout: "early\n", stderr: "" }, "completed results stay readable");
  t.equal((await callTool(t, r, taskStatus, { taskId: blocked.taskId })).status, "pending", "pending stays pending");
  await Promise.all(workers.map((w) => w.attached(2)));
  for (const [i, job] of work.entries()) {
    const v = await callTool(t, r, taskWait, { taskId: job.taskId, timeoutMs: 15_000 });
    t.same([v.status, (v.result as { stdout: string }).stdout], ["completed", `job ${i}\n`], `job ${i} finished after the restart`);
  }
  const restarted = (await Promise.all(work.map((j) => callTool(t, r, taskStatus, { taskId: j.taskId })))).filter((v) =>
    (v.assignments ?? []).some((a) => a.status === "abandoned"),
  );
  t.ok(restarted.length >= 1, `${restarted.length} running assignment(s) were lost with the daemon and redone`);
});
