import { readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { ClientOptions, SwarmClient } from "../client/index.js";
import { parseArgs } from "./args.js";
import { completer, type Completer } from "./completion.js";
import { EXIT, execute } from "./execute.js";
import { GLOBAL, PER_LINE } from "./global-options.js";
import { commandList, commandUsage, findCommand, optionsOf } from "./help.js";
import { splitWords } from "./words.js";

export interface Session {
  readonly client: SwarmClient;
  readonly clientOptions: ClientOptions;
  /** --json on the swarmctl command line: every line prints JSON. */
  readonly json: boolean;
}

const HISTORY_LINES = 1000;
const LEAVE = new Set(["quit", "exit"]);

/**
 * Commands typed at a prompt, as redis-cli takes them: one connection for the whole session (so the swarm a
 * `swarm init` made stays this connection's current swarm), line editing, Tab completion, history kept in
 * ~/.swarmctl_history (SWARMCTL_HISTORY names another file; empty keeps none). Ctrl-C stops the command that runs, or
 * drops the line being typed; quit, exit or Ctrl-D leave. Exit code 0.
 */
export async function interactive(session: Session, prompt: string): Promise<number> {
  const historyFile = process.env.SWARMCTL_HISTORY ?? join(homedir(), ".swarmctl_history");
  const history = readHistory(historyFile);
  const complete = completer(session.client);
  process.stdout.write('Type "help" for the commands, "quit" or Ctrl-D to leave.\n');
  for (;;) {
    const line = await ask(prompt, history, complete);
    if (line === null) break;
    if (line.trim() !== "") writeHistory(historyFile, history);
    if ((await runLine(session, line, "")) === "leave") break;
  }
  return EXIT.ok;
}

/**
 * Commands read from standard input, one a line (blank lines and lines starting with # skipped), on one connection.
 * Errors name their line. Ctrl-C stops the script. Exit code: 0 when every line succeeded, else the last failure's.
 */
export async function script(session: Session): Promise<number> {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  // Ctrl-C ends the script, also when the line it stopped (--watch, monitor) counts that as success.
  let interrupted = false;
  const stop = (): void => {
    interrupted = true;
    lines.close();
  };
  process.on("SIGINT", stop);
  let failed: number = EXIT.ok;
  let n = 0;
  try {
    for await (const line of lines) {
      const outcome = await runLine(session, line, `line ${++n}: `);
      if (interrupted || outcome === EXIT.interrupted) return EXIT.interrupted;
      if (outcome === "leave") break;
      if (outcome !== EXIT.ok) failed = outcome;
    }
  } finally {
    process.off("SIGINT", stop);
  }
  return interrupted ? EXIT.interrupted : failed;
}

async function runLine(session: Session, line: string, where: string): Promise<number | "leave"> {
  const fail = (code: number, text: string): number => {
    process.stderr.write(`swarmctl: ${where}${text}\n`);
    return code;
  };
  let words: string[];
  try {
    words = splitWords(line);
  } catch (err) {
    return fail(EXIT.usage, (err as Error).message);
  }
  if (words.length === 0 || words[0]?.startsWith("#")) return EXIT.ok;
  if (LEAVE.has(words[0] as string) && words.length === 1) return "leave";
  if (words[0] === "help") {
    const about = words.length > 1 ? findCommand(words.slice(1)) : undefined;
    if (words.length > 1 && about === undefined) return fail(EXIT.usage, `unknown command "${words.slice(1).join(" ")}" (type help for the list)`);
    process.stdout.write(about ? commandUsage(about.command, true) : sessionHelp());
    return EXIT.ok;
  }
  const found = findCommand(words);
  if (found === undefined) return fail(EXIT.usage, `unknown command "${words.join(" ")}" (type help for the list)`);
  const { command, rest } = found;
  const fixed = rest.map((w) => /^--([^=]+)/.exec(w)?.[1]).find((name) => name !== undefined && GLOBAL[name] !== undefined && PER_LINE[name] === undefined);
  if (fixed !== undefined) return fail(EXIT.usage, `--${fixed} is the session's: give it on the swarmctl command line`);
  let parsed;
  try {
    parsed = parseArgs(rest, { ...PER_LINE, ...optionsOf(command) });
  } catch (err) {
    return fail(EXIT.usage, `${(err as Error).message}\nUsage: ${command.usage}`);
  }
  if (parsed.options.has("help")) {
    process.stdout.write(commandUsage(command, true));
    return EXIT.ok;
  }
  if (session.json) parsed.options.set("json", true);
  return execute(command, parsed, { client: session.client, clientOptions: session.clientOptions, title: line.trim(), inSession: true, where });
}

function sessionHelp(): string {
  return `Commands, as on the command line (their connection options are the session's):
${commandList()}
  help [command]  This list, or a command's arguments and options
  quit            Leave (also exit, or Ctrl-D)

Quote words with spaces: task run "make test" --wait. Ctrl-C stops the command that runs.
`;
}

/** One line typed at the prompt; null at Ctrl-D. Ctrl-C drops the line being typed: an empty line. */
function ask(prompt: string, history: string[], complete: Completer): Promise<string | null> {
  return new Promise((resolve) => {
    // A fresh interface for each line: closing it between lines gives the terminal back, so Ctrl-C while a command
    // runs is a SIGINT the command sees.
    const rl = createInterface({
      input: process.stdin,
      output: process.stdout,
      terminal: true,
      history: [...history],
      historySize: HISTORY_LINES,
      removeHistoryDuplicates: true,
      completer: complete,
    });
    let answer: string | null = null;
    rl.on("history", (latest: string[]) => history.splice(0, history.length, ...latest));
    rl.on("SIGINT", () => {
      answer = "";
      process.stdout.write("^C\n");
      rl.close();
    });
    rl.on("close", () => {
      if (answer === null) process.stdout.write("\n");
      resolve(answer);
    });
    rl.question(prompt, (line) => {
      answer = line;
      rl.close();
    });
  });
}

/** Most recent first, as readline keeps it; the file has the oldest first. */
function readHistory(file: string): string[] {
  if (file === "") return [];
  try {
    return readFileSync(file, "utf8").split("\n").filter(Boolean).reverse().slice(0, HISTORY_LINES);
  } catch {
    return [];
  }
}

function writeHistory(file: string, history: readonly string[]): void {
  if (file === "") return;
  try {
    writeFileSync(file, [...history].reverse().join("\n") + "\n", { mode: 0o600 });
  } catch {
    // A history that cannot be kept is no reason to stop the session.
  }
}
