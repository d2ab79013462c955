import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import type { Test } from "tap";
import { parseCli } from "../../src/config/cli.js";
import type { Config } from "../../src/config/settings.js";
import { Daemon } from "../../src/daemon.js";
import type { Clock } from "../../src/clock.js";
import type { Logger } from "../../src/log.js";
import { LineClient } from "../../scripts/line-client.js";

/** A fresh temporary directory, removed when the test ends. */
export function tempDir(t: Test, prefix = "swarmd-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A logger whose JSON lines are kept in memory, so tests can read what an operator would see. */
export function memoryLogger(level = "info"): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString("utf8").split("\n")) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level }, sink), lines };
}

export interface RunningDaemon {
  readonly daemon: Daemon;
  readonly port: number;
  readonly config: Config;
  readonly dir: string;
  readonly logs: Array<Record<string, unknown>>;
}

/**
 * Starts a real daemon in this process on 127.0.0.1, a free port and a temporary SQLite file. `env` takes the same
 * variables a user would set. Closed when the test ends.
 */
export async function startDaemon(
  t: Test,
  env: Record<string, string> = {},
  options: { dir?: string; clock?: Clock } = {},
): Promise<RunningDaemon> {
  const dir = options.dir ?? tempDir(t);
  // Tests pipeline thousands of requests on one connection; the rate limit has tests of its own.
  // The HTTP side port is off unless a test asks for one: tests run in parallel.
  const command = parseCli([], { MCP_TCP_PORT: "0", SWARMD_DB: join(dir, "swarmd.db"), SWARMD_RATE_LIMIT: "0", SWARMD_HTTP_PORT: "0", ...env });
  if (command.kind !== "run") throw new Error("unexpected CLI command");
  const { log, lines } = memoryLogger(env.MCP_LOG_LEVEL ?? "info");
  const daemon = new Daemon({ config: command.config, log, ...(options.clock ? { clock: options.clock } : {}) });
  await daemon.start();
  t.teardown(() => daemon.close());
  return { daemon, port: daemon.address?.port as number, config: command.config, dir, logs: lines };
}

/** A daemon as startDaemon starts it, and one raw client connected to it; both closed when the test ends. */
export async function daemonWithClient(t: Test, env: Record<string, string> = {}): Promise<{ d: RunningDaemon; c: LineClient }> {
  const d = await startDaemon(t, env);
  const c = await LineClient.connect(d.port);
  t.teardown(() => c.close());
  return { d, c };
}

/** A port nothing listens on right now, so a daemon can be started (or restarted) on a known port. */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}
