import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The built daemon (`npm run build`), run as users run it: the bundle dist/swarmd.js from this repository. */
export const MAIN = fileURLToPath(new URL(import.meta.url.endsWith(".ts") ? "../dist/swarmd.js" : "../swarmd.js", import.meta.url));

export interface DaemonProcess {
  readonly proc: ChildProcessWithoutNullStreams;
  /** stderr log lines parsed as JSON (non-JSON lines kept as {text}). */
  readonly logs: Array<Record<string, any>>;
  /** Resolves with the exit code (or signal name). */
  readonly exited: Promise<number | string>;
  stdout(): string;
}

/** The command and arguments that run node with `args`, through `launcher` (valgrind and its options) when given. */
export function nodeCommand(launcher: readonly string[], args: readonly string[]): [string, string[]] {
  const [command, ...before] = [...launcher, process.execPath];
  return [command as string, [...before, ...args]];
}

/**
 * Starts the built daemon with `args`; the environment holds PATH and `env` only: rate limit and HTTP side port off
 * unless given (several daemons run at once). `launcher` is a command that runs node for it (valgrind and its options).
 */
export function startDaemonProcess(args: string[], env: Record<string, string> = {}, cwd?: string, launcher: readonly string[] = []): DaemonProcess {
  const [command, nodeArgs] = nodeCommand(launcher, [MAIN, ...args]);
  const proc = spawn(command, nodeArgs, { cwd, env: { PATH: process.env.PATH ?? "", SWARMD_RATE_LIMIT: "0", SWARMD_HTTP_PORT: "0", ...env } });
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
  return { proc, logs, exited, stdout: () => out };
}

/** Waits until a log line satisfies `match`. */
export async function waitForLog(d: DaemonProcess, match: (l: Record<string, any>) => boolean, timeoutMs = 10_000): Promise<Record<string, any>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = d.logs.find(match);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no matching log line within ${timeoutMs} ms; logs: ${JSON.stringify(d.logs)}`);
    if (d.proc.exitCode !== null) throw new Error(`daemon exited with ${d.proc.exitCode}; logs: ${JSON.stringify(d.logs)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Starts the built daemon on a free port (unless args name one) and resolves once it listens. */
export async function startListening(args: string[], env: Record<string, string> = {}): Promise<DaemonProcess & { port: number }> {
  const d = startDaemonProcess(["--port", "0", ...args], env);
  const line = await waitForLog(d, (l) => l.msg === "swarmd listening");
  return Object.assign(d, { port: line.port as number });
}
