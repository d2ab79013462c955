#!/usr/bin/env node
// A swarmd worker to copy: it works for one agent, executing the tasks the daemon assigns to it.
//
//   node scripts/example-worker.mjs --agent <agentId> [--host 127.0.0.1] [--port 9500] [--shell] [--pull] (--help: all)
//   SWARMD_TOKEN=<secret> node scripts/example-worker.mjs --agent <agentId> --tls-ca ca.pem   (a protected daemon)
//
// By default each task is answered with {echo: <description>}. With --shell the description runs as `sh -c` and the
// result is {exitCode, stdout, stderr} (a non-zero exit reports task_fail); a line "##progress 0.5 <message>" on
// stdout is reported with task_progress. While a task runs, a heartbeat keeps its lease alive. Every heartbeat it
// reports the CPU and memory that it and the commands it runs use (agent_usage), so dashboards show measured figures
// (on Linux the whole process tree, read from /proc; elsewhere the worker process alone). If the daemon goes
// away the worker reconnects with backoff and attaches again. If the daemon's tokens change (SIGHUP) the worker
// authenticates again; if its token is refused (at once, or after it was revoked), or the daemon's certificate is not
// trusted, it exits 1.
// Plain Node, no dependencies.
import { spawn } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { totalmem } from "node:os";
import { connect, isIP } from "node:net";
import { connect as connectTls } from "node:tls";
import { parseArgs } from "node:util";

const USAGE = `usage: example-worker.mjs --agent <agentId> [options]

  --agent <id>       the agent to work for (agent_spawn or swarm_init names it)
  --host <address>   daemon address (MCP_HOST, default 127.0.0.1)
  --port <port>      daemon port (MCP_TCP_PORT, default 9500)
  --token <secret>   access token, write scope, for a daemon with tokens (SWARMD_TOKEN)
  --tls              connect with TLS (the system's trusted CAs)
  --tls-ca <file>    trust this CA (PEM); implies --tls
  --shell            run each task's description with sh -c; the result is {exitCode, stdout, stderr}
  --pull             long-poll task_claim instead of receiving pushed assignments
  --heartbeat <s>    seconds between usage reports, and progress reports while a task runs (default 5)
  --help             this text
`;
const usageError = (why) => {
  process.stderr.write(`example-worker.mjs: ${why}\n\n${USAGE}`);
  process.exit(2);
};
let opt;
try {
  ({ values: opt } = parseArgs({
    options: {
      agent: { type: "string" },
      host: { type: "string", default: process.env.MCP_HOST ?? "127.0.0.1" },
      port: { type: "string", default: process.env.MCP_TCP_PORT ?? "9500" },
      token: { type: "string", default: process.env.SWARMD_TOKEN },
      tls: { type: "boolean", default: false },
      "tls-ca": { type: "string" },
      shell: { type: "boolean", default: false },
      pull: { type: "boolean", default: false },
      heartbeat: { type: "string", default: "5" },
      help: { type: "boolean", default: false },
    },
  }));
} catch (err) {
  usageError(err.message);
}
if (opt.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
if (!opt.agent) usageError("--agent is required");
if (!/^\d+$/.test(opt.port) || Number(opt.port) < 1 || Number(opt.port) > 65535) usageError(`--port must be a TCP port, not ${JSON.stringify(opt.port)}`);
if (!(Number(opt.heartbeat) > 0)) usageError(`--heartbeat must be a positive number of seconds, not ${JSON.stringify(opt.heartbeat)}`);
let ca;
try {
  ca = opt["tls-ca"] === undefined ? undefined : readFileSync(opt["tls-ca"]);
} catch (err) {
  usageError(`cannot read --tls-ca: ${err.message}`);
}
const log = (text) => process.stderr.write(`[worker ${opt.agent}] ${text}\n`);

/** TCP, or TLS checked against --tls-ca or the system's CAs (SNI only for host names, not addresses). */
function open() {
  const port = Number(opt.port);
  if (!opt.tls && ca === undefined) return { socket: connect(port, opt.host), ready: "connect" };
  const sni = isIP(opt.host) ? {} : { servername: opt.host };
  return { socket: connectTls({ host: opt.host, port, ca, ...sni }), ready: "secureConnect" };
}

let lastSocketError;

/** TLS failures no reconnect can mend: the daemon's certificate is not trusted or not for --host, or no TLS there. */
const TLS_MISMATCH = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "ERR_SSL_WRONG_VERSION_NUMBER",
]);

