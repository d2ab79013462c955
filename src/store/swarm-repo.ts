import type { Database } from "better-sqlite3";
import type { Topology } from "../protocol/agent-types.js";
import type { Revision } from "./revision.js";
import { Statements } from "./statements.js";

export interface SwarmRow {
  readonly id: string;
  readonly name: string;
  readonly topology: Topology;
  readonly strategy: string;
  readonly maxAgents: number;
  readonly consensusThreshold: number;
  readonly status: "active" | "destroyed";
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly destroyedAt: number | null;
}

const COLUMNS = `id, name, topology, strategy, max_agents AS maxAgents, consensus_threshold AS consensusThreshold,
  status, created_at AS createdAt, updated_at AS updatedAt, destroyed_at AS destroyedAt`;

export class SwarmRepo {
  private readonly sql: Statements;

  constructor(
    db: Database,
    private readonly revision: Revision,
  ) {
    this.sql = new Statements(db);
  }

  insert(s: Omit<SwarmRow, "updatedAt" | "destroyedAt">): void {
    this.revision.bump(); // which swarms are active decides what agent_list lists
    this.sql
      .get(
        `INSERT INTO swarms (id, name, topology, strategy, max_agents, consensus_threshold, status, created_at, updated_at)
         VALUES (@id, @name, @topology, @strategy, @maxAgents, @consensusThreshold, @status, @createdAt, @createdAt)`,
      )
      .run(s);
  }

  get(id: string): SwarmRow | undefined {
    return this.sql.get(`SELECT ${COLUMNS} FROM swarms WHERE id = ?`).get(id) as SwarmRow | undefined;
  }

  /** Newest first. */
  list(status: "active" | "destroyed" | "all"): SwarmRow[] {
    return (
      status === "all"
        ? this.sql.get(`SELECT ${COLUMNS} FROM swarms ORDER BY created_at DESC, id DESC`).all()
        : this.sql.get(`SELECT ${COLUMNS} FROM swarms WHERE status = ? ORDER BY created_at DESC, id DESC`).all(status)
    ) as SwarmRow[];
  }

  activeIds(): string[] {
    return this.sql.get("SELECT id FROM swarms WHERE status = 'active' ORDER BY created_at, id").pluck().all() as string[];
  }

  /** The number the next swarm gets in its default name: one past the newest stored, so no stored swarm has it. */
  nextNumber(): number {
    return this.sql.get("SELECT coalesce(max(rowid), 0) + 1 FROM swarms").pluck().get() as number;
  }

  /** Swarms destroyed at or before `cutoff`, oldest first. */
  destroyedBefore(cutoff: number, limit: number): string[] {
    return this.sql
      .get("SELECT id FROM swarms WHERE status = 'destroyed' AND destroyed_at <= ? ORDER BY created_at LIMIT ?")
      .pluck()
      .all(cutoff, limit) as string[];
  }

  /** Deletes a swarm that holds no tasks or agents any more, with its counts. */
  delete(id: string): void {
    this.revision.bump();
    this.sql.get("DELETE FROM task_counts WHERE swarm_id = ?").run(id);
    this.sql.get("DELETE FROM agent_counts WHERE swarm_id = ?").run(id);
    this.sql.get("DELETE FROM swarms WHERE id = ?").run(id);
  }

  setMaxAgents(id: string, maxAgents: number, now: number): void {
    this.sql.get("UPDATE swarms SET max_agents = ?, updated_at = ? WHERE id = ?").run(maxAgents, now, id);
  }

  markDestroyed(id: string, now: number): void {
    this.revision.bump(); // which swarms are active decides what agent_list lists
    this.sql.get("UPDATE swarms SET status = 'destroyed', destroyed_at = ?, updated_at = ? WHERE id = ?").run(now, now, id);
  }

  /** Rows by status, for metrics. */
  countByStatus(): Record<string, number> {
    const rows = this.sql.get("SELECT status, count(*) AS n FROM swarms GROUP BY status").all() as Array<{ status: string; n: number }>;
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }
}
