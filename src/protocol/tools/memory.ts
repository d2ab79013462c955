import { z } from "zod";
import { defineTool } from "../contract.js";
import { ms, msOrNull } from "./fields.js";

// Key, namespace and value sizes are limits of the deployment (configurable), so they are checked by the memory
// manager and answered with -32003 and the limit, not by these schemas.

const key = z.string().min(1).describe("The entry's key (at most 512 bytes by default).");
const namespace = z.string().min(1).describe('Namespace of the entry; "default" when omitted.');
const swarmId = z
  .string()
  .min(1)
  .describe('Scope the entry to this swarm\'s memory bank (namespace "swarm:<swarmId>", or "swarm:<swarmId>/<namespace>" with a namespace).');
/** Where an entry lives: its key, in a namespace or a swarm's memory bank. */
const address = { key, namespace: namespace.optional(), swarmId: swarmId.optional() };
const limit = z.number().int().min(1).max(1000).default(100).describe("Most entries per page (1–1000).");
const cursor = z.string().describe("nextCursor from the previous page.");

export const memoryEntry = z.object({
  key: z.string().describe("Key."),
  namespace: z.string().describe("Namespace."),
  value: z.unknown().optional().describe("The stored JSON value, with the type it was stored with (lists include it on request)."),
  size: z.number().int().describe("Size of the serialised value in bytes."),
  version: z.number().int().describe("1 on first store, +1 on every replacement."),
  tags: z.array(z.string().describe("A tag.")).describe("Tags given at store time."),
  expiresAt: msOrNull("When the entry expires, ms since the epoch."),
  createdAt: ms("First stored, ms since the epoch."),
  updatedAt: ms("Last stored, ms since the epoch."),
});

const page = {
  entries: z.array(memoryEntry).describe("Matching live entries, ordered by namespace then key."),
  nextCursor: z.string().nullable().describe("Pass as cursor for the next page; null on the last page."),
};

export const memoryStore = defineTool({
  name: "memory_store",
  description:
    "Store a JSON value under a key, persisted in SQLite and acknowledged only after it committed. Storing again replaces the value, tags and TTL and increments the version. With ttl the entry expires after that many seconds and is never returned again.",
  annotations: { title: "Store memory", idempotentHint: false, destructiveHint: false },
  input: z.object({
    ...address,
    value: z.unknown().describe("Any JSON value; it comes back with the same JSON type."),
    ttl: z.number().positive().max(315_360_000).nullable().optional().describe("Seconds until the entry expires (fractions allowed); omitted or null: never."),
    tags: z.array(z.string().describe("A tag.")).max(64).optional().describe("Labels kept with the entry."),
    ifAbsent: z.boolean().optional().describe("Only store when no live entry has this key; otherwise -32005 with reason exists."),
  }),
  output: z.object({
    key: z.string().describe("Key."),
    namespace: z.string().describe("Namespace the entry was stored in."),
    stored: z.literal(true).describe("Always true: failures are errors."),
    size: z.number().int().describe("Size of the serialised value in bytes."),
    version: z.number().int().describe("The entry's version after this store."),
    expiresAt: msOrNull("When the entry expires, ms since the epoch."),
    createdAt: ms("First stored, ms since the epoch."),
    updatedAt: ms("This store, ms since the epoch."),
  }),
});

export const memoryRetrieve = defineTool({
  name: "memory_retrieve",
  description: "Read the live entry stored under a key. Expired entries are not found, even before the sweep deletes them.",
  annotations: { title: "Retrieve memory", readOnlyHint: true, idempotentHint: true },
  input: z.object(address),
  output: memoryEntry.partial().extend({
    key: z.string().describe("Key."),
    namespace: z.string().describe("Namespace."),
    found: z.boolean().describe("False when no live entry has this key (then only key and namespace are present)."),
  }),
});

export const memoryDelete = defineTool({
  name: "memory_delete",
  description: "Delete the entry stored under a key.",
  annotations: { title: "Delete memory", destructiveHint: true, idempotentHint: true },
  input: z.object(address),
  output: z.object({
    key: z.string().describe("Key."),
    namespace: z.string().describe("Namespace."),
    deleted: z.boolean().describe("True when a live entry was deleted."),
  }),
});

export const memoryList = defineTool({
  name: "memory_list",
  description: "List live entries of a namespace (or of all namespaces), optionally by key prefix, a page at a time.",
  annotations: { title: "List memory", readOnlyHint: true, idempotentHint: true },
  input: z.object({
    namespace: namespace.optional().describe("Only this namespace; omitted: every namespace."),
    swarmId: swarmId.optional(),
    prefix: z.string().optional().describe("Only keys starting with this text (matched literally)."),
    includeValues: z.boolean().default(false).describe("Include each entry's value."),
    limit,
    cursor: cursor.optional(),
  }),
  output: z.object(page),
});

