import { join } from "node:path";
import Database from "better-sqlite3";
import t from "tap";
import { parseCli } from "../src/config/cli.js";
import { createManagers } from "../src/managers.js";
import { memoryDelete, memoryRetrieve, memoryStats, memoryStore } from "../src/protocol/tools/index.js";
import { openStore } from "../src/store/db.js";
import { MemoryCache } from "../src/store/memory-cache.js";
import type { MemoryRow } from "../src/store/memory-repo.js";
import { ManualClock } from "./helpers/clock.js";
import { daemonWithClient, startDaemon, tempDir } from "./helpers/daemon.js";
import { callTool } from "./helpers/tools.js";
import { LineClient } from "../scripts/line-client.js";

t.test("cached reads agree with the database file through replace, delete and expiry", async (t) => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const d = await startDaemon(t, {}, { clock });
  const c = await LineClient.connect(d.port);
  t.teardown(() => c.close());
  const file = new Database(join(d.dir, "swarmd.db"), { readonly: true });
  t.teardown(() => file.close());
  const onDisk = (key: string): { value: string; version: number } | undefined =>
    file.prepare("SELECT value, version FROM memory WHERE namespace = 'default' AND key = ?").get(key) as { value: string; version: number } | undefined;

  const before = (await callTool(t, c, memoryStats, {})).cache;
  await callTool(t, c, memoryStore, { key: "a", value: { n: 1, text: "é \u2028 \"q\"" }, tags: ["x"] });
  for (let i = 0; i < 3; i++) {
    const got = await callTool(t, c, memoryRetrieve, { key: "a" });
    t.strictSame([got.value, got.version, got.tags, got.found], [{ n: 1, text: "é \u2028 \"q\"" }, 1, ["x"], true]);
    t.strictSame(got.value, JSON.parse(onDisk("a")?.value ?? "null"), "the value read is the committed one");
  }
  const after = (await callTool(t, c, memoryStats, {})).cache;
  t.equal(after.hits - before.hits, 3, "a stored entry is read from memory");

  await callTool(t, c, memoryStore, { key: "a", value: "two" });
  const replaced = await callTool(t, c, memoryRetrieve, { key: "a" });
  t.strictSame([replaced.value, replaced.version, replaced.tags], ["two", 2, []], "a replaced entry is never read stale");
  t.equal(onDisk("a")?.version, 2);

  await callTool(t, c, memoryDelete, { key: "a" });
  t.equal((await callTool(t, c, memoryRetrieve, { key: "a" })).found, false, "a deleted entry is gone from memory too");
  t.equal(onDisk("a"), undefined);

  await callTool(t, c, memoryStore, { key: "ttl", value: 1, ttl: 5 });
  t.equal((await callTool(t, c, memoryRetrieve, { key: "ttl" })).found, true);
  clock.advance(5000);
  t.equal((await callTool(t, c, memoryRetrieve, { key: "ttl" })).found, false, "an expired entry is not returned from memory");
});

t.test("a cache smaller than the data evicts the oldest and still answers every read right", async (t) => {
  const { c } = await daemonWithClient(t, { SWARMD_MEMORY_CACHE_MB: "1" });
  const value = (i: number): string => `${i}:`.padEnd(1000, "x");
  const stores = Array.from({ length: 2000 }, (_, i) => c.call("memory_store", { key: `k${i}`, value: value(i) }, `s${i}`));
  t.equal((await Promise.all(stores)).filter((r) => r.error !== undefined).length, 0, "every store succeeded");
  for (let i = 0; i < 2000; i += 7) {
    const got = await callTool(t, c, memoryRetrieve, { key: `k${i}` });
    if (got.value !== value(i)) t.fail(`k${i} read back as ${String(got.value).slice(0, 20)}`);
  }
  const { cache } = await callTool(t, c, memoryStats, {});
  t.equal(cache.limitBytes, 1024 * 1024);
  t.ok(cache.bytes <= cache.limitBytes, `${cache.bytes} bytes held, within the limit`);
  t.ok(cache.entries > 100 && cache.entries < 2000, `${cache.entries} entries held`);
  t.ok(cache.misses > 0, "evicted entries were read from SQLite");
});

t.test("with the cache off every read goes to SQLite", async (t) => {
  const { c } = await daemonWithClient(t, { SWARMD_MEMORY_CACHE_MB: "0" });
  await callTool(t, c, memoryStore, { key: "k", value: [1, 2] });
  t.strictSame((await callTool(t, c, memoryRetrieve, { key: "k" })).value, [1, 2]);
  t.strictSame((await callTool(t, c, memoryStore, { key: "k", value: 3 })).version, 2);
  t.strictSame((await callTool(t, c, memoryRetrieve, { key: "k" })).value, 3);
  const { cache } = await callTool(t, c, memoryStats, {});
  t.strictSame([cache.entries, cache.bytes, cache.hits, cache.limitBytes], [0, 0, 0, 0]);
});

