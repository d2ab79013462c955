import t, { type Test } from "tap";
import { taskList, taskOrchestrate, taskResults, taskStatus, taskWait } from "../src/protocol/tools/index.js";
import { LineClient } from "../scripts/line-client.js";
import { daemonWithClient } from "./helpers/daemon.js";
import { callTool, checkResult, toolError } from "./helpers/tools.js";
import { crew } from "./helpers/workers.js";

async function setup(t: Test, members = [{ type: "coder" }, { type: "coder" }, { type: "tester" }], consensusThreshold?: number) {
  const { d, c } = await daemonWithClient(t);
  const team = await crew(t, c, d.port, members, consensusThreshold === undefined ? {} : { consensusThreshold });
  return { d, c, team };
}

const wait = (t: Test, c: LineClient, taskId: string) => callTool(t, c, taskWait, { taskId, timeoutMs: 20_000 });
const stdout = (r: unknown) => (r as { stdout: string }).stdout;

t.test("dependencies: a task waits for the tasks it depends on and gets their results", async (t) => {
  const { c } = await setup(t);
  const first = await callTool(t, c, taskOrchestrate, { task: "sleep 0.3; echo first" });
  const second = await callTool(t, c, taskOrchestrate, { task: 'printf "%s" "$SWARMD_DEPENDENCY_RESULTS"', dependencies: [first.taskId] });
  t.same([second.status, second.assignedAgents], ["pending", []], "not ready while its dependency runs");
  const done = await wait(t, c, second.taskId);
  const firstDone = await callTool(t, c, taskStatus, { taskId: first.taskId });
  t.ok((done.startedAt as number) >= (firstDone.finishedAt as number), "started after the dependency completed");
  t.same(JSON.parse(stdout(done.result))[first.taskId].stdout, "first\n", "the dependency's result was handed over");
  const unknown = await toolError(c, "task_orchestrate", { task: "x", dependencies: ["task_0_nope", first.taskId] });
  t.same([unknown.code, unknown.data.reason, unknown.data.ids], [-32004, "unknown_dependency", ["task_0_nope"]]);
});

t.test("a failed dependency fails its dependents", async (t) => {
  const { c } = await setup(t);
  const broken = await callTool(t, c, taskOrchestrate, { task: "exit 3", execution: { retryPolicy: "none" } });
  const after = await callTool(t, c, taskOrchestrate, { task: "echo never", dependencies: [broken.taskId] });
  const done = await wait(t, c, after.taskId);
  t.same([done.status, (done.error as { reason: string }).reason], ["failed", "dependency_failed"]);
  t.same(done.assignments, [], "it never ran");
});

t.test("phases run in dependency order and the task completes with their results by name", async (t) => {
  const { c } = await setup(t);
  const plan = await callTool(t, c, taskOrchestrate, {
    task: "ship it",
    strategy: "sequential",
    phases: [
      { name: "build", description: "sleep 0.2; echo built", requiredCapabilities: ["code"] },
      { name: "test", description: "echo tested", requiredCapabilities: ["testing"] },
      { name: "report", description: 'printf "%s" "$SWARMD_DEPENDENCY_RESULTS"', dependsOn: ["build", "test"] },
    ],
  });
  t.same(
    plan.orchestrationPlan.phases.map((p) => [p.name, p.dependencies, p.status]),
    [
      ["build", [], "running"],
      ["test", ["build"], "pending"],
      ["report", ["build", "test"], "pending"],
    ],
  );
  const done = await wait(t, c, plan.taskId);
  t.equal(done.status, "completed");
  const result = done.result as Record<string, { stdout: string }>;
  t.same([result.build?.stdout, result.test?.stdout], ["built\n", "tested\n"]);
  t.same(Object.values(JSON.parse(result.report?.stdout ?? "{}")).map((r) => (r as { stdout: string }).stdout).sort(), ["built\n", "tested\n"]);
  const phases = await Promise.all(done.phases.map((p) => callTool(t, c, taskStatus, { taskId: p.taskId })));
  t.ok((phases[1]?.startedAt as number) >= (phases[0]?.finishedAt as number), "test after build");
  t.ok((phases[2]?.startedAt as number) >= (phases[1]?.finishedAt as number), "report after test");
  const cycle = await toolError(c, "task_orchestrate", {
    task: "x",
    phases: [
      { name: "a", dependsOn: ["b"] },
      { name: "b", dependsOn: ["a"] },
    ],
  });
  t.same([cycle.code, cycle.data.reason], [-32004, "dependency_cycle"]);
  t.match(cycle.data.ids.join(","), /a,b,a|b,a,b/);
  t.equal((await toolError(c, "task_orchestrate", { task: "x", phases: [{ name: "a", dependsOn: ["zz"] }] })).data.reason, "unknown_phase");
  t.equal((await toolError(c, "task_orchestrate", { task: "x", phases: [{ name: "a" }, { name: "a" }] })).data.reason, "duplicate_phase");
});

