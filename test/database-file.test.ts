import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import t, { type Test } from "tap";
import { LineClient } from "../scripts/line-client.js";
import { memoryRetrieve, memoryStore, swarmInit, swarmList } from "../src/protocol/tools/index.js";
import { backupDatabase } from "../src/store/backup.js";
import { openStore, type Store } from "../src/store/db.js";
import { tempDir } from "./helpers/daemon.js";
import { spawnDaemon, spawnListening } from "./helpers/spawn.js";
import { callTool } from "./helpers/tools.js";

// The database file deleted or replaced under a running daemon: SQLite goes on using the file it opened, so without
// care every write from then on is acknowledged into a file no restart finds.

async function connect(t: Test, port: number): Promise<LineClient> {
  const c = await LineClient.connect(port);
  t.teardown(() => c.close());
  return c;
}

/** The memory keys a database file holds, read the way an operator's sqlite3 would. */
function keysIn(path: string): string[] {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare("SELECT key FROM memory ORDER BY key").all() as Array<{ key: string }>).map((r) => r.key);
  } finally {
    db.close();
  }
}

/** A swarmd database of its own at `path`, holding the keys given, closed. */
async function otherDatabase(path: string, keys: string[]): Promise<void> {
  const store = await openStore(path, { synchronous: "normal" });
  for (const key of keys) put(store, key);
  await store.close();
}

/** A memory entry written straight through the store's connection. */
function put(store: Store, key: string): void {
  store.db.prepare("INSERT INTO memory (namespace, key, value, size, version, created_at, updated_at) VALUES ('default', ?, '1', 1, 1, 0, 0)").run(key);
}

t.test("its directory deleted under it (rm -rf): the daemon stops by itself and the next start has every write it acknowledged", async (t) => {
  const data = join(tempDir(t), "data");
  const db = join(data, "swarmd.db");
  const first = await spawnListening(t, ["--db", db]);
  const c = await connect(t, first.port);
  const swarm = await callTool(t, c, swarmInit, { name: "kept" });
  await callTool(t, c, memoryStore, { key: "before", value: 1 });
  rmSync(data, { recursive: true, force: true });
  const after = await callTool(t, c, memoryStore, { key: "after", value: 2 });
  t.equal(after.stored, true, "a write after the deletion is still taken");

  t.equal(await first.exited, 1, "it exits with 1 (a supervisor restarts it)");
  t.ok(first.logs.some((l) => l.level === 50 && /database file was deleted while swarmd had it open/.test(l.msg)), "it says why it stops");
  t.ok(first.logs.some((l) => l.savedTo === db && /written back to it/.test(l.msg)), "and where what it held went");
  t.same(readdirSync(data).filter((f) => f !== "swarmd.db"), [], "one file: no write-ahead log or copy beside it");

  const second = await spawnListening(t, ["--db", db]);
  const r = await connect(t, second.port);
  t.same((await callTool(t, r, swarmList, {})).swarms.map((s) => s.swarmId), [swarm.swarmId]);
  t.equal((await callTool(t, r, memoryRetrieve, { key: "before" })).value, 1);
  t.equal((await callTool(t, r, memoryRetrieve, { key: "after" })).value, 2, "the write acknowledged after the deletion");
});

t.test("another file moved onto its path: that file is left as it is, and what the daemon held is saved beside it", async (t) => {
  const dir = tempDir(t);
  const db = join(dir, "swarmd.db");
  const other = join(dir, "elsewhere", "other.db");
  await otherDatabase(other, ["theirs"]);
  const otherBytes = readFileSync(other);

  const first = await spawnListening(t, ["--db", db]);
  const c = await connect(t, first.port);
  await callTool(t, c, memoryStore, { key: "ours-1", value: 1 });
  renameSync(other, db);
  await callTool(t, c, memoryStore, { key: "ours-2", value: 2 });
  t.equal(await first.exited, 1);

  t.same(readFileSync(db), otherBytes, "the file put in place is byte for byte as it was");
  t.notOk(existsSync(`${db}-wal`) || existsSync(`${db}-shm`), "no log of ours is left to be replayed onto it");
  const saved = readdirSync(dir).filter((f) => f.startsWith("swarmd.db.orphaned-"));
  t.equal(saved.length, 1, "one copy beside it");
  const copy = join(dir, saved[0] as string);
  t.same(keysIn(copy), ["ours-1", "ours-2"], "holding every write the daemon acknowledged");
  const line = first.logs.find((l) => l.savedTo === copy);
  t.match(line?.msg, `"swarmd restore ${copy}" puts it back`, "the log says how to put it back");

  const restore = spawnDaemon(t, ["restore", copy, "--db", db]);
  t.equal(await restore.exited, 0, "which works as the log says");
  const second = await spawnListening(t, ["--db", db]);
  const r = await connect(t, second.port);
  t.equal((await callTool(t, r, memoryRetrieve, { key: "ours-2" })).found, true);
  t.equal((await callTool(t, r, memoryRetrieve, { key: "theirs" })).found, false);
});

t.test("closed after its file was deleted, a store writes it back; where another log waits at the path, it saves beside it", async (t) => {
  const dir = tempDir(t);
  const path = join(dir, "swarmd.db");
  const store = await openStore(path, { synchronous: "normal" });
  put(store, "k1");
  rmSync(path); // the file alone: its -wal and -shm, which are ours, stay
  put(store, "k2");
  t.same(await store.close(), { loss: "deleted", savedTo: path });
  t.same(keysIn(path), ["k1", "k2"]);
  t.same(readdirSync(dir), ["swarmd.db", "swarmd.db-lock"], "the old log and shared memory are gone, no copy is left over");

  const again = await openStore(path, { synchronous: "normal" });
  put(again, "k3");
  rmSync(path);
  rmSync(`${path}-wal`);
  rmSync(`${path}-shm`);
  writeFileSync(`${path}-wal`, "another process's log");
  const saved = await again.close();
  t.equal(saved?.loss, "deleted");
  t.not(saved?.savedTo, path, "not put where another log would be replayed onto it");
  t.same(keysIn(saved?.savedTo as string), ["k1", "k2", "k3"]);
  t.equal(readFileSync(`${path}-wal`, "utf8"), "another process's log", "which is left alone");
  t.notOk(existsSync(path));
});

t.test("checkpoints and backups never touch a file put in place of the daemon's", async (t) => {
  const dir = tempDir(t);
  const path = join(dir, "swarmd.db");
  const other = join(dir, "other.db");
  await otherDatabase(other, ["theirs"]);
  const otherBytes = readFileSync(other);
  const store = await openStore(path, { synchronous: "normal" });
  renameSync(other, path);
  put(store, "ours"); // the log now holds something, so the checkpointer starts its worker

  const problem = await new Promise<string>((resolve) => store.checkpointer.start(20, resolve));
  t.match(problem, /deleted or replaced/, "the checkpoint worker does not start on the other file");
  const backup = await backupDatabase(store, join(dir, "backups", "b.db")).catch((err: unknown) => err);
  t.match((backup as Error).message, /no longer the file swarmd opened: it was deleted or replaced/, "a backup is refused");
  t.notOk(existsSync(join(dir, "backups", "b.db")), "rather than copying the other database");

  const saved = await store.close();
  t.equal(saved?.loss, "replaced");
  t.same(keysIn(saved?.savedTo as string), ["ours"]);
  t.same(readFileSync(path), otherBytes, "the other file is byte for byte as it was");
});
