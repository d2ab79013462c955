import t, { type Test } from "tap";
import { agentAttach, agentSpawn, swarmInit, taskClaim, taskComplete, taskOrchestrate, taskStatus, taskWait } from "../src/protocol/tools/index.js";
import { LineClient } from "../scripts/line-client.js";
import { daemonWithClient } from "./helpers/daemon.js";
import { callTool } from "./helpers/tools.js";
import { crew, startWorker } from "./helpers/workers.js";


const wait = (t: Test, c: LineClient, taskId: string) => callTool(t, c, taskWait, { taskId, timeoutMs: 20_000 });

t.test("tasks go to live agents whose capabilities include every required one", async (t) => {
  const { d, c } = await daemonWithClient(t);
  const team = await crew(t, c, d.port, [{ type: "coder" }, { type: "reviewer" }, { type: "tester" }]);
  const [coder, reviewer, tester] = team.agents.map((a) => a.agentId);
  const review = await callTool(t, c, taskOrchestrate, { task: "echo reviewed", requiredCapabilities: ["review", "code"] });
  t.same(review.assignedAgents.map((a) => [a.agentId, a.role]), [[reviewer, "validator"]]);
  const test = await callTool(t, c, taskOrchestrate, { task: { description: "echo tested", requiredCapabilities: ["testing"] } });
  t.same(test.assignedAgents.map((a) => a.agentId), [tester]);
  const done = await wait(t, c, review.taskId);
  t.same([done.status, (done.result as { stdout: string }).stdout], ["completed", "reviewed\n"]);
  t.equal((await wait(t, c, test.taskId)).status, "completed");
  const anyone = await callTool(t, c, taskOrchestrate, { task: "echo $SWARMD_AGENT_ID" });
  t.equal(anyone.assignedAgents.length, 1, "no required capability: any live agent");
  t.ok([coder, reviewer, tester].includes(anyone.assignedAgents[0]?.agentId));
});

t.test("a task nobody can run stays pending with a visible reason, and runs once someone can", async (t) => {
  const { d, c } = await daemonWithClient(t);
  const team = await crew(t, c, d.port, [{ type: "coder" }]);
  const task = await callTool(t, c, taskOrchestrate, { task: "echo secure", requiredCapabilities: ["security"] });
  t.same([task.status, task.assignedAgents, task.pendingReason], ["pending", [], "no live agent with capabilities [security]"]);
  const anyone = await callTool(t, c, taskOrchestrate, { task: "echo anyone", swarmId: (await callTool(t, c, swarmInit, { initialAgents: [{ type: "coder" }] })).swarmId });
  t.equal(anyone.pendingReason, "no live agent: no worker is attached to any of the swarm's agents", "without capabilities the reason says what is missing");
  const idle = await callTool(t, c, agentSpawn, { type: "specialist", swarmId: team.swarmId, capabilities: ["security"] });
  t.equal((await callTool(t, c, taskStatus, { taskId: task.taskId })).status, "pending", "an agent without a worker does no work");
  await startWorker(t, d.port, idle.agentId).attached();
  const done = await wait(t, c, task.taskId);
  t.same([done.status, done.assignments[0]?.agentId], ["completed", idle.agentId]);
});

t.test("least-loaded first: concurrent tasks spread over capable agents", async (t) => {
  const { d, c } = await daemonWithClient(t);
  const team = await crew(t, c, d.port, [{ type: "coder" }, { type: "coder" }, { type: "coder" }]);
  const tasks = [];
  for (let i = 0; i < 3; i++) tasks.push(await callTool(t, c, taskOrchestrate, { task: "sleep 0.3; echo ok", requiredCapabilities: ["code"] }));
  t.same(new Set(tasks.map((x) => x.assignedAgents[0]?.agentId)).size, 3, "three agents, one task each");
  const fourth = await callTool(t, c, taskOrchestrate, { task: "echo later", requiredCapabilities: ["code"] });
  t.same([fourth.status, fourth.pendingReason], ["pending", "all 3 live agent(s) with capabilities [code] are at capacity"]);
  t.equal((await wait(t, c, fourth.taskId)).status, "completed");
  void team;
});

t.test("ready tasks run in priority order, FIFO within a priority", async (t) => {
  const { d, c } = await daemonWithClient(t);
  await crew(t, c, d.port, [{ type: "coder" }]);
  const blocker = await callTool(t, c, taskOrchestrate, { task: "sleep 0.4" });
  const order = ["low", "critical", "medium", "high", "high", "critical"] as const;
  const queued = [];
  for (const [i, priority] of order.entries()) queued.push(await callTool(t, c, taskOrchestrate, { task: `echo ${i}`, priority }));
  t.ok(queued.every((q) => q.status === "pending"), "queued behind the blocker");
  await wait(t, c, blocker.taskId);
  const views = [];
  for (const q of queued) views.push(await wait(t, c, q.taskId));
  const byStart = views.map((v, i) => ({ i, at: v.startedAt as number })).sort((a, b) => a.at - b.at || a.i - b.i);
  t.same(
    byStart.map((x) => `${order[x.i]}#${x.i}`),
    ["critical#1", "critical#5", "high#3", "high#4", "medium#2", "low#0"],
  );
});

t.test("pull delivery: task_claim long-polls, and a waiting claim wakes when work is assigned", async (t) => {
  const { d, c } = await daemonWithClient(t);
  const s = await callTool(t, c, swarmInit, { initialAgents: [{ type: "coder" }] });
  const agentId = s.agents[0]?.agentId as string;
  const worker = await LineClient.connect(d.port);
  t.teardown(() => worker.close());
  await callTool(t, worker, agentAttach, { agentId, delivery: "pull" });
  const started = Date.now();
  t.same(await callTool(t, worker, taskClaim, { agentId, waitMs: 200 }), { assignment: null }, "nothing to claim");
  t.ok(Date.now() - started >= 190, "the claim waited");
  const claim = worker.call("task_claim", { agentId, waitMs: 10_000 });
  const task = await callTool(t, c, taskOrchestrate, { task: "do it", input: { n: 1 } });
  const assignment = (await claim).result.structuredContent.assignment;
  t.same([assignment.taskId, assignment.agentId, assignment.description, assignment.input, assignment.attempt], [task.taskId, agentId, "do it", { n: 1 }, 1]);
  t.notOk(worker.messages.some((m) => m.method === "notifications/task/assigned"), "nothing was pushed");
  t.equal((await callTool(t, c, taskStatus, { taskId: task.taskId })).status, "running", "claimed: running");
  await callTool(t, worker, taskComplete, { taskId: task.taskId, result: "done" });
  t.same((await wait(t, c, task.taskId)).result, "done");
  const stranger = await c.call("task_claim", { agentId, waitMs: 0 });
  t.same([stranger.error.code, stranger.error.data.reason], [-32001, "not_attached"], "only the agent's worker may claim");
});

t.test("the example worker in pull mode", async (t) => {
  const { d, c } = await daemonWithClient(t);
  const team = await crew(t, c, d.port, [{ type: "coder" }], { workerArgs: ["--pull"] });
  t.ok(team.workers[0]?.log.some((l) => l.includes("attached (pull)")));
  const done = await wait(t, c, (await callTool(t, c, taskOrchestrate, { task: "echo pulled" })).taskId);
  t.same([done.status, (done.result as { stdout: string }).stdout], ["completed", "pulled\n"]);
});
