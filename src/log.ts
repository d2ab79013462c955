import { writeSync } from "node:fs";
import { Writable } from "node:stream";
import { pino, type Logger } from "pino";

export type { Logger };

export interface LogOptions {
  readonly level: string;
  /** Append to this file instead of stderr. */
  readonly file?: string | undefined;
  /** auto: pretty when stderr is a terminal, JSON lines otherwise. */
  readonly format?: "auto" | "json" | "pretty" | undefined;
}

const LEVELS: Record<number, string> = { 10: "TRACE", 20: "DEBUG", 30: "INFO ", 40: "WARN ", 50: "ERROR", 60: "FATAL" };
const OMIT = new Set(["level", "time", "msg", "pid", "hostname", "name"]);

/** `12:04:05.123 INFO  swarmd listening address=127.0.0.1 port=9500 …` for people reading a terminal. */
export function prettyLine(line: string): string {
  const o = JSON.parse(line) as Record<string, unknown>;
  const time = new Date(o.time as number).toISOString().slice(11, 23);
  const fields = Object.entries(o)
    .filter(([k]) => !OMIT.has(k))
    .map(([k, v]) => (k === "err" && typeof v === "object" && v ? `err=${(v as { stack?: string }).stack ?? JSON.stringify(v)}` : `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`));
  return `${time} ${LEVELS[o.level as number] ?? o.level} ${o.msg ?? ""}${fields.length ? " " + fields.join(" ") : ""}\n`;
}

export interface DaemonLog {
  readonly log: Logger;
  /** Opens the log file again under its name (after logrotate moved it away); undefined when logging to stderr. */
  readonly reopen: (() => void) | undefined;
}

/**
 * JSON lines to stderr or a file — never stdout, which carries the protocol in stdio mode — or readable lines on a
 * terminal. Writes are synchronous: at the default level swarmd logs per connection and per error, not per request,
 * and nothing is lost at exit.
 */
export function createLogger(options: LogOptions): DaemonLog {
  if (options.file) {
    const file = destination(options.file);
    return { log: pino({ name: "swarmd", level: options.level }, file), reopen: () => file.reopen() };
  }
  return { log: terminalOrStderr(options), reopen: undefined };
}

/** Log lines kept while the destination cannot be written (a full disk); beyond this, new lines are dropped. */
const HELD_BYTES = 1024 * 1024;

/**
 * A log destination that cannot end the daemon: a write that fails (ENOSPC) would otherwise be an unhandled 'error'
 * event, and the exit's own fatal line would fail the same way. Lines are held up to HELD_BYTES and written once the
 * destination takes writes again; stderr hears when a log file stops and starts taking them, and how many were lost.
 */
function destination(dest: string | 2): ReturnType<typeof pino.destination> {
  const stream = pino.destination({ dest, mkdir: dest !== 2, append: true, sync: true, maxLength: HELD_BYTES });
  const name = dest === 2 ? "stderr" : `the log file ${dest}`;
  let failing = false;
  let dropped = 0;
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (!failing) tell(`swarmd: cannot write ${name} (${err.code ?? err.message}); its lines are kept, then dropped, until it can\n`);
    failing = true;
  });
  stream.on("drop", () => dropped++);
  stream.on("write", () => {
    if (!failing) return;
    failing = false;
    tell(`swarmd: writing ${name} again; ${dropped} lines were dropped meanwhile\n`);
    dropped = 0;
  });
  return stream;
}

/** Text on stderr, unless stderr cannot be written either. */
function tell(text: string): void {
  try {
    writeSync(2, text);
  } catch {
    // stderr is the destination that failed, or is gone: there is nobody left to tell
  }
}

function terminalOrStderr(options: LogOptions): Logger {
  const pretty = options.format === "pretty" || (options.format !== "json" && process.stderr.isTTY === true);
  if (!pretty) return pino({ name: "swarmd", level: options.level }, destination(2));
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) if (line) tell(prettyLine(line));
      done();
    },
  });
  return pino({ name: "swarmd", level: options.level }, stream);
}