t.test("a batch SQLite rolls back leaves no trace in what reads return", async (t) => {
  const dir = tempDir(t);
  const command = parseCli([], { SWARMD_DB: join(dir, "swarmd.db") });
  if (command.kind !== "run") throw new Error("unexpected CLI command");
  const store = await openStore(join(dir, "swarmd.db"), { synchronous: "normal" });
  t.teardown(() => store.close());
  const { memory } = createManagers(store, command.config, new ManualClock(), (what, err) => t.fail(`${what}: ${String(err)}`));
  await memory.store({ namespace: "default", key: "k", value: "committed" });
  // The second write fails having abandoned the transaction, as a statement does when SQLite meets a full disk or an
  // I/O error mid-batch.
  const replaced = memory.store({ namespace: "default", key: "k", value: "rolled back" });
  const abandon = store.writes.write(() => {
    store.db.exec("ROLLBACK");
    throw new Error("SQLITE_FULL: database or disk is full");
  }, true);
  // Queued behind the abandoned transaction: it must fail too, not commit on its own while reported as failed.
  const after = memory.store({ namespace: "default", key: "after", value: "reported failed" });
  await t.rejects(replaced);
  await t.rejects(abandon);
  await t.rejects(after);
  t.equal((await memory.stats()).cache.entries, 0, "the cache was dropped with the batch");
  t.equal((await memory.retrieve("default", "k"))?.value, "committed");
  t.equal(await memory.retrieve("default", "after"), undefined, "a write reported as failed is not stored");
});

t.test("the cache keeps its size right however rows come and go", (t) => {
  const row = (key: string, value: string): MemoryRow => ({
    namespace: "n",
    key,
    value,
    size: value.length,
    tags: null,
    version: 1,
    created_at: 0,
    updated_at: 0,
    expires_at: null,
  });
  const cache = new MemoryCache(100_000);
  for (let i = 0; i < 50_000; i++) cache.set(row("same", `v${i}`));
  t.equal(cache.get("n", "same")?.value, "v49999", "the latest write wins");
  t.equal(cache.stats().entries, 1);
  for (let i = 0; i < 1000; i++) cache.set(row(`k${i}`, "x".repeat(100)));
  const { entries, bytes } = cache.stats();
  t.ok(bytes <= 100_000 && entries < 1001, `${entries} entries, ${bytes} bytes`);
  t.equal(cache.get("n", "k999")?.value.length, 100, "the newest rows stay");
  t.equal(cache.get("n", "k0"), undefined, "the oldest went first");
  cache.delete("n", "k999");
  t.equal(cache.stats().entries, entries - 1);
  t.equal(cache.stats().bytes < bytes, true);
  const tiny = new MemoryCache(10);
  tiny.set(row("big", "y".repeat(100)));
  t.equal(tiny.stats().entries, 0, "a row larger than the whole cache is not kept");
  t.end();
});

t.test("a store's reported version and createdAt are the stored ones, cached or not, through expiry and the sweep", async (t) => {
  for (const cacheMb of ["64", "0"]) {
    const dir = tempDir(t);
    const command = parseCli([], { SWARMD_DB: join(dir, "swarmd.db"), SWARMD_MEMORY_CACHE_MB: cacheMb });
    if (command.kind !== "run") throw new Error("unexpected CLI command");
    const store = await openStore(join(dir, "swarmd.db"), { synchronous: "normal" });
    t.teardown(() => store.close());
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const { memory } = createManagers(store, command.config, clock, (what, err) => t.fail(`${what}: ${String(err)}`));
    const onDisk = (key: string): unknown => store.db.prepare("SELECT version, created_at AS createdAt FROM memory WHERE key = ?").get(key);
    const stored = async (key: string, ttlSeconds?: number): Promise<{ version: number; createdAt: number }> => {
      const r = await memory.store({ namespace: "default", key, value: "v", ttlSeconds });
      t.strictSame({ version: r.version, createdAt: r.createdAt }, onDisk(key), `cache ${cacheMb} MB: ${key}'s reply matches the file`);
      return r;
    };
    const first = await stored("k");
    clock.advance(1000);
    t.match(await stored("k"), { version: 2, createdAt: first.createdAt }, "a replace counts up and keeps createdAt");

    await stored("ttl", 5);
    clock.advance(6000);
    t.match(await stored("ttl"), { version: 1, createdAt: clock.now() }, "an expired entry not yet swept is replaced as new");

    await stored("swept", 5);
    clock.advance(6000);
    await memory.sweeper.run();
    t.equal(onDisk("swept"), undefined, "the sweep deleted it");
    // Wall clocks step back; the swept row must not be remembered as live.
    clock.advance(-6000);
    t.match(await stored("swept"), { version: 1 }, "a swept entry is stored anew");
  }
});
