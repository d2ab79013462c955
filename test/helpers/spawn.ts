import type { Test } from "tap";
import { startDaemonProcess, waitForLog, type DaemonProcess } from "../../scripts/daemon-process.js";

export { MAIN, waitForLog } from "../../scripts/daemon-process.js";
export type SpawnedDaemon = DaemonProcess;

/** The built daemon as a child process, killed when the test ends. */
export function spawnDaemon(t: Test, args: string[], env: Record<string, string> = {}, cwd?: string): SpawnedDaemon {
  const d = startDaemonProcess(args, env, cwd);
  t.teardown(() => {
    if (d.proc.exitCode === null && d.proc.signalCode === null) d.proc.kill("SIGKILL");
  });
  return d;
}

/** Starts the built daemon on a free port (unless args name one) and resolves once it listens. */
export async function spawnListening(t: Test, args: string[], env: Record<string, string> = {}): Promise<SpawnedDaemon & { port: number }> {
  const d = spawnDaemon(t, ["--port", "0", ...args], env);
  const line = await waitForLog(d, (l) => l.msg === "swarmd listening");
  return Object.assign(d, { port: line.port as number });
}
