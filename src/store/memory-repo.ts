import type { Database, Statement } from "better-sqlite3";
import type { MemoryCache } from "./memory-cache.js";
import type { MemoryMeta, MemoryRow } from "./memory-row.js";
import { Statements } from "./statements.js";

export type { MemoryMeta, MemoryRow } from "./memory-row.js";

export interface UpsertInput {
  readonly namespace: string;
  readonly key: string;
  readonly value: string;
  readonly size: number;
  readonly tags: string | null;
  readonly now: number;
  readonly expiresAt: number | null;
}

export interface ScanQuery {
  readonly now: number;
  readonly namespace?: string | undefined;
  /** Key range [from, to) that the index can seek (a literal prefix); absent: every key. */
  readonly keyRange?: { readonly from: string; readonly to: string } | undefined;
  /** SQLite GLOB pattern on the key and/or the value. */
  readonly glob?: { readonly pattern: string; readonly in: "key" | "value" | "both" } | undefined;
  /** Keyset cursor: rows strictly after (namespace, key). */
  readonly after?: readonly [string, string] | undefined;
  readonly limit: number;
  readonly withValues: boolean;
}

const LIVE = "(expires_at IS NULL OR expires_at > @now)";
const META_COLUMNS = "namespace, key, size, tags, version, created_at, updated_at, expires_at";
/** String values are matched as their text, other values as their JSON. */
const VALUE_TEXT = "CASE WHEN json_type(value) = 'text' THEN value ->> '$' ELSE value END";

/**
 * The one row a write with RETURNING gives, stepped to its end. better-sqlite3's get() steps once and then resets the
 * statement, and a lone write outside a transaction commits at that reset — whose error it drops: on a full disk the
 * write was reported stored and then undone. all() steps until SQLite is done, commit included, and throws its error.
 */
function writeReturning<R>(stmt: Statement, ...params: unknown[]): R | undefined {
  return stmt.all(...params)[0] as R | undefined;
}

/**
 * The only code that speaks SQL about memory. Every statement is prepared once. Point reads go through `cache`, which
 * every upsert, delete and sweep here keeps equal to the table; whoever runs these writes in a transaction clears the
 * cache when that transaction rolls back.
 */
export class MemoryRepo {
  private readonly sql: Statements;
  private readonly upsertStmt: Statement;
  private readonly replaceStmt: Statement;
  private readonly insertIfAbsentStmt: Statement;
  private readonly getStmt: Statement;
  private readonly deleteStmt: Statement;
  private readonly sweepStmt: Statement;

  constructor(
    private readonly db: Database,
    readonly cache: MemoryCache,
  ) {
    this.sql = new Statements(db);
    // Positional parameters: binding them skips the property lookups of named ones on the hottest statements.
    const insert = `INSERT INTO memory (namespace, key, value, size, tags, version, created_at, updated_at, expires_at)
      VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?)`;
    // An expired row that the sweep has not deleted yet is replaced as if it were absent: version 1, new createdAt.
    const expired = "memory.expires_at IS NOT NULL AND memory.expires_at <= excluded.updated_at";
    const update = `UPDATE SET value = excluded.value, size = excluded.size, tags = excluded.tags,
        version = CASE WHEN ${expired} THEN 1 ELSE memory.version + 1 END,
        created_at = CASE WHEN ${expired} THEN excluded.created_at ELSE memory.created_at END,
        updated_at = excluded.updated_at, expires_at = excluded.expires_at`;
    this.upsertStmt = db.prepare(`${insert} ON CONFLICT (namespace, key) DO ${update} RETURNING version, created_at`);
    this.replaceStmt = db.prepare(`${insert} ON CONFLICT (namespace, key) DO ${update}`);
    this.insertIfAbsentStmt = db.prepare(`${insert} ON CONFLICT (namespace, key) DO ${update} WHERE ${expired} RETURNING version, created_at`);
    this.getStmt = db.prepare(`SELECT * FROM memory WHERE namespace = ? AND key = ? AND (expires_at IS NULL OR expires_at > ?)`);
    this.deleteStmt = db.prepare(`DELETE FROM memory WHERE namespace = @namespace AND key = @key RETURNING expires_at`);
    this.sweepStmt = db.prepare(
      `DELETE FROM memory WHERE (namespace, key) IN
        (SELECT namespace, key FROM memory WHERE expires_at <= @now LIMIT @limit) RETURNING namespace, key`,
    ).raw();
  }

