import t, { type Test } from "tap";
import {
  memoryDelete,
  memoryList,
  memoryRetrieve,
  memorySearch,
  memoryStats,
  memoryStore,
} from "../src/protocol/tools/index.js";
import { LineClient } from "../scripts/line-client.js";
import { ManualClock } from "./helpers/clock.js";
import { startDaemon } from "./helpers/daemon.js";
import { callTool, toolError } from "./helpers/tools.js";

const clock = new ManualClock(Date.UTC(2026, 0, 1));
const { port } = await startDaemon(t, { SWARMD_MEMORY_SWEEP_INTERVAL: "0.02" }, { clock });

async function client(t: Test, p = port): Promise<LineClient> {
  const c = await LineClient.connect(p);
  t.teardown(() => c.close());
  return c;
}

let unique = 0;
const ns = (): string => `ns-${++unique}`;

t.test("values come back with the JSON type they were stored with", async (t) => {
  const c = await client(t);
  const namespace = ns();
  const values: unknown[] = ["123", "", "héllo 😀 \u0000 \\ \"quoted\"", 123, 0, -1.5, 1e300, true, false, null, { a: { b: [1, "2", null] } }, [], {}, [[[]]], "true", "null"];
  for (const [i, value] of values.entries()) {
    const stored = await callTool(t, c, memoryStore, { key: `k${i}`, value, namespace });
    t.equal(stored.size, Buffer.byteLength(JSON.stringify(value)), `size of ${JSON.stringify(value)}`);
    const got = await callTool(t, c, memoryRetrieve, { key: `k${i}`, namespace });
    t.equal(got.found, true);
    t.strictSame(got.value, value, `round trip of ${JSON.stringify(value)}`);
  }
});

t.test("storing again replaces value, tags and TTL and bumps the version", async (t) => {
  const c = await client(t);
  const namespace = ns();
  const first = await callTool(t, c, memoryStore, { key: "k", value: 1, namespace, ttl: 60, tags: ["a"] });
  t.same([first.version, first.expiresAt, first.createdAt], [1, clock.now() + 60_000, clock.now()]);
  clock.advance(1000);
  const second = await callTool(t, c, memoryStore, { key: "k", value: "two", namespace });
  t.equal(second.version, 2);
  t.equal(second.expiresAt, null, "no ttl: the old TTL is gone");
  t.equal(second.createdAt, first.createdAt, "createdAt is kept");
  t.equal(second.updatedAt, first.createdAt + 1000);
  const got = await callTool(t, c, memoryRetrieve, { key: "k", namespace });
  t.same([got.value, got.version, got.tags], ["two", 2, []]);
});

t.test("retrieve of a missing key and delete", async (t) => {
  const c = await client(t);
  const namespace = ns();
  const missing = await callTool(t, c, memoryRetrieve, { key: "nope", namespace });
  t.same(missing, { key: "nope", namespace, found: false });
  await callTool(t, c, memoryStore, { key: "k", value: 1, namespace });
  t.same(await callTool(t, c, memoryDelete, { key: "k", namespace }), { key: "k", namespace, deleted: true });
  t.same(await callTool(t, c, memoryDelete, { key: "k", namespace }), { key: "k", namespace, deleted: false });
  t.equal((await callTool(t, c, memoryRetrieve, { key: "k", namespace })).found, false);
});

t.test("ifAbsent stores only when no live entry exists", async (t) => {
  const c = await client(t);
  const namespace = ns();
  await callTool(t, c, memoryStore, { key: "lock", value: "me", namespace, ifAbsent: true, ttl: 5 });
  const e = await toolError(c, "memory_store", { key: "lock", value: "you", namespace, ifAbsent: true });
  t.equal(e.code, -32005);
  t.same(e.data, { reason: "exists", key: "lock", namespace });
  t.equal((await callTool(t, c, memoryRetrieve, { key: "lock", namespace })).value, "me", "the rejected store changed nothing");
  clock.advance(5000);
  const again = await callTool(t, c, memoryStore, { key: "lock", value: "you", namespace, ifAbsent: true });
  t.equal(again.version, 1, "an expired entry counts as absent and is replaced as new");
});

t.test("namespaces and swarm memory banks keep keys apart", async (t) => {
  const c = await client(t);
  await callTool(t, c, memoryStore, { key: "shared", value: "default" });
  await callTool(t, c, memoryStore, { key: "shared", value: "bank", swarmId: "swarm_1_abc" });
  await callTool(t, c, memoryStore, { key: "shared", value: "sub", swarmId: "swarm_1_abc", namespace: "notes" });
  t.equal((await callTool(t, c, memoryRetrieve, { key: "shared" })).value, "default");
  const bank = await callTool(t, c, memoryRetrieve, { key: "shared", swarmId: "swarm_1_abc" });
  t.same([bank.value, bank.namespace], ["bank", "swarm:swarm_1_abc"]);
  const sub = await callTool(t, c, memoryRetrieve, { key: "shared", swarmId: "swarm_1_abc", namespace: "notes" });
  t.same([sub.value, sub.namespace], ["sub", "swarm:swarm_1_abc/notes"]);
});

