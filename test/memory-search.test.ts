import { join } from "node:path";
import Database from "better-sqlite3";
import t, { type Test } from "tap";
import { literalPrefix, prefixRange } from "../src/memory/pattern.js";
import { memoryList, memorySearch, memoryStore, memoryUsage } from "../src/protocol/tools/index.js";
import { openStore } from "../src/store/db.js";
import { MemoryCache } from "../src/store/memory-cache.js";
import { MemoryRepo } from "../src/store/memory-repo.js";
import { LineClient } from "../scripts/line-client.js";
import { startDaemon, tempDir } from "./helpers/daemon.js";
import { callTool, toolError } from "./helpers/tools.js";

const { port } = await startDaemon(t);

async function client(t: Test): Promise<LineClient> {
  const c = await LineClient.connect(port);
  t.teardown(() => c.close());
  return c;
}

t.test("wildcards: * and ? match; %, _ and [ match themselves; across namespaces", async (t) => {
  const c = await client(t);
  const entries: Array<[string, string, unknown]> = [
    ["a", "50%_off", 1],
    ["a", "50xyoff", 2],
    ["b", "50%_deal", "text with 50%_ inside"],
    ["b", "[draft]", 3],
    ["c", "user:1:name", "Ada"],
    ["c", "user:22:name", "Grace"],
    ["c", "User:3:name", "case"],
    ["c", "cfg", { mode: "50%_mode" }],
  ];
  for (const [namespace, key, value] of entries) await callTool(t, c, memoryStore, { namespace, key, value });
  const keys = async (args: Parameters<typeof callTool<typeof memorySearch>>[3]) =>
    (await callTool(t, c, memorySearch, args)).entries.map((e) => `${e.namespace}/${e.key}`);

  t.same(await keys({ pattern: "50%_*", in: "key" }), ["a/50%_off", "b/50%_deal"], "% and _ are literal");
  t.same(await keys({ pattern: "50%_*", in: "key", namespace: "b" }), ["b/50%_deal"], "namespace filter");
  t.same(await keys({ pattern: "[draft]", in: "key" }), ["b/[draft]"], "[ is literal");
  t.same(await keys({ pattern: "user:?:name", in: "key" }), ["c/user:1:name"], "? is one character");
  t.same(await keys({ pattern: "user:*:name", in: "key" }), ["c/user:1:name", "c/user:22:name"], "case-sensitive");
  t.same(await keys({ pattern: "*50%_ *", in: "value" }), ["b/50%_deal"], "string values match as their text");
  t.same(await keys({ pattern: '*"mode":"50%_mode"*', in: "value" }), ["c/cfg"], "other values match as their JSON");
  t.same(await keys({ pattern: "Ada", in: "both" }), ["c/user:1:name"], "both: key or value");
  const found = await callTool(t, c, memorySearch, { pattern: "cfg", in: "key" });
  t.same(found.entries[0]?.value, { mode: "50%_mode" }, "search results carry values");
});

t.test("paging returns every entry once, with no duplicates or gaps, while entries are being added", async (t) => {
  const c = await client(t);
  const namespace = "paging";
  const original = Array.from({ length: 250 }, (_, i) => `k${String(i).padStart(4, "0")}`);
  for (const key of original) await callTool(t, c, memoryStore, { key, value: key, namespace });
  const seen: string[] = [];
  let cursor: string | undefined;
  let round = 0;
  do {
    const page = await callTool(t, c, memoryList, { namespace, limit: 40, ...(cursor ? { cursor } : {}) });
    t.ok(page.entries.length <= 40);
    seen.push(...page.entries.map((e) => e.key));
    cursor = page.nextCursor ?? undefined;
    // Writers keep adding around the cursor: before it, after it, and at the very end.
    await callTool(t, c, memoryStore, { key: `k${String(round * 40).padStart(4, "0")}x`, value: 0, namespace });
    await callTool(t, c, memoryStore, { key: `k9999-${round++}`, value: 0, namespace });
  } while (cursor);
  t.equal(new Set(seen).size, seen.length, "no duplicates");
  t.same(
    original.filter((k) => !seen.includes(k)),
    [],
    "no gaps: every entry that existed throughout was returned",
  );
  t.same(seen, [...seen].sort(), "ordered by key");
});

