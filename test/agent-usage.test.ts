import t, { type Test } from "tap";
import { agentAttach, agentList, agentMetrics, agentStatus, agentUsage, swarmInit, swarmStatus, taskOrchestrate } from "../src/protocol/tools/index.js";
import { LineClient } from "../scripts/line-client.js";
import { daemonWithClient, startDaemon } from "./helpers/daemon.js";
import { ManualClock } from "./helpers/clock.js";
import { callTool, toolError } from "./helpers/tools.js";
import { startWorker } from "./helpers/workers.js";

/** A swarm of `n` coders and a connection attached as the worker of each. */
async function attachedCrew(t: Test, port: number, c: LineClient, n: number) {
  const swarm = await callTool(t, c, swarmInit, { initialAgents: Array.from({ length: n }, () => ({ type: "coder" as const })) });
  // Listed before the workers attach: the listing keeps views, and must learn of the workers and their reports.
  t.same((await callTool(t, c, agentList, { swarmId: swarm.swarmId })).agents.map((a) => a.runtime.attached), swarm.agents.map(() => false));
  const worker = await LineClient.connect(port);
  t.teardown(() => worker.close());
  for (const a of swarm.agents) await callTool(t, worker, agentAttach, { agentId: a.agentId });
  return { swarmId: swarm.swarmId, agentIds: swarm.agents.map((a) => a.agentId), worker };
}

t.test("a worker's usage report is what agent_list, agent_status, agent_metrics and swarm_status show, until it goes", async (t) => {
  const { d, c } = await daemonWithClient(t);
  const { swarmId, agentIds, worker } = await attachedCrew(t, d.port, c, 2);
  const [first, second] = agentIds as [string, string];
  // Listed once before the report: the listing keeps the agents' text, and a report changes no row.
  const before = await callTool(t, c, agentList, { swarmId });
  t.same(before.agents.map((a) => [a.cpu_usage, a.memory_usage, a.runtime.usage]), [[null, null, null], [null, null, null]], "nothing reported, nothing shown");

  const report = await callTool(t, worker, agentUsage, { agentId: first, cpuPercent: 37.5, memoryPercent: 2.5, memoryBytes: 210_000_000 });
  t.same(report.agentIds, [first]);
  const listed = await callTool(t, c, agentList, { swarmId });
  const [one, two] = listed.agents;
  t.same([one?.cpu_usage, one?.memory_usage], [37.5, 2.5], "percentages, as health is 0–100");
  t.same([one?.performance.cpu_usage, one?.performance.memory_usage], [0.375, 0.025], "performance holds 0–1 shares, as health_score");
  t.same(one?.runtime.usage, { cpuPercent: 37.5, memoryPercent: 2.5, memoryBytes: 210_000_000, measuredAt: report.measuredAt });
  t.same([two?.cpu_usage, two?.runtime.usage], [null, null], "only the agent the report names");
  t.same((await callTool(t, c, agentStatus, { agentId: first })).cpu_usage, 37.5);
  const metrics = await callTool(t, c, agentMetrics, { agentId: first });
  t.same([metrics.agents[0]?.cpuPercent, metrics.agents[0]?.memoryPercent], [37.5, 2.5]);
  const status = await callTool(t, c, swarmStatus, { swarmId, include_performance: true });
  t.same(status.agents.find((a) => a.id === first)?.cpu_usage, 37.5, "swarm_status as VisionFlow asks for it");

  // Without agentId: every agent this connection works for; a new report replaces the last.
  t.same((await callTool(t, worker, agentUsage, { cpuPercent: 150, memoryPercent: 3 })).agentIds.sort(), [first, second].sort());
  const again = await callTool(t, c, agentList, { swarmId });
  t.same(again.agents.map((a) => [a.cpu_usage, a.memory_usage, a.runtime.usage?.memoryBytes]), [[150, 3, null], [150, 3, null]]);
  t.same(again.agents.map((a) => a.performance.cpu_usage), [1, 1], "one and a half cores is a share of 1 at most");

  // The figures belong to the worker: when its connection closes, the agents are offline and show none.
  worker.close();
  for (let i = 0; i < 100 && (await callTool(t, c, agentStatus, { agentId: first })).status !== "offline"; i++) await new Promise((r) => setTimeout(r, 20));
  const gone = await callTool(t, c, agentList, { swarmId });
  t.same(gone.agents.map((a) => [a.status, a.cpu_usage, a.memory_usage, a.runtime.usage]), [["offline", null, null, null], ["offline", null, null, null]]);
});

