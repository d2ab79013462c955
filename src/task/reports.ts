import { rpcError } from "../protocol/errors.js";
import type { AssignmentRow } from "../store/assignment-repo.js";
import type { TaskRow } from "../store/task-repo.js";
import type { TaskOutcomes } from "./outcomes.js";
import type { EngineDeps, EngineEvents } from "./types.js";

/** What the reports need from the engine that owns them. */
export interface ReportsHost {
  readonly outcomes: TaskOutcomes;
  readonly events: EngineEvents;
  markRunning(task: TaskRow, now: number): void;
  payload(task: TaskRow, a: AssignmentRow): object;
  /** Re-arm the deadline timer after a change of deadlines. */
  arm(): void;
}

/** Which assignment a worker's report is about: its connection, the task, and optionally the assignment or agent. */
export interface WorkerReport {
  readonly connectionId: number;
  readonly taskId: string;
  readonly assignmentId?: string | undefined;
  readonly agentId?: string | undefined;
}

/** The worker side of the task engine: claims (pull delivery), progress, results and failures. */
export class WorkerReports {
  constructor(
    private readonly deps: EngineDeps,
    private readonly engine: ReportsHost,
  ) {}

  /** Pull delivery: the agent's next waiting assignment starts running now, or undefined when there is none. */
  claim(agentId: string, connectionId: number): object | undefined {
    const { uow, assignments, tasks, clock } = this.deps;
    const claimed = uow.run(() => {
      this.requireWorker(agentId, connectionId);
      const a = assignments.nextWaiting(agentId);
      if (a === undefined) return undefined;
      const task = tasks.get(a.taskId) as TaskRow;
      const now = clock.now();
      assignments.start(a.id, now, now + task.timeoutMs);
      this.engine.markRunning(task, now);
      this.deps.agentManager.refreshStatus(agentId);
      return this.engine.payload(task, assignments.get(a.id) as AssignmentRow);
    });
    this.engine.arm();
    return claimed;
  }

  progress(report: WorkerReport, progress: number, message: string | undefined): { taskId: string; assignmentId: string; deadlineAt: number } {
    const { uow, assignments, agents, clock } = this.deps;
    const out = uow.run(() => {
      const { task, assignment } = this.resolve(report);
      const now = clock.now();
      const deadlineAt = now + task.timeoutMs;
      assignments.progress(assignment.id, progress, message ?? null, deadlineAt);
      agents.touch(assignment.agentId, now);
      uow.afterCommit(() => this.engine.events.progressed(task.id));
      return { taskId: task.id, assignmentId: assignment.id, deadlineAt };
    });
    this.engine.arm();
    return out;
  }

  complete(report: WorkerReport, result: unknown): { taskId: string; assignmentId: string; taskStatus: TaskRow["status"] } {
    return this.finishReported(report, (a, now) => this.engine.outcomes.finishAssignment(a, "completed", result, undefined, now));
  }

  fail(report: WorkerReport, error: { message: string; data?: unknown }, retryable: boolean) {
    const out = this.finishReported(report, (a, now) =>
      this.engine.outcomes.finishAssignment(a, "failed", undefined, { reason: "worker_failed", message: error.message, data: error.data, retryable }, now),
    );
    return { ...out, willRetry: out.taskStatus === "pending" };
  }

  private finishReported(report: WorkerReport, finish: (a: AssignmentRow, now: number) => void) {
    const { uow, tasks, clock } = this.deps;
    const out = uow.run(() => {
      const { task, assignment } = this.resolve(report);
      const now = clock.now();
      finish(assignment, now);
      this.engine.outcomes.evaluate(task.id, now);
      return { taskId: task.id, assignmentId: assignment.id, taskStatus: (tasks.get(task.id) as TaskRow).status };
    });
    this.engine.arm();
    return out;
  }

  /** The running assignment of this task that this connection's worker holds. */
  private resolve(report: WorkerReport): { task: TaskRow; assignment: AssignmentRow } {
    const task = this.deps.tasks.get(report.taskId);
    if (task === undefined) throw rpcError("TASK_ERROR", `Task ${report.taskId} does not exist.`, { reason: "not_found", taskId: report.taskId });
    const mine = this.deps.assignments
      .byTask(task.id)
      .filter(
        (a) =>
          a.status === "running" &&
          this.deps.agentManager.worker(a.agentId)?.connectionId === report.connectionId &&
          (report.assignmentId === undefined || a.id === report.assignmentId) &&
          (report.agentId === undefined || a.agentId === report.agentId),
      );
    if (mine.length === 0) {
      throw rpcError("TASK_ERROR", `This connection holds no running assignment of task ${task.id}.`, { reason: "not_assigned", taskId: task.id });
    }
    if (mine.length > 1) {
      throw rpcError("TASK_ERROR", `This connection holds ${mine.length} assignments of task ${task.id}; pass assignmentId.`, {
        reason: "ambiguous_assignment",
        taskId: task.id,
        assignmentIds: mine.map((a) => a.id),
      });
    }
    return { task, assignment: mine[0] as AssignmentRow };
  }

  private requireWorker(agentId: string, connectionId: number): void {
    const row = this.deps.agentManager.require(agentId);
    if (this.deps.agentManager.worker(row.id)?.connectionId !== connectionId) {
      throw rpcError("AGENT_ERROR", `This connection is not agent ${agentId}'s worker; call agent_attach first.`, { reason: "not_attached", agentId });
    }
  }
}
