#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { ClientError, RpcError, SwarmClient, type ClientOptions } from "../client/index.js";
import { VERSION } from "../version.js";
import { parseArgs, type OptionSpec } from "./args.js";
import { commands, type Command } from "./commands/index.js";
import { UsageError } from "./format.js";
import { WATCH_OPTION, watch } from "./watch.js";

/** Exit codes: 0 success, 1 the server said no (or a task failed), 2 usage, 3 no connection or no reply in time. */
const EXIT = { ok: 0, refused: 1, usage: 2, unreachable: 3 } as const;

const GLOBAL: Record<string, OptionSpec> = {
  host: { value: "host", help: "Daemon host (MCP_HOST, default 127.0.0.1)" },
  port: { value: "port", help: "Daemon port (MCP_TCP_PORT, default 9500)" },
  timeout: { value: "seconds", help: "Give up on a reply after this long (default 30)" },
  token: { value: "token", help: "Access token when the daemon requires one (SWARMD_TOKEN)" },
  tls: { help: "Connect with TLS (the system's trusted CAs)" },
  "tls-ca": { value: "file", help: "Trust this CA (PEM); implies --tls" },
  "tls-cert": { value: "file", help: "Client certificate (PEM) for daemons that require one" },
  "tls-key": { value: "file", help: "The client certificate's key (PEM)" },
  "tls-insecure": { help: "Do not verify the daemon's certificate (testing only)" },
  json: { help: "Print the raw payload as JSON (for scripts)" },
  help: { help: "Show help" },
};

/** A command's own options, with --watch for those that only read. */
const optionsOf = (command: Command): Record<string, OptionSpec> => ({ ...(command.options ?? {}), ...(command.watchable ? WATCH_OPTION : {}) });

function usage(command?: Command): string {
  const optionLine = (left: string, help: string): string => `  ${left}`.padEnd(28) + help;
  const optionLines = (spec: Record<string, OptionSpec>): string =>
    Object.entries(spec)
      .map(([name, o]) => optionLine(`--${name}${o.value ? ` <${o.value}>` : ""}`, o.help))
      .join("\n");
  if (command !== undefined) {
    const own = optionsOf(command);
    return `Usage: swarmctl ${command.usage}\n\n${command.summary}.\n${Object.keys(own).length > 0 ? `\nOptions:\n${optionLines(own)}\n` : ""}\nGlobal options:\n${optionLines(GLOBAL)}\n`;
  }
  const width = Math.max(...commands.map((c) => c.name.length));
  return `swarmctl ${VERSION} — command line for swarmd

Usage: swarmctl [global options] <command> [arguments]

Commands:
${commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join("\n")}

Global options:
${optionLines(GLOBAL)}
${optionLine("-V, --version", "Print the version")}

Run "swarmctl <command> --help" for a command's arguments.
`;
}

/** The command named by the leading words of argv (longest match: "swarm init" before "swarm"). */
function findCommand(words: readonly string[]): { command: Command; rest: string[] } | undefined {
  for (const length of [2, 1]) {
    const name = words.slice(0, length).join(" ");
    const command = commands.find((c) => c.name === name);
    if (command) return { command, rest: words.slice(length) };
  }
  return undefined;
}

