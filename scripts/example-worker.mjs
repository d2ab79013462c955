#!/usr/bin/env node
// A swarmd worker to copy: it works for one agent, or with --adopt for every agent no worker serves (agents that
// others spawn, such as a visualiser's, included), executing the tasks the daemon assigns to them.
//
//   node scripts/example-worker.mjs --agent <agentId> [--host 127.0.0.1] [--port 9500] [--shell] [--pull] (--help: all)
//   node scripts/example-worker.mjs --adopt [--swarm <swarmId>] [--type coder,tester] --shell
//   SWARMD_TOKEN=<secret> node scripts/example-worker.mjs --agent <agentId> --tls-ca ca.pem   (a protected daemon)
//
// By default each task is answered with {echo: <description>}. With --shell the description runs as `sh -c` and the
// result is {exitCode, stdout, stderr} (a non-zero exit reports task_fail); a line "##progress 0.5 <message>" on
// stdout is reported with task_progress. While a task runs, a heartbeat keeps its lease alive. Every heartbeat it
// reports the CPU and memory that it and the commands it runs use (agent_usage), so dashboards show measured figures
// (on Linux the whole process tree, read from /proc; elsewhere the worker process alone). With --adopt each agent
// reports what its own commands use, and nothing without /proc. Every heartbeat --adopt looks for agents to attach
// to; one that another worker attaches to with takeover, or that is terminated, it lets go. If the daemon goes
// away the worker reconnects with backoff and attaches again. If the daemon's tokens change (SIGHUP) the worker
// authenticates again; if its token is refused (at once, or after it was revoked), or the daemon's certificate is not
// trusted, it exits 1.
// Plain Node, no dependencies; copy it with example-worker-usage.mjs.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect, isIP } from "node:net";
import { basename } from "node:path";
import { connect as connectTls } from "node:tls";
import { parseArgs } from "node:util";
import { commandUsage, trackCommand, workerUsage } from "./example-worker-usage.mjs";

