import { BackgroundWork, type BackgroundFailure } from "../background.js";
import type { Clock } from "../clock.js";
import { rpcError } from "../protocol/errors.js";
import type { MemoryCacheStats } from "../store/memory-cache.js";
import type { MemoryMeta, MemoryRepo, MemoryRow, ScanQuery } from "../store/memory-repo.js";
import type { WriteQueue } from "../store/write-queue.js";
import { literalPrefix, prefixRange, toGlob } from "./pattern.js";
import { MemorySweeper, type SweepReport } from "./sweeper.js";

export interface MemoryLimits {
  readonly maxKeyBytes: number;
  readonly maxNamespaceBytes: number;
  readonly maxValueBytes: number;
}

export interface MemoryDeps {
  readonly repo: MemoryRepo;
  readonly writes: WriteQueue;
  readonly clock: Clock;
  readonly limits: MemoryLimits;
  /** The TTL sweep failed (it is retried at the next interval). */
  readonly reportFailure: BackgroundFailure;
}

export interface MemoryEntry {
  key: string;
  namespace: string;
  value?: unknown;
  size: number;
  version: number;
  tags: string[];
  expiresAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface StoreRequest {
  readonly namespace: string;
  readonly key: string;
  readonly value: unknown;
  readonly ttlSeconds?: number | null | undefined;
  readonly tags?: readonly string[] | undefined;
  readonly ifAbsent?: boolean | undefined;
}

export interface StoreResult {
  key: string;
  namespace: string;
  stored: true;
  size: number;
  version: number;
  expiresAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface Page {
  entries: MemoryEntry[];
  nextCursor: string | null;
}

export interface PageRequest {
  readonly namespace?: string | undefined;
  readonly limit: number;
  readonly cursor?: string | undefined;
}

export interface MemoryStats {
  entries: number;
  bytes: number;
  namespaces: number;
  byNamespace: Array<{ namespace: string; entries: number; bytes: number }>;
  expiredAwaitingSweep: number;
  lastSweep: SweepReport | null;
  cache: MemoryCacheStats;
}

export const DEFAULT_NAMESPACE = "default";

/** Value bytes after which a listing page ends early (nextCursor continues it). */
const PAGE_VALUE_BYTES = 4 * 1024 * 1024;

/** Rows per statistics slice: a few milliseconds of event-loop time. */
const STATS_SLICE_ROWS = 10_000;

/** `swarmId` scopes an entry to the swarm's memory bank; a namespace given with it is a sub-namespace of that bank. */
export function resolveNamespace(args: { namespace?: string | undefined; swarmId?: string | undefined }): string {
  if (args.swarmId === undefined) return args.namespace ?? DEFAULT_NAMESPACE;
  return args.namespace === undefined ? `swarm:${args.swarmId}` : `swarm:${args.swarmId}/${args.namespace}`;
}

/** Domain rules of memory: limits, TTL, namespaces, paging. Expired entries are never returned by anything. */
export class MemoryManager {
  readonly sweeper: MemorySweeper;

  constructor(private readonly deps: MemoryDeps) {
    this.sweeper = new MemorySweeper(deps.repo, deps.clock, new BackgroundWork("memory TTL sweep", deps.reportFailure));
  }

  store(req: StoreRequest): Promise<StoreResult> {
    this.checkName("key", req.key, this.deps.limits.maxKeyBytes);
    this.checkName("namespace", req.namespace, this.deps.limits.maxNamespaceBytes);
    const value = JSON.stringify(req.value);
    const size = Buffer.byteLength(value);
    if (size > this.deps.limits.maxValueBytes) {
      throw rpcError("RESOURCE_ERROR", `The value is ${size} bytes; memory values may be at most ${this.deps.limits.maxValueBytes}.`, {
        reason: "value_too_large",
        limit: this.deps.limits.maxValueBytes,
        size,
      });
    }
    const now = this.deps.clock.now();
    const ttl = req.ttlSeconds;
    const expiresAt = ttl === undefined || ttl === null ? null : now + Math.max(1, Math.round(ttl * 1000));
    const tags = req.tags === undefined || req.tags.length === 0 ? null : JSON.stringify(req.tags);
    const { namespace, key } = req;
    return this.deps.writes.write(() => {
      const row = this.deps.repo.upsert({ namespace, key, value, size, tags, now, expiresAt }, req.ifAbsent === true);
      if (row === undefined) {
        throw rpcError("MEMORY_ERROR", `A live entry already has key ${JSON.stringify(key)} in namespace ${JSON.stringify(namespace)}.`, {
          reason: "exists",
          key,
          namespace,
        });
      }
      return { key, namespace, stored: true, size, version: row.version, expiresAt, createdAt: row.created_at, updatedAt: now };
    }, true);
  }

  retrieve(namespace: string, key: string): MemoryEntry | undefined | Promise<MemoryEntry | undefined> {
    const row = this.retrieveRow(namespace, key);
    const entryOf = (r: MemoryRow | undefined): MemoryEntry | undefined => (r === undefined ? undefined : toEntry(r));
    return row instanceof Promise ? row.then(entryOf) : entryOf(row);
  }