t.test("a report is shown for a minute: a worker that stopped reporting is not shown with old figures", async (t) => {
  const clock = new ManualClock();
  const d = await startDaemon(t, {}, { clock });
  const c = await LineClient.connect(d.port);
  t.teardown(() => c.close());
  const { swarmId, agentIds, worker } = await attachedCrew(t, d.port, c, 1);
  await callTool(t, worker, agentUsage, { cpuPercent: 12, memoryPercent: 1 });
  clock.advance(60_000);
  t.same((await callTool(t, c, agentList, { swarmId })).agents[0]?.cpu_usage, 12, "at 60 s it is still shown");
  clock.advance(1);
  const stale = (await callTool(t, c, agentList, { swarmId })).agents[0];
  t.same([stale?.cpu_usage, stale?.memory_usage, stale?.runtime.usage, stale?.status], [null, null, null, "idle"], "past a minute: null, the agent still live");
  t.same((await callTool(t, c, agentStatus, { agentId: agentIds[0] as string })).cpu_usage, null);
  await callTool(t, worker, agentUsage, { cpuPercent: 4, memoryPercent: 1 });
  t.same((await callTool(t, c, agentList, { swarmId })).agents[0]?.cpu_usage, 4, "a new report shows again");
});

t.test("agent_usage refuses reports from connections that are not the worker, and bad figures", async (t) => {
  const { d, c } = await daemonWithClient(t);
  const { agentIds } = await attachedCrew(t, d.port, c, 1);
  const nobody = await toolError(c, "agent_usage", { cpuPercent: 1, memoryPercent: 1 });
  t.same([nobody.code, nobody.data.reason], [-32001, "not_attached"], "a connection that works for no agent");
  const other = await toolError(c, "agent_usage", { agentId: agentIds[0], cpuPercent: 1, memoryPercent: 1 });
  t.same([other.code, other.data.reason, other.data.agentId], [-32001, "not_attached", agentIds[0]], "another connection's agent");
  const unknown = await toolError(c, "agent_usage", { agentId: "agent_0_nope", cpuPercent: 1, memoryPercent: 1 });
  t.same([unknown.code, unknown.data.reason], [-32001, "not_found"]);
  const bad = await toolError(c, "agent_usage", { cpuPercent: -1, memoryPercent: 101 });
  t.same([bad.code, bad.data.issues.map((i: { path: string }) => i.path)], [-32602, ["cpuPercent", "memoryPercent"]]);
  t.equal((await toolError(c, "agent_usage", { memoryPercent: 1 })).data.issues[0].path, "cpuPercent", "cpuPercent is required");
});

t.test("the example worker reports what it and its commands really use: a busy loop shows as a busy core", async (t) => {
  const { d, c } = await daemonWithClient(t);
  const swarm = await callTool(t, c, swarmInit, { initialAgents: [{ type: "coder" }] });
  const agentId = swarm.agents[0]?.agentId as string;
  const w = startWorker(t, d.port, agentId, ["--heartbeat", "0.2"]);
  await w.attached();
  const idle = await waitFor(t, c, swarm.swarmId, (a) => a.runtime.usage !== null);
  t.ok((idle.runtime.usage?.memoryBytes ?? 0) > 10_000_000, `the worker's resident memory (${idle.runtime.usage?.memoryBytes} bytes)`);
  t.ok((idle.memory_usage ?? 0) > 0, "as a share of the machine's memory");
  // The loop runs in a grandchild (sh -c → sh -c): the whole process tree is measured, not the worker alone.
  await callTool(t, c, taskOrchestrate, { swarmId: swarm.swarmId, task: 'timeout 3 sh -c "while :; do :; done"; true' });
  const busy = await waitFor(t, c, swarm.swarmId, (a) => a.status === "busy" && (a.cpu_usage ?? 0) >= 50);
  t.ok((busy.cpu_usage ?? 0) >= 50, `a core busy in the loop shows as ${busy.cpu_usage}% CPU`);
  const after = await waitFor(t, c, swarm.swarmId, (a) => a.status === "idle" && (a.cpu_usage ?? 100) < 50);
  t.ok((after.cpu_usage ?? 100) < 50, `and falls once the task is done (${after.cpu_usage}%)`);
});

type Listed = Awaited<ReturnType<typeof callTool<typeof agentList>>>["agents"][number];

/** Polls agent_list (as a dashboard does) until the swarm's first agent satisfies `ok`; 15 s at most. */
async function waitFor(t: Test, c: LineClient, swarmId: string, ok: (a: Listed) => boolean): Promise<Listed> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const agent = (await callTool(t, c, agentList, { swarmId })).agents[0] as Listed;
    if (ok(agent) || Date.now() > deadline) return agent;
    await new Promise((r) => setTimeout(r, 100));
  }
}
