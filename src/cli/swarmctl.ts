#!/usr/bin/env node
import { SwarmClient } from "../client/index.js";
import { VERSION } from "../version.js";
import { parseArgs } from "./args.js";
import { EXIT, execute } from "./execute.js";
import { clientOptionsOf, GLOBAL } from "./global-options.js";
import { commandUsage, findCommand, optionsOf, usage } from "./help.js";
import { interactive, script } from "./session.js";

/** At the end, how long to wait for calls still in flight (none, unless Ctrl-C gave up on one). */
const CLOSE_WAIT_MS = 300;

async function main(argv: string[]): Promise<number> {
  const firstWord = argv.findIndex((a, i) => !a.startsWith("-") && !(i > 0 && GLOBAL[(argv[i - 1] as string).replace(/^--/, "")]?.value));
  const found = firstWord === -1 ? undefined : findCommand(argv.slice(firstWord));
  if (found === undefined && (argv.includes("-V") || argv.includes("--version"))) {
    process.stdout.write(`swarmctl ${VERSION}\n`);
    return EXIT.ok;
  }
  if (found === undefined && (argv.includes("--help") || argv.includes("-h"))) {
    process.stdout.write(usage());
    return EXIT.ok;
  }
  if (found === undefined && firstWord !== -1) {
    process.stderr.write(`swarmctl: unknown command "${argv.slice(firstWord).join(" ")}" (see swarmctl --help)\n`);
    return EXIT.usage;
  }
  const command = found?.command;
  let parsed;
  let clientOptions;
  try {
    parsed = parseArgs(found === undefined ? argv : [...argv.slice(0, firstWord), ...found.rest], command ? { ...GLOBAL, ...optionsOf(command) } : GLOBAL);
    clientOptions = clientOptionsOf(parsed.options, command === undefined, command === undefined || command.holdsConnection === true);
  } catch (err) {
    process.stderr.write(`swarmctl: ${(err as Error).message}${command ? `\n${commandUsage(command)}` : " (see swarmctl --help)\n"}`);
    return EXIT.usage;
  }
  if (command && (parsed.options.has("help") || found?.rest.includes("-h"))) {
    process.stdout.write(commandUsage(command));
    return EXIT.ok;
  }
  const client = new SwarmClient(clientOptions);
  try {
    if (command === undefined) {
      // No command: a session, typed at a prompt or read from standard input.
      const session = { client, clientOptions, json: parsed.options.has("json") };
      const { host, port } = client.options;
      return process.stdin.isTTY ? await interactive(session, `${host}:${port}> `) : await script(session);
    }
    // The command line as typed, but for a token's value.
    const title = `swarmctl ${argv.map((a, i) => (argv[i - 1] === "--token" ? "…" : a.replace(/^(--token=).*/, "$1…"))).join(" ")}`;
    return await execute(command, parsed, { client, clientOptions, title, inSession: false, where: "" });
  } finally {
    // Close in good order, but a call given up on at Ctrl-C may never be answered: do not wait long for it.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([client.close(), new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)))]);
    clearTimeout(timer);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`swarmctl: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(EXIT.refused);
  },
);
