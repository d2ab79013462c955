import type { Database } from "better-sqlite3";
import type { AgentStatus, AgentType } from "../protocol/agent-types.js";
import type { Revision } from "./revision.js";
import { Statements } from "./statements.js";

/** What is persisted about an agent's executor; whether a worker is connected right now is not (see AgentManager). */
export interface RuntimeRecord {
  readonly kind: "none" | "worker";
  readonly delivery?: "push" | "pull";
  readonly attachedAt?: number;
}

export interface AgentRow {
  readonly id: string;
  readonly swarmId: string;
  readonly seq: number;
  readonly type: AgentType;
  readonly name: string;
  readonly status: AgentStatus;
  readonly capabilities: string[];
  readonly capacity: number;
  readonly config: Record<string, unknown> | null;
  readonly resources: Record<string, unknown> | null;
  readonly runtime: RuntimeRecord;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly lastActiveAt: number | null;
  readonly terminatedAt: number | null;
  readonly terminationReason: string | null;
  readonly tasksCompleted: number;
  readonly tasksFailed: number;
  readonly busyMs: number;
  readonly taskMsTotal: number;
  readonly responseMsTotal: number;
  /** Outcomes of its last 20 finished assignments, oldest first: "c" completed, "f" failed. */
  readonly recentOutcomes: string;
}

export interface MessageRow {
  readonly seq: number;
  readonly id: string;
  readonly agentId: string;
  readonly swarmId: string;
  readonly body: Record<string, unknown>;
  readonly createdAt: number;
  readonly deliveredAt: number | null;
}

/** The select list, camelCased; `t` qualifies the columns when the query joins. */
const columns = (t = ""): string =>
  [
    "id", "swarm_id AS swarmId", "seq", "type", "name", "status", "capabilities", "capacity", "config", "resources", "runtime",
    "created_at AS createdAt", "updated_at AS updatedAt", "last_active_at AS lastActiveAt", "terminated_at AS terminatedAt",
    "termination_reason AS terminationReason", "tasks_completed AS tasksCompleted", "tasks_failed AS tasksFailed",
    "busy_ms AS busyMs", "task_ms_total AS taskMsTotal", "response_ms_total AS responseMsTotal", "recent_outcomes AS recentOutcomes",
  ]
    .map((c) => t + c)
    .join(", ");
const COLUMNS = columns();

type Raw = Omit<AgentRow, "capabilities" | "config" | "resources" | "runtime"> & {
  capabilities: string;
  config: string | null;
  resources: string | null;
  runtime: string;
};

function toRow(raw: Raw): AgentRow {
  return {
    ...raw,
    capabilities: JSON.parse(raw.capabilities) as string[],
    config: raw.config === null ? null : (JSON.parse(raw.config) as Record<string, unknown>),
    resources: raw.resources === null ? null : (JSON.parse(raw.resources) as Record<string, unknown>),
    runtime: JSON.parse(raw.runtime) as RuntimeRecord,
  };
}

const json = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));

/** Which of a swarm's agents: its members (every agent not terminated, as agent_list's "all"), or the terminated. */
export type AgentScope = "members" | "terminated";
// Statuses spelled out, not "!= 'terminated'": SQLite seeks each on the (swarm_id, status, seq) index.
const SCOPE: Record<AgentScope, string> = { members: "status IN ('idle', 'busy', 'offline')", terminated: "status = 'terminated'" };

export class AgentRepo {
  /** Its statements, prepared as they are first used. */
  readonly sql: Statements;

  constructor(
    db: Database,
    private readonly revision: Revision,
  ) {
    this.sql = new Statements(db);
  }

