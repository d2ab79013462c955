import type { Database } from "better-sqlite3";
import type { Revision } from "./revision.js";
import { Statements } from "./statements.js";

/**
 * assigned → running → completed | failed | timed_out; abandoned when its worker went away; cancelled when the task
 * no longer needs it. Only assigned and running are active.
 */
export type AssignmentStatus = "assigned" | "running" | "completed" | "failed" | "timed_out" | "abandoned" | "cancelled";
export const FAILED_STATUSES: readonly AssignmentStatus[] = ["failed", "timed_out", "abandoned"];

export interface AssignmentRow {
  readonly id: string;
  readonly taskId: string;
  readonly agentId: string;
  readonly attempt: number;
  readonly status: AssignmentStatus;
  /** JSON text, or null. */
  readonly result: string | null;
  /** JSON text, or null. */
  readonly error: string | null;
  readonly progress: number | null;
  readonly progressMessage: string | null;
  readonly assignedAt: number;
  readonly startedAt: number | null;
  readonly deadlineAt: number | null;
  readonly finishedAt: number | null;
}

const COLUMNS = `id, task_id AS taskId, agent_id AS agentId, attempt, status, result, error, progress,
  progress_message AS progressMessage, assigned_at AS assignedAt, started_at AS startedAt, deadline_at AS deadlineAt,
  finished_at AS finishedAt`;

export class AssignmentRepo {
  /** Its statements, prepared as they are first used. */
  readonly sql: Statements;

  constructor(
    db: Database,
    private readonly revision: Revision,
  ) {
    this.sql = new Statements(db);
  }

  insert(a: Pick<AssignmentRow, "id" | "taskId" | "agentId" | "attempt" | "status" | "assignedAt" | "startedAt" | "deadlineAt">): void {
    this.revision.bump();
    this.sql
      .get(
        `INSERT INTO assignments (id, task_id, agent_id, attempt, status, assigned_at, started_at, deadline_at)
         VALUES (@id, @taskId, @agentId, @attempt, @status, @assignedAt, @startedAt, @deadlineAt)`,
      )
      .run(a);
  }

  get(id: string): AssignmentRow | undefined {
    return this.sql.get(`SELECT ${COLUMNS} FROM assignments WHERE id = ?`).get(id) as AssignmentRow | undefined;
  }

  byTask(taskId: string): AssignmentRow[] {
    return this.sql.get(`SELECT ${COLUMNS} FROM assignments WHERE task_id = ? ORDER BY attempt, assigned_at, id`).all(taskId) as AssignmentRow[];
  }

  ofAttempt(taskId: string, attempt: number): AssignmentRow[] {
    return this.sql
      .get(`SELECT ${COLUMNS} FROM assignments WHERE task_id = ? AND attempt = ? ORDER BY assigned_at, id`)
      .all(taskId, attempt) as AssignmentRow[];
  }

  /** Every assigned or running assignment, oldest first. */
  active(): AssignmentRow[] {
    return this.sql
      .get(`SELECT ${COLUMNS} FROM assignments WHERE status IN ('assigned', 'running') ORDER BY assigned_at, id`)
      .all() as AssignmentRow[];
  }

  activeByAgent(agentId: string): AssignmentRow[] {
    return this.sql
      .get(`SELECT ${COLUMNS} FROM assignments WHERE agent_id = ? AND status IN ('assigned', 'running') ORDER BY assigned_at, id`)
      .all(agentId) as AssignmentRow[];
  }

  /** The next assigned (not yet running) assignment of an agent, for pull delivery. */
  nextWaiting(agentId: string): AssignmentRow | undefined {
    return this.sql
      .get(`SELECT ${COLUMNS} FROM assignments WHERE agent_id = ? AND status = 'assigned' ORDER BY assigned_at, id LIMIT 1`)
      .get(agentId) as AssignmentRow | undefined;
  }

  /** Running assignments past their deadline. */
  expired(now: number): AssignmentRow[] {
    return this.sql
      .get(`SELECT ${COLUMNS} FROM assignments WHERE status = 'running' AND deadline_at <= ? ORDER BY deadline_at`)
      .all(now) as AssignmentRow[];
  }

  nextDeadline(): number | null {
    return this.sql.get("SELECT min(deadline_at) FROM assignments WHERE status = 'running'").pluck().get() as number | null;
  }

  start(id: string, now: number, deadlineAt: number): void {
    this.revision.bump();
    this.sql.get("UPDATE assignments SET status = 'running', started_at = ?, deadline_at = ? WHERE id = ?").run(now, deadlineAt, id);
  }

  progress(id: string, progress: number, message: string | null, deadlineAt: number): void {
    this.revision.bump();
    this.sql.get("UPDATE assignments SET progress = ?, progress_message = ?, deadline_at = ? WHERE id = ?").run(progress, message, deadlineAt, id);
  }

  finish(id: string, status: AssignmentStatus, result: string | null, error: string | null, now: number): void {
    this.revision.bump();
    this.sql
      .get("UPDATE assignments SET status = ?, result = ?, error = ?, finished_at = ?, progress = CASE WHEN ? = 'completed' THEN 1 ELSE progress END WHERE id = ?")
      .run(status, result, error, now, status, id);
  }

  /** Deletes every assignment of these tasks (finished tasks the retention removes). */
  deleteOfTasks(taskIds: readonly string[]): void {
    this.revision.bump();
    this.sql.get("DELETE FROM assignments WHERE task_id IN (SELECT value FROM json_each(?))").run(JSON.stringify(taskIds));
  }
}
