import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import Database from "better-sqlite3";
import t from "tap";
import { LineClient } from "../scripts/line-client.js";
import { tempDir } from "./helpers/daemon.js";
import { sleeps, startRpc } from "./helpers/rpc.js";
import { spawnDaemon, spawnListening, waitForLog } from "./helpers/spawn.js";

t.test("npm start's defaults: ./data/swarmd.db under the working directory, its absolute path logged", async (t) => {
  const dir = tempDir(t);
  const d = spawnDaemon(t, ["--port", "0"], {}, dir);
  const line = await waitForLog(d, (l) => l.msg === "swarmd listening");
  t.equal(line.db, join(dir, "data", "swarmd.db"), "absolute path of ./data/swarmd.db");
  t.equal(line.address, "127.0.0.1", "loopback by default");
  t.ok(existsSync(join(dir, "data", "swarmd.db")), "the database file exists");
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  t.test(`${signal} stops the daemon cleanly with exit code 0`, async (t) => {
    const dir = tempDir(t);
    const d = await spawnListening(t, ["--db", join(dir, "s.db")]);
    const c = await LineClient.connect(d.port);
    t.equal((await c.request("ping")).result.status, "ok");
    d.proc.kill(signal);
    t.equal(await d.exited, 0);
    await c.waitForEnd();
    t.ok(d.logs.some((l) => l.msg === "swarmd stopped"));
  });
}

t.test("a port in use: exit 1 with a message naming the fix", async (t) => {
  const dir = tempDir(t);
  const first = await spawnListening(t, ["--db", join(dir, "a.db")]);
  const second = spawnDaemon(t, ["--port", String(first.port), "--db", join(dir, "b.db")]);
  t.equal(await second.exited, 1);
  const fatal = await waitForLog(second, (l) => l.level === 60);
  t.match(fatal.msg, /already in use.*--port/);
  t.equal(fatal.err, undefined, "one line, no stack");
  const http = spawnDaemon(t, ["--port", "0", "--http-port", String(first.port), "--db", join(dir, "c.db")]);
  t.equal(await http.exited, 1);
  const httpFatal = await waitForLog(http, (l) => l.level === 60);
  t.equal(
    httpFatal.msg,
    `cannot listen on the HTTP port 127.0.0.1:${first.port}: the address is already in use (choose another with --http-port or SWARMD_HTTP_PORT, or 0 to turn it off)`,
    "the HTTP port in use is named as such",
  );
});

t.test("a database that cannot be opened: exit 1, never an in-memory fallback", async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "file"), "not a directory");
  const d = spawnDaemon(t, ["--port", "0", "--db", join(dir, "file", "x.db")]);
  t.equal(await d.exited, 1);
  t.match((await waitForLog(d, (l) => l.level === 60)).msg, /cannot open the database at .*file\/x\.db/);
  const garbage = join(dir, "garbage.db");
  writeFileSync(garbage, "this is not sqlite".repeat(500));
  const g = spawnDaemon(t, ["--port", "0", "--db", garbage]);
  t.equal(await g.exited, 1);
  t.match((await waitForLog(g, (l) => l.level === 60)).msg, /garbage\.db/);
  const fine = join(dir, "fine.db");
  writeFileSync(`${fine}-lock`, "someone else's file".repeat(500));
  const l = spawnDaemon(t, ["--port", "0", "--db", fine]);
  t.equal(await l.exited, 1);
  t.match((await waitForLog(l, (line) => line.level === 60)).msg, `cannot use its lock file ${fine}-lock: file is not a database`, "names the file at fault");
});

t.test("a database written by a newer swarmd is refused", async (t) => {
  const dir = tempDir(t);
  const path = join(dir, "new.db");
  const db = new Database(path);
  db.pragma("user_version = 9999");
  db.close();
  const d = spawnDaemon(t, ["--port", "0", "--db", path]);
  t.equal(await d.exited, 1);
  t.match((await waitForLog(d, (l) => l.level === 60)).msg, /newer than this swarmd/);
});

t.test("shutdown lets in-flight requests finish and refuses new ones", async (t) => {
  const srv = await startRpc(t);
  const busy = await LineClient.connect(srv.port);
  const other = await LineClient.connect(srv.port);
  t.teardown(() => {
    busy.close();
    other.close();
  });
  busy.send({ jsonrpc: "2.0", id: "work", method: "tools/call", params: { name: "test_sleep", arguments: { ms: 300 } } });
  await sleep(50);
  const drained = srv.rpc.drain(5000);
  const refused = await other.request("ping", {}, "late");
  t.equal(refused.error.code, -32000);
  t.equal(refused.error.data.reason, "shutting_down");
  const done = await busy.reply("work");
  t.ok(done.result.structuredContent.slept >= 290, "the in-flight request completed");
  await drained;
  await busy.waitForEnd();
  await other.waitForEnd();
});

t.test("work that outlives the grace period is aborted and told why", async (t) => {
  const srv = await startRpc(t);
  const c = await LineClient.connect(srv.port);
  t.teardown(() => c.close());
  const before = sleeps.length;
  c.send({ jsonrpc: "2.0", id: "long", method: "tools/call", params: { name: "test_sleep", arguments: { ms: 10_000 } } });
  await sleep(50);
  const started = Date.now();
  await srv.rpc.drain(200);
  t.ok(Date.now() - started < 3000, "the drain did not wait for the work");
  t.equal(sleeps[before]?.aborted, true);
  const reply = await c.reply("long");
  t.equal(reply.error.data.reason, "shutting_down");
});
