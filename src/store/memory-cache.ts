import type { MemoryRow } from "./memory-row.js";

export interface MemoryCacheStats {
  entries: number;
  bytes: number;
  limitBytes: number;
  hits: number;
  misses: number;
}

/**
 * Memory rows recently read or written, evicted oldest first (in the order they entered the cache) once their
 * estimated size passes the limit. It holds rows exactly as the memory table holds them (written on upsert, dropped on
 * delete, cleared when a transaction rolls back), so a hit answers a read without SQLite: a primary-key read costs
 * several microseconds, mostly materialising nine columns, about as much as the whole rest of a memory_retrieve.
 *
 * Because a cached row is the table's row, a writer can also learn from it what SQLite would return (see MemoryRepo).
 *
 * First in, first out rather than least recently used: a hit then costs two Map lookups and nothing else, and a hot
 * row that is evicted comes back on its next read. Expired rows may stay cached until evicted or replaced; readers
 * check the expiry, as the SQL does. The daemon owns its database: a row changed behind its back (another process
 * writing the file) is not seen here until evicted.
 */
export class MemoryCache {
  /** namespace → key → row: nested, so a lookup never builds a combined key string. */
  private readonly rows = new Map<string, Map<string, MemoryRow>>();
  /** Rows in the order they were cached; replaced and deleted rows stay until passed over or compacted away. */
  private order: MemoryRow[] = [];
  private head = 0;
  private count = 0;
  private size = 0;
  private hits = 0;
  private misses = 0;

  constructor(private readonly limitBytes: number) {}

  get(namespace: string, key: string): MemoryRow | undefined {
    const row = this.rows.get(namespace)?.get(key);
    if (row === undefined) this.misses++;
    else this.hits++;
    return row;
  }

  /** The cached row, without counting a hit or a miss: for writers, whose lookups are not reads. */
  peek(namespace: string, key: string): MemoryRow | undefined {
    return this.rows.get(namespace)?.get(key);
  }

  set(row: MemoryRow): void {
    if (this.limitBytes <= 0) return;
    this.delete(row.namespace, row.key);
    const cost = costOf(row);
    if (cost > this.limitBytes) return;
    let keys = this.rows.get(row.namespace);
    if (keys === undefined) this.rows.set(row.namespace, (keys = new Map()));
    keys.set(row.key, row);
    this.count++;
    this.size += cost;
    this.order.push(row);
    while (this.size > this.limitBytes && this.head < this.order.length) this.evictOldest();
    // Evicted rows before the head, and stale rows (the same few keys rewritten), would otherwise pile up for ever.
    const stale = this.order.length - this.count;
    if (stale > this.count + 1024) this.compact();
  }

  delete(namespace: string, key: string): void {
    const keys = this.rows.get(namespace);
    const old = keys?.get(key);
    if (keys === undefined || old === undefined) return;
    keys.delete(key);
    if (keys.size === 0) this.rows.delete(namespace);
    this.count--;
    this.size -= costOf(old);
  }

  /** Forgets everything: after a rollback, cached rows may describe writes that never happened. */
  clear(): void {
    this.rows.clear();
    this.order = [];
    this.head = 0;
    this.count = 0;
    this.size = 0;
  }

  stats(): MemoryCacheStats {
    return { entries: this.count, bytes: this.size, limitBytes: this.limitBytes, hits: this.hits, misses: this.misses };
  }

  private isCached(row: MemoryRow): boolean {
    return this.rows.get(row.namespace)?.get(row.key) === row;
  }

  private evictOldest(): void {
    const row = this.order[this.head++];
    if (row !== undefined && this.isCached(row)) this.delete(row.namespace, row.key);
  }

  private compact(): void {
    this.order = this.order.slice(this.head).filter((row) => this.isCached(row));
    this.head = 0;
  }
}

/**
 * Estimated bytes a cached row keeps alive: its strings (two bytes a character, at worst) twice over — a retrieve's
 * reply text is kept beside the row (see tools/memory-reply) and carries the value again as a JSON string — plus
 * the row object and the Map entry.
 */
function costOf(row: MemoryRow): number {
  const text = row.namespace.length + row.key.length + row.value.length + (row.tags?.length ?? 0);
  return 4 * text + 400;
}
