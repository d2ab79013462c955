import { spawn } from "node:child_process";
import { readFileSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import t from "tap";
import { toolContracts } from "../src/protocol/tools/index.js";
import { startDaemon, tempDir } from "./helpers/daemon.js";
import { startSwarmctl } from "./helpers/swarmctl.js";
import { startWorker } from "./helpers/workers.js";

const SWARMCTL = fileURLToPath(new URL("../dist/src/cli/swarmctl.js", import.meta.url));
const { port, dir } = await startDaemon(t);

const WORKER = fileURLToPath(new URL("../scripts/example-worker.mjs", import.meta.url));

/** Runs the real binary (asynchronously: the daemon answering it runs in this process). */
function swarmctl(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return run(SWARMCTL, "--port", String(port), ...args);
}

function run(script: string, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runWithInput("", script, ...args);
}

function runWithInput(input: string, script: string, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { env: { PATH: process.env.PATH ?? "" } });
    child.stdin.end(input);
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

t.test("help: every command is listed, each has its own --help, mistakes are usage errors (exit 2)", async (t) => {
  const help = await swarmctl("--help");
  t.equal(help.code, 0);
  for (const c of ["ping", "info", "tools", "call", "swarm init", "swarm status", "agent spawn", "task run", "memory get", "memory list", "memory search", "task wait"]) t.match(help.stdout, c);
  const sub = await swarmctl("task", "run", "--help");
  t.same([sub.code, sub.stdout.split("\n")[0]], [0, 'Usage: swarmctl task run "<description>" [--swarm id] [--caps a,b] [--priority p] [--parallel n] [--timeout s] [--wait]']);
  t.match(sub.stdout, /--wait/);
  const unknown = await swarmctl("frobnicate");
  t.same([unknown.code, unknown.stderr], [2, 'swarmctl: unknown command "frobnicate" (see swarmctl --help)\n']);
  const missing = await swarmctl("memory", "get");
  t.equal(missing.code, 2);
  t.match(missing.stderr, /^swarmctl: missing key\n/);
  const badOption = await swarmctl("ping", "--bogus");
  t.equal(badOption.code, 2);
  const badGlobal = await swarmctl("--bogus");
  t.same([badGlobal.code, badGlobal.stderr], [2, "swarmctl: unknown option --bogus (see swarmctl --help)\n"], "with no command, one line");
  t.match((await swarmctl("--version")).stdout, /^swarmctl \d+\.\d+\.\d+/);
});

t.test("the example worker: --help lists its options, mistakes are one usage line and exit 2, no stack trace", async (t) => {
  const help = await run(WORKER, "--help");
  t.equal(help.code, 0);
  for (const option of ["--agent", "--adopt", "--swarm", "--type", "--host", "--port", "--shell", "--pull", "--heartbeat"]) t.match(help.stdout, option);
  for (const [args, message] of [
    [["--bogus"], "Unknown option '--bogus'"],
    [[], "--agent or --adopt is required"],
    [["--agent", "agent_1_x", "--adopt"], "--agent and --adopt exclude each other"],
    [["--agent", "agent_1_x", "--type", "coder"], "--type goes with --adopt"],
    [["--agent", "agent_1_x", "--swarm", "swarm_1_x"], "--swarm goes with --adopt"],
    [["--adopt", "--pull"], "--pull works for one --agent"],
    [["--agent", "agent_1_x", "--port", "nine"], '--port must be a TCP port, not "nine"'],
    [["--agent", "agent_1_x", "--heartbeat", "0"], '--heartbeat must be a positive number of seconds, not "0"'],
  ] as const) {
    const r = await run(WORKER, ...args);
    t.same([r.code, r.stderr.split("\n")[0]], [2, `example-worker.mjs: ${message}`], args.join(" "));
    t.notMatch(r.stderr, /\n\s+at /, "no stack trace");
  }
  // Installed from npm it is the swarmd-worker command (a link in node_modules/.bin): it says so, and finds its modules.
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { bin: Record<string, string> };
  t.equal(pkg.bin["swarmd-worker"], "scripts/example-worker.mjs");
  const link = join(tempDir(t), "swarmd-worker");
  symlinkSync(WORKER, link);
  const linked = await run(link, "--bogus");
  t.same([linked.code, linked.stderr.split("\n")[0]], [2, "swarmd-worker: Unknown option '--bogus'"]);
  t.match((await run(link, "--help")).stdout, /^usage: swarmd-worker --agent <agentId> \[options\]$/m);
});

t.test("ping, info and tools", async (t) => {
  const ping = await swarmctl("ping");
  t.same([ping.code, /^PONG \(\d+\.\d ms\)\n$/.test(ping.stdout)], [0, true]);
  const json = JSON.parse((await swarmctl("ping", "--json")).stdout);
  t.same([json.status, typeof json.latencyMs], ["ok", "number"]);
  const info = await swarmctl("info");
  t.match(info.stdout, /^name: swarmd$/m);
  t.match(info.stdout, /^connections\.open: \d+$/m);
  const raw = JSON.parse((await swarmctl("info", "--json")).stdout);
  t.match(info.stdout, new RegExp(`^startedAt: ${new Date(raw.startedAt).toISOString()}$`, "m"), "times as times");
  t.match(info.stdout, /^uptime: (\d+ ms|\d+\.\d s|\d+m \d\ds)$/m, "durations with their unit");
  t.match(info.stdout, /^database\.bytes: \d+\.\d KiB$/m, "sizes in binary units");
  const tools = await swarmctl("tools");
  t.match(tools.stdout, /^NAME\s+HINTS\s+DESCRIPTION/);
  t.match(tools.stdout, /memory_retrieve\s+read-only,idempotent/);
  const paged = await startDaemon(t, { SWARMD_TOOLS_PAGE_SIZE: "2" });
  const listed = JSON.parse((await run(SWARMCTL, "--port", String(paged.port), "tools", "--json")).stdout);
  t.same(
    listed.map((x: { name: string }) => x.name),
    toolContracts.map((x) => x.name),
    "every page of tools/list, not the first",
  );
});

t.test("backup: a file on the daemon's host, named or not, never silently replaced", async (t) => {
  const named = await swarmctl("backup", "cli.db");
  t.equal(named.code, 0, named.stderr);
  const path = join(dir, "backups", "cli.db");
  t.equal(named.stdout, `${path} (${(statSync(path).size / 1048576).toFixed(1)} MiB in ${/in (\d+) ms/.exec(named.stdout)?.[1]} ms)\n`);
  const again = await swarmctl("backup", "cli.db");
  t.same([again.code, again.stderr], [1, "swarmctl: A backup named cli.db exists; choose another name or add --overwrite. (SERVER_ERROR -32000, backup_exists)\n"]);
  t.equal((await swarmctl("backup", "cli.db", "--overwrite")).code, 0);
  const unnamed = JSON.parse((await swarmctl("backup", "--json")).stdout);
  t.match(unnamed.name, /^swarmd-\d{8}-\d{6}(-\d+)?\.db$/);
  t.equal(unnamed.bytes, statSync(unnamed.path).size);
});

t.test("the daily work: swarms, agents, tasks that run, memory", async (t) => {
  const swarmId = (await swarmctl("swarm", "init", "--topology", "star", "--max-agents", "4")).stdout.trim();
  t.match(swarmId, /^swarm_\d+_[0-9a-z]{9}$/);
  const agentId = (await swarmctl("agent", "spawn", "coder", "--swarm", swarmId, "--name", "builder")).stdout.trim();
  t.match(agentId, /^agent_/);
  const tester = (await swarmctl("agent", "spawn", "--type", "tester", "--swarm", swarmId)).stdout.trim();
  t.match((await swarmctl("agent", "list", "--swarm", swarmId)).stdout, new RegExp(`^${tester}\\s+\\S+\\s+tester\\s`, "m"), "--type, as the tool's argument is named");
  const twice = await swarmctl("agent", "spawn", "coder", "--type", "tester", "--swarm", swarmId);
  t.equal(twice.code, 2, "two different types: a usage error");
  t.match(twice.stderr, /^swarmctl: two agent types: "coder" and --type "tester"\n/);
  await swarmctl("agent", "terminate", tester);
  const agents = await swarmctl("agent", "list", "--swarm", swarmId);
  t.match(agents.stdout, new RegExp(`^${agentId}\\s+builder\\s+coder\\s+idle`, "m"));
  const status = await swarmctl("swarm", "status", swarmId);
  t.match(status.stdout, /^topology: star$/m);
  t.same((await swarmctl("swarm", "status", "--swarm", swarmId)).stdout, status.stdout, "--swarm, as the ambiguous-swarm error suggests");
  t.equal(status.stdout.match(/^metrics\.avgCompletionTime: /gm)?.length, 1, "a time given in seconds and in ms is shown once");
  t.match(status.stdout, new RegExp(`^${agentId}\\s+builder\\s+coder\\s+idle\\s+-\\s+0\\s+-\\s+-\\s+-$`, "m"), "its agents, every column filled as in agent list");
  const list = JSON.parse((await swarmctl("swarm", "list", "--json")).stdout);
  t.ok(list.swarms.some((s: { swarmId: string }) => s.swarmId === swarmId));

  await startWorker(t, port, agentId).attached();
  const run = await swarmctl("task", "run", "echo built by $SWARMD_AGENT_ID", "--swarm", swarmId, "--caps", "code", "--wait");
  t.equal(run.code, 0, run.stderr);
  t.match(run.stdout, new RegExp(`^task_\\d+_[0-9a-z]{6} completed\\n`));
  t.match(run.stdout, `"stdout": "built by ${agentId}\\n"`);
  const failing = await swarmctl("task", "run", "exit 4", "--swarm", swarmId, "--wait");
  t.equal(failing.code, 1, "a failed task exits 1");
  t.match(failing.stdout, / failed\n/);
  const taskId = (await swarmctl("task", "run", "echo later", "--swarm", swarmId)).stdout.split(" ")[0] as string;
  const waited = await swarmctl("task", "wait", taskId);
  t.same([waited.code, waited.stdout.split("\n")[0]], [0, `${taskId} completed`], "task wait: a task submitted earlier");
  t.match(waited.stdout, '"stdout": "later\\n"');
  const results = JSON.parse((await swarmctl("task", "results", taskId, "--json")).stdout);
  t.equal(results.taskId, taskId);
  const stuck = (await swarmctl("task", "run", "never runs", "--swarm", swarmId, "--caps", "nobody")).stdout.split(" ")[0] as string;
  const waiting = spawn(process.execPath, [SWARMCTL, "--port", String(port), "task", "wait", stuck]);
  let said = "";
  waiting.stderr.setEncoding("utf8").on("data", (d: string) => (said += d));
  const ended = new Promise<number | null>((resolve) => waiting.on("close", resolve));
  await new Promise((r) => setTimeout(r, 1500));
  waiting.kill("SIGINT");
  t.equal(await ended, 130, "Ctrl-C stops the waiting");
  t.equal(
    said,
    `swarmctl: ${stuck} waits: no live agent with capabilities [nobody]\nswarmctl: stopped waiting; ${stuck} goes on (swarmctl task wait ${stuck}; swarmctl task cancel ${stuck})\n`,
    "says why it waits, and at Ctrl-C which task goes on",
  );
  t.match((await swarmctl("task", "status", stuck)).stdout, /\nstatus: pending\n[\s\S]*\nduration: -\n[\s\S]*\nassignments: none\n$/);
  t.match((await swarmctl("task", "status", taskId)).stdout, /\nASSIGNMENTID\s+AGENTID\s+ATTEMPT\s+STATUS\s+PROGRESS\n\S+\s+agent_\S+\s+1\s+completed/);
  const listed = await swarmctl("task", "list", "--swarm", swarmId);
  t.match(listed.stdout, /^TASKID\s+STATUS\s+PRIORITY\s+ATTEMPTS\s+PROGRESS\s+DESCRIPTION\n/);
  t.match(listed.stdout, new RegExp(`^${stuck}\\s+pending\\s+medium\\s+0\\s+0%\\s+never runs$`, "m"), "newest first");
  t.match(listed.stdout, new RegExp(`^${taskId}\\s`, "m"));
  t.same((await swarmctl("task", "cancel", stuck, "--reason", "not needed")).stdout, `${stuck} cancelled (1 task, 0 assignments stopped)\n`);
  const cancelled = JSON.parse((await swarmctl("task", "list", "--swarm", swarmId, "--status", "cancelled", "--json")).stdout);
  t.same(cancelled.tasks.map((task: { taskId: string }) => task.taskId), [stuck]);
  const page = await swarmctl("task", "list", "--swarm", swarmId, "--limit", "1");
  t.match(page.stdout, /\nnext page: --cursor \S+\n$/);
  const cursor = /--cursor (\S+)/.exec(page.stdout)?.[1] as string;
  t.notMatch((await swarmctl("task", "list", "--swarm", swarmId, "--limit", "1", "--cursor", cursor)).stdout, stuck, "the next page goes on");

  t.same((await swarmctl("memory", "set", "greeting", "hello world", "--ttl", "60")).stdout, "OK (version 1)\n");
  t.same((await swarmctl("memory", "get", "greeting")).stdout, '"hello world"\n');
  await swarmctl("memory", "set", "count", "42");
  t.same(JSON.parse((await swarmctl("memory", "get", "count", "--json")).stdout).value, 42, "values that parse as JSON are JSON");
  t.match((await swarmctl("memory", "search", "gree*")).stdout, /default\s+greeting\s+"hello world"/);
  await swarmctl("memory", "set", "count", "7", "--namespace", "other");
  const piped = await runWithInput('{"from": "a file",\n "n": [1, 2]}\n', SWARMCTL, "--port", String(port), "memory", "set", "settings", "-");
  t.same([piped.code, piped.stdout], [0, "OK (version 1)\n"], piped.stderr);
  t.same((await swarmctl("memory", "get", "settings")).stdout, '{"from":"a file","n":[1,2]}\n', "- reads the value from standard input");
  const text = "line one\n\"quoted\" line two\n";
  await runWithInput(text, SWARMCTL, "--port", String(port), "memory", "set", "notes", "-");
  t.same((await swarmctl("memory", "get", "notes", "--raw")).stdout, text, "--raw gives text back as it went in");
  t.same((await swarmctl("memory", "get", "settings", "--raw")).stdout, '{"from":"a file","n":[1,2]}\n', "and JSON as JSON");
  const keys = await swarmctl("memory", "list", "co");
  t.match(keys.stdout, /^NAMESPACE\s+KEY\s+SIZE\s+VERSION\s+EXPIRES\n/);
  t.match(keys.stdout, /^default\s+count\s+2\s+1\s+-$/m);
  t.match(keys.stdout, /^other\s+count\s+1\s+1\s+-$/m, "every namespace unless one is named");
  t.match((await swarmctl("memory", "list", "gree")).stdout, /^default\s+greeting\s+13\s+1\s+\d{4}-\d\d-\d\dT[\d:.]+Z$/m, "when it expires");
  const first = await swarmctl("memory", "search", "co*", "--in", "key", "--limit", "1");
  const next = /\nnext page: --cursor (\S+)\n$/.exec(first.stdout)?.[1] as string;
  t.ok(next, "a page that is not the last says how to get the next");
  const second = await swarmctl("memory", "search", "co*", "--in", "key", "--limit", "1", "--cursor", next);
  t.match(second.stdout, /^other\s+count\s+7$/m);
  t.notMatch(second.stdout, /next page/, "nothing after the last page");
  t.same((await swarmctl("memory", "del", "greeting")).stdout, "1\n");
  const gone = await swarmctl("memory", "get", "greeting");
  t.same([gone.code, gone.stdout], [1, "(nil)\n"]);

  t.match((await swarmctl("agent", "terminate", agentId, "--reason", "done")).stdout, /terminated/);
  t.match((await swarmctl("swarm", "destroy", swarmId)).stdout, `${swarmId} destroyed`);
});

t.test("task run --wait says at once why the task waits, then runs it when a worker comes", async (t) => {
  const own = await startDaemon(t); // its swarm would make the shared daemon's swarm ambiguous to later tests
  const ctl = (...args: string[]) => run(SWARMCTL, "--port", String(own.port), ...args);
  const swarmId = (await ctl("swarm", "init")).stdout.trim();
  const agentId = (await ctl("agent", "spawn", "coder", "--swarm", swarmId)).stdout.trim();
  const waiting = startSwarmctl(["--port", String(own.port), "task", "run", "echo done", "--swarm", swarmId, "--wait"]);
  t.teardown(() => waiting.child.kill("SIGKILL"));
  await waiting.until(() => waiting.out.stderr.includes("\n"), "the reason");
  t.match(waiting.out.stderr, /^swarmctl: task_\S+ waits: no live agent: no worker is attached to any of the swarm's agents\n$/);
  await startWorker(t, own.port, agentId).attached();
  t.equal(await waiting.exited, 0, waiting.out.stderr);
  t.match(waiting.out.stdout, /^task_\S+ completed\n[\s\S]*"stdout": "done\\n"/);
  t.equal(waiting.out.stderr.split("\n").length, 2, "said once");
});

t.test("call: any tool with key=value arguments or one JSON object", async (t) => {
  const kv = await swarmctl("call", "memory_store", "key=cli", "value=[1,2]", "ttl=30");
  t.equal(kv.code, 0);
  t.equal(JSON.parse(kv.stdout).size, 5);
  const json = await swarmctl("call", "memory_retrieve", "--json", '{"key":"cli"}');
  t.same(JSON.parse(json.stdout).value, [1, 2]);
  const bad = await swarmctl("call", "memory_store", "novalue");
  t.equal(bad.code, 2);
});

t.test("errors: one readable line, exit 1 when the server refused, 3 when it cannot be reached", async (t) => {
  const refused = await swarmctl("agent", "spawn", "wizard");
  t.equal(refused.code, 1);
  t.match(refused.stderr, /^swarmctl: Invalid arguments for agent_spawn: type: .* \(INVALID_PARAMS -32602, invalid_arguments\)\n$/);
  t.equal(refused.stderr.split("\n").length, 2, "one line");
  const notFound = await swarmctl("swarm", "destroy", "swarm_0_nothing");
  t.match(notFound.stderr, /\(SWARM_ERROR -32002, not_found\)/);
  const swarms = [(await swarmctl("swarm", "init")).stdout.trim(), (await swarmctl("swarm", "init")).stdout.trim()];
  const ambiguous = await swarmctl("agent", "spawn", "coder");
  t.same(
    [ambiguous.code, ambiguous.stderr],
    [1, `swarmctl: 2 swarms are active; pick one with --swarm: ${swarms.join(", ")}. (SWARM_ERROR -32002, ambiguous_swarm)\n`],
    "a choice the server cannot make is said with the option that makes it",
  );
  for (const id of swarms) await swarmctl("swarm", "destroy", id);
  t.match((await swarmctl("agent", "spawn", "coder")).stderr, /^swarmctl: No swarm is active: create one with swarmctl swarm init\. \(SWARM_ERROR -32002, no_active_swarm\)\n$/);
  const unreachable = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [SWARMCTL, "--port", "1", "ping"]);
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("close", (code) => resolve({ code, stderr }));
  });
  t.equal(unreachable.code, 3);
  t.match(unreachable.stderr, /^swarmctl: No connection within \d+ ms: Cannot connect to 127\.0\.0\.1:1: connect ECONNREFUSED/);
});

