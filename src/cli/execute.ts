import { ClientError, RpcError, type ClientOptions, type SwarmClient } from "../client/index.js";
import type { ParsedArgs } from "./args.js";
import type { Command, CommandContext } from "./commands/index.js";
import { UsageError } from "./format.js";
import { watch } from "./watch.js";

/** Exit codes: 0 success, 1 the server said no (or a task failed), 2 usage, 3 no connection or no reply in time, 130 Ctrl-C. */
export const EXIT = { ok: 0, refused: 1, usage: 2, unreachable: 3, interrupted: 130 } as const;

/** Where a command runs: from the process's own arguments, or from a line of a session. */
export interface Invocation {
  readonly client: SwarmClient;
  readonly clientOptions: ClientOptions;
  /** The command line as typed (a token's value hidden), for --watch's title. */
  readonly title: string;
  /** Standard input holds the session's commands: a value cannot be read from it, and nothing may take it over. */
  readonly inSession: boolean;
  /** Put before each error line: "line 3: " for a script read from standard input. */
  readonly where: string;
}

/** Runs one parsed command: --watch applied, Ctrl-C and errors turned into a line on stderr and an exit code. */
export async function execute(command: Command, parsed: ParsedArgs, inv: Invocation): Promise<number> {
  const option = (name: string): string | undefined => {
    const v = parsed.options.get(name);
    return typeof v === "string" ? v : undefined;
  };
  const json = parsed.options.has("json");
  const interrupt = new AbortController();
  // Past Ctrl-C, a command no longer waited for prints nothing.
  let muted = false;
  // What the command prints goes here: stdout, or the frame --watch is drawing.
  let write = (text: string): void => void (muted || process.stdout.write(text));
  const ctx: CommandContext = {
    client: inv.client,
    clientOptions: inv.clientOptions,
    args: parsed.positionals,
    opt: option,
    flag: (name) => parsed.options.get(name) === true,
    json,
    print: (data, human) => write(json ? JSON.stringify(data) + "\n" : human()),
    readInput: inv.inSession ? () => Promise.reject(new UsageError("standard input holds this session's commands: give the value on the line")) : readStdin,
    signal: interrupt.signal,
  };
  const onInterrupt = (): void => interrupt.abort();
  process.on("SIGINT", onInterrupt);
  try {
    if (inv.inSession && command.standalone) throw new UsageError(`${command.name} takes over standard input and output: run it on its own`);
    const every = option("watch");
    if (every !== undefined) {
      const seconds = Number(every);
      if (!(seconds > 0)) throw new UsageError(`--watch must be a positive number of seconds, not "${every}"`);
      return await watch({
        title: inv.title,
        seconds,
        json,
        run: (into) => {
          write = into;
          return command.run(ctx);
        },
        explain: (err) => explain(err, command, inv).text,
        signal: interrupt.signal,
      });
    }
    if (command.interruptible) return await command.run(ctx);
    const interrupted = new Promise<"interrupted">((resolve) => interrupt.signal.addEventListener("abort", () => resolve("interrupted"), { once: true }));
    const outcome = await Promise.race([command.run(ctx), interrupted]);
    if (outcome !== "interrupted") return outcome;
    muted = true;
    process.stderr.write(`swarmctl: ${inv.where}interrupted\n`);
    return EXIT.interrupted;
  } catch (err) {
    const { code, text } = explain(err, command, inv);
    process.stderr.write(text.replace(/^swarmctl: /, `swarmctl: ${inv.where}`) + "\n");
    return code;
  } finally {
    process.off("SIGINT", onInterrupt);
  }
}

async function readStdin(): Promise<string> {
  let text = "";
  for await (const chunk of process.stdin.setEncoding("utf8")) text += chunk as string;
  return text;
}

/** What happened, in one line (two for a usage error), and the exit code that goes with it. */
function explain(err: unknown, command: Command, inv: Invocation): { code: number; text: string } {
  if (err instanceof UsageError) return { code: EXIT.usage, text: `swarmctl: ${err.message}\nUsage: ${inv.inSession ? "" : "swarmctl "}${command.usage}` };
  if (err instanceof RpcError) {
    const reason = typeof err.data?.reason === "string" ? `, ${err.data.reason}` : "";
    return { code: EXIT.refused, text: `swarmctl: ${inCliTerms(err, inv.client.options.token !== undefined)} (${err.codeName ?? "error"} ${err.code}${reason})` };
  }
  if (err instanceof ClientError && err.code === "ABORTED") return { code: EXIT.interrupted, text: "swarmctl: interrupted" };
  if (err instanceof ClientError) return { code: EXIT.unreachable, text: `swarmctl: ${err.message}` };
  return { code: EXIT.refused, text: `swarmctl: ${(err as Error)?.message ?? String(err)}` };
}

/** The server's message, where it names a tool argument or a token, said with the option that sets it. */
function inCliTerms(err: RpcError, tokenGiven: boolean): string {
  if (err.data?.reason === "unauthenticated") {
    return tokenGiven ? "The daemon refused the token (--token or SWARMD_TOKEN)." : "The daemon requires a token: give --token or set SWARMD_TOKEN.";
  }
  const ids = err.data?.activeSwarmIds;
  if (err.data?.reason === "ambiguous_swarm" && Array.isArray(ids)) {
    return `${ids.length} swarms are active; pick one with --swarm: ${ids.join(", ")}.`;
  }
  if (err.data?.reason === "no_active_swarm") return "No swarm is active: create one with swarmctl swarm init.";
  if (err.data?.reason === "backup_exists") return `A backup named ${String(err.data.name)} exists; choose another name or add --overwrite.`;
  return err.message;
}