export const memorySearch = defineTool({
  name: "memory_search",
  description:
    "Find live entries whose key and/or value match a pattern: * matches any run of characters, ? one character, and everything else (% and _ included) matches literally. String values are matched as text, other values as their JSON.",
  annotations: { title: "Search memory", readOnlyHint: true, idempotentHint: true },
  input: z.object({
    pattern: z.string().min(1).describe("Wildcard pattern (* and ?); case-sensitive."),
    namespace: namespace.optional().describe("Only this namespace; omitted: every namespace."),
    swarmId: swarmId.optional(),
    in: z.enum(["key", "value", "both"]).default("both").describe("Match the key, the value, or either."),
    limit,
    cursor: cursor.optional(),
  }),
  output: z.object(page),
});

export const memoryStats = defineTool({
  name: "memory_stats",
  description: "Count live entries and bytes (per namespace too), entries expired but not yet swept, and report the last sweep.",
  annotations: { title: "Memory statistics", readOnlyHint: true, idempotentHint: true },
  input: z.object({ namespace: namespace.optional().describe("Only this namespace; omitted: all."), swarmId: swarmId.optional() }),
  output: z.object({
    entries: z.number().int().describe("Live entries."),
    bytes: z.number().int().describe("Bytes of live values."),
    namespaces: z.number().int().describe("Namespaces holding live entries."),
    byNamespace: z
      .array(
        z.object({
          namespace: z.string().describe("Namespace."),
          entries: z.number().int().describe("Live entries."),
          bytes: z.number().int().describe("Bytes of live values."),
        }),
      )
      .describe("The largest namespaces by entries (at most 100)."),
    expiredAwaitingSweep: z.number().int().describe("Entries past their expiry that the sweep has not deleted yet (never returned)."),
    lastSweep: z
      .object({
        at: ms("When the sweep finished."),
        deleted: z.number().int().describe("Entries it deleted."),
        durationMs: z.number().describe("Wall time from first to last slice."),
        slices: z.number().int().describe("Transactions it was split into, yielding to the event loop between them."),
        longestSliceMs: z.number().describe("The longest single slice, i.e. the longest the event loop was blocked."),
      })
      .nullable()
      .describe("The last sweep that deleted anything; null before the first."),
    cache: z
      .object({
        entries: z.number().int().describe("Entries held in memory (live or expired, any namespace)."),
        bytes: z.number().int().describe("Their estimated size in bytes."),
        limitBytes: z.number().int().describe("The size after which the oldest are dropped (SWARMD_MEMORY_CACHE_MB); 0: no cache."),
        hits: z.number().int().describe("Reads answered from memory since the daemon started."),
        misses: z.number().int().describe("Reads that went to SQLite since the daemon started."),
      })
      .describe("The cache of recently used entries that answers reads without SQLite (always the whole cache, whatever the namespace filter)."),
  }),
});

export const memoryUsage = defineTool({
  name: "memory_usage",
  description:
    "claude-flow's single memory tool: action store | retrieve | list | delete | search, mapped onto memory_store, memory_retrieve, memory_list, memory_delete and memory_search, answered with claude-flow's field names.",
  annotations: { title: "Memory (claude-flow form)", destructiveHint: true },
  input: z.object({
    action: z.enum(["store", "retrieve", "list", "delete", "search"]).describe("What to do."),
    key: z.string().min(1).optional().describe("Key (store, retrieve, delete)."),
    value: z.unknown().optional().describe("Value to store; for search, the pattern when pattern is absent."),
    namespace: namespace.optional(),
    ttl: z.number().positive().max(315_360_000).nullable().optional().describe("Seconds until the entry expires (store)."),
    pattern: z.string().optional().describe("Wildcard pattern (search)."),
    limit: limit.optional(),
  }),
  output: z.object({
    success: z.literal(true).describe("Always true: failures are JSON-RPC errors."),
    action: z.string().describe("The action performed."),
    key: z.string().optional().describe("Key (store, retrieve, delete)."),
    namespace: z.string().describe("Namespace."),
    stored: z.boolean().optional().describe("store: true."),
    size: z.number().int().optional().describe("store: bytes stored."),
    version: z.number().int().optional().describe("store: the entry's version."),
    expiresAt: msOrNull("store: when the entry expires.").optional(),
    value: z.unknown().optional().describe("retrieve: the value, or null when not found."),
    found: z.boolean().optional().describe("retrieve: whether a live entry exists."),
    deleted: z.boolean().optional().describe("delete: whether an entry was deleted."),
    pattern: z.string().optional().describe("search: the pattern used."),
    entries: z.array(memoryEntry).optional().describe("list: entries with values."),
    results: z.array(memoryEntry).optional().describe("search: matching entries with values."),
    count: z.number().int().optional().describe("list, search: how many entries are returned."),
    timestamp: z.string().describe("When the action ran (ISO 8601)."),
  }),
});
