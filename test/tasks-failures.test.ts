import t, { type Test } from "tap";
import { agentAttach, agentMetrics, agentTerminate, swarmDestroy, swarmInit, taskCancel, taskOrchestrate, taskStatus, taskWait } from "../src/protocol/tools/index.js";
import { LineClient } from "../scripts/line-client.js";
import { daemonWithClient } from "./helpers/daemon.js";
import { callTool, toolError } from "./helpers/tools.js";
import { crew } from "./helpers/workers.js";

async function setup(t: Test, members = [{ type: "coder" }, { type: "coder" }], workerArgs?: string[]) {
  const { d, c } = await daemonWithClient(t);
  const team = await crew(t, c, d.port, members, workerArgs ? { workerArgs } : {});
  return { d, c, team };
}

const wait = (t: Test, c: LineClient, taskId: string) => callTool(t, c, taskWait, { taskId, timeoutMs: 20_000 });
async function until(t: Test, c: LineClient, taskId: string, ok: (s: Awaited<ReturnType<typeof callTool<typeof taskStatus>>>) => boolean) {
  for (let i = 0; i < 200; i++) {
    const s = await callTool(t, c, taskStatus, { taskId });
    if (ok(s)) return s;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`task ${taskId} never reached the expected state`);
}

t.test("a failed attempt is retried after an exponential backoff", async (t) => {
  const { c } = await setup(t);
  const task = await callTool(t, c, taskOrchestrate, {
    task: '[ "$SWARMD_ATTEMPT" -ge 3 ] || exit 7; echo "attempt $SWARMD_ATTEMPT"',
    execution: { retryPolicy: { maxAttempts: 3, initialDelayMs: 150, multiplier: 2 } },
  });
  const pending = await until(t, c, task.taskId, (s) => s.status === "pending" && s.attempts === 1);
  t.match(pending.pendingReason, /attempt 1 of 3 failed \(assignment_failed\); retrying after 150 ms/);
  const done = await wait(t, c, task.taskId);
  t.same([done.status, done.attempts, (done.result as { stdout: string }).stdout], ["completed", 3, "attempt 3\n"]);
  const byAttempt = done.assignments.map((a) => [a.attempt, a.status]);
  t.same(byAttempt, [
    [1, "failed"],
    [2, "failed"],
    [3, "completed"],
  ]);
  const gap1 = (done.assignments[1]?.startedAt as number) - (done.assignments[0]?.finishedAt as number);
  const gap2 = (done.assignments[2]?.startedAt as number) - (done.assignments[1]?.finishedAt as number);
  t.ok(gap1 >= 140 && gap2 >= 290, `waited ${gap1} ms, then ${gap2} ms`);
  const failsForGood = await callTool(t, c, taskOrchestrate, { task: "exit 1", execution: { retryPolicy: "none" } });
  const failed = await wait(t, c, failsForGood.taskId);
  t.same([failed.status, failed.attempts, (failed.error as { reason: string }).reason], ["failed", 1, "assignment_failed"]);
});

t.test("a worker that reports retryable: false stops the retries", async (t) => {
  const { d, c } = await setup(t, []);
  const s = await callTool(t, c, swarmInit, { initialAgents: [{ type: "coder" }] });
  const worker = await LineClient.connect(d.port);
  t.teardown(() => worker.close());
  await callTool(t, worker, agentAttach, { agentId: s.agents[0]?.agentId as string });
  const task = await callTool(t, c, taskOrchestrate, { task: "x", execution: { retryPolicy: "exponential_backoff" } });
  const failed = await worker.call("task_fail", { taskId: task.taskId, error: { message: "bad input", data: { line: 3 } }, retryable: false });
  t.same([failed.result.structuredContent.taskStatus, failed.result.structuredContent.willRetry], ["failed", false]);
  const foreign = await toolError(c, "task_complete", { taskId: task.taskId, result: 1 });
  t.same([foreign.code, foreign.data.reason], [-32004, "not_assigned"], "only the assignment's worker may report");
});

t.test("an assignment without a report within its timeout times out", async (t) => {
  const { c, team } = await setup(t, [{ type: "coder" }], ["--heartbeat", "60"]);
  const task = await callTool(t, c, taskOrchestrate, { task: { description: "sleep 10", timeout: 0.3 }, execution: { retryPolicy: "none" } });
  const done = await wait(t, c, task.taskId);
  t.same([done.status, (done.error as { reason: string }).reason, done.assignments[0]?.status], ["failed", "timeout", "timed_out"]);
  await new Promise((r) => setTimeout(r, 100));
  t.ok(team.workers[0]?.log.some((l) => l.includes("cancelled: timeout")), "the worker was told");
});

