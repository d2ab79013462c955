import { BackgroundWork } from "../background.js";
import { rpcError } from "../protocol/errors.js";
import { newId } from "../protocol/ids.js";
import { PRIORITIES } from "../protocol/tools/task.js";
import type { AgentRow } from "../store/agent-repo.js";
import type { AssignmentRow } from "../store/assignment-repo.js";
import type { TaskRow } from "../store/task-repo.js";
import { TaskOutcomes, isTerminal } from "./outcomes.js";
import { WorkerReports } from "./reports.js";
import type { EngineDeps, EngineEvents } from "./types.js";

export type { EngineDeps, EngineEvents };

/** How soon scheduling and timeouts are tried again after a write failed (a full disk). */
const RETRY_MS = 1_000;

/**
 * Runs tasks: assigns ready tasks to live, capable, least-loaded agents, takes workers' reports, times out silent
 * assignments and retries after backoff. Scheduling is synchronous, so a task_orchestrate reply already shows who
 * got the task.
 */
export class TaskEngine {
  readonly outcomes: TaskOutcomes;
  /** What workers report: claims, progress, results and failures. */
  readonly reports: WorkerReports;
  events: EngineEvents = { finished: () => {}, progressed: () => {}, waiting: () => {} };
  private timer: NodeJS.Timeout | undefined;
  private scheduleQueued = false;
  private stopped = false;
  private readonly background: BackgroundWork;

  constructor(private readonly deps: EngineDeps) {
    this.background = new BackgroundWork("task scheduling", deps.reportFailure);
    this.outcomes = new TaskOutcomes(deps, { finished: (id) => this.events.finished(id), reschedule: () => this.requestSchedule() });
    this.reports = new WorkerReports(deps, this);
    deps.agentManager.releaseWork = (agentId, why) => this.releaseAgent(agentId, why);
    deps.agentManager.onLive = () => this.requestSchedule();
  }

  /** At start: connections did not survive the restart, so every worker-run agent is offline and its work requeued. */
  recover(): void {
    const { uow, assignments, agents, clock } = this.deps;
    uow.run(() => {
      const now = clock.now();
      for (const row of agents.inActiveSwarms("members")) {
        if (row.runtime.kind === "worker" && (row.status === "idle" || row.status === "busy")) agents.setStatus(row.id, "offline", now);
      }
      const touched = new Set<string>();
      for (const a of assignments.active()) {
        const error = { reason: "daemon_restarted", message: "the daemon restarted and the worker's connection was lost" };
        this.outcomes.finishAssignment(a, a.status === "running" ? "abandoned" : "cancelled", undefined, error, now);
        touched.add(a.taskId);
      }
      for (const taskId of touched) this.outcomes.evaluate(taskId, now);
    });
    this.scheduleOrRetry();
  }

  requestSchedule(): void {
    if (this.scheduleQueued || this.stopped) return;
    this.scheduleQueued = true;
    setImmediate(() => {
      this.scheduleQueued = false;
      if (!this.stopped) this.scheduleOrRetry();
    });
  }

  /**
   * Schedules now, from a caller whose own change is already committed (a stored task, a timer): a failure to write
   * the assignments — a full disk — is reported and tried again shortly instead of failing that caller.
   */
  scheduleOrRetry(): void {
    this.guarded(() => this.schedule());
  }

