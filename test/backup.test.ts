import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import t, { type Test } from "tap";
import { LineClient } from "../scripts/line-client.js";
import { backupDatabase } from "../src/store/backup.js";
import { openStore } from "../src/store/db.js";
import { startDaemon, tempDir } from "./helpers/daemon.js";
import { spawnDaemon } from "./helpers/spawn.js";

/** `swarmd restore …`, the built binary, as an operator runs it. */
async function restore(t: Test, ...args: string[]): Promise<{ code: number | string; out: string; err: string }> {
  const d = spawnDaemon(t, ["restore", ...args]);
  const code = await d.exited;
  return { code, out: d.stdout(), err: d.logs.map((l) => l.text).join("\n") };
}

const value = "v".repeat(1000);

t.test("a backup taken while clients write holds every write acknowledged before it; restore puts it back", async (t) => {
  const dir = tempDir(t);
  const first = await startDaemon(t, {}, { dir });
  const c = await LineClient.connect(first.port);
  t.teardown(() => c.close());
  const before = Array.from({ length: 3000 }, (_, i) => c.call("memory_store", { key: `before-${i}`, value }));
  t.equal((await Promise.all(before)).filter((r) => r.result?.stored).length, 3000);
  const swarm = (await c.call("swarm_init", { initialAgents: [{ type: "coder" }] })).result;

  // A second connection keeps writing for as long as the backup runs.
  const writer = await LineClient.connect(first.port);
  t.teardown(() => writer.close());
  let writing = true;
  let during = 0;
  const writes = (async () => {
    while (writing) if ((await writer.call("memory_store", { key: `during-${during}`, value })).result) during++;
  })();
  const progressToken = "backup-1";
  const reply = await c.request("tools/call", { name: "server_backup", arguments: { name: "b1.db" }, _meta: { progressToken } });
  writing = false;
  await writes;
  const b = reply.result.structuredContent;
  const path = join(dir, "backups", "b1.db");
  t.same([b.name, b.path, b.bytes], ["b1.db", path, statSync(path).size], "the reply names the file and its real size");
  t.equal(b.bytes, b.pages * 4096);
  const progress = c.messages.filter((n) => n.method === "notifications/progress" && n.params.progressToken === progressToken);
  t.ok(progress.length > 0, `${progress.length} progress notifications`);
  t.same(readdirSync(join(dir, "backups")), ["b1.db"], "one self-contained file: no -wal, -shm or partial copy beside it");

  const copy = new Database(path, { readonly: true });
  t.equal(copy.pragma("integrity_check", { simple: true }), "ok", `intact, with ${during} writes acknowledged meanwhile`);
  const keys = new Set((copy.prepare("SELECT key FROM memory").all() as Array<{ key: string }>).map((r) => r.key));
  t.equal([...keys].filter((k) => k.startsWith("before-")).length, 3000, "every write acknowledged before the backup");
  t.equal((copy.prepare("SELECT id FROM swarms").all() as Array<{ id: string }>)[0]?.id, swarm.swarmId);
  copy.close();

  await c.call("memory_store", { key: "after-backup", value: 1 });
  const running = await restore(t, path, "--db", first.config.db);
  t.equal(running.code, 1, "no restore under a running daemon");
  t.match(running.err, /is in use by process \d+ .*; stop that swarmd before restoring/);
  c.close();
  writer.close();
  await first.daemon.close();

  const done = await restore(t, path, "--db", first.config.db);
  t.equal(done.code, 0, done.err);
  const kept = /kept at (\S+)\n$/.exec(done.out)?.[1] as string;
  t.match(done.out, new RegExp(`^restored ${path} into ${first.config.db} \\(\\d+ bytes, schema version \\d+\\)`));

  const second = await startDaemon(t, {}, { dir });
  const c2 = await LineClient.connect(second.port);
  t.teardown(() => c2.close());
  t.equal((await c2.call("memory_retrieve", { key: "before-2999" })).result.value, value, "restored data is served");
  t.equal((await c2.call("memory_retrieve", { key: "after-backup" })).result.found, false, "later writes are not");
  t.equal((await c2.call("swarm_list", {})).result.swarms[0].swarmId, swarm.swarmId);
  const fresh = join(tempDir(t), "new-machine", "data", "swarmd.db");
  const onto = await restore(t, path, "--db", fresh);
  t.same([onto.code, /kept at/.test(onto.out)], [0, false], "onto a machine with no database yet: nothing to keep");
  const moved = new Database(fresh, { readonly: true });
  t.equal((moved.prepare("SELECT count(*) AS n FROM memory WHERE key LIKE 'before-%'").get() as { n: number }).n, 3000);
  moved.close();
  const old = new Database(kept, { readonly: true });
  t.teardown(() => old.close());
  t.ok(old.prepare("SELECT 1 FROM memory WHERE key = 'after-backup'").get(), "the replaced database is kept, whole");
});

