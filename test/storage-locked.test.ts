// Another process holding the database's write lock — an operator's sqlite3 shell left in a transaction, a script
// writing to the file. SQLite's own wait for the lock would stop every client; instead the daemon serves on, memory
// writes wait for the lock a while, writes that cannot wait are refused with a clear error, and a worker's result
// refused so is sent again.
import { join } from "node:path";
import Database from "better-sqlite3";
import t from "tap";
import { SwarmClient, SwarmWorker, type WorkerEvent } from "../src/client/index.js";
import { LineClient } from "../scripts/line-client.js";
import { freePort, tempDir } from "./helpers/daemon.js";
import { spawnListening } from "./helpers/spawn.js";

t.test("a write lock held by another process: pings and reads go on, memory writes wait for it, others are refused", async (t) => {
  const dbPath = join(tempDir(t), "swarmd.db");
  const httpPort = await freePort();
  const d = await spawnListening(t, ["--db", dbPath, "--http-port", String(httpPort)]);
  const writer = await LineClient.connect(d.port);
  const other = await LineClient.connect(d.port);
  t.teardown(() => {
    writer.close();
    other.close();
  });
  const stored = async (key: string): Promise<unknown> => (await other.call("memory_retrieve", { key })).result?.structuredContent?.value;
  t.notOk((await writer.call("memory_store", { key: "before", value: "1" })).error);

  const shell = new Database(dbPath);
  t.teardown(() => shell.close());
  shell.prepare("BEGIN IMMEDIATE").run();
  const order: string[] = [];
  const waiting = writer.call("memory_store", { key: "during", value: "2" }, undefined, 30_000).then((reply) => {
    order.push("store");
    return reply;
  });
  await new Promise((r) => setTimeout(r, 200));
  const pong = await other.request("ping");
  order.push("ping");
  t.equal(pong.result?.status, "ok");
  t.same(order, ["ping"], "a ping is answered while a memory write waits for the lock");
  const swarm = await other.call("swarm_init", {});
  t.match(
    swarm.error,
    { code: -32000, message: /Another process holds the database's write lock, so nothing was changed/, data: { reason: "storage_busy" } },
    "a write that cannot wait is refused, clearly",
  );
  t.same(order, ["ping"], "and so is that, with the memory write still waiting");

  await new Promise((r) => setTimeout(r, 800));
  shell.prepare("COMMIT").run();
  t.match((await waiting).result?.structuredContent, { key: "during", stored: true }, "the waiting write is taken once the lock is free");
  t.equal(await stored("during"), "2");

  shell.prepare("BEGIN IMMEDIATE").run();
  t.equal(await stored("before"), "1", "reads go on while the lock is held");
  const started = Date.now();
  const refused = await writer.call("memory_store", { key: "never", value: "3" }, undefined, 30_000);
  const waited = Date.now() - started;
  shell.prepare("COMMIT").run();
  t.match(refused.error, { code: -32000, data: { reason: "storage_busy" } }, "a lock kept past the patience fails the write");
  t.ok(waited >= 4_000, `after it waited (${waited} ms)`);
  t.equal(await stored("never"), undefined, "which changed nothing");
  t.notOk((await writer.call("memory_store", { key: "after", value: "4" })).error, "and writes are taken again");
  t.notOk((await other.call("swarm_init", {})).error);
  t.equal(d.proc.exitCode, null, "the daemon is up");
  const logged = d.logs.filter((l) => l.msg === "a write was refused: another process holds the database's write lock");
  t.match(logged, [{ reason: "storage_busy", refusedSinceLastLine: 1 }], "the first refusal is logged, later ones counted toward a line a minute");
  t.notOk(d.logs.some((l) => l.msg === "request failed unexpectedly"), "as what they are, not as a failure of swarmd");
  const info = (await other.call("server_info", {})).result.structuredContent;
  t.match(info.database.writesRefused, { storage_full: 0, storage_busy: 2, lastAt: Number }, "server_info counts the two refusals");
  const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  t.match(metrics, /^swarmd_storage_refusals\{reason="storage_busy"\} 2$/m, "and so does /metrics");
});

t.test("a worker attaches once the lock is free, and its result refused for the lock is sent again until it is taken", async (t) => {
  const dbPath = join(tempDir(t), "swarmd.db");
  const d = await spawnListening(t, ["--db", dbPath]);
  const c = await LineClient.connect(d.port);
  t.teardown(() => c.close());
  const payload = async (tool: string, args: object): Promise<any> => (await c.call(tool, args)).result.structuredContent;
  const swarmId = (await payload("swarm_init", {})).swarmId;
  const agentId = (await payload("agent_spawn", { type: "coder", swarmId })).agentId;
  let finish = (): void => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const shell = new Database(dbPath);
  t.teardown(() => shell.close());
  // A worker that starts while the lock is held attaches once it is free, instead of giving up.
  shell.prepare("BEGIN IMMEDIATE").run();
  const events: WorkerEvent[] = [];
  const worker = new SwarmWorker({ port: d.port, agentId, onEvent: (e) => events.push(e), handle: async () => (await finished, { done: true }) });
  t.teardown(() => worker.stop());
  await new Promise((r) => setTimeout(r, 500));
  shell.prepare("COMMIT").run();
  await worker.ready;
  t.match((await payload("agent_status", { agentId })).runtime, { attached: true }, "a worker started while the lock was held attaches");
  const taskId = (await payload("task_orchestrate", { task: "anything", swarmId })).taskId;

  shell.prepare("BEGIN IMMEDIATE").run();
  finish();
  for (const deadline = Date.now() + 10_000; !events.some((e) => e.type === "report_delayed"); await new Promise((r) => setTimeout(r, 50))) {
    if (Date.now() > deadline) throw new Error(`no report_delayed: ${JSON.stringify(events)}`);
  }
  t.match(events.find((e) => e.type === "report_delayed"), { taskId, error: { data: { reason: "storage_busy" } } });
  shell.prepare("COMMIT").run();
  const done = (await c.call("task_wait", { taskId, timeoutMs: 15_000 }, undefined, 20_000)).result.structuredContent;
  t.match(done, { status: "completed", attempts: 1, result: { done: true } }, "the result is stored once the lock is free, the work not run again");
  t.notOk(events.some((e) => e.type === "report_failed"), "no report given up");
});

t.test("the client sends a call refused for the lock again, and it is taken once the lock is free", async (t) => {
  const dbPath = join(tempDir(t), "swarmd.db");
  const d = await spawnListening(t, ["--db", dbPath]);
  const client = new SwarmClient({ port: d.port, retryAttempts: 6, retryDelayMs: 100 });
  t.teardown(() => client.close());
  await client.call("server_info", {}); // connected before the lock is taken
  const shell = new Database(dbPath);
  t.teardown(() => shell.close());
  shell.prepare("BEGIN IMMEDIATE").run();
  setTimeout(() => shell.open && shell.prepare("COMMIT").run(), 400);
  const swarm = await client.call("swarm_init", { name: "after-the-lock" });
  t.match(swarm, { name: "after-the-lock", status: "active" }, "swarm_init, refused while the lock was held, succeeded on a later try");
  t.equal(d.logs.filter((l) => l.msg === "a write was refused: another process holds the database's write lock").length, 1, "after at least one refusal");
  const listed = (await client.call("swarm_list", {})) as { swarms: Array<{ name: string }> };
  t.equal(listed.swarms.filter((s) => s.name === "after-the-lock").length, 1, "and the swarm was created once");
});
