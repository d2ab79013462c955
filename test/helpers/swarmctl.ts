import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { fileURLToPath } from "node:url";

export const SWARMCTL = fileURLToPath(new URL("../../dist/src/cli/swarmctl.js", import.meta.url));

export interface RunningCommand {
  readonly child: ChildProcessWithoutNullStreams;
  /** What it printed so far. */
  readonly out: { stdout: string; stderr: string };
  readonly exited: Promise<number | null>;
  /** Resolves once `ok()` holds; rejects, with what was printed, after 15 s. */
  until(ok: () => boolean, what: string): Promise<void>;
}

/** The built swarmctl as a child process (or `command argv`, for a wrapper such as script(1)), its output gathered. */
export function startSwarmctl(args: readonly string[], env: Record<string, string> = {}, command = process.execPath, argv = [SWARMCTL, ...args]): RunningCommand {
  const child = spawn(command, argv, { env: { PATH: process.env.PATH ?? "", ...env } });
  const out = { stdout: "", stderr: "" };
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out.stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (out.stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  const until = async (ok: () => boolean, what: string): Promise<void> => {
    for (const deadline = Date.now() + 15_000; !ok(); await new Promise((r) => setTimeout(r, 20))) {
      if (Date.now() > deadline) throw new Error(`${what}: not seen in 15 s; stdout: ${out.stdout} stderr: ${out.stderr}`);
    }
  };
  return { child, out, exited, until };
}
