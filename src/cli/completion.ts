import type { SwarmClient } from "../client/index.js";
import { commands } from "./commands/index.js";
import { PER_LINE } from "./global-options.js";
import { findCommand, optionsOf } from "./help.js";

export type Completer = (line: string, callback: (err: null, result: [string[], string]) => void) => void;

const NAMES = [...commands.map((c) => `${c.name} `), "help ", "quit", "exit"];

/**
 * Tab at a session's prompt completes a command's name, one of its options after "-", or a tool's name after
 * "call" (the daemon's tools/list, asked once when first wanted).
 */
export function completer(client: SwarmClient): Completer {
  // The client asks tools/list once, and again next time if the daemon did not answer.
  const toolNames = (): Promise<string[]> => client.toolAnnotations().then((byName) => [...byName.keys()], () => []);
  return (line, callback) => {
    const words = line.trimStart().split(/\s+/);
    const last = words.at(-1) ?? "";
    const offer = (candidates: readonly string[], typed: string): void => callback(null, [candidates.filter((c) => c.startsWith(typed)), typed]);
    const found = findCommand(words.slice(0, -1));
    if (found === undefined) return offer(NAMES, line.trimStart());
    if (last.startsWith("-")) return offer(Object.keys({ ...optionsOf(found.command), ...PER_LINE }).map((name) => `--${name} `), last);
    if (found.command.name === "call" && found.rest.length === 0) return void toolNames().then((names) => offer(names.map((n) => `${n} `), last));
    offer([], last);
  };
}
