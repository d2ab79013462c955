import type { AgentManager } from "../agent/manager.js";
import type { Clock } from "../clock.js";
import { rpcError } from "../protocol/errors.js";
import { newId } from "../protocol/ids.js";
import type { AssignmentRepo } from "../store/assignment-repo.js";
import type { SwarmRepo } from "../store/swarm-repo.js";
import type { NewTask, TaskRepo, TaskRow, TaskStatus } from "../store/task-repo.js";
import type { UnitOfWork } from "../store/unit-of-work.js";
import type { Aggregation } from "./aggregate.js";
import type { TaskEngine } from "./engine.js";
import { isTerminal } from "./outcomes.js";
import { orderPhases, type PhaseSpec } from "./plan.js";
import { TaskViews } from "./views.js";

export interface TaskSpec {
  readonly swarmId: string;
  readonly description: string;
  readonly input?: unknown;
  /** 0 low … 3 critical. */
  readonly priority: number;
  readonly strategy: string;
  readonly requiredCapabilities: readonly string[];
  readonly parallelism: number;
  readonly aggregation: Aggregation;
  readonly failureThreshold: number;
  readonly timeoutMs: number;
  readonly retry: { readonly maxAttempts: number; readonly initialDelayMs: number; readonly multiplier: number };
  readonly dependencies: readonly string[];
  readonly phases: readonly PhaseSpec[];
  /** Phases without dependsOn wait for the one before them. */
  readonly sequential: boolean;
}

export interface TaskDeps {
  readonly uow: UnitOfWork;
  readonly tasks: TaskRepo;
  readonly assignments: AssignmentRepo;
  readonly swarms: SwarmRepo;
  readonly agentManager: AgentManager;
  readonly engine: TaskEngine;
  readonly clock: Clock;
}

type Waiters = Map<string, Set<() => void>>;

function on(waiters: Waiters, key: string, fn: () => void): () => void {
  const set = waiters.get(key) ?? new Set();
  set.add(fn);
  waiters.set(key, set);
  return () => {
    set.delete(fn);
    if (set.size === 0) waiters.delete(key);
  };
}

function fire(waiters: Waiters, key: string): void {
  for (const fn of [...(waiters.get(key) ?? [])]) fn();
}

/** Submitting tasks, reading them, and the long waits (task_wait, task_claim). The engine runs them. */
export class TaskManager {
  readonly views: TaskViews;
  private readonly finished: Waiters = new Map();
  private readonly progressed: Waiters = new Map();
  private readonly claimable: Waiters = new Map();

  constructor(private readonly deps: TaskDeps) {
    this.views = new TaskViews(deps.tasks, deps.assignments);
    deps.engine.events = {
      finished: (id) => fire(this.finished, id),
      progressed: (id) => fire(this.progressed, id),
      waiting: (agentId) => fire(this.claimable, agentId),
    };
  }

  /** Stores the task (and its phases) in one transaction, then schedules at once. */
  orchestrate(spec: TaskSpec): TaskRow {
    const { uow, tasks, clock, engine } = this.deps;
    const id = uow.run(() => {
      const swarm = this.deps.swarms.get(spec.swarmId);
      if (swarm === undefined) throw rpcError("SWARM_ERROR", `Swarm ${spec.swarmId} does not exist.`, { reason: "not_found", swarmId: spec.swarmId });
      if (swarm.status !== "active") throw rpcError("SWARM_ERROR", `Swarm ${spec.swarmId} is destroyed.`, { reason: "destroyed", swarmId: spec.swarmId });
      const known = tasks.existing(spec.dependencies);
      const missing = spec.dependencies.filter((d) => !known.has(d));
      if (missing.length > 0) {
        throw rpcError("TASK_ERROR", `Unknown dependencies: ${missing.join(", ")}.`, { reason: "unknown_dependency", ids: missing });
      }
      const phases = orderPhases(spec.phases, spec.sequential);
      const now = clock.now();
      const base = (kind: NewTask["kind"]): NewTask => ({
        id: newId("task", now),
        kind,
        swarmId: spec.swarmId,
        parentId: null,
        phase: null,
        description: spec.description,
        input: spec.input === undefined ? null : JSON.stringify(spec.input),
        priority: spec.priority,
        strategy: spec.strategy,
        requiredCapabilities: [...spec.requiredCapabilities],
        parallelism: spec.parallelism,
        aggregation: spec.aggregation,
        failureThreshold: spec.failureThreshold,
        timeoutMs: spec.timeoutMs,
        maxAttempts: spec.retry.maxAttempts,
        backoffMs: spec.retry.initialDelayMs,
        backoffMultiplier: spec.retry.multiplier,
        createdAt: now,
      });
      const top = base(phases.length === 0 ? "task" : "plan");
      tasks.insert(top, "pending");
      if (phases.length === 0) {
        for (const d of spec.dependencies) tasks.addDependency(top.id, d);
        return top.id;
      }
      const idOf = new Map<string, string>();
      for (const p of phases) {
        const phase: NewTask = {
          ...base("task"),
          parentId: top.id,
          phase: p.name,
          description: p.description ?? `${spec.description} — ${p.name}`,
          input: p.input === undefined ? top.input : JSON.stringify(p.input),
          requiredCapabilities: [...(p.requiredCapabilities ?? spec.requiredCapabilities)],
          parallelism: p.parallelism ?? spec.parallelism,
        };
        tasks.insert(phase, "pending");
        idOf.set(p.name, phase.id);
        for (const d of p.deps) tasks.addDependency(phase.id, idOf.get(d) as string);
        if (p.deps.length === 0) for (const d of spec.dependencies) tasks.addDependency(phase.id, d);
      }
      return top.id;
    });
    engine.scheduleOrRetry();
    return tasks.get(id) as TaskRow;
  }