t.test("key, namespace and value limits are -32003 with the limit; the stored entry is untouched", async (t) => {
  const c = await client(t);
  await callTool(t, c, memoryStore, { key: "keep", value: "original" });
  const key = await toolError(c, "memory_store", { key: "k".repeat(513), value: 1 });
  t.same([key.code, key.data.reason, key.data.limit, key.data.size], [-32003, "key_too_large", 512, 513]);
  t.equal((await toolError(c, "memory_store", { key: "é".repeat(257), value: 1 })).data.reason, "key_too_large", "bytes, not characters");
  const space = await toolError(c, "memory_store", { key: "k", namespace: "n".repeat(129), value: 1 });
  t.same([space.code, space.data.reason, space.data.limit], [-32003, "namespace_too_large", 128]);
  const value = await toolError(c, "memory_store", { key: "keep", value: "v".repeat(1024 * 1024) });
  t.same([value.code, value.data.reason, value.data.limit], [-32003, "value_too_large", 1024 * 1024]);
  t.equal((await callTool(t, c, memoryRetrieve, { key: "keep" })).value, "original");
});

t.test("the limits are configurable", async (t) => {
  const small = await startDaemon(t, { SWARMD_MEMORY_MAX_VALUE_BYTES: "10", SWARMD_MEMORY_MAX_KEY_BYTES: "3" });
  const c = await client(t, small.port);
  await callTool(t, c, memoryStore, { key: "abc", value: "12345678" });
  t.equal((await toolError(c, "memory_store", { key: "abc", value: "123456789" })).data.limit, 10);
  t.equal((await toolError(c, "memory_store", { key: "abcd", value: 1 })).data.limit, 3);
});

t.test("malformed arguments are -32602 naming the field", async (t) => {
  const c = await client(t);
  const cases: Array<[string, unknown, string]> = [
    ["memory_store", { value: 1 }, "key"],
    ["memory_store", { key: "k" }, "value"],
    ["memory_store", { key: "k", value: 1, ttl: -1 }, "ttl"],
    ["memory_store", { key: "k", value: 1, ttl: "10" }, "ttl"],
    ["memory_store", { key: 5, value: 1 }, "key"],
    ["memory_store", { key: "", value: 1 }, "key"],
    ["memory_list", { limit: 1001 }, "limit"],
    ["memory_search", { pattern: "" }, "pattern"],
    ["memory_search", { pattern: "x", in: "tags" }, "in"],
  ];
  for (const [tool, args, field] of cases) {
    const e = await toolError(c, tool, args);
    t.equal(e.code, -32602, `${tool} ${JSON.stringify(args)}`);
    t.ok(
      e.data.issues.some((i: { path: string }) => i.path === field),
      `names ${field}`,
    );
  }
  const cursor = await toolError(c, "memory_list", { cursor: "garbage" });
  t.same([cursor.code, cursor.data.reason], [-32602, "invalid_cursor"]);
});

t.test("pipelined requests read their own writes", async (t) => {
  const c = await client(t);
  const namespace = ns();
  const line = (id: number, name: string, args: unknown): string =>
    JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } }) + "\n";
  c.write(
    line(1, "memory_store", { key: "a", value: 1, namespace }) +
      line(2, "memory_retrieve", { key: "a", namespace }) +
      line(3, "memory_store", { key: "a", value: 2, namespace }) +
      line(4, "memory_stats", { namespace }) +
      line(5, "memory_delete", { key: "a", namespace }) +
      line(6, "memory_list", { namespace }),
  );
  await c.waitForLines(6);
  const byId = new Map(c.messages.map((m) => [m.id, m.result.structuredContent]));
  t.equal(byId.get(2).value, 1);
  t.equal(byId.get(4).entries, 1);
  t.equal(byId.get(5).deleted, true);
  t.same(byId.get(6).entries, []);
});

t.test("TTL: expired entries are never returned, by any tool, even before the sweep", async (t) => {
  const paused = new ManualClock();
  const d = await startDaemon(t, { SWARMD_MEMORY_SWEEP_INTERVAL: "3600" }, { clock: paused });
  const c = await client(t, d.port);
  const stored = await callTool(t, c, memoryStore, { key: "brief", value: "x", ttl: 0.5, namespace: "ttl" });
  t.equal(stored.expiresAt, paused.now() + 500, "fractions of a second");
  await callTool(t, c, memoryStore, { key: "lasting", value: "y", namespace: "ttl" });
  paused.advance(499);
  t.equal((await callTool(t, c, memoryRetrieve, { key: "brief", namespace: "ttl" })).found, true, "alive 1 ms before expiry");
  paused.advance(1);
  t.equal((await callTool(t, c, memoryRetrieve, { key: "brief", namespace: "ttl" })).found, false, "gone at its expiry");
  t.same(
    (await callTool(t, c, memoryList, { namespace: "ttl" })).entries.map((e) => e.key),
    ["lasting"],
  );
  t.same(
    (await callTool(t, c, memorySearch, { pattern: "*" })).entries.map((e) => e.key),
    ["lasting"],
  );
  const stats = await callTool(t, c, memoryStats, { namespace: "ttl" });
  t.same([stats.entries, stats.expiredAwaitingSweep], [1, 1]);
  t.equal((await callTool(t, c, memoryDelete, { key: "brief", namespace: "ttl" })).deleted, false, "an expired entry cannot be deleted twice");
});

t.test("the sweep deletes expired entries", async (t) => {
  const c = await client(t);
  const namespace = ns();
  for (let i = 0; i < 20; i++) await callTool(t, c, memoryStore, { key: `e${i}`, value: i, ttl: 1, namespace });
  clock.advance(1000);
  let stats = await callTool(t, c, memoryStats, { namespace });
  for (let i = 0; i < 100 && stats.expiredAwaitingSweep > 0; i++) {
    await new Promise((r) => setTimeout(r, 20));
    stats = await callTool(t, c, memoryStats, { namespace });
  }
  t.equal(stats.expiredAwaitingSweep, 0);
  t.ok((stats.lastSweep?.deleted ?? 0) >= 1, "the last sweep is reported");
});