t.test("backup names: free default names, no overwriting unless asked, file names only, one backup at a time", async (t) => {
  const backupDir = join(tempDir(t), "elsewhere");
  const { port } = await startDaemon(t, { SWARMD_BACKUP_DIR: backupDir });
  const c = await LineClient.connect(port);
  t.teardown(() => c.close());
  const none = (await c.call("server_info", {})).result.backups;
  t.same(none, { dir: backupDir, count: 0, newest: null }, "server_info: no backups yet");
  const a = (await c.call("server_backup", {})).result;
  const b = (await c.call("server_backup", {})).result;
  t.match(a.name, /^swarmd-\d{8}-\d{6}(-\d+)?\.db$/);
  t.not(a.name, b.name, "a second default backup gets a name of its own");
  t.equal(a.path, join(backupDir, a.name), "SWARMD_BACKUP_DIR is where backups go");

  const exists = (await c.call("server_backup", { name: a.name })).error;
  t.same([exists.code, exists.data.reason, exists.data.name], [-32000, "backup_exists", a.name]);
  t.equal((await c.call("server_backup", { name: a.name, overwrite: true })).result.name, a.name);
  for (const name of ["../escape.db", "/tmp/x.db", ".hidden", "a/b", ""]) {
    t.equal((await c.call("server_backup", { name })).error.code, -32602, JSON.stringify(name));
  }
  t.notOk(existsSync(join(backupDir, "..", "escape.db")));

  // Both lines arrive in one chunk and run concurrently: the second finds the first still copying.
  c.write(
    [1, 2]
      .map((i) => JSON.stringify({ jsonrpc: "2.0", id: `p${i}`, method: "tools/call", params: { name: "server_backup", arguments: { name: `p${i}.db` } } }))
      .join("\n") + "\n",
  );
  const [p1, p2] = [await c.reply("p1"), await c.reply("p2")];
  t.ok(p1.result, "the first is written");
  t.equal(p2.error.data.reason, "backup_running");
  const files = readdirSync(backupDir).map((name) => ({ name, stat: statSync(join(backupDir, name)) }));
  const latest = files.reduce((x, y) => (y.stat.mtimeMs > x.stat.mtimeMs ? y : x));
  t.same(
    (await c.call("server_info", {})).result.backups,
    { dir: backupDir, count: files.length, newest: { name: latest.name, bytes: latest.stat.size, modifiedAt: Math.round(latest.stat.mtimeMs) } },
    `server_info: ${files.length} backups, the newest as on disk`,
  );
});

t.test("restore refuses what is not a swarmd backup, and leaves the database as it was", async (t) => {
  const dir = tempDir(t);
  const db = join(dir, "swarmd.db");
  const store = await openStore(db, { synchronous: "normal" });
  store.db.prepare("INSERT INTO memory (namespace, key, value, size, version, created_at, updated_at) VALUES ('default', 'k', '1', 1, 1, 0, 0)").run();
  await store.close();
  const original = readFileSync(db);

  writeFileSync(join(dir, "notes.txt"), "not a database\n".repeat(100));
  const other = new Database(join(dir, "other.db"));
  other.exec("CREATE TABLE things (x)");
  other.close();
  const newer = new Database(join(dir, "newer.db"));
  newer.exec("CREATE TABLE memory (x); CREATE TABLE swarms (x); CREATE TABLE agents (x); CREATE TABLE tasks (x); CREATE TABLE assignments (x)");
  newer.pragma("user_version = 999");
  newer.close();

  for (const [file, why] of [
    ["notes.txt", /is not a usable SQLite database/],
    ["other.db", /is not a swarmd database \(no memory, swarms, agents, tasks, assignments table\)/],
    ["newer.db", /has schema version 999, newer than this swarmd understands/],
    ["missing.db", /no backup at /],
  ] as const) {
    const r = await restore(t, join(dir, file), "--db", db);
    t.equal(r.code, 1, file);
    t.match(r.err, why, file);
  }
  t.same(readFileSync(db), original, "the database is untouched");
  t.same(readdirSync(dir).filter((f) => f.includes("replaced") || f.includes("restoring")), [], "nothing left behind");
  const usage = await restore(t);
  t.equal(usage.code, 2, "no file named: a usage error");
});

t.test("a cancelled backup leaves no file, whenever the cancellation comes", async (t) => {
  const dir = tempDir(t);
  const store = await openStore(join(dir, "swarmd.db"), { synchronous: "normal" });
  t.teardown(() => store.close());
  const insert = store.db.prepare("INSERT INTO memory (namespace, key, value, size, version, created_at, updated_at) VALUES ('default', ?, ?, 1000, 1, 0, 0)");
  store.db.transaction(() => {
    for (let i = 0; i < 5000; i++) insert.run(`k${i}`, JSON.stringify(value));
  })();
  const abort = new AbortController();
  const dest = join(dir, "backups", "cancelled.db");
  const outcome = await backupDatabase(store, dest, { signal: abort.signal, onProgress: () => abort.abort(new Error("cancelled by the test")) }).catch(
    (err: unknown) => err,
  );
  t.equal((outcome as Error).message, "cancelled by the test");
  t.same(readdirSync(join(dir, "backups")), [], "no backup, no partial copy");
  const early = await backupDatabase(store, dest, { signal: AbortSignal.abort(new Error("never mind")) }).catch((err: unknown) => err);
  t.equal((early as Error).message, "never mind", "already cancelled: nothing starts");
  t.same(readdirSync(join(dir, "backups")), []);
});
