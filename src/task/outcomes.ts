import type { AssignmentRow, AssignmentStatus } from "../store/assignment-repo.js";
import type { TaskRow, TaskStatus } from "../store/task-repo.js";
import { decideAttempt } from "./aggregate.js";
import type { EngineDeps } from "./types.js";

export interface OutcomeHooks {
  /** A task reached completed, failed or cancelled (after commit). */
  finished(taskId: string): void;
  /** Something may now be assignable (after commit). */
  reschedule(): void;
}

export const isTerminal = (s: TaskStatus): boolean => s === "completed" || s === "failed" || s === "cancelled";
const json = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));

/**
 * What the end of an assignment means: the assignment is recorded (and folded into its agent's counters), the
 * attempt is decided by the task's aggregation, and the task is retried, completed or failed — cascading to its plan
 * and to the tasks that depend on it. Always called inside a unit of work.
 */
export class TaskOutcomes {
  constructor(
    private readonly deps: EngineDeps,
    private readonly hooks: OutcomeHooks,
  ) {}

  finishAssignment(a: AssignmentRow, status: AssignmentStatus, result: unknown, error: Record<string, unknown> | undefined, now: number): void {
    const { assignments, agents, agentManager } = this.deps;
    assignments.finish(a.id, status, status === "completed" ? JSON.stringify(result ?? null) : null, json(error), now);
    const runMs = a.startedAt === null ? 0 : now - a.startedAt;
    const outcome = status === "completed" ? "c" : status === "cancelled" ? null : "f";
    agents.recordFinish(a.agentId, outcome, runMs, now - a.assignedAt, now);
    agentManager.refreshStatus(a.agentId);
  }

  /** Cancels a task's active assignments and tells their workers; returns how many. */
  cancelActive(task: TaskRow, reason: string, now: number): number {
    const active = this.deps.assignments.byTask(task.id).filter((a) => a.status === "assigned" || a.status === "running");
    for (const a of active) {
      this.finishAssignment(a, "cancelled", undefined, { reason: "cancelled", message: reason }, now);
      const worker = this.deps.agentManager.worker(a.agentId);
      if (worker !== undefined) {
        this.deps.uow.afterCommit(() =>
          worker.channel.notify("notifications/task/cancelled", { assignmentId: a.id, taskId: task.id, agentId: a.agentId, reason }),
        );
      }
    }
    return active.length;
  }

  /** Decides the task's current attempt after one of its assignments ended. */
  evaluate(taskId: string, now: number): void {
    const { tasks, assignments, swarms } = this.deps;
    const task = tasks.get(taskId);
    if (task === undefined || isTerminal(task.status) || task.kind !== "task") return;
    const attempt = assignments.ofAttempt(task.id, task.attempts).filter((a) => a.status !== "cancelled");
    const swarm = swarms.get(task.swarmId);
    const outcome = decideAttempt(
      {
        aggregation: task.aggregation,
        parallelism: task.parallelism,
        failureThreshold: task.failureThreshold,
        consensusThreshold: swarm?.consensusThreshold ?? 0.7,
      },
      attempt,
    );
    if (outcome.kind === "running") {
      const status = attempt.some((a) => a.status === "running") ? "running" : attempt.some((a) => a.status === "assigned") ? "assigned" : task.status;
      if (status !== task.status) tasks.update(task.id, { status }, now);
      return;
    }
    if (outcome.kind === "completed") {
      this.cancelActive(task, "the task completed", now);
      this.finishTask(task, "completed", outcome.result, undefined, now);
      return;
    }
    this.cancelActive(task, "the attempt failed", now);
    if (outcome.retryable && task.attempts < task.maxAttempts) {
      // A worker that vanished is no reason to wait; a failure or a timeout is.
      const delay = outcome.error.reason === "abandoned" ? 0 : Math.round(task.backoffMs * task.backoffMultiplier ** (task.attempts - 1));
      tasks.update(
        task.id,
        {
          status: "pending",
          notBefore: delay > 0 ? now + delay : null,
          pendingReason: `attempt ${task.attempts} of ${task.maxAttempts} failed (${outcome.error.reason}); retrying${delay > 0 ? ` after ${delay} ms` : ""}`,
          error: JSON.stringify(outcome.error),
        },
        now,
      );
      this.deps.uow.afterCommit(() => this.hooks.reschedule());
      return;
    }
    this.finishTask(task, "failed", undefined, { ...outcome.error, attempts: task.attempts }, now);
  }

  /** Ends a task for good, then its plan and dependents follow. Returns the ids of every task it ended. */
  finishTask(task: TaskRow, status: "completed" | "failed" | "cancelled", result: unknown, error: Record<string, unknown> | undefined, now: number): string[] {
    const { tasks, uow } = this.deps;
    const ended = [task.id];
    tasks.update(task.id, { status, result: json(result), error: json(error), finishedAt: now, pendingReason: null, notBefore: null }, now);
    uow.afterCommit(() => this.hooks.finished(task.id));
    if (task.kind === "plan" && status !== "completed") {
      for (const phase of tasks.children(task.id)) {
        if (isTerminal(phase.status)) continue;
        this.cancelActive(phase, `the task's ${status === "failed" ? "plan failed" : "plan was cancelled"}`, now);
        ended.push(...this.finishTask(phase, "cancelled", undefined, { reason: "plan_ended", message: `plan ${task.id} ${status}` }, now));
      }
    }
    if (task.parentId !== null) ended.push(...this.evaluatePlan(task.parentId, now));
    if (status !== "completed") {
      for (const dependentId of tasks.dependents(task.id)) {
        const dependent = tasks.get(dependentId);
        if (dependent === undefined || isTerminal(dependent.status)) continue;
        this.cancelActive(dependent, `dependency ${task.id} ${status}`, now);
        const cascade = status === "failed" ? "failed" : "cancelled";
        ended.push(
          ...this.finishTask(dependent, cascade, undefined, { reason: `dependency_${status}`, message: `dependency ${task.id} ${status}`, dependency: task.id }, now),
        );
      }
    }
    uow.afterCommit(() => this.hooks.reschedule());
    return ended;
  }

  /** A plan completes when all its phases have, with their results by phase name; it fails with its first failed phase. */
  private evaluatePlan(planId: string, now: number): string[] {
    const plan = this.deps.tasks.get(planId);
    if (plan === undefined || isTerminal(plan.status)) return [];
    const phases = this.deps.tasks.children(planId);
    const failed = phases.find((p) => p.status === "failed");
    if (failed) return this.finishTask(plan, "failed", undefined, { reason: "phase_failed", message: `phase ${failed.phase} failed`, phase: failed.phase }, now);
    const cancelled = phases.find((p) => p.status === "cancelled");
    if (cancelled) return this.finishTask(plan, "cancelled", undefined, { reason: "phase_cancelled", message: `phase ${cancelled.phase} was cancelled`, phase: cancelled.phase }, now);
    if (phases.every((p) => p.status === "completed")) {
      const result = Object.fromEntries(phases.map((p) => [p.phase as string, p.result === null ? null : JSON.parse(p.result)]));
      return this.finishTask(plan, "completed", result, undefined, now);
    }
    return [];
  }
}
