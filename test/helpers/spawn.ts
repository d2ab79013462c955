import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Test } from "tap";

/** The built daemon (`npm test` builds first), run as users run it. */
export const MAIN = fileURLToPath(new URL("../../dist/src/main.js", import.meta.url));

export interface SpawnedDaemon {
  readonly proc: ChildProcessWithoutNullStreams;
  /** stderr log lines parsed as JSON (non-JSON lines kept as {text}). */
  readonly logs: Array<Record<string, any>>;
  /** Resolves with the exit code (or signal name). */
  readonly exited: Promise<number | string>;
  stdout(): string;
}

export function spawnDaemon(t: Test, args: string[], env: Record<string, string> = {}, cwd?: string): SpawnedDaemon {
  const proc = spawn(process.execPath, [MAIN, ...args], { cwd, env: { PATH: process.env.PATH ?? "", ...env } });
  const logs: Array<Record<string, any>> = [];
  let out = "";
  let errBuf = "";
  proc.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  proc.stderr.setEncoding("utf8").on("data", (d: string) => {
    errBuf += d;
    let nl: number;
    while ((nl = errBuf.indexOf("\n")) !== -1) {
      const line = errBuf.slice(0, nl);
      errBuf = errBuf.slice(nl + 1);
      try {
        logs.push(JSON.parse(line) as Record<string, any>);
      } catch {
        logs.push({ text: line });
      }
    }
  });
  const exited = new Promise<number | string>((resolve) => proc.on("exit", (code, signal) => resolve(code ?? signal ?? -1)));
  t.teardown(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
  });
  return { proc, logs, exited, stdout: () => out };
}

/** Waits until a log line satisfies `match`. */
export async function waitForLog(d: SpawnedDaemon, match: (l: Record<string, any>) => boolean, timeoutMs = 10_000): Promise<Record<string, any>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = d.logs.find(match);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no matching log line within ${timeoutMs} ms; logs: ${JSON.stringify(d.logs)}`);
    if (d.proc.exitCode !== null) throw new Error(`daemon exited with ${d.proc.exitCode}; logs: ${JSON.stringify(d.logs)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Starts the built daemon on a free port and resolves once it listens. */
export async function spawnListening(t: Test, args: string[], env: Record<string, string> = {}): Promise<SpawnedDaemon & { port: number }> {
  const d = spawnDaemon(t, ["--port", "0", ...args], env);
  const line = await waitForLog(d, (l) => l.msg === "swarmd listening");
  return Object.assign(d, { port: line.port as number });
}