  require(taskId: string): TaskRow {
    const task = this.deps.tasks.get(taskId);
    if (task === undefined) throw rpcError("TASK_ERROR", `Task ${taskId} does not exist.`, { reason: "not_found", taskId });
    return task;
  }

  /** The task itself and, for a plan, its phases: what a client is told about where the work went. */
  parts(task: TaskRow): TaskRow[] {
    return task.kind === "plan" ? this.deps.tasks.children(task.id) : [task];
  }

  /** Assignments of the task's current attempt that are assigned or running. */
  activeAssignments(task: TaskRow) {
    return this.deps.assignments.ofAttempt(task.id, task.attempts).filter((a) => a.status === "assigned" || a.status === "running");
  }

  /** Average duration of the swarm's completed tasks; undefined without such history (never invented). */
  estimateMs(swarmId: string): number | undefined {
    return this.deps.tasks.swarmSummary(swarmId).avgCompletionMs ?? undefined;
  }

  list(filter: { swarmId?: string | undefined; status?: TaskStatus | undefined; topLevel?: boolean; cursor?: string | undefined }, limit: number) {
    const beforeSeq = filter.cursor === undefined ? undefined : decodeCursor(filter.cursor);
    const rows = this.deps.tasks.list({ swarmId: filter.swarmId, status: filter.status, beforeSeq, topLevel: filter.topLevel ?? false }, limit + 1);
    const more = rows.length > limit;
    const page = more ? rows.slice(0, limit) : rows;
    const last = page[page.length - 1];
    return { rows: page, nextCursor: more && last ? Buffer.from(`tasks:${last.seq}`).toString("base64url") : null };
  }

  /** Resolves with the task once it ends, or after timeoutMs; reports progress changes meanwhile. */
  wait(taskId: string, timeoutMs: number, signal: AbortSignal, onProgress: (fraction: number) => void): Promise<{ task: TaskRow; timedOut: boolean }> {
    const report = (): void => onProgress(this.views.brief(this.require(taskId)).progress);
    const ended = (): { task: TaskRow; timedOut: boolean } | undefined => {
      const task = this.require(taskId);
      return isTerminal(task.status) ? { task, timedOut: false } : undefined;
    };
    const now = ended();
    if (now !== undefined) return Promise.resolve(now);
    report();
    return longPoll({ waiters: this.finished, key: taskId, check: ended, timeoutMs, onTimeout: () => ({ task: this.require(taskId), timedOut: true }), signal, also: [on(this.progressed, taskId, report)] });
  }

  /** Pull delivery: the agent's next assignment, waiting up to waitMs for one to be assigned. */
  claim(agentId: string, connectionId: number, waitMs: number, signal: AbortSignal): object | null | Promise<object | null> {
    const now = this.deps.engine.reports.claim(agentId, connectionId);
    if (now !== undefined || waitMs === 0) return now ?? null;
    return longPoll<object | null>({
      waiters: this.claimable,
      key: agentId,
      check: () => this.deps.engine.reports.claim(agentId, connectionId),
      timeoutMs: waitMs,
      onTimeout: () => null,
      signal,
    });
  }
}

/**
 * Waits for `check` to produce a value, trying again whenever `key` fires; after `timeoutMs`, `onTimeout()`. An abort
 * rejects with the signal's reason, and a throwing check rejects with its error. Every subscription ends with it.
 */
function longPoll<T>(o: {
  waiters: Waiters;
  key: string;
  check: () => T | undefined;
  timeoutMs: number;
  onTimeout: () => T;
  signal: AbortSignal;
  also?: Array<() => void>;
}): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const settle = (fn: () => void): void => {
      off();
      for (const unsubscribe of o.also ?? []) unsubscribe();
      clearTimeout(timer);
      o.signal.removeEventListener("abort", abort);
      fn();
    };
    const off = on(o.waiters, o.key, () => {
      try {
        const value = o.check();
        if (value !== undefined) settle(() => resolve(value));
      } catch (err) {
        settle(() => reject(err));
      }
    });
    const timer = setTimeout(() => settle(() => resolve(o.onTimeout())), o.timeoutMs);
    const abort = (): void => settle(() => reject(o.signal.reason));
    o.signal.addEventListener("abort", abort, { once: true });
  });
}

function decodeCursor(cursor: string): number {
  const m = /^tasks:(\d+)$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!m) throw rpcError("INVALID_PARAMS", "The cursor is not one this listing issued.", { reason: "invalid_cursor", cursor });
  return Number(m[1]);
}
