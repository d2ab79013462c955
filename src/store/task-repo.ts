import type { Database } from "better-sqlite3";
import { Statements } from "./statements.js";

export type TaskStatus = "pending" | "assigned" | "running" | "completed" | "failed" | "cancelled";
export const OPEN_STATUSES: readonly TaskStatus[] = ["pending", "assigned", "running"];

export interface TaskRow {
  readonly id: string;
  readonly seq: number;
  readonly kind: "task" | "plan";
  readonly swarmId: string;
  readonly parentId: string | null;
  readonly phase: string | null;
  readonly description: string;
  /** JSON text, or null. */
  readonly input: string | null;
  /** 0 low … 3 critical. */
  readonly priority: number;
  readonly strategy: string;
  readonly requiredCapabilities: string[];
  readonly parallelism: number;
  readonly aggregation: "first" | "all" | "majority_vote";
  readonly failureThreshold: number;
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  readonly backoffMs: number;
  readonly backoffMultiplier: number;
  readonly status: TaskStatus;
  readonly attempts: number;
  readonly pendingReason: string | null;
  readonly notBefore: number | null;
  /** JSON text of the aggregated result, or null. */
  readonly result: string | null;
  /** JSON text of {reason, message, …}, or null. */
  readonly error: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
}

/** A task as the retention judges it. */
export interface TaskAge {
  readonly seq: number;
  readonly id: string;
  readonly parentId: string | null;
  readonly status: TaskStatus;
  readonly createdAt: number;
  readonly finishedAt: number | null;
}

export type NewTask = Omit<TaskRow, "seq" | "status" | "attempts" | "pendingReason" | "notBefore" | "result" | "error" | "updatedAt" | "startedAt" | "finishedAt">;

const COLUMNS = `id, seq, kind, swarm_id AS swarmId, parent_id AS parentId, phase, description, input, priority, strategy,
  required_capabilities AS requiredCapabilities, parallelism, aggregation, failure_threshold AS failureThreshold,
  timeout_ms AS timeoutMs, max_attempts AS maxAttempts, backoff_ms AS backoffMs, backoff_multiplier AS backoffMultiplier,
  status, attempts, pending_reason AS pendingReason, not_before AS notBefore, result, error, created_at AS createdAt,
  updated_at AS updatedAt, started_at AS startedAt, finished_at AS finishedAt`;

type Raw = Omit<TaskRow, "requiredCapabilities"> & { requiredCapabilities: string };
const toRow = (r: Raw): TaskRow => ({ ...r, requiredCapabilities: JSON.parse(r.requiredCapabilities) as string[] });

export class TaskRepo {
  /** Its statements, prepared as they are first used. */
  readonly sql: Statements;

  constructor(db: Database) {
    this.sql = new Statements(db);
  }

  insert(t: NewTask, status: TaskStatus): void {
    this.sql
      .get(
        `INSERT INTO tasks (id, seq, kind, swarm_id, parent_id, phase, description, input, priority, strategy, required_capabilities,
           parallelism, aggregation, failure_threshold, timeout_ms, max_attempts, backoff_ms, backoff_multiplier, status, created_at, updated_at)
         VALUES (@id, (SELECT coalesce(max(seq), 0) + 1 FROM tasks), @kind, @swarmId, @parentId, @phase, @description, @input, @priority,
           @strategy, @requiredCapabilities, @parallelism, @aggregation, @failureThreshold, @timeoutMs, @maxAttempts, @backoffMs,
           @backoffMultiplier, @status, @createdAt, @createdAt)`,
      )
      .run({ ...t, requiredCapabilities: JSON.stringify(t.requiredCapabilities), status });
  }

  addDependency(taskId: string, dependsOn: string): void {
    this.sql.get("INSERT OR IGNORE INTO task_dependencies (task_id, depends_on) VALUES (?, ?)").run(taskId, dependsOn);
  }

  get(id: string): TaskRow | undefined {
    const raw = this.sql.get(`SELECT ${COLUMNS} FROM tasks WHERE id = ?`).get(id) as Raw | undefined;
    return raw === undefined ? undefined : toRow(raw);
  }

  /** A plan's phases in creation order. */
  children(parentId: string): TaskRow[] {
    return (this.sql.get(`SELECT ${COLUMNS} FROM tasks WHERE parent_id = ? ORDER BY seq`).all(parentId) as Raw[]).map(toRow);
  }

  dependencies(taskId: string): string[] {
    return this.sql
      .get("SELECT d.depends_on FROM task_dependencies d JOIN tasks t ON t.id = d.depends_on WHERE d.task_id = ? ORDER BY t.seq")
      .pluck()
      .all(taskId) as string[];
  }

  dependents(taskId: string): string[] {
    return this.sql.get("SELECT task_id FROM task_dependencies WHERE depends_on = ?").pluck().all(taskId) as string[];
  }

  /**
   * Tasks the scheduler may assign: open, and — when pending — past any retry delay with every dependency completed.
   * Highest priority first, then oldest.
   */
  schedulable(now: number): TaskRow[] {
    return (
      this.sql
        .get(
          `SELECT ${COLUMNS} FROM tasks t WHERE t.kind = 'task' AND t.status IN ('pending', 'assigned', 'running')
             AND (t.status != 'pending' OR ((t.not_before IS NULL OR t.not_before <= @now) AND NOT EXISTS (
               SELECT 1 FROM task_dependencies d JOIN tasks dep ON dep.id = d.depends_on
               WHERE d.task_id = t.id AND dep.status != 'completed')))
           ORDER BY t.priority DESC, t.seq`,
        )
        .all({ now }) as Raw[]
    ).map(toRow);
  }

