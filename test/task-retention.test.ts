import { join } from "node:path";
import Database from "better-sqlite3";
import t, { type Test } from "tap";
import type { LineClient } from "../scripts/line-client.js";
import { agentMessage, swarmDestroy, swarmInit, swarmList, swarmStatus, taskCancel, taskList, taskOrchestrate, taskStatus, taskWait } from "../src/protocol/tools/index.js";
import { daemonWithClient, startDaemon } from "./helpers/daemon.js";
import { callTool, toolError } from "./helpers/tools.js";
import { crew } from "./helpers/workers.js";

const gone = async (c: LineClient, taskId: string): Promise<boolean> => {
  const reply = await c.call("task_status", { taskId });
  return (reply.error as { data?: { reason?: string } } | undefined)?.data?.reason === "not_found";
};

/** Waits until every task named is deleted (the retention checks every second at this setting). */
async function deleted(t: Test, c: LineClient, ids: string[]): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const left = [];
    for (const id of ids) if (!(await gone(c, id))) left.push(id);
    if (left.length === 0) return;
    if (Date.now() > deadline) {
      t.fail(`still stored: ${left.join(", ")}`);
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

t.test("finished tasks are deleted once they have been finished for the retention; open work is kept", async (t) => {
  const { d, c } = await daemonWithClient(t, { SWARMD_TASK_RETENTION: "1" });
  const team = await crew(t, c, d.port, [{ type: "coder" }]);
  const wait = (taskId: string) => callTool(t, c, taskWait, { taskId, timeoutMs: 20_000 });
  const completed = await callTool(t, c, taskOrchestrate, { task: "echo done" });
  const failed = await callTool(t, c, taskOrchestrate, { task: "exit 3", execution: { retryPolicy: "none" } });
  // Open work of every kind: waiting for an agent, depending on the task that will complete, a plan with one phase
  // done. Submitted before the others finish, so none can be deleted first however slow the machine.
  const open = await callTool(t, c, taskOrchestrate, { task: "nobody can", requiredCapabilities: ["nobody"] });
  const dependent = await callTool(t, c, taskOrchestrate, { task: "later", requiredCapabilities: ["nobody"], dependencies: [completed.taskId] });
  const plan = await callTool(t, c, taskOrchestrate, {
    task: "two steps",
    phases: [
      { name: "now", description: "echo now" },
      { name: "never", description: "x", requiredCapabilities: ["nobody"] },
    ],
  });
  const [phaseNow, phaseNever] = plan.orchestrationPlan.phases.map((p) => p.taskId);
  t.equal((await wait(completed.taskId)).status, "completed");
  t.equal((await wait(failed.taskId)).status, "failed");
  const deadline = Date.now() + 10_000;
  while ((await callTool(t, c, taskStatus, { taskId: phaseNow as string })).status !== "completed" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));

  await deleted(t, c, [completed.taskId, failed.taskId]);
  const err = await toolError(c, "task_status", { taskId: completed.taskId });
  t.same([err.code, err.data.reason], [-32004, "not_found"], "a deleted task is not found, as one that never existed");
  for (const id of [open.taskId, dependent.taskId, plan.taskId, phaseNow as string, phaseNever as string]) {
    t.notOk(await gone(c, id), `kept: ${id}`);
  }
  const dependentNow = await callTool(t, c, taskStatus, { taskId: dependent.taskId });
  t.same([dependentNow.status, dependentNow.dependencies], ["pending", []], "its finished dependency is gone, still satisfied");
  t.equal((await callTool(t, c, taskStatus, { taskId: phaseNow as string })).status, "completed", "a plan's finished phase stays with its open plan");
  const listed = (await callTool(t, c, taskList, { swarmId: team.swarmId })).tasks.map((x) => x.taskId);
  t.notOk(listed.includes(completed.taskId) || listed.includes(failed.taskId), "nor listed");
  const status = await callTool(t, c, swarmStatus, { swarmId: team.swarmId });
  t.same([status.counts.tasks.completed, status.counts.tasks.failed, status.taskCount], [0, 0, 3], "swarm_status counts what is kept");
  const line = d.logs.find((l) => /^deleted \d+ tasks finished and 0 swarms destroyed more than 1 s ago$/.test(String(l.msg)));
  t.match(line, { level: 30, olderThanS: 1, swarms: 0 }, "each deleting pass is logged");

  // Once the plan ends, it goes with both its phases.
  await callTool(t, c, taskCancel, { taskId: plan.taskId });
  await deleted(t, c, [plan.taskId, phaseNow as string, phaseNever as string]);

  // The database holds nothing of them, and its counts still match its rows.
  await d.daemon.close();
  const db = new Database(join(d.dir, "swarmd.db"), { readonly: true });
  t.teardown(() => db.close());
  const ids = JSON.stringify([completed.taskId, failed.taskId, plan.taskId, phaseNow, phaseNever]);
  const left = (table: string, column: string) => db.prepare(`SELECT count(*) FROM ${table} WHERE ${column} IN (SELECT value FROM json_each(?))`).pluck().get(ids);
  t.same(
    [left("tasks", "id"), left("assignments", "task_id"), left("task_dependencies", "task_id"), left("task_dependencies", "depends_on")],
    [0, 0, 0, 0],
    "no row of the deleted tasks is left",
  );
  t.equal(db.prepare("SELECT sum(n) FROM task_counts").pluck().get(), db.prepare("SELECT count(*) FROM tasks").pluck().get(), "counts match rows");
  t.equal(db.prepare("SELECT count(*) FROM tasks").pluck().get(), 2, "the two open tasks remain");
});

