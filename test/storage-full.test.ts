// A disk that fills up. The database's: writes are refused with a clear error, no write is acknowledged and then lost,
// the daemon stays up — also when its TTL sweep and its timeouts cannot write either — and a worker's finished result
// waits for room instead of being lost; workers attaching and leaving change nothing the database did not take. The log
// file's: the daemon goes on, says so, and logs again once there is room.
// Real filesystems that fill: small tmpfs mounts.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { SwarmWorker, type WorkerEvent } from "../src/client/index.js";
import { LineClient } from "../scripts/line-client.js";
import { freePort, tempDir } from "./helpers/daemon.js";
import { spawnDaemon, spawnListening } from "./helpers/spawn.js";
import { startWorker } from "./helpers/workers.js";

/** A directory on a tmpfs of this size, or undefined where mounting is not allowed (not root, no CAP_SYS_ADMIN). */
function smallDisk(size: string): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), "swarmd-full-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir], { stdio: "ignore" });
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  t.teardown(() => {
    execFileSync("umount", ["-l", dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

const dir = smallDisk("2m");
const resultsDir = smallDisk("2m");
const logDir = smallDisk("64k");
const agentsDir = smallDisk("2m");
const SKIP = "needs to mount a small tmpfs (root with CAP_SYS_ADMIN)";

const value = (bytes: number): string => randomBytes(bytes).toString("base64");

/**
 * Stores ever smaller values until even a tiny one is refused: the disk is then full to the last page. (A refused
 * write leaves the log file as long as it had grown, so smaller writes fit in what it left, until one page does not.)
 */
async function fill(c: LineClient): Promise<void> {
  let n = 0;
  for (const bytes of [45_000, 8_000, 1_000, 100, 1]) {
    while (!(await c.call("memory_store", { key: `fill${n++}`, value: value(bytes) })).error);
  }
}

t.test(
  "a full disk: writes refused with storage_full, every acknowledged write there after a restart, the daemon up",
  { skip: dir === undefined ? SKIP : false },
  async (t) => {
    const args = ["--db", join(dir as string, "swarmd.db"), "--memory-sweep-interval", "0.2"];
    const first = await spawnListening(t, args);
    const c = await LineClient.connect(first.port);
    t.teardown(() => c.close());
    // Entries that expire while the disk is full: the sweep must then write too.
    for (let i = 0; i < 6; i++) t.notOk((await c.call("memory_store", { key: `ttl${i}`, value: value(15_000), ttl: 3 })).error);
    // And a task whose worker goes silent: its timeout, found off a timer, must be written too.
    const agentId = (await c.call("agent_spawn", { type: "coder", swarmId: (await c.call("swarm_init", {})).result.structuredContent.swarmId })).result
      .structuredContent.agentId as string;
    const worker = await LineClient.connect(first.port);
    t.teardown(() => worker.close());
    t.notOk((await worker.call("agent_attach", { agentId })).error);
    const taskId = (await c.call("task_orchestrate", { task: "never answered", timeout: 3 })).result.structuredContent.taskId as string;

    const acknowledged = new Map<string, string>();
    let refused: { key: string; error: Record<string, unknown> } | undefined;
    for (let i = 0; i < 200 && refused === undefined; i++) {
      const v = value(45_000);
      const reply = await c.call("memory_store", { key: `k${i}`, value: v });
      if (reply.error) refused = { key: `k${i}`, error: reply.error };
      else acknowledged.set(`k${i}`, v);
    }
    t.ok(acknowledged.size >= 5, `${acknowledged.size} values stored before the disk filled`);
    t.match(refused?.error, { code: -32000, message: /disk is full/, data: { reason: "storage_full" } }, "the write that did not fit is refused, clearly");
    const again = await c.call("memory_store", { key: "later", value: value(45_000) });
    t.match(again.error, { data: { reason: "storage_full" } }, "and so is the next");
    const read = await c.call("memory_retrieve", { key: "k0" });
    t.equal(read.result?.structuredContent?.value, acknowledged.get("k0"), "reads go on");

    // The refused write left the log as long as it had grown, which a small delete could still fit in: fill that too.
    await fill(c);
    await new Promise((r) => setTimeout(r, 4_000)); // the entries expire, and the sweep meets the full disk
    t.equal((await c.request("ping")).result?.status, "ok", "still answering");
    t.equal(first.proc.exitCode, null, "still running");
    for (const work of ["memory TTL sweep", "task scheduling"]) {
      const failures = first.logs.filter((l) => String(l.msg).startsWith(`${work} failed`));
      t.ok(failures.length <= 1, `${work} failing is logged once, not on every try (${failures.length})`);
    }
    const sweepFailed = first.logs.find((l) => String(l.msg).startsWith("memory TTL sweep failed"));
    t.match(sweepFailed, { level: 40, msg: "memory TTL sweep failed: the database's disk is full; it is tried again" }, "as a warning saying why");
    t.notOk(sweepFailed?.err, "without a stack trace: it is no bug");

    execFileSync("mount", ["-o", "remount,size=8m", dir as string]); // space freed: what failed is done on the next try
    let assignments: Array<{ status: string }> = [];
    for (const deadline = Date.now() + 10_000; Date.now() < deadline && assignments[0]?.status !== "timed_out"; await new Promise((r) => setTimeout(r, 100))) {
      assignments = (await c.call("task_status", { taskId })).result.structuredContent.assignments;
    }
    t.match(assignments, [{ status: "timed_out" }], "the silent worker's assignment timed out once it could be written");

    first.proc.kill("SIGTERM");
    await first.exited;
    const second = await spawnListening(t, args);
    const d = await LineClient.connect(second.port);
    t.teardown(() => d.close());
    for (const [key, v] of acknowledged) {
      const r = await d.call("memory_retrieve", { key });
      if (r.result?.structuredContent?.value !== v) t.fail(`${key}: acknowledged before the restart, ${JSON.stringify(r.result ?? r.error).slice(0, 80)} after it`);
    }
    t.pass(`all ${acknowledged.size} acknowledged values read back after the restart`);
    for (const key of [refused?.key, "later"]) t.match((await d.call("memory_retrieve", { key })).result?.structuredContent, { found: false }, `${key}, refused, is absent`);
    t.notOk((await d.call("memory_store", { key: "later", value: "fits now" })).error, "with space again, writes are taken");
  },
);

t.test("a full log disk: the daemon goes on serving, says so on stderr, and logs again once there is room", { skip: logDir === undefined ? SKIP : false }, async (t) => {
  const logFile = join(logDir as string, "swarmd.log");
  const port = await freePort();
  const d = spawnDaemon(t, ["--port", String(port), "--db", join(tempDir(t), "swarmd.db"), "--log-file", logFile]);
  const connect = async (): Promise<LineClient> => {
    for (let tries = 0; ; tries++) {
      try {
        return await LineClient.connect(port);
      } catch (err) {
        if (tries > 100) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  // Each connection logs a line as it opens and one as it closes.
  const visit = async (): Promise<unknown> => {
    const c = await connect();
    const reply = await c.request("ping");
    c.close();
    return reply.result?.status;
  };
  t.equal(await visit(), "ok");
  const filler = join(logDir as string, "filler");
  try {
    writeFileSync(filler, Buffer.alloc(128 * 1024)); // more than is left: fills it to the last byte
  } catch {
    // ENOSPC once it is full: that is the point
  }
  for (let i = 0; i < 40; i++) t.equal(await visit(), "ok", `visit ${i} on a full log disk`);
  t.equal(d.proc.exitCode, null, "still running");
  const said = (): string => d.logs.map((l) => String(l.text ?? "")).join("\n");
  t.match(said(), `swarmd: cannot write the log file ${logFile} (ENOSPC); its lines are kept, then dropped, until it can`);
  t.equal(said().match(/cannot write the log file/g)?.length, 1, "said once");

  rmSync(filler);
  await visit();
  await visit();
  t.match(said(), new RegExp(`swarmd: writing the log file ${logFile} again; \\d+ lines were dropped meanwhile`));
  const lines = readFileSync(logFile, "utf8").trim().split("\n");
  t.match(JSON.parse(lines.at(-1) as string), { msg: /^connection (opened|closed)$/ }, "the log goes on in the file");
  t.ok(lines.length >= 80, `the lines kept while the disk was full were written too (${lines.length} lines)`);
});

t.test("a worker's result reported while the disk is full is sent again until it is stored", { skip: resultsDir === undefined ? SKIP : false }, async (t) => {
  const d = await spawnListening(t, ["--db", join(resultsDir as string, "swarmd.db")]);
  const c = await LineClient.connect(d.port);
  t.teardown(() => c.close());
  const payload = async (tool: string, args: object): Promise<any> => (await c.call(tool, args)).result.structuredContent;
  const gate = join(tempDir(t), "go"); // on another disk: the workers finish once it exists
  // The example worker (shell mode) in one swarm, a SwarmWorker in another.
  const shellSwarm = (await payload("swarm_init", {})).swarmId;
  const shellAgent = (await payload("agent_spawn", { type: "coder", swarmId: shellSwarm })).agentId;
  const example = startWorker(t, d.port, shellAgent);
  await example.attached();
  const clientSwarm = (await payload("swarm_init", {})).swarmId;
  const clientAgent = (await payload("agent_spawn", { type: "coder", swarmId: clientSwarm })).agentId;
  const events: WorkerEvent[] = [];
  const worker = new SwarmWorker({
    port: d.port,
    agentId: clientAgent,
    onEvent: (e) => events.push(e),
    handle: async () => {
      while (!existsSync(gate)) await new Promise((r) => setTimeout(r, 50));
      return { done: true };
    },
  });
  t.teardown(() => worker.stop());
  await worker.ready;
  const shellTask = (await payload("task_orchestrate", { task: `while [ ! -e ${gate} ]; do sleep 0.05; done; echo done`, swarmId: shellSwarm })).taskId;
  const clientTask = (await payload("task_orchestrate", { task: "anything", swarmId: clientSwarm })).taskId;

  await fill(c);
  writeFileSync(gate, "");
  for (const deadline = Date.now() + 15_000; ; await new Promise((r) => setTimeout(r, 50))) {
    const exampleWaits = example.log.some((l) => l.includes("Sending task_complete for") && l.includes(shellTask));
    if (exampleWaits && events.some((e) => e.type === "report_delayed")) break;
    if (Date.now() > deadline) throw new Error(`the workers did not meet the full disk; example worker: ${example.log.join(" | ")}`);
  }
  t.match(example.log.join("\n"), /The database's disk is full, so nothing was changed/, "the example worker says why its report waits");
  t.match(events.find((e) => e.type === "report_delayed"), { taskId: clientTask, error: { data: { reason: "storage_full" } } });

  execFileSync("mount", ["-o", "remount,size=8m", resultsDir as string]);
  for (const [taskId, result] of [
    [shellTask, { exitCode: 0, stdout: "done\n" }],
    [clientTask, { done: true }],
  ] as const) {
    const done = (await c.call("task_wait", { taskId, timeoutMs: 15_000 }, undefined, 20_000)).result.structuredContent;
    t.match(done, { status: "completed", attempts: 1, result }, `${taskId}: the result held through the full disk, not the work run again`);
  }
  t.notOk(events.some((e) => e.type === "report_failed"), "no report given up");
});

t.test("a full disk: agents are shown with the worker the database has, and a worker that left goes offline once it can", { skip: agentsDir === undefined ? SKIP : false }, async (t) => {
  const d = await spawnListening(t, ["--db", join(agentsDir as string, "swarmd.db")]);
  const c = await LineClient.connect(d.port);
  t.teardown(() => c.close());
  const payload = async (tool: string, args: object): Promise<any> => (await c.call(tool, args)).result.structuredContent;
  const swarmId = (await payload("swarm_init", {})).swarmId;
  const spawned: string[] = [];
  for (let i = 0; i < 3; i++) spawned.push((await payload("agent_spawn", { type: "coder", swarmId })).agentId);
  const [unattached, kept, left] = spawned as [string, string, string];
  const workers = await Promise.all([0, 1, 2].map(() => LineClient.connect(d.port)));
  t.teardown(() => workers.forEach((w) => w.close()));
  const [newcomer, keeper, leaver] = workers as [LineClient, LineClient, LineClient];
  t.notOk((await keeper.call("agent_attach", { agentId: kept })).error);
  t.notOk((await leaver.call("agent_attach", { agentId: left })).error);
  const runtime = async (agentId: string): Promise<{ status: string; attached: boolean }> => {
    const agent = await payload("agent_status", { agentId });
    return { status: agent.status, attached: agent.runtime.attached };
  };

  await fill(c);
  // A new entry writes two pages (the row, the index); an agent's row is one, which may still fit. Rewrite it until not.
  for (let i = 0; i < 50 && !(await keeper.call("agent_attach", { agentId: kept })).error; i++);
  t.match((await newcomer.call("agent_attach", { agentId: unattached })).error, { data: { reason: "storage_full" } }, "attaching is refused");
  t.same(await runtime(unattached), { status: "idle", attached: false }, "and the agent is not shown attached");
  t.match((await c.call("agent_terminate", { agentId: kept })).error, { data: { reason: "storage_full" } }, "terminating is refused");
  t.same(await runtime(kept), { status: "idle", attached: true }, "and the agent keeps its worker");
  t.notOk((await keeper.call("agent_usage", { cpuPercent: 5, memoryPercent: 10 })).error, "which still works for it");
  leaver.close();
  let gone = await runtime(left);
  for (const deadline = Date.now() + 5_000; Date.now() < deadline && gone.attached; await new Promise((r) => setTimeout(r, 50))) gone = await runtime(left);
  t.same(gone, { status: "idle", attached: false }, "a worker that left is shown gone at once, though its agent cannot be written offline yet");
  await new Promise((r) => setTimeout(r, 2_500)); // tried again every second meanwhile
  t.same(await runtime(left), { status: "idle", attached: false });
  t.equal(d.logs.filter((l) => String(l.msg).startsWith("taking agents offline after their worker left failed")).length, 1, "which is logged once");

  execFileSync("mount", ["-o", "remount,size=8m", agentsDir as string]);
  for (const deadline = Date.now() + 5_000; Date.now() < deadline && gone.status !== "offline"; await new Promise((r) => setTimeout(r, 50))) gone = await runtime(left);
  t.same(gone, { status: "offline", attached: false }, "its agent is written offline once there is room");
  t.notOk((await newcomer.call("agent_attach", { agentId: unattached })).error, "attaching works again");
  t.same(await runtime(unattached), { status: "idle", attached: true });
});
