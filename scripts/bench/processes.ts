import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createConnection } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openStore } from "../../src/store/db.js";
import { nodeCommand, startListening, type DaemonProcess } from "../daemon-process.js";
import { LineClient } from "../line-client.js";
import { VALUE, type LoadOptions } from "./requests.js";

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

export interface Server {
  readonly name: string;
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}
const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

/** Resident set size of a process in MB (10^6 bytes, the unit the targets use). */
export function rssMB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").match(/^VmRSS:\s+(\d+) kB/m);
  return line ? (Number(line[1]) * 1024) / 1e6 : NaN;
}

function exitOf(proc: ChildProcess): Promise<void> {
  return proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : new Promise((r) => proc.once("exit", () => r()));
}

/** The built daemon with the rate limit and HTTP port off, on its own temporary database. */
export async function startSwarmd(db: string, env: Record<string, string> = {}): Promise<Server & { daemon: DaemonProcess }> {
  const daemon = await startListening(["--db", db], { MAX_AGENTS: "1000", SWARMD_MAX_CONNECTIONS: "20000", ...env });
  return {
    name: "swarmd",
    port: daemon.port,
    pid: daemon.proc.pid as number,
    daemon,
    async stop() {
      daemon.proc.kill("SIGTERM");
      await daemon.exited;
    },
  };
}

/** The minimal NDJSON ping server: the ceiling for any Node daemon. `launcher` runs node for it (as for swarmd). */
export async function startCeiling(launcher: readonly string[] = []): Promise<Server> {
  const proc = spawn(...nodeCommand(launcher, [here("./ceiling.js")]), { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    proc.stdout.setEncoding("utf8").once("data", (d: string) => resolve(Number(d.trim())));
    proc.once("exit", (code) => reject(new Error(`ceiling server exited with ${code}`)));
  });
  return { name: "ceiling", port, pid: proc.pid as number, stop: async () => (proc.kill(), await exitOf(proc)) };
}

/** redis-server with an append-only file fsynced every second, or undefined when it is not installed. */
export async function startRedis(dir: string, port: number): Promise<Server | undefined> {
  if (spawnSync("redis-server", ["--version"]).status !== 0) return undefined;
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--appendfsync", "everysec", "--dir", dir];
  const proc = spawn("redis-server", args, { stdio: "ignore" });
  await waitForAccept(port, 10_000);
  return { name: "redis", port, pid: proc.pid as number, stop: async () => (proc.kill(), await exitOf(proc)) };
}

/** Resolves with the milliseconds until `port` accepts a connection, polling every millisecond. */
export async function waitForAccept(port: number, timeoutMs: number, since = performance.now()): Promise<number> {
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ port, host: "127.0.0.1" });
      s.once("connect", () => (s.destroy(), resolve(true)));
      s.once("error", () => resolve(false));
    });
    if (ok) return performance.now() - since;
    if (performance.now() - since > timeoutMs) throw new Error(`nothing accepted on port ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

export interface LoadResult {
  readonly requests: number;
  readonly seconds: number;
  readonly rps: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly maxUs: number;
  /** Share of one core the generator used: near 1.0 would mean it, not the server, was the limit. */
  readonly generatorCpu: number;
  /** Share of one core the server used meanwhile. */
  readonly serverCpu: number;
}

/** Of several runs of one cell, the one with the median throughput (its latencies with it), and how many ran. */
export function medianRun(runs: readonly LoadResult[]): LoadResult & { rounds: number } {
  const sorted = [...runs].sort((a, b) => a.rps - b.rps);
  return { ...(sorted[Math.floor((sorted.length - 1) / 2)] as LoadResult), rounds: runs.length };
}

/** Runs the load generator in its own process against `server` and measures the server's CPU meanwhile. */
export async function drive(server: Server, options: Omit<LoadOptions, "port">): Promise<LoadResult> {
  const proc = spawn(process.execPath, [here("./load.js"), JSON.stringify({ ...options, port: server.port })], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  proc.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  await new Promise((r) => setTimeout(r, options.warmupMs));
  const cpu0 = cpuSeconds(server.pid);
  const t0 = performance.now();
  await exitOf(proc);
  const serverCpu = (cpuSeconds(server.pid) - cpu0) / ((performance.now() - t0) / 1000);
  if (proc.exitCode !== 0) throw new Error(`load generator failed (${proc.exitCode}) on ${server.name} ${options.op}`);
  return { ...(JSON.parse(out) as Omit<LoadResult, "serverCpu">), serverCpu };
}

/**
 * Creates a migrated swarmd database holding `count` memory entries k0…k(count-1) in the default namespace, each a
 * 100-character string; `expireAt` (ms) makes them all expire together. Written directly, not through the daemon,
 * so a million entries take seconds. (The CAST keeps i an integer: a bound JS number is a REAL in SQLite, whose text
 * would make the keys k0.0, k1.0, ….)
 */
export async function prefillMemory(path: string, count: number, options: { expireAt?: number; firstKey?: number } = {}): Promise<void> {
  const store = await openStore(path, { synchronous: "normal" });
  const now = Date.now();
  const value = JSON.stringify(VALUE);
  store.db
    .prepare(
      `WITH RECURSIVE n(i) AS (SELECT CAST(@first AS INTEGER) UNION ALL SELECT i + 1 FROM n WHERE i < @last)
       INSERT INTO memory (namespace, key, value, size, tags, version, created_at, updated_at, expires_at)
       SELECT 'default', 'k' || i, @value, @size, NULL, 1, @now, @now, @expireAt FROM n`,
    )
    .run({ first: options.firstKey ?? 0, last: (options.firstKey ?? 0) + count - 1, value, size: Buffer.byteLength(value), now, expireAt: options.expireAt ?? null });
  await store.close();
}

export const tempDbPath = (dir: string, name: string): string => join(dir, `${name}.db`);

/** Fails the run unless `key` is stored: memory_retrieve must measure hits, as Redis' GET does. */
export async function expectStored(port: number, key: string): Promise<void> {
  const client = await LineClient.connect(port);
  const reply = await client.call("memory_retrieve", { key });
  client.close();
  if (reply.result?.structuredContent?.found !== true) throw new Error(`the prefilled entry ${key} is not found: ${JSON.stringify(reply.error ?? reply.result)}`);
}