// As it was started: example-worker.mjs, or swarmd-worker (the npm package's command for it).
const NAME = basename(process.argv[1] ?? "example-worker.mjs");
const USAGE = `usage: ${NAME} --agent <agentId> [options]
       ${NAME} --adopt [--swarm <swarmId>] [--type <types>] [options]

  --agent <id>       the agent to work for (agent_spawn or swarm_init names it)
  --adopt            work for every agent that no worker serves, now and as they are spawned
  --swarm <id>       with --adopt: only this swarm's agents (default: every active swarm's)
  --type <types>     with --adopt: only agents of these types, comma-separated, as agent_list names them
  --host <address>   daemon address (MCP_HOST, default 127.0.0.1)
  --port <port>      daemon port (MCP_TCP_PORT, default 9500)
  --token <secret>   access token, write scope, for a daemon with tokens (SWARMD_TOKEN)
  --tls              connect with TLS (the system's trusted CAs)
  --tls-ca <file>    trust this CA (PEM); implies --tls
  --shell            run each task's description with sh -c; the result is {exitCode, stdout, stderr}
  --pull             with --agent: long-poll task_claim instead of receiving pushed assignments
  --heartbeat <s>    seconds between usage reports, --adopt's looks for agents, and progress reports while a task
                     runs (default 5)
  --help             this text
`;
const usageError = (why) => {
  process.stderr.write(`${NAME}: ${why}\n\n${USAGE}`);
  process.exit(2);
};
let opt;
try {
  ({ values: opt } = parseArgs({
    options: {
      agent: { type: "string" },
      adopt: { type: "boolean", default: false },
      swarm: { type: "string" },
      type: { type: "string" },
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
if (opt.adopt === (opt.agent !== undefined)) usageError(opt.adopt ? "--agent and --adopt exclude each other" : "--agent or --adopt is required");
if (!opt.adopt && (opt.swarm ?? opt.type) !== undefined) usageError(`${opt.swarm === undefined ? "--type" : "--swarm"} goes with --adopt`);
if (opt.adopt && opt.pull) usageError("--pull works for one --agent");
const types = opt.type === undefined ? undefined : new Set(opt.type.split(",").map((t) => t.trim()).filter(Boolean));
if (!/^\d+$/.test(opt.port) || Number(opt.port) < 1 || Number(opt.port) > 65535) usageError(`--port must be a TCP port, not ${JSON.stringify(opt.port)}`);
if (!(Number(opt.heartbeat) > 0)) usageError(`--heartbeat must be a positive number of seconds, not ${JSON.stringify(opt.heartbeat)}`);
let ca;
try {
  ca = opt["tls-ca"] === undefined ? undefined : readFileSync(opt["tls-ca"]);
} catch (err) {
  usageError(`cannot read --tls-ca: ${err.message}`);
}
const log = (text) => process.stderr.write(`[worker${opt.adopt ? "" : ` ${opt.agent}`}] ${text}\n`);

/** TCP, or TLS checked against --tls-ca or the system's CAs (SNI only for host names, not addresses). */
function open() {
  const port = Number(opt.port);
  if (!opt.tls && ca === undefined) return { socket: connect(port, opt.host), ready: "connect" };
  const sni = isIP(opt.host) ? {} : { servername: opt.host };
  return { socket: connectTls({ host: opt.host, port, ca, ...sni }), ready: "secureConnect" };
}

let lastSocketError;

/** The reports that carry a task's result, kept and sent again while the database cannot take them. */
const REPORTS = new Set(["task_complete", "task_fail"]);
/** Replies that mean the database could not take the call for now and nothing was changed. */
const STORAGE_REFUSALS = new Set(["storage_full", "storage_busy"]);
/** Said once until a report gets through again. */
let storageRefusalSaid = false;

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

  // The agents this connection works for.
  const serving = new Set();
  const attach = async (agentId, takeover) => {
    await tool("agent_attach", { agentId, takeover, delivery: opt.pull ? "pull" : "push" });
    serving.add(agentId);
    log(`attached${opt.adopt ? ` ${agentId}` : ""} (${opt.pull ? "pull" : "push"})`);
  };
  /** --adopt: attach to each agent that is not terminated, has no worker, and is of --swarm and --type. */
  const adopt = async () => {
    const { agents } = await tool("agent_list", { filter: "all", ...(opt.swarm === undefined ? {} : { swarmId: opt.swarm }) });
    for (const a of agents) {
      if (a.runtime.attached || serving.has(a.id) || (types !== undefined && !types.has(a.type))) continue;
      // Without takeover: another worker that attached since the listing keeps its agent.
      await attach(a.id, false).catch((err) => log(`not attached to ${a.id}: ${err.message}`));
    }
  };
  let lastAdoptError;
  let looking; // one look at a time: a slow one is not overtaken by the next heartbeat's
  const adoptNow = () =>
    (looking ??= adopt()
      .then(
        () => (lastAdoptError = undefined),
        (err) => {
          if (err.message !== lastAdoptError) log(`cannot list agents to adopt: ${err.message}`);
          lastAdoptError = err.message;
        },
      )
      .finally(() => (looking = undefined)));

  socket.on(ready, async () => {
    try {
      const _meta = opt.token === undefined ? undefined : { "swarmd/token": opt.token };
      await call("initialize", { protocolVersion: "2025-06-18", clientInfo: { name: "example-worker", version: "1" }, capabilities: {}, _meta });
      if (opt.adopt) {
        log(`adopting the agents no worker serves, of ${opt.swarm ?? "every active swarm"}${types ? ` with type ${[...types].join(" or ")}` : ""}`);
        await adoptNow();
      } else await attach(opt.agent, true);
      const reportUsage = () => {
        for (const report of opt.adopt ? commandUsage(serving) : [workerUsage()]) void tool("agent_usage", report).catch(() => {});
      };
      reportUsage();
      const timer = setInterval(() => {
        reportUsage();
        if (opt.adopt) void adoptNow();
      }, Number(opt.heartbeat) * 1000);
      socket.once("close", () => clearInterval(timer));
      attempt = 0;
      lastSocketError = undefined;
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
        // The daemon cannot store it now (a full disk, another process holding the database's lock). A task's result
        // is the work itself: send it again every second until it is stored (the connection closing ends that; the
        // assignment then times out and runs again).
        if (STORAGE_REFUSALS.has(message.error?.data?.reason) && REPORTS.has(params?.name)) {
          if (!storageRefusalSaid) log(`${message.error.message} Sending ${params.name} for ${params.arguments?.taskId} again every second.`);
          storageRefusalSaid = true;
          setTimeout(() => (socket.destroyed ? reject(new Error("connection closed")) : call(method, params).then(resolve, reject)), 1000);
          continue;
        }
        if (params?.name && REPORTS.has(params.name)) storageRefusalSaid = false;
        // Reconnecting cannot make a refused token right (at attach, or after it was revoked): stop.
        if (message.error?.data?.reason === "unauthenticated") {
          log(`${message.error.message} (${opt.token === undefined ? "no token given: --token or SWARMD_TOKEN" : "check --token or SWARMD_TOKEN"})`);
          process.exit(1);
        }
        if (message.error) reject(new Error(message.error.message));
        else resolve(message.result);
      } else if (message.method === "notifications/task/assigned") void work(message.params);
      else if (message.method === "notifications/task/cancelled") log(`assignment ${message.params.assignmentId} cancelled: ${message.params.reason}`);
      else if (message.method === "notifications/agent/terminated" || message.method === "notifications/agent/detached") {
        serving.delete(message.params.agentId);
        log(`${message.method === "notifications/agent/terminated" ? "terminated" : "detached"}: ${message.params.agentId} (${message.params.reason})`);
      }
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
    if (opt.adopt) trackCommand(a.agentId, child);
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

session(0);