  insert(a: Pick<AgentRow, "id" | "swarmId" | "seq" | "type" | "name" | "status" | "capabilities" | "capacity" | "config" | "resources" | "runtime" | "createdAt">): void {
    this.revision.bump();
    this.sql
      .get(
        `INSERT INTO agents (id, swarm_id, seq, type, name, status, capabilities, capacity, config, resources, runtime, created_at, updated_at)
         VALUES (@id, @swarmId, @seq, @type, @name, @status, @capabilities, @capacity, @config, @resources, @runtime, @createdAt, @createdAt)`,
      )
      .run({ ...a, capabilities: JSON.stringify(a.capabilities), config: json(a.config), resources: json(a.resources), runtime: JSON.stringify(a.runtime) });
  }

  get(id: string): AgentRow | undefined {
    const raw = this.sql.get(`SELECT ${COLUMNS} FROM agents WHERE id = ?`).get(id) as Raw | undefined;
    return raw === undefined ? undefined : toRow(raw);
  }

  /** A swarm's agents in spawn order: its members (every agent not terminated), or the terminated ones. */
  inSwarm(swarmId: string, scope: AgentScope): AgentRow[] {
    // Left to itself SQLite walks the (swarm_id, seq) index to save a sort of a few rows, reading every agent the
    // swarm ever had; INDEXED BY holds it to the index that seeks the statuses.
    const sql = `SELECT ${COLUMNS} FROM agents INDEXED BY agents_by_swarm_status WHERE swarm_id = ? AND ${SCOPE[scope]} ORDER BY seq`;
    return (this.sql.get(sql).all(swarmId) as Raw[]).map(toRow);
  }

  /** Agents of every active swarm, swarm by swarm (oldest swarm first), in spawn order. */
  inActiveSwarms(scope: AgentScope): AgentRow[] {
    return (
      this.sql
        .get(
          `SELECT ${columns("a.")} FROM agents a JOIN swarms s ON s.id = a.swarm_id
           WHERE s.status = 'active' AND a.${SCOPE[scope]} ORDER BY s.created_at, s.id, a.seq`,
        )
        .all() as Raw[]
    ).map(toRow);
  }

  /** A swarm's agents by status, from the counts triggers keep (migration 3): history does not make it slower. */
  countsIn(swarmId: string): Record<AgentStatus, number> {
    const counts: Record<AgentStatus, number> = { idle: 0, busy: 0, offline: 0, terminated: 0 };
    const rows = this.sql.get("SELECT status, n FROM agent_counts WHERE swarm_id = ?").all(swarmId) as Array<{ status: AgentStatus; n: number }>;
    for (const r of rows) counts[r.status] = r.n;
    return counts;
  }

  /** Agents that are not terminated: in one swarm, or across every swarm. */
  countLive(swarmId?: string): number {
    return (
      swarmId === undefined
        ? this.sql.get("SELECT coalesce(sum(n), 0) FROM agent_counts WHERE status != 'terminated'").pluck().get()
        : this.sql.get("SELECT coalesce(sum(n), 0) FROM agent_counts WHERE swarm_id = ? AND status != 'terminated'").pluck().get(swarmId)
    ) as number;
  }

  nextSeq(swarmId: string): number {
    return (this.sql.get("SELECT coalesce(max(seq), 0) + 1 FROM agents WHERE swarm_id = ?").pluck().get(swarmId) as number) ?? 1;
  }

  setStatus(id: string, status: AgentStatus, now: number): void {
    this.revision.bump();
    this.sql.get("UPDATE agents SET status = ?, updated_at = ? WHERE id = ?").run(status, now, id);
  }

  setRuntime(id: string, runtime: RuntimeRecord, status: AgentStatus, now: number): void {
    this.revision.bump();
    this.sql
      .get("UPDATE agents SET runtime = ?, status = ?, updated_at = ?, last_active_at = ? WHERE id = ?")
      .run(JSON.stringify(runtime), status, now, now, id);
  }

  terminate(id: string, reason: string | null, now: number): void {
    this.revision.bump();
    this.sql
      .get("UPDATE agents SET status = 'terminated', terminated_at = ?, termination_reason = ?, updated_at = ? WHERE id = ?")
      .run(now, reason, now, id);
  }