  /** The live row as stored (its value as JSON text), for callers that send it on without parsing it. */
  retrieveRow(namespace: string, key: string): MemoryRow | undefined | Promise<MemoryRow | undefined> {
    const now = this.deps.clock.now();
    return this.deps.writes.read(() => this.deps.repo.get(namespace, key, now));
  }

  delete(namespace: string, key: string): Promise<boolean> {
    const now = this.deps.clock.now();
    return this.deps.writes.write(() => this.deps.repo.delete(namespace, key, now), true);
  }

  list(req: PageRequest & { prefix?: string | undefined; includeValues: boolean }): Page | Promise<Page> {
    return this.page(req, { keyRange: req.prefix === undefined ? undefined : prefixRange(req.prefix), withValues: req.includeValues });
  }

  search(req: PageRequest & { pattern: string; in: "key" | "value" | "both" }): Page | Promise<Page> {
    const glob = { pattern: toGlob(req.pattern), in: req.in };
    // A literal prefix narrows a key search to an index range; the GLOB then checks the rest.
    const keyRange = req.in === "key" ? prefixRange(literalPrefix(req.pattern)) : undefined;
    return this.page(req, { glob, keyRange, withValues: true });
  }

  /**
   * Counts by scanning in slices with a yield between them, so a store of millions of entries never blocks the event
   * loop; under concurrent writes the figures are therefore not one instant's snapshot.
   */
  async stats(namespace?: string): Promise<MemoryStats> {
    const now = this.deps.clock.now();
    const groups = new Map<string, { namespace: string; entries: number; bytes: number }>();
    let expired = 0;
    let after: [string, string] | undefined;
    for (;;) {
      const rows = await this.deps.writes.read(() => this.deps.repo.statsSlice(now, after, STATS_SLICE_ROWS, namespace));
      for (const [ns, , size, live] of rows) {
        if (!live) {
          expired++;
          continue;
        }
        const g = groups.get(ns) ?? { namespace: ns, entries: 0, bytes: 0 };
        g.entries++;
        g.bytes += size;
        groups.set(ns, g);
      }
      const last = rows[rows.length - 1];
      if (rows.length < STATS_SLICE_ROWS || last === undefined) break;
      after = [last[0], last[1]];
      await new Promise((resolve) => setImmediate(resolve));
    }
    const sorted = [...groups.values()].sort((a, b) => b.entries - a.entries || (a.namespace < b.namespace ? -1 : 1));
    return {
      entries: sorted.reduce((n, g) => n + g.entries, 0),
      bytes: sorted.reduce((n, g) => n + g.bytes, 0),
      namespaces: sorted.length,
      byNamespace: sorted.slice(0, 100),
      expiredAwaitingSweep: expired,
      lastSweep: this.sweeper.last,
      cache: this.deps.repo.cache.stats(),
    };
  }

  private page(req: PageRequest, query: Pick<ScanQuery, "glob" | "keyRange" | "withValues">): Page | Promise<Page> {
    const after = req.cursor === undefined ? undefined : decodeCursor(req.cursor, req.namespace);
    const now = this.deps.clock.now();
    return this.deps.writes.read(() => {
      // One row more than asked tells whether another page exists.
      const rows = this.deps.repo.scan({ ...query, now, namespace: req.namespace, after, limit: req.limit + 1 });
      // A page also ends once its values pass PAGE_VALUE_BYTES: a reply carries its payload about three times.
      let count = Math.min(rows.length, req.limit);
      let bytes = 0;
      for (let i = 0; i < count; i++) {
        bytes += query.withValues ? (rows[i] as MemoryRow).size : 0;
        if (bytes > PAGE_VALUE_BYTES && i > 0) count = i;
      }
      const more = rows.length > count;
      const entries = rows.slice(0, count).map(toEntry);
      const last = entries[entries.length - 1];
      return { entries, nextCursor: more && last ? encodeCursor(last.namespace, last.key) : null };
    });
  }

  private checkName(what: "key" | "namespace", text: string, limit: number): void {
    const size = Buffer.byteLength(text);
    if (size > limit) {
      throw rpcError("RESOURCE_ERROR", `The ${what} is ${size} bytes; memory ${what}s may be at most ${limit}.`, {
        reason: what === "key" ? "key_too_large" : "namespace_too_large",
        limit,
        size,
      });
    }
  }
}

export function toEntry(row: MemoryRow | MemoryMeta): MemoryEntry {
  const entry: MemoryEntry = {
    key: row.key,
    namespace: row.namespace,
    size: row.size,
    version: row.version,
    tags: row.tags === null ? [] : (JSON.parse(row.tags) as string[]),
    expiresAt: row.expires_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if ("value" in row) entry.value = JSON.parse(row.value);
  return entry;
}

function encodeCursor(namespace: string, key: string): string {
  return Buffer.from(JSON.stringify([namespace, key])).toString("base64url");
}

function decodeCursor(cursor: string, namespace: string | undefined): [string, string] {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    decoded = undefined;
  }
  const valid =
    Array.isArray(decoded) &&
    decoded.length === 2 &&
    typeof decoded[0] === "string" &&
    typeof decoded[1] === "string" &&
    (namespace === undefined || decoded[0] === namespace);
  if (!valid) throw rpcError("INVALID_PARAMS", "The cursor is not one this listing issued.", { reason: "invalid_cursor", cursor });
  return decoded as [string, string];
}