t.test("parallelism with aggregation all: every agent's result, in order", async (t) => {
  const { c } = await setup(t);
  const task = await callTool(t, c, taskOrchestrate, { task: { description: "echo $SWARMD_AGENT_ID", parallelism: 3 } });
  t.equal(new Set(task.assignedAgents.map((a) => a.agentId)).size, 3, "three distinct agents");
  t.equal(task.coordination.aggregation, "all");
  const done = await wait(t, c, task.taskId);
  t.same(
    (done.result as Array<{ stdout: string }>).map((r) => r.stdout.trim()).sort(),
    task.assignedAgents.map((a) => a.agentId).sort(),
  );
});

t.test("aggregation first: the first result wins and the others are cancelled", async (t) => {
  const { c, team } = await setup(t);
  const fast = team.agents[0]?.agentId;
  const task = await callTool(t, c, taskOrchestrate, {
    task: { description: `[ "$SWARMD_AGENT_ID" = "${fast}" ] || sleep 5; echo $SWARMD_AGENT_ID`, parallelism: 3 },
    execution: { resultAggregation: "first" },
  });
  const done = await wait(t, c, task.taskId);
  t.same([done.status, stdout(done.result).trim()], ["completed", fast]);
  t.same(done.assignments.map((a) => a.status).sort(), ["cancelled", "cancelled", "completed"]);
  const results = await callTool(t, c, taskResults, { taskId: task.taskId, format: "detailed" });
  t.same([results.completedAssignments, results.failedAssignments], [1, 0]);
});

t.test("majority_vote: the winning result when its share reaches the swarm's threshold, else a failure with the tally", async (t) => {
  const { c, team } = await setup(t, undefined, 0.6);
  const odd = team.agents[2]?.agentId;
  const voteOn = (description: string) =>
    callTool(t, c, taskOrchestrate, {
      task: { description, parallelism: 3, consensusRequired: true },
      execution: { retryPolicy: "none" },
    });
  const agreed = await wait(t, c, (await voteOn(`[ "$SWARMD_AGENT_ID" = "${odd}" ] && echo no || echo yes`)).taskId);
  t.same([agreed.status, stdout(agreed.result)], ["completed", "yes\n"], "2 of 3 ≥ 0.6");
  const tally = await callTool(t, c, taskResults, { taskId: agreed.taskId, format: "detailed" });
  t.same(tally.votes?.map((v) => [stdout(v.result), v.count]), [["yes\n", 2], ["no\n", 1]]);
  const split = await wait(t, c, (await voteOn("echo $SWARMD_AGENT_ID")).taskId);
  const error = split.error as { reason: string; votes: unknown[] };
  t.same([split.status, error.reason, error.votes.length], ["failed", "no_consensus", 3]);
});

t.test("task_wait reports progress with a progress token; task_status, task_list and task_results read history", async (t) => {
  const { c } = await setup(t);
  const task = await callTool(t, c, taskOrchestrate, { task: "echo '##progress 0.25 a quarter'; sleep 0.3; echo '##progress 0.75'; sleep 0.3; echo done" });
  const reply = c.request("tools/call", { name: "task_wait", arguments: { taskId: task.taskId, timeoutMs: 10_000 }, _meta: { progressToken: "p1" } }, "w1");
  const final = await reply;
  checkResult(t, taskWait, final.result);
  const notes = c.messages.filter((m) => m.method === "notifications/progress" && m.params.progressToken === "p1").map((m) => m.params.progress);
  t.ok(notes.includes(25) && notes.includes(75), `progress reported: ${notes.join(", ")}`);
  t.same(notes, [...notes].sort((a, b) => a - b), "monotonic");
  const timedOut = await callTool(t, c, taskWait, { taskId: (await callTool(t, c, taskOrchestrate, { task: "sleep 1" })).taskId, timeoutMs: 50 });
  t.same([timedOut.timedOut, timedOut.status], [true, "running"]);
  const recent = await callTool(t, c, taskStatus, {});
  t.same(recent.tasks?.slice(0, 2).map((x) => x.taskId), [timedOut.taskId, task.taskId], "the current swarm's recent tasks, newest first");
  const pages: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await callTool(t, c, taskList, { limit: 1, ...(cursor ? { cursor } : {}) });
    pages.push(...page.tasks.map((x) => x.taskId));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  t.same(pages, [timedOut.taskId, task.taskId]);
  t.same((await callTool(t, c, taskList, { status: "completed" })).tasks.map((x) => x.taskId), [task.taskId]);
  const raw = await callTool(t, c, taskResults, { taskId: task.taskId, format: "raw" });
  t.same(Object.keys(raw).sort(), ["format", "result", "status", "taskId"]);
  const summary = await callTool(t, c, taskResults, { taskId: task.taskId });
  t.same([summary.format, summary.completedAssignments, typeof summary.durationMs], ["summary", 1, "number"]);
  t.equal((await toolError(c, "task_results", { taskId: "task_0_x" })).data.reason, "not_found");
});