t.test("a swarm destroyed for longer than the retention is deleted with its agents, their messages and its tasks", async (t) => {
  const { d, c } = await daemonWithClient(t, { SWARMD_TASK_RETENTION: "1" });
  const kept = await callTool(t, c, swarmInit, { initialAgents: [{ type: "coder" }] });
  const gone = await callTool(t, c, swarmInit, { initialAgents: [{ type: "coder" }, { type: "tester" }] });
  const agentId = gone.agents[0]?.agentId as string;
  await callTool(t, c, agentMessage, { agentId, message: { type: "hello" } });
  const task = await callTool(t, c, taskOrchestrate, { swarmId: gone.swarmId, task: "x", requiredCapabilities: ["nobody"] });
  await callTool(t, c, swarmDestroy, { swarmId: gone.swarmId });
  const listed = async () => (await callTool(t, c, swarmList, { status: "all" })).swarms.map((s) => s.swarmId);
  t.ok((await listed()).includes(gone.swarmId), "listed as destroyed at first");
  const deadline = Date.now() + 15_000;
  while ((await listed()).includes(gone.swarmId) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  t.same(await listed(), [kept.swarmId], "then gone; the live swarm stays");
  const err = await toolError(c, "swarm_status", { swarmId: gone.swarmId });
  t.same([err.code, err.data.reason], [-32002, "not_found"], "not found, as a swarm that never existed");
  t.same([(await toolError(c, "agent_status", { agentId })).data.reason, (await toolError(c, "task_status", { taskId: task.taskId })).data.reason], ["not_found", "not_found"]);
  t.ok(d.logs.some((l) => /^deleted 1 tasks finished and 1 swarms destroyed more than 1 s ago$/.test(String(l.msg))), "logged");
  const next = await callTool(t, c, swarmInit, {});
  t.not(next.name, kept.name, "a new swarm's default name is not a stored swarm's");

  await d.daemon.close();
  const db = new Database(join(d.dir, "swarmd.db"), { readonly: true });
  t.teardown(() => db.close());
  const rows = (table: string) => db.prepare(`SELECT count(*) FROM ${table} WHERE swarm_id = ?`).pluck().get(gone.swarmId);
  t.same(
    ["agents", "agent_messages", "tasks", "task_counts", "agent_counts"].map(rows),
    [0, 0, 0, 0, 0],
    "no row of the swarm is left",
  );
  t.equal(db.prepare("SELECT count(*) FROM swarms WHERE id = ?").pluck().get(gone.swarmId), 0);
  t.equal(db.prepare("SELECT count(*) FROM agents WHERE swarm_id = ?").pluck().get(kept.swarmId), 1, "the live swarm's agent stays");
});

t.test("by default finished tasks are kept", async (t) => {
  const { d, c } = await daemonWithClient(t);
  await crew(t, c, d.port, [{ type: "coder" }]);
  const task = await callTool(t, c, taskOrchestrate, { task: "echo kept" });
  await callTool(t, c, taskWait, { taskId: task.taskId, timeoutMs: 20_000 });
  await new Promise((r) => setTimeout(r, 1500));
  t.equal((await callTool(t, c, taskStatus, { taskId: task.taskId })).status, "completed");
  t.notOk(d.logs.some((l) => /^deleted \d+ tasks/.test(String(l.msg))), "nothing deleted, nothing logged");
});

t.test("a retention that is not a number of seconds stops the daemon with one line", async (t) => {
  await t.rejects(startDaemon(t, { SWARMD_TASK_RETENTION: "30d" }), /SWARMD_TASK_RETENTION must be a number of seconds ≥ 0, got "30d"/);
});
