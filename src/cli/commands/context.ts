import type { ClientOptions, SwarmClient } from "../../client/index.js";
import type { OptionSpec } from "../args.js";
import { UsageError } from "../format.js";

export interface CommandContext {
  readonly client: SwarmClient;
  /** What the client was made with (host, port, token, TLS), for commands that open their own connection. */
  readonly clientOptions: ClientOptions;
  readonly args: string[];
  readonly opt: (name: string) => string | undefined;
  readonly flag: (name: string) => boolean;
  readonly json: boolean;
  /** Prints `data` as JSON with --json, else the human form. */
  readonly print: (data: unknown, human: () => string) => void;
  /** All of standard input (a value given as `-`). */
  readonly readInput: () => Promise<string>;
  /** Fires at Ctrl-C. */
  readonly signal: AbortSignal;
}

export interface Command {
  readonly name: string;
  readonly usage: string;
  readonly summary: string;
  readonly options?: Readonly<Record<string, OptionSpec>>;
  /** It only reads: --watch may run it again and again. */
  readonly watchable?: boolean;
  /** It ends by itself when ctx.signal fires (and says so); any other command stops being waited for at Ctrl-C. */
  readonly interruptible?: boolean;
  /**
   * It keeps a connection open with nothing to send for as long as it runs: the client pings it while quiet, so the
   * daemon's idle timeout does not close it and a daemon gone without closing it is noticed.
   */
  readonly holdsConnection?: boolean;
  /** It takes over standard input and output, so it runs only on its own, never in a session. */
  readonly standalone?: boolean;
  run(ctx: CommandContext): Promise<number>;
}

export const need = (ctx: CommandContext, i: number, what: string): string => {
  const v = ctx.args[i];
  if (v === undefined) throw new UsageError(`missing ${what}`);
  return v;
};
export const list = (text: string | undefined): string[] | undefined => text?.split(",").map((s) => s.trim()).filter(Boolean);
export const num = (text: string | undefined, what: string): number | undefined => {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n)) throw new UsageError(`${what} must be a number, got "${text}"`);
  return n;
};
export const swarmOpt = { swarm: { value: "swarmId", help: "Swarm (default: the only active swarm)" } };
export const nsOpt = { namespace: { value: "ns", help: "Namespace (default: default)" } };
/** Options of a command that pages through a listing: `what` per page, at most 1000. */
export const pageOpts = (what: string, defaultLimit: number): Readonly<Record<string, OptionSpec>> => ({
  limit: { value: "n", help: `${what} per page (default ${defaultLimit}, at most 1000)` },
  cursor: { value: "c", help: "The page after the one that printed this cursor" },
});
export const agentColumns = ["id", "name", "type", "status", "health", "workload", "cpu_usage", "memory_usage", "currentTask"];