  /** Assigns every ready task it can, highest priority first, FIFO within a priority. */
  schedule(): void {
    const { uow, tasks, assignments, clock } = this.deps;
    uow.run(() => {
      const now = clock.now();
      const ready = tasks.schedulable(now);
      if (ready.length === 0) return;
      const load = new Map<string, number>();
      for (const a of assignments.active()) load.set(a.agentId, (load.get(a.agentId) ?? 0) + 1);
      const liveBySwarm = new Map<string, AgentRow[]>();
      const live = (swarmId: string): AgentRow[] => {
        let rows = liveBySwarm.get(swarmId);
        if (rows === undefined) {
          rows = this.deps.agents.inSwarm(swarmId, "members").filter((r) => this.deps.agentManager.isLive(r));
          liveBySwarm.set(swarmId, rows);
        }
        return rows;
      };
      for (const task of ready) {
        const attempt = task.status === "pending" ? task.attempts + 1 : task.attempts;
        const taken = task.status === "pending" ? [] : assignments.ofAttempt(task.id, attempt).filter((a) => a.status !== "cancelled");
        const need = task.parallelism - taken.length;
        if (need <= 0) continue;
        const already = new Set(taken.map((a) => a.agentId));
        const capable = live(task.swarmId).filter((r) => task.requiredCapabilities.every((c) => r.capabilities.includes(c)));
        const chosen = capable
          .filter((r) => !already.has(r.id) && (load.get(r.id) ?? 0) < r.capacity)
          .sort((a, b) => (load.get(a.id) ?? 0) / a.capacity - (load.get(b.id) ?? 0) / b.capacity || (a.lastActiveAt ?? 0) - (b.lastActiveAt ?? 0) || a.seq - b.seq)
          .slice(0, need);
        const short = need - chosen.length;
        const reason = short === 0 ? null : pendingReason(task, capable.length, short, chosen.length > 0 || taken.length > 0);
        if (chosen.length > 0 && task.status === "pending") {
          tasks.update(task.id, { status: "assigned", attempts: attempt, pendingReason: reason, notBefore: null }, now);
        } else if (reason !== task.pendingReason) {
          tasks.update(task.id, { pendingReason: reason }, now);
        }
        for (const agent of chosen) {
          this.assign(task, attempt, agent, now);
          load.set(agent.id, (load.get(agent.id) ?? 0) + 1);
        }
      }
    });
    this.arm();
  }

  /** The agent's worker is gone or it is terminated: running work is abandoned (an attempt lost), waiting work reassigned. */
  releaseAgent(agentId: string, why: string): number {
    const { uow, assignments, clock } = this.deps;
    return uow.run(() => {
      const now = clock.now();
      const active = assignments.activeByAgent(agentId);
      for (const a of active) {
        this.outcomes.finishAssignment(a, a.status === "running" ? "abandoned" : "cancelled", undefined, { reason: "abandoned", message: why }, now);
      }
      for (const taskId of new Set(active.map((a) => a.taskId))) this.outcomes.evaluate(taskId, now);
      if (active.length > 0) uow.afterCommit(() => this.requestSchedule());
      return active.length;
    });
  }

  /** Cancels a task that has not finished, with its phases and dependents. */
  cancel(taskId: string, reason: string | undefined): { cancelledTasks: string[]; cancelledAssignments: number } {
    const { uow, tasks, clock } = this.deps;
    return uow.run(() => {
      const task = tasks.get(taskId);
      if (task === undefined) throw rpcError("TASK_ERROR", `Task ${taskId} does not exist.`, { reason: "not_found", taskId });
      if (isTerminal(task.status)) {
        throw rpcError("TASK_ERROR", `Task ${taskId} already ${task.status}.`, { reason: "finished", taskId, status: task.status });
      }
      const now = clock.now();
      const message = reason ?? "cancelled by the client";
      // Phases and dependents end too, with their assignments: count what was active before and after.
      const before = this.deps.assignments.active().length;
      this.outcomes.cancelActive(task, message, now);
      const cancelledTasks = this.outcomes.finishTask(task, "cancelled", undefined, { reason: "cancelled", message }, now);
      return { cancelledTasks, cancelledAssignments: before - this.deps.assignments.active().length };
    });
  }

  /** Cancels every open task of a swarm; returns how many tasks ended. */
  cancelSwarm(swarmId: string, reason: string): number {
    const { uow, tasks, clock } = this.deps;
    return uow.run(() => {
      const now = clock.now();
      const ended = new Set<string>();
      for (const id of tasks.openInSwarm(swarmId)) {
        const task = tasks.get(id) as TaskRow;
        if (isTerminal(task.status)) continue;
        this.outcomes.cancelActive(task, reason, now);
        for (const t of this.outcomes.finishTask(task, "cancelled", undefined, { reason: "swarm_destroyed", message: reason }, now)) ended.add(t);
      }
      return ended.size;
    });
  }