  /** Folds one finished assignment into the agent's counters. `outcome` null: cancelled (time counted, no outcome). */
  recordFinish(id: string, outcome: "c" | "f" | null, runMs: number, responseMs: number, now: number): void {
    this.revision.bump();
    this.sql
      .get(
        `UPDATE agents SET
           tasks_completed = tasks_completed + (@outcome IS 'c'),
           tasks_failed = tasks_failed + (@outcome IS 'f'),
           busy_ms = busy_ms + @runMs,
           task_ms_total = task_ms_total + CASE WHEN @outcome IS 'c' THEN @runMs ELSE 0 END,
           response_ms_total = response_ms_total + CASE WHEN @outcome IS 'c' THEN @responseMs ELSE 0 END,
           recent_outcomes = CASE WHEN @outcome IS NULL THEN recent_outcomes ELSE substr(recent_outcomes || @outcome, -20) END,
           last_active_at = @now, updated_at = @now
         WHERE id = @id`,
      )
      .run({ id, outcome, runMs, responseMs, now });
  }

  touch(id: string, now: number): void {
    this.revision.bump();
    this.sql.get("UPDATE agents SET last_active_at = ?, updated_at = ? WHERE id = ?").run(now, now, id);
  }

  insertMessage(m: Omit<MessageRow, "seq" | "deliveredAt">): number {
    const info = this.sql
      .get("INSERT INTO agent_messages (id, agent_id, swarm_id, body, created_at) VALUES (@id, @agentId, @swarmId, @body, @createdAt)")
      .run({ ...m, body: JSON.stringify(m.body) });
    return Number(info.lastInsertRowid);
  }

  messageSeq(agentId: string, messageId: string): number | undefined {
    return this.sql.get("SELECT seq FROM agent_messages WHERE id = ? AND agent_id = ?").pluck().get(messageId, agentId) as number | undefined;
  }

  messagesAfter(agentId: string, afterSeq: number, limit: number): MessageRow[] {
    const rows = this.sql
      .get(
        `SELECT seq, id, agent_id AS agentId, swarm_id AS swarmId, body, created_at AS createdAt, delivered_at AS deliveredAt
         FROM agent_messages WHERE agent_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
      )
      .all(agentId, afterSeq, limit) as Array<Omit<MessageRow, "body"> & { body: string }>;
    return rows.map((r) => ({ ...r, body: JSON.parse(r.body) as Record<string, unknown> }));
  }

  countMessages(agentId: string): number {
    return this.sql.get("SELECT count(*) FROM agent_messages WHERE agent_id = ?").pluck().get(agentId) as number;
  }

  markDelivered(messageId: string, now: number): void {
    this.sql.get("UPDATE agent_messages SET delivered_at = ? WHERE id = ?").run(now, messageId);
  }

  /** Up to `limit` agents of a swarm, whatever their status (a destroyed swarm's, to delete them). */
  idsInSwarm(swarmId: string, limit: number): string[] {
    return this.sql.get("SELECT id FROM agents WHERE swarm_id = ? LIMIT ?").pluck().all(swarmId, limit) as string[];
  }

  /** Deletes these agents with their messages; none may have an assignment left. */
  delete(ids: readonly string[]): void {
    this.revision.bump();
    const list = JSON.stringify(ids);
    this.sql.get("DELETE FROM agent_messages WHERE agent_id IN (SELECT value FROM json_each(?))").run(list);
    this.sql.get("DELETE FROM agents WHERE id IN (SELECT value FROM json_each(?))").run(list);
  }

  /** Rows by status, for metrics. */
  countByStatus(): Record<string, number> {
    const rows = this.sql.get("SELECT status, sum(n) AS n FROM agent_counts GROUP BY status").all() as Array<{ status: string; n: number }>;
    return Object.fromEntries(rows.filter((r) => r.n > 0).map((r) => [r.status, r.n]));
  }
}
