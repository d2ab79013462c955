// What the example worker and the commands it runs use, for agent_usage: CPU as percent of one core since the previous
// report, and resident memory now. On Linux read from /proc; elsewhere the worker process alone, and nothing per agent.
// Copy it beside example-worker.mjs. Plain Node, no dependencies.
import { readFileSync, readdirSync } from "node:fs";
import { totalmem } from "node:os";

/**
 * pid → {ppid, ticks, reaped} for every process, or undefined where there is no /proc. ticks: user and system time,
 * that of children waited for included; reaped: that of children waited for alone. In ticks of USER_HZ, which is 100
 * for /proc on Linux.
 */
function processTable() {
  let pids;
  try {
    pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  const table = new Map();
  for (const pid of pids) {
    try {
      const text = readFileSync(`/proc/${pid}/stat`, "utf8");
      // After the command name (in parentheses, and it may hold spaces): state, ppid, … utime is the 12th field.
      const f = text.slice(text.lastIndexOf(")") + 2).split(" ").map(Number);
      table.set(Number(pid), { ppid: f[1], ticks: f[11] + f[12] + f[13] + f[14], reaped: f[13] + f[14] });
    } catch {
      // gone since readdir
    }
  }
  return table;
}

/** A process and every process under it: their CPU ticks, and their memory now. */
function subtree(table, root) {
  const pids = [root];
  for (let i = 0; i < pids.length; i++) for (const [pid, p] of table) if (p.ppid === pids[i]) pids.push(pid);
  let rssBytes = 0;
  for (const pid of pids) {
    try {
      rssBytes += Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
    } catch {
      // gone since its stat was read
    }
  }
  return { ticks: pids.reduce((sum, pid) => sum + (table.get(pid)?.ticks ?? 0), 0), rssBytes };
}

/** agent_usage's figures from CPU time used so far (ms) and memory now, against the previous sample kept in `last`. */
function figures(last, cpuMs, rssBytes) {
  const at = performance.now();
  const cpuPercent = Math.max(0, (100 * (cpuMs - last.cpuMs)) / Math.max(1, at - last.at));
  Object.assign(last, { at, cpuMs });
  const round = (n) => Math.round(n * 10) / 10;
  return { cpuPercent: round(cpuPercent), memoryPercent: round(Math.min(100, (100 * rssBytes) / totalmem())), memoryBytes: rssBytes };
}

/** CPU used so far (ms) and memory now of this worker and everything it runs: its process tree, or itself alone. */
function measureWorker() {
  const table = processTable();
  if (table !== undefined) {
    const { ticks, rssBytes } = subtree(table, process.pid);
    return { cpuMs: ticks * 10, rssBytes };
  }
  const self = process.cpuUsage();
  return { cpuMs: (self.user + self.system) / 1000, rssBytes: process.memoryUsage.rss() };
}

const workerSample = { at: performance.now(), cpuMs: measureWorker().cpuMs };

/** What the worker and every command it runs used since the previous call: one agent's usage. */
export function workerUsage() {
  const { cpuMs, rssBytes } = measureWorker();
  return figures(workerSample, cpuMs, rssBytes);
}

// Per agent, for a worker that serves several: each counts what its own commands use, and the worker's own process,
// serving them all, counts for none. A command's ticks are counted as they are sampled; when it ends, the rest is what
// the worker's time of children waited for grew by.
const commands = new Map(); // agentId → Map(child process → its ticks counted so far)
const counted = new Map(); // agentId → {ticks, last: the previous sample}
let reaped = processTable()?.get(process.pid)?.reaped ?? 0;
const commandsOf = (agentId) => commands.get(agentId) ?? commands.set(agentId, new Map()).get(agentId);
const countedOf = (agentId) => counted.get(agentId) ?? counted.set(agentId, { ticks: 0, last: { at: performance.now(), cpuMs: 0 } }).get(agentId);

/** Counts what `child` and the processes it starts use for `agentId`, until it ends. */
export function trackCommand(agentId, child) {
  commandsOf(agentId).set(child, 0);
  child.once("exit", () => {
    const now = processTable()?.get(process.pid)?.reaped;
    if (now !== undefined) {
      countedOf(agentId).ticks += Math.max(0, now - reaped - commandsOf(agentId).get(child));
      reaped = now;
    }
    commandsOf(agentId).delete(child);
  });
}

/** For each agent, what its commands used since its previous report and use now; empty where there is no /proc. */
export function commandUsage(agentIds) {
  const table = processTable();
  if (table === undefined) return [];
  return [...agentIds].map((agentId) => {
    const c = countedOf(agentId);
    const running = commandsOf(agentId);
    let rssBytes = 0;
    for (const [child, seen] of running) {
      const now = subtree(table, child.pid);
      c.ticks += Math.max(0, now.ticks - seen);
      running.set(child, Math.max(seen, now.ticks));
      rssBytes += now.rssBytes;
    }
    return { agentId, ...figures(c.last, c.ticks * 10, rssBytes) };
  });
}
