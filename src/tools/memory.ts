import { DEFAULT_NAMESPACE, resolveNamespace, type MemoryManager } from "../memory/manager.js";
import {
  memoryDelete,
  memoryList,
  memoryRetrieve,
  memorySearch,
  memoryStats,
  memoryStore,
  memoryUsage,
} from "../protocol/tools/memory.js";
import { retrievedText } from "./memory-reply.js";
import { after, bind, missingArgument, type ToolBinding } from "./registry.js";

/** A namespace filter: absent when neither namespace nor swarmId was given (then every namespace). */
function namespaceFilter(a: { namespace?: string | undefined; swarmId?: string | undefined }): string | undefined {
  return a.namespace === undefined && a.swarmId === undefined ? undefined : resolveNamespace(a);
}

export function memoryTools(memory: MemoryManager): ToolBinding[] {
  return [
    bind(memoryStore, (a) =>
      memory.store({ namespace: resolveNamespace(a), key: a.key, value: a.value, ttlSeconds: a.ttl, tags: a.tags, ifAbsent: a.ifAbsent }),
    ),
    bind(memoryRetrieve, (a) => {
      const namespace = resolveNamespace(a);
      return after(memory.retrieveRow(namespace, a.key), (row) => (row === undefined ? { key: a.key, namespace, found: false } : retrievedText(row)));
    }),
    bind(memoryDelete, (a) => {
      const namespace = resolveNamespace(a);
      return memory.delete(namespace, a.key).then((deleted) => ({ key: a.key, namespace, deleted }));
    }),
    bind(memoryList, (a) =>
      memory.list({ namespace: namespaceFilter(a), prefix: a.prefix, includeValues: a.includeValues, limit: a.limit, cursor: a.cursor }),
    ),
    bind(memorySearch, (a) =>
      memory.search({ namespace: namespaceFilter(a), pattern: a.pattern, in: a.in, limit: a.limit, cursor: a.cursor }),
    ),
    bind(memoryStats, (a) => memory.stats(namespaceFilter(a))),
    bind(memoryUsage, (a) => {
      // claude-flow's form: one tool, an action, namespace "default", its result field names.
      const namespace = a.namespace ?? DEFAULT_NAMESPACE;
      const base = { success: true as const, action: a.action, namespace, timestamp: new Date().toISOString() };
      const key = (): string => a.key ?? throwMissing("key", `required for action ${a.action}`);
      switch (a.action) {
        case "store": {
          if (a.value === undefined) throwMissing("value", "required for action store");
          return memory
            .store({ namespace, key: key(), value: a.value, ttlSeconds: a.ttl })
            .then((r) => ({ ...base, key: r.key, stored: true, size: r.size, version: r.version, expiresAt: r.expiresAt }));
        }
        case "retrieve": {
          const k = key();
          return after(memory.retrieve(namespace, k), (entry) => ({ ...base, key: k, value: entry?.value ?? null, found: entry !== undefined }));
        }
        case "delete": {
          const k = key();
          return memory.delete(namespace, k).then((deleted) => ({ ...base, key: k, deleted }));
        }
        case "list":
          return after(memory.list({ namespace, includeValues: true, limit: a.limit ?? 100 }), (page) => ({
            ...base,
            entries: page.entries,
            count: page.entries.length,
          }));
        case "search": {
          const pattern = a.pattern ?? (typeof a.value === "string" ? a.value : throwMissing("pattern", "required for action search (or a string value)"));
          return after(memory.search({ namespace, pattern, in: "both", limit: a.limit ?? 100 }), (page) => ({
            ...base,
            pattern,
            results: page.entries,
            count: page.entries.length,
          }));
        }
      }
    }),
  ];
}

function throwMissing(path: string, why: string): never {
  throw missingArgument("memory_usage", path, why);
}
