import type { OptionSpec } from "./args.js";
import { UsageError } from "./format.js";

export const WATCH_OPTION: Readonly<Record<string, OptionSpec>> = {
  watch: { value: "seconds", help: "Run it again every this many seconds until Ctrl-C (a terminal shows the latest)" },
};

export interface Watch {
  /** The command line shown above each run. */
  readonly title: string;
  readonly seconds: number;
  /** --json: runs are JSON lines one after another, and failures go to stderr, so the output stays machine-readable. */
  readonly json: boolean;
  /** Runs the command once, writing what it prints with `write`. */
  readonly run: (write: (text: string) => void) => Promise<unknown>;
  /** The one line that says why a run failed. */
  readonly explain: (err: unknown) => string;
  /** Ctrl-C: ends the watch. */
  readonly signal: AbortSignal;
}

/**
 * Runs a read-only command every `seconds` until Ctrl-C, as watch(1) does: on a terminal each run replaces the last on
 * the screen (drawn at once, so it does not flicker), otherwise the runs follow one another under a line with the time.
 * A run that fails (the daemon restarting) says why, and the next one tries again. Resolves with exit code 0 at Ctrl-C;
 * a usage error rejects at once.
 */
export async function watch(w: Watch): Promise<number> {
  const tty = process.stdout.isTTY === true;
  // Ctrl-C ends the watch at once, whether a run waits for its reply or the watch waits for the next run.
  const interrupted = new Promise<void>((resolve) => w.signal.addEventListener("abort", () => resolve(), { once: true }));
  while (!w.signal.aborted) {
    let frame = "";
    let failure: string | undefined;
    try {
      await Promise.race([w.run((text) => (frame += text)), interrupted]);
    } catch (err) {
      // A mistake on the command line will not mend by itself: it ends the watch as it would end one run.
      if (err instanceof UsageError) throw err;
      failure = `${w.explain(err)}\n`;
    }
    if (w.signal.aborted) break;
    const header = `Every ${w.seconds} s: ${w.title}    ${new Date().toISOString()}\n\n`;
    if (w.json) {
      process.stdout.write(frame);
      if (failure !== undefined) process.stderr.write(failure);
    } else process.stdout.write(`${tty ? "\x1b[H\x1b[2J" : ""}${header}${frame}${failure ?? ""}${tty ? "" : "\n"}`);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([new Promise((resolve) => (timer = setTimeout(resolve, w.seconds * 1000))), interrupted]);
    clearTimeout(timer);
  }
  // The terminal echoed ^C where the cursor was: what follows (a shell's or a session's prompt) starts a line.
  if (tty) process.stdout.write("\n");
  return 0;
}