function session(attempt) {
  const { socket, ready } = open();
  const pending = new Map();
  let nextId = 1;
  let buffer = "";
  // `again`: sent after authenticating anew, so a second refusal is final.
  const call = (method, params, again = false) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject, method, params, again });
      socket.write(JSON.stringify({ jsonrpc: "2.0", id, method, params }) + "\n");
    });
  const tool = (name, args) => call("tools/call", { name, arguments: args }).then((r) => r.structuredContent);

  async function work(a) {
    let progress = 0;
    const report = (p, message) => tool("task_progress", { taskId: a.taskId, assignmentId: a.assignmentId, progress: p, message }).catch(() => {});
    const heartbeat = setInterval(() => report(progress, "still working"), Number(opt.heartbeat) * 1000);
    try {
      const result = opt.shell ? await run(a, (p, message) => report((progress = p), message)) : { echo: a.description };
      if (result.exitCode !== undefined && result.exitCode !== 0) {
        await tool("task_fail", { taskId: a.taskId, assignmentId: a.assignmentId, error: { message: `exit code ${result.exitCode}`, data: result } });
      } else await tool("task_complete", { taskId: a.taskId, assignmentId: a.assignmentId, result });
    } catch (err) {
      await tool("task_fail", { taskId: a.taskId, assignmentId: a.assignmentId, error: { message: String(err?.message ?? err) } }).catch(() => {});
    } finally {
      clearInterval(heartbeat);
    }
  }

  socket.on(ready, async () => {
    try {
      const _meta = opt.token === undefined ? undefined : { "swarmd/token": opt.token };
      await call("initialize", { protocolVersion: "2025-06-18", clientInfo: { name: "example-worker", version: "1" }, capabilities: {}, _meta });
      await tool("agent_attach", { agentId: opt.agent, takeover: true, delivery: opt.pull ? "pull" : "push" });
      const reportUsage = () => tool("agent_usage", usage()).catch(() => {});
      void reportUsage();
      const usageTimer = setInterval(reportUsage, Number(opt.heartbeat) * 1000);
      socket.once("close", () => clearInterval(usageTimer));
      attempt = 0;
      lastSocketError = undefined;
      log(`attached (${opt.pull ? "pull" : "push"})`);
      while (opt.pull && !socket.destroyed) {
        const { assignment } = await tool("task_claim", { agentId: opt.agent, waitMs: 30000 });
        if (assignment) await work(assignment);
      }
    } catch (err) {
      log(`${err.message}; reconnecting`);
      socket.destroy();
    }
  });
  socket.on("data", (chunk) => {
    buffer += chunk;
    let nl;
    while ((nl = buffer.indexOf("\n")) !== -1) {
      const message = JSON.parse(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
      if (message.id !== undefined && pending.has(message.id)) {
        const { resolve, reject, method, params, again } = pending.get(message.id);
        pending.delete(message.id);
        if (message.error?.data?.reason === "unauthenticated" && opt.token !== undefined && !again) {
          // The daemon's tokens changed (SIGHUP): this one may still be there with another scope. The refused call did
          // nothing, so it is sent again once the connection has authenticated anew.
          call("authenticate", { token: opt.token }, true)
            .then(() => call(method, params, true))
            .then(resolve, reject);
          continue;
        }
        // Reconnecting cannot make a refused token right (at attach, or after it was revoked): stop.
        if (message.error?.data?.reason === "unauthenticated") {
          log(`${message.error.message} (${opt.token === undefined ? "no token given: --token or SWARMD_TOKEN" : "check --token or SWARMD_TOKEN"})`);
          process.exit(1);
        }
        if (message.error) reject(new Error(message.error.message));
        else resolve(message.result);
      } else if (message.method === "notifications/task/assigned") void work(message.params);
      else if (message.method === "notifications/task/cancelled") log(`assignment ${message.params.assignmentId} cancelled: ${message.params.reason}`);
    }
  });
  socket.on("error", (err) => {
    // Reconnecting cannot make a certificate trusted, or TLS of a plain port: stop, as for a refused token.
    if (TLS_MISMATCH.has(err.code)) {
      log(`${err.message} (${err.code}; check --tls-ca, --host, --tls)`);
      process.exit(1);
    }
    // Once per distinct cause, so a daemon that is down is said, not repeated.
    if (err.message !== lastSocketError) log(`${err.message}; retrying`);
    lastSocketError = err.message;
  });
  socket.on("close", () => {
    for (const { reject } of pending.values()) reject(new Error("connection closed"));
    const delay = Math.min(2 ** attempt * 50, 2000) + Math.random() * 50;
    setTimeout(() => session(attempt + 1), delay);
  });
}

