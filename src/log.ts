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
    const file = pino.destination({ dest: options.file, mkdir: true, append: true, sync: true });
    return { log: pino({ name: "swarmd", level: options.level }, file), reopen: () => file.reopen() };
  }
  return { log: terminalOrStderr(options), reopen: undefined };
}

function terminalOrStderr(options: LogOptions): Logger {
  const pretty = options.format === "pretty" || (options.format !== "json" && process.stderr.isTTY === true);
  if (!pretty) return pino({ name: "swarmd", level: options.level }, pino.destination({ dest: 2, sync: true }));
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) if (line) writeSync(2, prettyLine(line));
      done();
    },
  });
  return pino({ name: "swarmd", level: options.level }, stream);
}