t.test("progress reports keep a long assignment alive past its timeout", async (t) => {
  const { c } = await setup(t, [{ type: "coder" }], ["--heartbeat", "0.1"]);
  const task = await callTool(t, c, taskOrchestrate, { task: { description: "sleep 0.8; echo survived", timeout: 0.3 } });
  const done = await wait(t, c, task.taskId);
  t.same([done.status, done.attempts], ["completed", 1]);
});

t.test("task_cancel: the task ends, its workers are told, and it cannot be cancelled twice", async (t) => {
  const { c, team } = await setup(t, [{ type: "coder" }]);
  const task = await callTool(t, c, taskOrchestrate, { task: "sleep 10" });
  const dependent = await callTool(t, c, taskOrchestrate, { task: "echo never", dependencies: [task.taskId] });
  const cancelled = await callTool(t, c, taskCancel, { taskId: task.taskId, reason: "changed my mind" });
  t.same([cancelled.status, cancelled.cancelledAssignments], ["cancelled", 1]);
  t.same([...cancelled.cancelledTasks].sort(), [task.taskId, dependent.taskId].sort(), "dependents are cancelled too");
  const view = await callTool(t, c, taskStatus, { taskId: task.taskId });
  t.same([view.status, (view.error as { message: string }).message], ["cancelled", "changed my mind"]);
  await new Promise((r) => setTimeout(r, 200));
  t.ok(team.workers[0]?.log.some((l) => l.includes("cancelled: changed my mind")), "the worker was notified");
  t.same((await toolError(c, "task_cancel", { taskId: task.taskId })).data, { reason: "finished", taskId: task.taskId, status: "cancelled" });
  const metrics = await callTool(t, c, agentMetrics, { agentId: team.agents[0]?.agentId as string });
  t.same([metrics.agents[0]?.tasksFailed, metrics.agents[0]?.status], [0, "idle"], "a cancelled assignment is not the agent's failure");
});

t.test("a worker that dies mid-task: the agent goes offline and the task is reassigned to another agent", async (t) => {
  const { c, team } = await setup(t);
  const task = await callTool(t, c, taskOrchestrate, { task: "sleep 1; echo finished by $SWARMD_AGENT_ID" });
  const first = task.assignedAgents[0]?.agentId as string;
  const other = team.agents.find((a) => a.agentId !== first)?.agentId as string;
  team.workers.find((w) => w.agentId === first)?.proc.kill("SIGKILL");
  const done = await wait(t, c, task.taskId);
  t.same([done.status, done.attempts, (done.result as { stdout: string }).stdout], ["completed", 2, `finished by ${other}\n`]);
  t.same(
    done.assignments.map((a) => [a.agentId, a.status]),
    [
      [first, "abandoned"],
      [other, "completed"],
    ],
  );
  const dead = await callTool(t, c, agentMetrics, { agentId: first });
  t.same([dead.agents[0]?.status, dead.agents[0]?.health, dead.agents[0]?.tasksFailed], ["offline", 0, 1]);
});

t.test("terminating a busy agent requeues its work to another agent", async (t) => {
  const { c, team } = await setup(t);
  const task = await callTool(t, c, taskOrchestrate, { task: "sleep 0.5; echo by $SWARMD_AGENT_ID" });
  const first = task.assignedAgents[0]?.agentId as string;
  const term = await callTool(t, c, agentTerminate, { agentId: first, reason: "rebalancing" });
  t.equal(term.requeuedAssignments, 1);
  const done = await wait(t, c, task.taskId);
  t.equal(done.status, "completed");
  t.not(done.assignments[1]?.agentId, first);
  await new Promise((r) => setTimeout(r, 100));
  t.ok(team.workers.find((w) => w.agentId === first)?.log.length, "the worker lived on");
});

t.test("swarm_destroy cancels unfinished tasks", async (t) => {
  const { c, team } = await setup(t);
  const running = await callTool(t, c, taskOrchestrate, { task: "sleep 10" });
  const queued = await callTool(t, c, taskOrchestrate, { task: "echo x", requiredCapabilities: ["nothing-has-this"] });
  const gone = await callTool(t, c, swarmDestroy, { swarmId: team.swarmId });
  t.same([gone.cancelledTasks, gone.terminatedAgents], [2, 2]);
  for (const id of [running.taskId, queued.taskId]) {
    const v = await callTool(t, c, taskStatus, { taskId: id });
    t.same([v.status, (v.error as { reason: string }).reason], ["cancelled", "swarm_destroyed"]);
  }
  t.equal((await toolError(c, "task_orchestrate", { task: "x", swarmId: team.swarmId })).data.reason, "destroyed");
});
