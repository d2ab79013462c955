import { VERSION } from "../version.js";
import type { OptionSpec } from "./args.js";
import { commands, type Command } from "./commands/index.js";
import { GLOBAL } from "./global-options.js";
import { WATCH_OPTION } from "./watch.js";

/** A command's own options, with --watch for those that only read. */
export const optionsOf = (command: Command): Record<string, OptionSpec> => ({ ...(command.options ?? {}), ...(command.watchable ? WATCH_OPTION : {}) });

/** The command named by the leading words (longest match: "swarm init" before "swarm"). */
export function findCommand(words: readonly string[]): { command: Command; rest: string[] } | undefined {
  for (const length of [2, 1]) {
    const name = words.slice(0, length).join(" ");
    const command = commands.find((c) => c.name === name);
    if (command) return { command, rest: words.slice(length) };
  }
  return undefined;
}

const optionLine = (left: string, help: string): string => `  ${left}`.padEnd(28) + help;
const optionLines = (spec: Readonly<Record<string, OptionSpec>>): string =>
  Object.entries(spec)
    .map(([name, o]) => optionLine(`--${name}${o.value ? ` <${o.value}>` : ""}`, o.help))
    .join("\n");

/** One command's usage, summary and options; in a session, without the options that are the session's. */
export function commandUsage(command: Command, inSession = false): string {
  const own = { ...optionsOf(command), ...(inSession ? { json: GLOBAL.json as OptionSpec } : {}) };
  const global = inSession ? "" : `\nGlobal options:\n${optionLines(GLOBAL)}\n`;
  return `Usage: ${inSession ? "" : "swarmctl "}${command.usage}\n\n${command.summary}.\n${Object.keys(own).length > 0 ? `\nOptions:\n${optionLines(own)}\n` : ""}${global}`;
}

/** The list of commands, one line each. */
export function commandList(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join("\n");
}

export function usage(): string {
  return `swarmctl ${VERSION} — command line for swarmd

Usage: swarmctl [global options] <command> [arguments]
       swarmctl [global options]            a session: commands typed at a prompt, or read from standard input

Commands:
${commandList()}

Global options:
${optionLines(GLOBAL)}
${optionLine("-V, --version", "Print the version")}

Run "swarmctl <command> --help" for a command's arguments.
`;
}
