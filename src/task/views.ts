import { PRIORITIES } from "../protocol/tools/task.js";
import type { AssignmentRepo, AssignmentRow } from "../store/assignment-repo.js";
import { FAILED_STATUSES } from "../store/assignment-repo.js";
import type { TaskRepo, TaskRow } from "../store/task-repo.js";
import { tally } from "./aggregate.js";

const parse = (text: string | null): unknown => (text === null ? undefined : JSON.parse(text));

export function assignmentView(a: AssignmentRow, detailed: boolean) {
  return {
    assignmentId: a.id,
    agentId: a.agentId,
    attempt: a.attempt,
    status: a.status,
    progress: a.progress,
    ...(detailed && a.result !== null ? { result: parse(a.result) } : {}),
    ...(detailed && a.error !== null ? { error: parse(a.error) } : {}),
    startedAt: a.startedAt,
    finishedAt: a.finishedAt,
  };
}

/** Reads task views; every figure comes from the stored task and its assignments. */
export class TaskViews {
  constructor(
    private readonly tasks: TaskRepo,
    private readonly assignments: AssignmentRepo,
  ) {}

  /** A task with every assignment of every attempt. */
  view(task: TaskRow) {
    return { ...this.brief(task), assignments: this.assignments.byTask(task.id).map((a) => assignmentView(a, false)) };
  }

  /** A task without its assignments, for listings. */
  brief(task: TaskRow) {
    const all = this.assignments.byTask(task.id);
    const phases = task.kind === "plan" ? this.tasks.children(task.id) : [];
    return {
      taskId: task.id,
      swarmId: task.swarmId,
      parentId: task.parentId,
      phase: task.phase,
      description: task.description,
      status: task.status,
      priority: PRIORITIES[task.priority] as (typeof PRIORITIES)[number],
      strategy: task.strategy,
      requiredCapabilities: task.requiredCapabilities,
      parallelism: task.parallelism,
      aggregation: task.aggregation,
      attempts: task.attempts,
      maxAttempts: task.maxAttempts,
      pendingReason: task.pendingReason,
      dependencies: this.tasks.dependencies(task.id),
      progress: this.progress(task, all, phases),
      phases: phases.map((p) => ({ name: p.phase as string, taskId: p.id, status: p.status })),
      ...(task.result !== null ? { result: parse(task.result) } : {}),
      ...(task.error !== null ? { error: parse(task.error) } : {}),
      createdAt: task.createdAt,
      startedAt: task.startedAt,
      finishedAt: task.finishedAt,
      durationMs: task.finishedAt === null ? null : task.finishedAt - task.createdAt,
    };
  }

  results(task: TaskRow, format: "summary" | "detailed" | "raw") {
    const base = { taskId: task.id, status: task.status, format, ...(task.result !== null ? { result: parse(task.result) } : {}) };
    if (format === "raw") return base;
    const all = this.assignments.byTask(task.id);
    const summary = {
      ...base,
      ...(task.error !== null ? { error: parse(task.error) } : {}),
      durationMs: task.finishedAt === null ? null : task.finishedAt - task.createdAt,
      completedAssignments: all.filter((a) => a.status === "completed").length,
      failedAssignments: all.filter((a) => FAILED_STATUSES.includes(a.status)).length,
    };
    if (format === "summary") return summary;
    const lastAttempt = all.filter((a) => a.attempt === task.attempts && a.status === "completed");
    return {
      ...summary,
      assignments: all.map((a) => assignmentView(a, true)),
      ...(task.aggregation === "majority_vote" ? { votes: tally(lastAttempt) } : {}),
      ...(task.kind === "plan"
        ? { phases: this.tasks.children(task.id).map((p) => ({ name: p.phase as string, taskId: p.id, status: p.status, ...(p.result !== null ? { result: parse(p.result) } : {}) })) }
        : {}),
    };
  }

  /** 1 when completed; else the current attempt's progress averaged over its slots (a plan: over its phases). */
  private progress(task: TaskRow, all: readonly AssignmentRow[], phases: readonly TaskRow[]): number {
    if (task.status === "completed") return 1;
    if (task.kind === "plan") {
      if (phases.length === 0) return 0;
      return phases.reduce((n, p) => n + this.progress(p, this.assignments.byTask(p.id), []), 0) / phases.length;
    }
    const current = all.filter((a) => a.attempt === task.attempts && a.status !== "cancelled");
    const done = current.reduce((n, a) => n + (a.status === "completed" ? 1 : (a.progress ?? 0)), 0);
    return Math.min(1, done / task.parallelism);
  }
}