t.test("list by prefix, with and without values, across namespaces", async (t) => {
  const c = await client(t);
  for (const [namespace, key] of [
    ["p1", "job:1"],
    ["p1", "job:2"],
    ["p1", "jobs"],
    ["p2", "job:3"],
  ]) {
    await callTool(t, c, memoryStore, { namespace: namespace as string, key: key as string, value: key });
  }
  const inP1 = await callTool(t, c, memoryList, { namespace: "p1", prefix: "job:" });
  t.same(
    inP1.entries.map((e) => e.key),
    ["job:1", "job:2"],
  );
  t.notOk("value" in (inP1.entries[0] ?? {}), "values only on request");
  const everywhere = await callTool(t, c, memoryList, { prefix: "job:", includeValues: true, limit: 1000 });
  const mine = everywhere.entries.filter((e) => e.namespace === "p1" || e.namespace === "p2");
  t.same(
    mine.map((e) => [e.namespace, e.key, e.value]),
    [
      ["p1", "job:1", "job:1"],
      ["p1", "job:2", "job:2"],
      ["p2", "job:3", "job:3"],
    ],
  );
});

t.test("memory_usage: claude-flow's form with its result field names", async (t) => {
  const c = await client(t);
  const store = await callTool(t, c, memoryUsage, { action: "store", key: "ctx", value: { lang: "rust" }, ttl: 60 });
  t.same([store.success, store.action, store.key, store.namespace, store.stored], [true, "store", "ctx", "default", true]);
  t.match(store.timestamp, /^\d{4}-\d\d-\d\dT/);
  t.equal(store.size, Buffer.byteLength('{"lang":"rust"}'));
  const retrieve = await callTool(t, c, memoryUsage, { action: "retrieve", key: "ctx" });
  t.same([retrieve.found, retrieve.value], [true, { lang: "rust" }]);
  const missing = await callTool(t, c, memoryUsage, { action: "retrieve", key: "nope" });
  t.same([missing.found, missing.value], [false, null]);
  await callTool(t, c, memoryUsage, { action: "store", key: "ctx2", value: "rust again", namespace: "cf" });
  const list = await callTool(t, c, memoryUsage, { action: "list", namespace: "cf" });
  t.same([list.count, list.entries?.[0]?.value], [1, "rust again"]);
  const viaPattern = await callTool(t, c, memoryUsage, { action: "search", pattern: "*rust*", namespace: "cf" });
  t.same(viaPattern.results?.map((e) => e.key), ["ctx2"]);
  const viaValue = await callTool(t, c, memoryUsage, { action: "search", value: "ctx*", namespace: "cf" });
  t.same(viaValue.results?.map((e) => e.key), ["ctx2"], "search falls back to value for the pattern");
  const del = await callTool(t, c, memoryUsage, { action: "delete", key: "ctx2", namespace: "cf" });
  t.equal(del.deleted, true);
  const noKey = await toolError(c, "memory_usage", { action: "store", value: 1 });
  t.same([noKey.code, noKey.data.issues[0].path], [-32602, "key"]);
  t.equal((await toolError(c, "memory_usage", { action: "store", key: "k" })).data.issues[0].path, "value");
  t.equal((await toolError(c, "memory_usage", { action: "search" })).data.issues[0].path, "pattern");
  t.equal((await toolError(c, "memory_usage", { action: "explode" })).code, -32602);
});

t.test("prefix lookups seek the primary key instead of scanning the table", async (t) => {
  const store = await openStore(join(tempDir(t), "plan.db"), { synchronous: "normal" });
  t.teardown(() => store.close());
  const repo = new MemoryRepo(store.db, new MemoryCache(0));
  const base = { now: 0, limit: 10, withValues: false };
  const prefixed = repo.explain({ ...base, namespace: "ns", keyRange: prefixRange("user:") });
  t.match(prefixed.join("\n"), /SEARCH memory USING PRIMARY KEY \(namespace=\? AND key>\? AND key<\?\)/);
  const paged = repo.explain({ ...base, namespace: "ns", after: ["ns", "k1"] });
  t.match(paged.join("\n"), /SEARCH memory USING PRIMARY KEY \(namespace=\? AND key>\?\)/);
  const db = new Database(store.path, { readonly: true });
  t.teardown(() => db.close());
  const sweep = db.prepare("EXPLAIN QUERY PLAN SELECT namespace, key FROM memory WHERE expires_at <= 5 LIMIT 10").all() as Array<{
    detail: string;
  }>;
  t.match(sweep.map((r) => r.detail).join("\n"), /USING (COVERING )?INDEX memory_expires_at/, "the sweep uses the expiry index");
});

t.test("prefix ranges hold exactly the keys with that prefix", async (t) => {
  t.same(prefixRange("ab"), { from: "ab", to: "ac" });
  t.same(prefixRange("a\u{D7FF}"), { from: "a\u{D7FF}", to: "a\u{E000}" });
  t.same(prefixRange("😀"), { from: "😀", to: "😁" });
  t.equal(prefixRange(""), undefined);
  t.equal(prefixRange("a\u{10FFFF}"), undefined);
  t.equal(literalPrefix("user:*:name"), "user:");
  t.equal(literalPrefix("?x"), "");
});