/** Runs the description with sh -c; "##progress <0..1> [message]" lines on stdout become progress reports. */
function run(a, onProgress) {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, SWARMD_AGENT_ID: a.agentId, SWARMD_TASK_ID: a.taskId, SWARMD_ATTEMPT: String(a.attempt), SWARMD_INPUT: JSON.stringify(a.input ?? null), SWARMD_DEPENDENCY_RESULTS: JSON.stringify(a.dependencyResults ?? {}) };
    const child = spawn("sh", ["-c", a.description], { env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
      for (const m of String(d).matchAll(/^##progress ([0-9.]+) ?(.*)$/gm)) onProgress(Math.min(1, Number(m[1])), m[2] || undefined);
    });
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (exitCode) => resolve({ exitCode, stdout: stdout.replace(/^##progress.*\n?/gm, ""), stderr }));
  });
}


/** Linux: every process under this one (the worker and what it runs), from /proc; undefined where there is no /proc. */
function processTree() {
  let pids;
  try {
    pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  const stats = new Map();
  for (const pid of pids) {
    try {
      const text = readFileSync(`/proc/${pid}/stat`, "utf8");
      // After the command name (in parentheses, and it may hold spaces): state, ppid, … utime is the 12th field.
      const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
      stats.set(Number(pid), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) });
    } catch {
      // gone since readdir
    }
  }
  const tree = [process.pid];
  for (let i = 0; i < tree.length; i++) for (const [pid, s] of stats) if (s.ppid === tree[i]) tree.push(pid);
  let ticks = 0;
  let rssBytes = 0;
  for (const pid of tree) {
    ticks += stats.get(pid)?.ticks ?? 0;
    try {
      rssBytes += Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
    } catch {
      // gone since its stat was read
    }
  }
  // Ticks of user and system time, children waited for included, at USER_HZ = 100 (fixed for /proc on Linux).
  return { cpuMs: ticks * 10, rssBytes };
}

/** CPU time used so far (ms) and resident memory now (bytes): the process tree where /proc has it, else this process. */
function measure() {
  const tree = processTree();
  if (tree !== undefined) return tree;
  const self = process.cpuUsage();
  return { cpuMs: (self.user + self.system) / 1000, rssBytes: process.memoryUsage.rss() };
}

let lastSample = { at: performance.now(), cpuMs: measure().cpuMs };

/** CPU since the last call (percent of one core) and resident memory now, for agent_usage. */
function usage() {
  const { cpuMs, rssBytes } = measure();
  const at = performance.now();
  const cpuPercent = Math.max(0, (100 * (cpuMs - lastSample.cpuMs)) / Math.max(1, at - lastSample.at));
  lastSample = { at, cpuMs };
  const round = (n) => Math.round(n * 10) / 10;
  return { cpuPercent: round(cpuPercent), memoryPercent: round(Math.min(100, (100 * rssBytes) / totalmem())), memoryBytes: rssBytes };
}

session(0);