  /** The earliest retry time among pending tasks, for the scheduler's timer. */
  nextRetryAt(): number | null {
    return this.sql.get("SELECT min(not_before) FROM tasks WHERE status = 'pending' AND not_before IS NOT NULL").pluck().get() as number | null;
  }

  update(id: string, fields: Partial<Pick<TaskRow, "status" | "attempts" | "pendingReason" | "notBefore" | "result" | "error" | "startedAt" | "finishedAt">>, now: number): void {
    const sets = Object.keys(fields).map((k) => `${COLUMN_OF[k as keyof typeof COLUMN_OF]} = @${k}`);
    this.sql.get(`UPDATE tasks SET ${[...sets, "updated_at = @now"].join(", ")} WHERE id = @id`).run({ ...fields, id, now });
  }

  /** Newest first; `beforeSeq` continues a listing. */
  list(filter: { swarmId?: string | undefined; status?: TaskStatus | undefined; beforeSeq?: number | undefined; topLevel?: boolean }, limit: number): TaskRow[] {
    const where: string[] = [];
    if (filter.swarmId !== undefined) where.push("swarm_id = @swarmId");
    if (filter.status !== undefined) where.push("status = @status");
    if (filter.beforeSeq !== undefined) where.push("seq < @beforeSeq");
    if (filter.topLevel) where.push("parent_id IS NULL");
    const sql = `SELECT ${COLUMNS} FROM tasks ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY seq DESC LIMIT @limit`;
    return (this.sql.get(sql).all({ ...filter, limit }) as Raw[]).map(toRow);
  }

  /**
   * Top-level tasks of a swarm by status, and the completion history its metrics come from: read from the counts
   * triggers keep (migration 3), so the cost does not grow with the history.
   */
  swarmSummary(swarmId: string): { counts: Record<TaskStatus, number>; total: number; avgCompletionMs: number | null } {
    const counts: Record<TaskStatus, number> = { pending: 0, assigned: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };
    const rows = this.sql
      .get("SELECT status, n, timed, duration_ms_total AS durationMs FROM task_counts WHERE swarm_id = ? AND top_level = 1")
      .all(swarmId) as Array<{ status: TaskStatus; n: number; timed: number; durationMs: number }>;
    let total = 0;
    let avgCompletionMs: number | null = null;
    for (const r of rows) {
      counts[r.status] = r.n;
      total += r.n;
      if (r.status === "completed" && r.timed > 0) avgCompletionMs = r.durationMs / r.timed;
    }
    return { counts, total, avgCompletionMs };
  }

  /** Open tasks of a swarm (to cancel them all). */
  openInSwarm(swarmId: string): string[] {
    return this.sql
      // As AgentRepo.inSwarm: without INDEXED BY, SQLite reads every task the swarm ever had to save a small sort.
      .get("SELECT id FROM tasks INDEXED BY tasks_by_swarm_status WHERE swarm_id = ? AND status IN ('pending', 'assigned', 'running') ORDER BY seq")
      .pluck()
      .all(swarmId) as string[];
  }

  /** Which of these ids exist. */
  existing(ids: readonly string[]): Set<string> {
    const found = new Set<string>();
    for (const id of ids) if (this.sql.get("SELECT 1 FROM tasks WHERE id = ?").pluck().get(id) !== undefined) found.add(id);
    return found;
  }

  /** Up to `limit` tasks after `afterSeq`, oldest first, with what the retention needs to judge them. */
  oldest(afterSeq: number, limit: number): TaskAge[] {
    return this.sql
      .get("SELECT seq, id, parent_id AS parentId, status, created_at AS createdAt, finished_at AS finishedAt FROM tasks WHERE seq > ? ORDER BY seq LIMIT ?")
      .all(afterSeq, limit) as TaskAge[];
  }

  /** The phases of these plans. */
  phasesOf(planIds: readonly string[]): Array<Pick<TaskAge, "id" | "parentId" | "status">> {
    return this.sql
      .get("SELECT id, parent_id AS parentId, status FROM tasks WHERE parent_id IN (SELECT value FROM json_each(?))")
      .all(JSON.stringify(planIds)) as Array<Pick<TaskAge, "id" | "parentId" | "status">>;
  }

  /** Whether the swarm still holds any task. */
  swarmHasTasks(swarmId: string): boolean {
    return this.sql.get("SELECT 1 FROM tasks WHERE swarm_id = ? LIMIT 1").pluck().get(swarmId) !== undefined;
  }

  /** Deletes these tasks (a plan with all its phases) and the dependency edges to and from them. */
  delete(ids: readonly string[]): void {
    const list = JSON.stringify(ids);
    this.sql.get("DELETE FROM task_dependencies WHERE task_id IN (SELECT value FROM json_each(?))").run(list);
    this.sql.get("DELETE FROM task_dependencies WHERE depends_on IN (SELECT value FROM json_each(?))").run(list);
    this.sql.get("DELETE FROM tasks WHERE id IN (SELECT value FROM json_each(?))").run(list);
  }

  /** Rows by status, for metrics. */
  countByStatus(): Record<string, number> {
    const rows = this.sql.get("SELECT status, sum(n) AS n FROM task_counts GROUP BY status").all() as Array<{ status: string; n: number }>;
    return Object.fromEntries(rows.filter((r) => r.n > 0).map((r) => [r.status, r.n]));
  }
}

const COLUMN_OF = {
  status: "status",
  attempts: "attempts",
  pendingReason: "pending_reason",
  notBefore: "not_before",
  result: "result",
  error: "error",
  startedAt: "started_at",
  finishedAt: "finished_at",
} as const;
