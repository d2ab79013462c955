import { keyValues, nextPage, progressBar, table } from "../format.js";
import { type Command, type CommandContext, list, need, num, pageOpts, swarmOpt } from "./context.js";

const DESCRIPTION_WIDTH = 60;
/** One task_wait request's longest wait: a changed pendingReason is shown at most this late. */
const WAIT_SLICE_MS = 60_000;

/**
 * Waits for the task to end — a progress bar on a terminal meanwhile — and prints how it ended. Why it waits (no
 * worker attached, agents at capacity: its pendingReason) is said on stderr at once and whenever it changes, or a
 * task no worker can run would look like a hang. `known` is the task's reason when the caller has just read it.
 */
async function waitFor(ctx: CommandContext, taskId: string, known?: string | null): Promise<number> {
  const bar = progressBar(process.stderr);
  let told: string | null = null;
  const tell = (reason: string | null): void => {
    if (reason !== null && reason !== told) bar.note(`swarmctl: ${taskId} waits: ${reason}`);
    told = reason;
  };
  if (known !== undefined) tell(known);
  let view;
  try {
    // Unless the caller knows the reason, the first wait returns at once with the task as it is now.
    for (let timeoutMs = known === undefined ? 0 : WAIT_SLICE_MS; ; timeoutMs = WAIT_SLICE_MS) {
      view = await ctx.client.taskWait(
        { taskId, timeoutMs },
        { signal: ctx.signal, onProgress: (p) => bar.update((100 * p.progress) / (p.total ?? 100), p.message) },
      );
      if (!view.timedOut) break;
      tell(view.pendingReason);
    }
  } catch (err) {
    if (!ctx.signal.aborted) throw err;
    // Ctrl-C stops the waiting, not the task; say which task goes on, since `task run --wait` printed no id yet.
    bar.done();
    process.stderr.write(`swarmctl: stopped waiting; ${taskId} goes on (swarmctl task wait ${taskId}; swarmctl task cancel ${taskId})\n`);
    return 130;
  }
  bar.done();
  ctx.print(view, () => `${view.taskId} ${view.status}\n${JSON.stringify(view.result ?? view.error ?? null, null, 2)}\n`);
  return view.status === "completed" ? 0 : 1;
}

/** Tasks: submit, watch, read. */
export const tasks: readonly Command[] = [
  {
    name: "task run",
    usage: 'task run "<description>" [--swarm id] [--caps a,b] [--priority p] [--parallel n] [--timeout s] [--wait]',
    summary: "Submit a task; with --wait, show its progress and print its result",
    options: {
      ...swarmOpt,
      caps: { value: "a,b", help: "Required capabilities" },
      priority: { value: "p", help: "low, medium, high or critical" },
      parallel: { value: "n", help: "Agents that each run it" },
      timeout: { value: "s", help: "Seconds an assignment may run without a report" },
      wait: { help: "Wait for the task to end (exit 1 if it fails)" },
    },
    interruptible: true,
    async run(ctx) {
      const t = await ctx.client.taskOrchestrate(
        {
          task: need(ctx, 0, "task description"),
          swarmId: ctx.opt("swarm"),
          requiredCapabilities: list(ctx.opt("caps")),
          priority: ctx.opt("priority") as "high" | undefined,
          maxAgents: num(ctx.opt("parallel"), "--parallel"),
          timeout: num(ctx.opt("timeout"), "--timeout"),
        },
        { signal: ctx.signal },
      );
      if (ctx.flag("wait")) return waitFor(ctx, t.taskId, t.pendingReason);
      ctx.print(t, () => `${t.taskId} ${t.status}${t.pendingReason ? ` (${t.pendingReason})` : ""}\n`);
      return 0;
    },
  },
  {
    name: "task wait",
    usage: "task wait <taskId>",
    summary: "Wait for a task to end, showing its progress, and print its result (exit 1 if it did not complete)",
    interruptible: true,
    run: (ctx) => waitFor(ctx, need(ctx, 0, "taskId")),
  },
  {
    name: "task status",
    usage: "task status <taskId>",
    summary: "A task's status and assignments",
    watchable: true,
    async run(ctx) {
      const v = await ctx.client.taskStatus({ taskId: need(ctx, 0, "taskId") });
      ctx.print(v, () => {
        const { assignments, result, error, ...rest } = v;
        const list = assignments?.length ? `\n${table(assignments, ["assignmentId", "agentId", "attempt", "status", "progress"])}` : "assignments: none\n";
        return keyValues({ ...rest, result, error }) + list;
      });
      return 0;
    },
  },
  {
    name: "task results",
    usage: "task results <taskId> [--format summary|detailed|raw]",
    summary: "A task's results",
    watchable: true,
    options: { format: { value: "format", help: "summary, detailed or raw" } },
    async run(ctx) {
      const r = await ctx.client.taskResults({ taskId: need(ctx, 0, "taskId"), format: (ctx.opt("format") ?? "summary") as "summary" });
      ctx.print(r, () => JSON.stringify(r, null, 2) + "\n");
      return 0;
    },
  },
  {
    name: "task list",
    usage: "task list [--swarm id] [--status s] [--limit n] [--cursor c]",
    summary: "Tasks, newest first, a page at a time",
    watchable: true,
    options: {
      swarm: { value: "swarmId", help: "Only this swarm's tasks (default: every swarm)" },
      status: { value: "s", help: "pending, assigned, running, completed, failed or cancelled" },
      ...pageOpts("Tasks", 50),
    },
    async run(ctx) {
      const r = await ctx.client.taskList({
        swarmId: ctx.opt("swarm"),
        status: ctx.opt("status") as "pending" | undefined,
        limit: num(ctx.opt("limit"), "--limit"),
        cursor: ctx.opt("cursor"),
      });
      ctx.print(r, () => {
        const rows = r.tasks.map((t) => ({
          ...t,
          progress: `${Math.round(t.progress * 100)}%`,
          description: t.description.length > DESCRIPTION_WIDTH ? `${t.description.slice(0, DESCRIPTION_WIDTH - 1)}…` : t.description,
        }));
        return table(rows, ["taskId", "status", "priority", "attempts", "progress", "description"]) + nextPage(r.nextCursor);
      });
      return 0;
    },
  },
  {
    name: "task cancel",
    usage: "task cancel <taskId> [--reason text]",
    summary: "Cancel a task with its phases and dependents; their workers are told",
    options: { reason: { value: "text", help: "Why, kept with the task" } },
    async run(ctx) {
      const r = await ctx.client.taskCancel({ taskId: need(ctx, 0, "taskId"), reason: ctx.opt("reason") });
      const n = (count: number, what: string): string => `${count} ${what}${count === 1 ? "" : "s"}`;
      ctx.print(r, () => `${r.taskId} cancelled (${n(r.cancelledTasks.length, "task")}, ${n(r.cancelledAssignments, "assignment")} stopped)\n`);
      return 0;
    },
  },
];
