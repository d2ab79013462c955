import { pino, type Logger } from "pino";

export type { Logger };

export interface LogOptions {
  readonly level: string;
  /** Append to this file instead of stderr. */
  readonly file?: string | undefined;
}

/**
 * JSON lines to stderr or a file — never stdout, which carries the protocol in stdio mode. Writes are synchronous:
 * at the default level swarmd logs per connection and per error, not per request, and nothing is lost at exit.
 */
export function createLogger(options: LogOptions): Logger {
  const destination = options.file
    ? pino.destination({ dest: options.file, mkdir: true, append: true, sync: true })
    : pino.destination({ dest: 2, sync: true });
  return pino({ name: "swarmd", level: options.level }, destination);
}
