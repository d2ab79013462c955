import { spawn } from "node:child_process";
import { existsSync, readFileSync, renameSync, statSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import t from "tap";
import { LineClient } from "../scripts/line-client.js";
import { swarmInit, taskOrchestrate, taskWait } from "../src/protocol/tools/index.js";
import { freePort, startDaemon, tempDir } from "./helpers/daemon.js";
import { spawnDaemon, spawnListening, waitForLog } from "./helpers/spawn.js";
import { callTool } from "./helpers/tools.js";

const get = async (port: number, path: string): Promise<{ status: number; body: string }> => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
};

t.test("HTTP side port: /health, /ready and Prometheus /metrics with real values", async (t) => {
  const httpPort = await freePort();
  const { port, daemon, dir } = await startDaemon(t, { SWARMD_HTTP_PORT: String(httpPort) });
  t.same(await get(httpPort, "/health"), { status: 200, body: '{"status":"ok"}\n' });
  t.same(await get(httpPort, "/ready"), { status: 200, body: '{"status":"ready"}\n' });
  t.equal((await get(httpPort, "/nope")).status, 404);
  const c = await LineClient.connect(port);
  t.teardown(() => c.close());
  await c.call("swarm_init", { initialAgents: [{ type: "coder" }, { type: "tester" }] });
  for (let i = 0; i < 3; i++) await c.call("memory_store", { key: `k${i}`, value: "x".repeat(10) });
  await c.call("no_such_tool", {});
  await c.request("nope");
  const { status, body } = await get(httpPort, "/metrics");
  t.equal(status, 200);
  const value = (line: string): number => Number(new RegExp(`^${line.replace(/[{}"=]/g, (ch) => `\\${ch}`)} (\\S+)$`, "m").exec(body)?.[1] ?? NaN);
  t.equal(value('swarmd_requests_total{method="tools/call",outcome="ok"}'), 4);
  t.equal(value('swarmd_requests_total{method="tools/call",outcome="INVALID_PARAMS"}'), 1);
  t.equal(value('swarmd_requests_total{method="unknown",outcome="METHOD_NOT_FOUND"}'), 1, "unknown methods share one label");
  t.equal(value('swarmd_tool_calls_total{tool="memory_store",outcome="ok"}'), 3);
  t.equal(value('swarmd_tool_calls_total{tool="unknown",outcome="INVALID_PARAMS"}'), 1);
  t.equal(value('swarmd_swarms{status="active"}'), 1);
  t.equal(value('swarmd_agents{status="idle"}'), 2);
  t.equal(value("swarmd_memory_entries"), 3);
  t.equal(value("swarmd_memory_bytes"), 36);
  t.equal(value("swarmd_connections"), 1);
  t.equal(value("swarmd_wal_bytes"), statSync(join(dir, "swarmd.db-wal")).size, "the log's size as on disk");
  t.equal(value("swarmd_wal_write_pauses"), 0);
  t.same([value("swarmd_backups"), value("swarmd_backup_newest_timestamp_seconds")], [0, 0], "no backups yet");
  t.equal(value("swarmd_tls_certificate_expiry_timestamp_seconds"), 0, "no TLS");
  // Every metric the README names is served, under that name.
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const documented = [...(readme.match(/^Metrics: [\s\S]*?\n\n/m)?.[0] ?? "").matchAll(/`(swarmd_[a-z_]+)/g)].map((m) => m[1] as string);
  t.ok(documented.length >= 15, `${documented.length} metrics named in the README`);
  const served = new Set([...body.matchAll(/^# TYPE (\S+) (\w+)/gm)].map((m) => m[1]));
  t.same(documented.filter((name) => !served.has(name)), [], "no documented metric is missing");
  for (const name of ['swarmd_tasks{status="pending"}', "nodejs_eventloop_lag_seconds", "process_resident_memory_bytes"]) t.match(body, name);
  t.notMatch(body, /nan$/im, "no NaN, even on the first scrape");

  // The event loop's delay is what it was: a 60 ms block shows as such, idle sampling as well under the 10 ms interval.
  const blockedUntil = performance.now() + 60;
  while (performance.now() < blockedUntil);
  await new Promise((r) => setTimeout(r, 300)); // one scrape's gauges share a reading for 250 ms
  const after = (await get(httpPort, "/metrics")).body;
  const lag = (stat: string): number => Number(new RegExp(`^nodejs_eventloop_lag_${stat}_seconds (\\S+)$`, "m").exec(after)?.[1] ?? NaN);
  t.ok(lag("max") >= 0.04 && lag("max") < 1, `the block is the longest delay: ${lag("max")} s`);
  t.ok(lag("min") < 0.005, `and the sampling interval is not counted as delay: min ${lag("min")} s`);
  void daemon;
});

t.test("/ready is 503 while the database is not open yet and while shutting down; /health stays 200", async (t) => {
  const dir = tempDir(t);
  const dbPath = join(dir, "locked.db");
  const holder = new Database(dbPath);
  holder.exec("CREATE TABLE hold (x); BEGIN EXCLUSIVE; INSERT INTO hold VALUES (1);");
  const httpPort = await freePort();
  const d = spawnDaemon(t, ["--port", "0", "--db", dbPath, "--http-port", String(httpPort)]);
  let starting: { status: number; body: string } | undefined;
  for (let i = 0; i < 100 && starting === undefined; i++) {
    starting = await get(httpPort, "/ready").catch(() => undefined);
    if (starting === undefined) await new Promise((r) => setTimeout(r, 20));
  }
  t.same(starting, { status: 503, body: '{"status":"starting"}\n' }, "the database is still locked");
  t.equal((await get(httpPort, "/health")).status, 200);
  holder.exec("COMMIT");
  holder.close();
  await waitForLog(d, (l) => l.msg === "swarmd listening");
  t.equal((await get(httpPort, "/ready")).status, 200);

  const busy = await LineClient.connect((await waitForLog(d, (l) => l.msg === "swarmd listening")).port);
  t.teardown(() => busy.close());
  await busy.call("swarm_init", {});
  const blocked = (await busy.call("task_orchestrate", { task: "x", requiredCapabilities: ["nobody"] })).result.taskId;
  busy.call("task_wait", { taskId: blocked, timeoutMs: 1500 }).catch(() => {});
  await new Promise((r) => setTimeout(r, 100));
  d.proc.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 100));
  t.same(await get(httpPort, "/ready"), { status: 503, body: '{"status":"shutting_down"}\n' }, "draining: not ready");
  t.equal((await get(httpPort, "/health")).status, 200, "but alive");
  t.equal(await d.exited, 0);
});

t.test("one swarmd per database: a second one names the holder, waits --db-lock-wait, exits 1; kill -9 frees it", async (t) => {
  const db = join(tempDir(t), "shared.db");
  const first = await spawnListening(t, ["--db", db]);
  const c = await LineClient.connect(first.port);
  t.teardown(() => c.close());
  await c.call("memory_store", { key: "owner", value: "first" });

  const second = spawnDaemon(t, ["--port", "0", "--db", db, "--db-lock-wait", "0.5"]);
  const waiting = await waitForLog(second, (l) => l.level === 40);
  t.match(waiting.msg, `the database at ${db} is in use by process ${first.proc.pid} on `);
  t.match(waiting.msg, /waiting for it$/);
  t.equal(await second.exited, 1, "gave up after the wait");
  t.match(second.logs.find((l) => l.level === 60)?.msg, `is in use by process ${first.proc.pid}`);
  t.notOk(second.logs.some((l) => l.msg === "swarmd listening"), "never served from the shared file");
  t.equal((await c.call("memory_retrieve", { key: "owner" })).result.value, "first", "the holder serves on");

  first.proc.kill("SIGKILL");
  await first.exited;
  const third = await spawnListening(t, ["--db", db, "--db-lock-wait", "0"]);
  t.notOk(third.logs.some((l) => l.level === 40), "a killed holder leaves no claim behind: no wait");
  const c3 = await LineClient.connect(third.port);
  t.teardown(() => c3.close());
  t.equal((await c3.call("memory_retrieve", { key: "owner" })).result.value, "first");
  third.proc.kill("SIGTERM");
  t.equal(await third.exited, 0);
});

t.test("logs: JSON lines by default, one per connection opened and closed, none per successful request", async (t) => {
  const d = await spawnListening(t, ["--db", join(tempDir(t), "l.db")]);
  const c = await LineClient.connect(d.port);
  for (let i = 0; i < 20; i++) await c.call("memory_store", { key: `k${i}`, value: i });
  c.close();
  await waitForLog(d, (l) => l.msg === "connection closed");
  d.proc.kill("SIGTERM");
  await d.exited;
  t.ok(d.logs.every((l) => typeof l.level === "number" && typeof l.time === "number"), "every line is JSON");
  t.same(
    d.logs.map((l) => l.msg),
    ["swarmd listening", "connection opened", "connection closed", "shutting down", "swarmd stopped"],
  );
  const pretty = await spawnListening(t, ["--db", join(tempDir(t), "p.db"), "--log-format", "pretty"]).catch((e: Error) => e);
  t.ok(pretty instanceof Error, "pretty lines are not JSON (the helper cannot read them)");
  const child = spawn(process.execPath, [new URL("../dist/swarmd.js", import.meta.url).pathname, "--port", "0", "--http-port", "0", "--db", join(tempDir(t), "q.db"), "--log-format", "pretty"]);
  let err = "";
  child.stderr.setEncoding("utf8").on("data", (s: string) => (err += s));
  while (!err.includes("swarmd listening")) await new Promise((r) => setTimeout(r, 20));
  child.kill("SIGTERM");
  await new Promise((r) => child.on("exit", r));
  t.match(err, /^\d\d:\d\d:\d\d\.\d{3} INFO  swarmd listening address=127\.0\.0\.1 port=\d+ db=\S+q\.db/m);
});

t.test("the Dockerfile and compose file run the scripted image steps, and those steps start and probe a daemon", async (t) => {
  const dockerfile = readFileSync(new URL("../Dockerfile", import.meta.url), "utf8");
  const runs = [...dockerfile.matchAll(/^RUN (.*)$/gm)].map((m) => m[1]);
  t.same(runs.filter((r) => !r?.startsWith("sh scripts/image-steps.sh ")), ["mkdir -p /data && chown node:node /data"], "every build step is a scripted step");
  t.same(
    runs.filter((r) => r?.startsWith("sh scripts/image-steps.sh ")),
    ["sh scripts/image-steps.sh install", "sh scripts/image-steps.sh build", "sh scripts/image-steps.sh prune"],
  );
  t.match(dockerfile, /^FROM node:20-bookworm AS build$/m);
  t.match(dockerfile, /^FROM node:20-bookworm-slim$/m);
  t.match(dockerfile, /^ENV .*SWARMD_BIND=0\.0\.0\.0/m);
  t.match(dockerfile, /^USER node$/m);
  t.match(dockerfile, /^VOLUME \["\/data"\]$/m);
  t.match(dockerfile, /^EXPOSE 9500 9501$/m);
  t.match(dockerfile, /^STOPSIGNAL SIGTERM$/m);
  t.match(dockerfile, /^HEALTHCHECK .*CMD \["sh", "scripts\/image-steps\.sh", "probe"\]$/m);
  t.match(dockerfile, /^CMD \["sh", "scripts\/image-steps\.sh", "start"\]$/m);
  // The final stage has the image steps and, for the worker step, the example worker with the modules it imports.
  const finalStage = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
  const copied = [...finalStage.matchAll(/^COPY --from=build (.*) (\S+)$/gm)].flatMap((m) => (m[1] as string).split(" ").map((src) => `${m[2]}${src.split("/").pop()}`));
  const workerSource = readFileSync(new URL("../scripts/example-worker.mjs", import.meta.url), "utf8");
  const workerFiles = ["example-worker.mjs", ...[...workerSource.matchAll(/^import .* from "\.\/(.+)";$/gm)].map((m) => m[1] as string)];
  t.ok(workerFiles.length > 1, "the worker's own imports are found");
  for (const file of ["image-steps.sh", ...workerFiles]) t.ok(copied.includes(`scripts/${file}`), `the image has scripts/${file}`);
  const compose = readFileSync(new URL("../docker-compose.yml", import.meta.url), "utf8");
  for (const needle of [
    "aliases: [multi-agent-container]",
    '"127.0.0.1:9500:9500"',
    "swarmd-data:/data",
    'test: ["CMD", "sh", "scripts/image-steps.sh", "probe"]',
    "SWARMD_PROTECTED",
    "SWARMD_AUTH_TOKENS",
    'command: ["sh", "scripts/image-steps.sh", "worker", "--adopt", "--shell"]',
    "profiles: [workers]",
  ]) {
    t.match(compose, needle);
  }

  // The image's run steps, on this host's build, with the image's environment (database and ports moved).
  const env: Record<string, string> = { PATH: process.env.PATH ?? "" };
  for (const m of dockerfile.matchAll(/^ENV (.*)$/gm)) for (const kv of (m[1] as string).split(" ")) env[kv.split("=")[0] as string] = kv.slice(kv.indexOf("=") + 1);
  Object.assign(env, { SWARMD_DB: join(tempDir(t), "image.db"), MCP_TCP_PORT: String(await freePort()), SWARMD_HTTP_PORT: String(await freePort()), SWARMD_PROTECTED: "0" });
  const root = new URL("..", import.meta.url).pathname;
  const start = spawn("sh", ["scripts/image-steps.sh", "start"], { cwd: root, env });
  t.teardown(() => start.kill("SIGKILL"));
  const probe = (): Promise<number | null> => new Promise((r) => spawn("sh", ["scripts/image-steps.sh", "probe"], { cwd: root, env }).on("exit", r));
  let code: number | null = 3;
  for (let i = 0; i < 50 && code !== 0; i++) {
    code = await probe();
    if (code !== 0) await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(code, 0, "the HEALTHCHECK probe passes against the started daemon");
  // The compose file's worker service: the worker step with --adopt runs the task of an agent spawned after it started.
  const worker = spawn("sh", ["scripts/image-steps.sh", "worker", "--adopt", "--shell", "--heartbeat", "0.2"], { cwd: root, env, stdio: "ignore" });
  t.teardown(() => worker.kill("SIGKILL"));
  const c = await LineClient.connect(Number(env.MCP_TCP_PORT));
  t.teardown(() => c.close());
  await callTool(t, c, swarmInit, { initialAgents: [{ type: "coder" }] });
  const { taskId } = await callTool(t, c, taskOrchestrate, { task: "echo from the image worker" });
  const done = await callTool(t, c, taskWait, { taskId, timeoutMs: 20_000 });
  t.same([done.status, (done.result as { stdout?: string } | null)?.stdout], ["completed", "from the image worker\n"], "the worker step ran it");
  worker.kill("SIGTERM");
  start.kill("SIGTERM");
  t.equal(await new Promise((r) => start.on("exit", r)), 0, "STOPSIGNAL SIGTERM stops it cleanly (exec: node is the process)");
  t.not(await probe(), 0, "and the probe fails once it is gone");
});

t.test("SIGHUP reopens the log file, so logrotate's move-and-create loses no lines", async (t) => {
  const dir = tempDir(t);
  const logFile = join(dir, "swarmd.log");
  const d = spawnDaemon(t, ["--port", "0", "--db", join(dir, "swarmd.db"), "--log-file", logFile]);
  const linesOf = (file: string): Array<Record<string, any>> =>
    readFileSync(file, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);
  let listening: Record<string, any> | undefined;
  for (let i = 0; i < 200 && listening === undefined; i++) {
    await new Promise((r) => setTimeout(r, 25));
    try {
      listening = linesOf(logFile).find((l) => l.msg === "swarmd listening");
    } catch {
      // not created yet
    }
  }
  t.ok(listening, "the daemon logs to the file");
  renameSync(logFile, `${logFile}.1`);
  d.proc.kill("SIGHUP");
  for (let i = 0; i < 200 && !existsSync(logFile); i++) await new Promise((r) => setTimeout(r, 25));
  const c = await LineClient.connect(listening?.port as number);
  t.equal((await c.request("ping")).result.status, "ok", "still serving");
  c.close();
  for (let i = 0; i < 200 && !linesOf(logFile).some((l) => l.msg === "connection closed"); i++) await new Promise((r) => setTimeout(r, 25));
  t.same(
    linesOf(logFile).map((l) => l.msg),
    ["log file reopened (SIGHUP)", "connection opened", "connection closed"],
    "new lines go to a new file under the configured name",
  );
  t.ok(linesOf(`${logFile}.1`).some((l) => l.msg === "swarmd listening"), "earlier lines stay in the moved file");
});