  /** Inserts or replaces; with `ifAbsent`, returns undefined instead of replacing a live entry. */
  upsert(i: UpsertInput, ifAbsent: boolean): { version: number; created_at: number } | undefined {
    const cached = ifAbsent ? undefined : this.cache.peek(i.namespace, i.key);
    let row: { version: number; created_at: number } | undefined;
    if (cached !== undefined) {
      // The cached row is the stored one, so the statement's outcome is known: the same as the SQL's, expired or not.
      // Without RETURNING SQLite does not buffer the result — a quarter of the statement's cost.
      this.replaceStmt.run(i.namespace, i.key, i.value, i.size, i.tags, i.now, i.now, i.expiresAt);
      const live = cached.expires_at === null || cached.expires_at > i.now;
      row = live ? { version: cached.version + 1, created_at: cached.created_at } : { version: 1, created_at: i.now };
    } else {
      const stmt = ifAbsent ? this.insertIfAbsentStmt : this.upsertStmt;
      row = writeReturning(stmt, i.namespace, i.key, i.value, i.size, i.tags, i.now, i.now, i.expiresAt);
    }
    if (row !== undefined) {
      this.cache.set({
        namespace: i.namespace,
        key: i.key,
        value: i.value,
        size: i.size,
        tags: i.tags,
        version: row.version,
        created_at: row.created_at,
        updated_at: i.now,
        expires_at: i.expiresAt,
      });
    }
    return row;
  }

  /** The live row, or undefined. The same object is returned for as long as the row stays cached and unchanged. */
  get(namespace: string, key: string, now: number): MemoryRow | undefined {
    const cached = this.cache.get(namespace, key);
    if (cached !== undefined) return cached.expires_at === null || cached.expires_at > now ? cached : undefined;
    const row = this.getStmt.get(namespace, key, now) as MemoryRow | undefined;
    if (row !== undefined) this.cache.set(row);
    return row;
  }

  /** Deletes the row; true when it was live (an expired row is deleted too, but it was already gone for readers). */
  delete(namespace: string, key: string, now: number): boolean {
    const row = writeReturning<{ expires_at: number | null }>(this.deleteStmt, { namespace, key });
    this.cache.delete(namespace, key);
    return row !== undefined && (row.expires_at === null || row.expires_at > now);
  }

  /** Live rows ordered by (namespace, key), at most `limit`. */
  scan(q: ScanQuery): Array<MemoryRow | MemoryMeta> {
    const { sql, params } = buildScan(q);
    return this.sql.get(sql).all(params) as Array<MemoryRow | MemoryMeta>;
  }

  /** The plan SQLite chooses for a scan, so tests can keep queries on their indexes. */
  explain(q: ScanQuery): string[] {
    const { sql, params } = buildScan(q);
    return (this.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as Array<{ detail: string }>).map((r) => r.detail);
  }

  /**
   * One slice of a statistics scan: the next `limit` rows after `after` in key order, as
   * [namespace, key, size, live] tuples. Callers aggregate and yield between slices.
   */
  statsSlice(now: number, after: readonly [string, string] | undefined, limit: number, namespace?: string): Array<[string, string, number, 0 | 1]> {
    const where: string[] = [];
    if (namespace !== undefined) where.push("namespace = @namespace");
    if (after !== undefined) where.push(namespace !== undefined ? "key > @afterKey" : "(namespace, key) > (@afterNamespace, @afterKey)");
    const sql = `SELECT namespace, key, size, ${LIVE} AS live FROM memory ${where.length ? "WHERE " + where.join(" AND ") : ""}
      ORDER BY namespace, key LIMIT @limit`;
    return this.sql.get(sql)
      .raw()
      .all({ now, limit, namespace, afterNamespace: after?.[0], afterKey: after?.[1] }) as Array<[string, string, number, 0 | 1]>;
  }

  /** Deletes up to `limit` expired rows in one statement, and from the cache (it holds only stored rows); returns how many. */
  sweep(now: number, limit: number): number {
    const deleted = this.sweepStmt.all({ now, limit }) as Array<[string, string]>;
    for (const [namespace, key] of deleted) this.cache.delete(namespace, key);
    return deleted.length;
  }

}

function buildScan(q: ScanQuery): { sql: string; params: Record<string, unknown> } {
  const where = [LIVE];
  const params: Record<string, unknown> = { now: q.now, limit: q.limit };
  if (q.namespace !== undefined) {
    where.push("namespace = @namespace");
    params.namespace = q.namespace;
  }
  if (q.keyRange !== undefined) {
    where.push("key >= @from AND key < @to");
    params.from = q.keyRange.from;
    params.to = q.keyRange.to;
  }
  if (q.glob !== undefined) {
    const onKey = "key GLOB @glob";
    const onValue = `${VALUE_TEXT} GLOB @glob`;
    where.push(q.glob.in === "key" ? onKey : q.glob.in === "value" ? onValue : `(${onKey} OR ${onValue})`);
    params.glob = q.glob.pattern;
  }
  if (q.after !== undefined) {
    // Within one namespace the cursor's namespace is that namespace (the manager checks), so the key alone seeks.
    where.push(q.namespace !== undefined ? "key > @afterKey" : "(namespace, key) > (@afterNamespace, @afterKey)");
    params.afterNamespace = q.after[0];
    params.afterKey = q.after[1];
  }
  const columns = q.withValues ? "*" : META_COLUMNS;
  return { sql: `SELECT ${columns} FROM memory WHERE ${where.join(" AND ")} ORDER BY namespace, key LIMIT @limit`, params };
}