  /** Running assignments past their deadline time out (a failed assignment, and a lost attempt if over threshold). */
  expire(): void {
    const { uow, assignments, tasks, clock } = this.deps;
    uow.run(() => {
      const now = clock.now();
      for (const a of assignments.expired(now)) {
        const task = tasks.get(a.taskId) as TaskRow;
        const message = `no report within ${task.timeoutMs} ms`;
        this.outcomes.finishAssignment(a, "timed_out", undefined, { reason: "timeout", message }, now);
        const worker = this.deps.agentManager.worker(a.agentId);
        if (worker) uow.afterCommit(() => worker.channel.notify("notifications/task/cancelled", { assignmentId: a.id, taskId: a.taskId, agentId: a.agentId, reason: "timeout" }));
        this.outcomes.evaluate(a.taskId, now);
      }
    });
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** What a worker receives for an assignment. */
  payload(task: TaskRow, a: AssignmentRow): object {
    const dependencyResults: Record<string, unknown> = {};
    for (const id of this.deps.tasks.dependencies(task.id)) {
      const dep = this.deps.tasks.get(id);
      dependencyResults[id] = dep?.result == null ? null : JSON.parse(dep.result);
    }
    return {
      assignmentId: a.id,
      taskId: task.id,
      agentId: a.agentId,
      swarmId: task.swarmId,
      description: task.description,
      ...(task.input === null ? {} : { input: JSON.parse(task.input) }),
      phase: task.phase,
      requiredCapabilities: task.requiredCapabilities,
      priority: PRIORITIES[task.priority],
      attempt: a.attempt,
      timeoutMs: task.timeoutMs,
      deadlineAt: a.deadlineAt,
      dependencyResults,
    };
  }

  private assign(task: TaskRow, attempt: number, agent: AgentRow, now: number): void {
    const { assignments, agents, uow, agentManager } = this.deps;
    const worker = agentManager.worker(agent.id);
    if (worker === undefined) return;
    const push = worker.delivery === "push";
    const id = newId("asg", now);
    assignments.insert({
      id,
      taskId: task.id,
      agentId: agent.id,
      attempt,
      status: push ? "running" : "assigned",
      assignedAt: now,
      startedAt: push ? now : null,
      deadlineAt: push ? now + task.timeoutMs : null,
    });
    agents.touch(agent.id, now);
    if (!push) {
      uow.afterCommit(() => this.events.waiting(agent.id));
      return;
    }
    this.markRunning(task, now);
    agentManager.refreshStatus(agent.id);
    const payload = this.payload(task, assignments.get(id) as AssignmentRow);
    uow.afterCommit(() => worker.channel.notify("notifications/task/assigned", payload));
  }

  /** The task (and its plan) is running from now on, if it was not already. */
  markRunning(task: TaskRow, now: number): void {
    const { tasks } = this.deps;
    const current = tasks.get(task.id) as TaskRow;
    tasks.update(task.id, { status: "running", startedAt: current.startedAt ?? now }, now);
    if (task.parentId === null) return;
    const plan = tasks.get(task.parentId);
    if (plan !== undefined && plan.status === "pending") tasks.update(plan.id, { status: "running", startedAt: now }, now);
  }

  /** One timer for the nearest deadline or retry. */
  arm(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    const next = [this.deps.assignments.nextDeadline(), this.deps.tasks.nextRetryAt()].filter((t): t is number => t !== null);
    if (next.length === 0) return;
    const wait = Math.max(0, Math.min(...next) - this.deps.clock.now());
    this.timer = setTimeout(() => this.tick(), Math.min(wait, 2 ** 31 - 1));
    this.timer.unref();
  }

  /** Timeouts due and retries due, off the timer. */
  private tick(): void {
    this.guarded(() => {
      this.expire();
      this.schedule();
    });
  }

  private guarded(step: () => void): void {
    if (this.background.run(step) || this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), RETRY_MS);
    this.timer.unref();
  }
}

/** Why a task waits, in words for whoever submitted it; "live" means a worker is attached (agent_attach). */
function pendingReason(task: TaskRow, capable: number, short: number, partly: boolean): string {
  const caps = task.requiredCapabilities.length === 0 ? "" : ` with capabilities [${task.requiredCapabilities.join(", ")}]`;
  if (capable === 0) return caps === "" ? "no live agent: no worker is attached to any of the swarm's agents" : `no live agent${caps}`;
  if (partly) return `waiting for ${short} more distinct live agent(s)${caps}`;
  return `all ${capable} live agent(s)${caps} are at capacity`;
}