t.test("the npm package carries everything the README tells its users to run", async (t) => {
  const packed = await new Promise<string>((resolve, reject) => {
    const child = spawn("npm", ["pack", "--dry-run", "--json"], { cwd: fileURLToPath(new URL("..", import.meta.url)) });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.on("error", reject);
    child.on("close", () => resolve(out));
  });
  const files = new Set((JSON.parse(packed) as Array<{ files: Array<{ path: string }> }>)[0]?.files.map((f) => f.path));
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { bin: Record<string, string>; exports: Record<string, { import?: string; types?: string }> };
  // The example worker is copied and run as it is: the modules it imports from beside it go with it.
  const workerModules = [...readFileSync(WORKER, "utf8").matchAll(/^import .* from "\.\/(.+)";$/gm)].map((m) => `scripts/${m[1]}`);
  t.ok(workerModules.includes("scripts/example-worker-usage.mjs"), "the worker's own imports are found");
  const wanted = [
    ...Object.values(pkg.bin),
    ...Object.values(pkg.exports).flatMap((e) => [e.import, e.types].filter((p): p is string => p !== undefined).map((p) => p.replace(/^\.\//, ""))),
    "dist/checkpoint-worker.js",
    "dist/backup-worker.js",
    "scripts/example-worker.mjs",
    ...workerModules,
  ];
  t.same(wanted.filter((p) => !files.has(p)), [], `${files.size} files packed`);
});