async function main(argv: string[]): Promise<number> {
  const firstWord = argv.findIndex((a, i) => !a.startsWith("-") && !(i > 0 && GLOBAL[(argv[i - 1] as string).replace(/^--/, "")]?.value));
  const found = firstWord === -1 ? undefined : findCommand(argv.slice(firstWord));
  if (found === undefined) {
    const asked = argv.slice(firstWord === -1 ? argv.length : firstWord).join(" ");
    if (argv.includes("-V") || argv.includes("--version")) {
      process.stdout.write(`swarmctl ${VERSION}\n`);
      return EXIT.ok;
    }
    if (argv.length === 0 || argv.includes("--help") || argv.includes("-h")) {
      process.stdout.write(usage());
      return EXIT.ok;
    }
    process.stderr.write(`swarmctl: unknown command "${asked}" (see swarmctl --help)\n`);
    return EXIT.usage;
  }
  const { command } = found;
  let parsed;
  try {
    parsed = parseArgs([...argv.slice(0, firstWord), ...found.rest], { ...GLOBAL, ...optionsOf(command) });
  } catch (err) {
    process.stderr.write(`swarmctl: ${(err as Error).message}\n${usage(command)}`);
    return EXIT.usage;
  }
  if (parsed.options.has("help") || found.rest.includes("-h")) {
    process.stdout.write(usage(command));
    return EXIT.ok;
  }
  const text = (name: string): string | undefined => {
    const v = parsed.options.get(name);
    return typeof v === "string" ? v : undefined;
  };
  const port = text("port");
  const timeout = text("timeout");
  const json = parsed.options.has("json");
  let tls;
  try {
    tls = tlsOptions(parsed.options);
  } catch (err) {
    process.stderr.write(`swarmctl: ${(err as Error).message}\n`);
    return EXIT.usage;
  }
  const clientOptions: ClientOptions = {
    ...(text("host") ? { host: text("host") } : {}),
    ...(text("token") ? { token: text("token") } : {}),
    tls,
    ...(port ? { port: Number(port) } : {}),
    ...(timeout ? { requestTimeoutMs: Number(timeout) * 1000 } : {}),
    poolMin: 0,
    poolSize: 1,
    keepaliveMs: 0,
    retryAttempts: 0,
    acquireTimeoutMs: 2000,
    clientInfo: { name: "swarmctl", version: VERSION },
  };
  const client = new SwarmClient(clientOptions);
  // What the command prints goes here: stdout, or the frame --watch is drawing.
  let write = (text: string): void => void process.stdout.write(text);
  const ctx = {
    client,
    clientOptions,
    args: parsed.positionals,
    opt: text,
    flag: (name: string) => parsed.options.get(name) === true,
    json,
    print: (data: unknown, human: () => string) => write(json ? JSON.stringify(data) + "\n" : human()),
    readInput: async () => {
      let text = "";
      for await (const chunk of process.stdin.setEncoding("utf8")) text += chunk as string;
      return text;
    },
  };
  try {
    const every = text("watch");
    if (every === undefined) return await command.run(ctx);
    const seconds = Number(every);
    if (!(seconds > 0)) throw new UsageError(`--watch must be a positive number of seconds, not "${every}"`);
    return await watch({
      // The command line as typed, but for a token's value.
      title: `swarmctl ${argv.map((a, i) => (argv[i - 1] === "--token" ? "…" : a.replace(/^(--token=).*/, "$1…"))).join(" ")}`,
      seconds,
      json,
      run: (into) => {
        write = into;
        return command.run(ctx);
      },
      explain: (err) => explain(err, command).text,
    });
  } catch (err) {
    return report(err, command);
  } finally {
    await client.close();
  }
}

/** TLS settings from the --tls* options; files are read here so a wrong path is a usage error. */
function tlsOptions(options: Map<string, string | true>) {
  const file = (name: string): Buffer | undefined => {
    const path = options.get(name);
    if (typeof path !== "string") return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`cannot read --${name} ${path}: ${(err as Error).message}`);
    }
  };
  const ca = file("tls-ca");
  const cert = file("tls-cert");
  const key = file("tls-key");
  const insecure = options.has("tls-insecure");
  if (!options.has("tls") && !ca && !cert && !insecure) return false;
  return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}), ...(insecure ? { rejectUnauthorized: false } : {}) };
}

/** One line on stderr that says what happened, and the exit code that goes with it. */
function report(err: unknown, command: Command): number {
  const { code, text } = explain(err, command);
  process.stderr.write(text + "\n");
  return code;
}

/** What happened, in one line (two for a usage error), and the exit code that goes with it. */
function explain(err: unknown, command: Command): { code: number; text: string } {
  if (err instanceof UsageError) return { code: EXIT.usage, text: `swarmctl: ${err.message}\nUsage: swarmctl ${command.usage}` };
  if (err instanceof RpcError) {
    const reason = typeof err.data?.reason === "string" ? `, ${err.data.reason}` : "";
    return { code: EXIT.refused, text: `swarmctl: ${inCliTerms(err)} (${err.codeName ?? "error"} ${err.code}${reason})` };
  }
  if (err instanceof ClientError) return { code: EXIT.unreachable, text: `swarmctl: ${err.message}` };
  return { code: EXIT.refused, text: `swarmctl: ${(err as Error)?.message ?? String(err)}` };
}

/** The server's message, where it names a tool argument, said with the option that sets it. */
function inCliTerms(err: RpcError): string {
  const ids = err.data?.activeSwarmIds;
  if (err.data?.reason === "ambiguous_swarm" && Array.isArray(ids)) {
    return `${ids.length} swarms are active; pick one with --swarm: ${ids.join(", ")}.`;
  }
  if (err.data?.reason === "no_active_swarm") return "No swarm is active: create one with swarmctl swarm init.";
  if (err.data?.reason === "backup_exists") return `A backup named ${String(err.data.name)} exists; choose another name or add --overwrite.`;
  return err.message;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`swarmctl: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(EXIT.refused);
  },
);
