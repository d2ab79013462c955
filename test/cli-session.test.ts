// swarmctl with no command: a session of commands on one connection, typed at a prompt or read from standard input.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import t from "tap";
import { splitWords } from "../src/cli/words.js";
import { agentList, swarmInit } from "../src/protocol/tools/index.js";
import { LineClient } from "../scripts/line-client.js";
import { freePort, startDaemon, tempDir } from "./helpers/daemon.js";
import { spawnListening } from "./helpers/spawn.js";
import { startSwarmctl as swarmctl, SWARMCTL } from "./helpers/swarmctl.js";
import { callTool } from "./helpers/tools.js";

t.test("a line splits into words as a shell splits it, without expansions", async (t) => {
  t.same(splitWords("  memory set  greeting hello "), ["memory", "set", "greeting", "hello"]);
  t.same(splitWords(`task run "make test" --caps 'a b'`), ["task", "run", "make test", "--caps", "a b"]);
  t.same(splitWords(`memory set q "she said \\"hi\\" \\\\o/"`), ["memory", "set", "q", 'she said "hi" \\o/'], 'in "…" only \\" and \\\\ are escapes');
  t.same(splitWords(`memory set q 'no \\escapes "here"'`), ["memory", "set", "q", 'no \\escapes "here"'], "'…' keeps everything");
  t.same(splitWords(`call memory_store key=a\\ b value=""`), ["call", "memory_store", "key=a b", "value="], "a backslash keeps a blank; an empty quote is an empty word part");
  t.same(splitWords(`memory set e ''`), ["memory", "set", "e", ""], "an empty quoted word is a word");
  t.throws(() => splitWords(`memory set q "open`), /the double quote opened at column 14 is not closed/);
});

t.test("commands from standard input share one connection: a swarm made by swarm init is the one later lines use", async (t) => {
  const { port } = await startDaemon(t);
  const c = await LineClient.connect(port);
  t.teardown(() => c.close());
  // Two swarms already active: a command on a connection of its own cannot tell which one it means.
  await callTool(t, c, swarmInit, {});
  await callTool(t, c, swarmInit, {});
  const alone = swarmctl(["--port", String(port), "agent", "spawn", "coder"]);
  t.equal(await alone.exited, 1);
  t.match(alone.out.stderr, /^swarmctl: 2 swarms are active; pick one with --swarm/);

  const s = swarmctl(["--port", String(port)]);
  s.child.stdin.end(
    [
      "# a swarm of our own, then an agent in it",
      "swarm init --topology ring",
      "",
      "agent spawn coder",
      `memory set note "two words"`,
      "memory get note",
      `memory set quote 'she said "hi"'`,
      "memory get quote",
      "frobnicate",
      "agent list --port 1",
      "memory set x -",
      "bridge",
      "help agent spawn",
      "quit",
      "ping",
    ].join("\n") + "\n",
  );
  t.equal(await s.exited, 2, "the exit code of the last line that failed");
  const [swarmId, agentId, ...rest] = s.out.stdout.split("\n");
  t.match(swarmId, /^swarm_\d+_\w+$/);
  t.match(agentId, /^agent_\d+_\w+$/);
  const { agents } = await callTool(t, c, agentList, { swarmId: swarmId as string });
  t.same(
    agents.map((a) => a.id),
    [agentId],
    "the agent went to the session's swarm",
  );
  t.same(rest.slice(0, 4), ["OK (version 1)", '"two words"', "OK (version 1)", '"she said \\"hi\\""'], "quoted words reach the daemon whole");
  t.match(rest.slice(4).join("\n"), /^Usage: agent spawn <type> /, "help <command> prints its usage, as typed in a session");
  t.notMatch(s.out.stdout, /PONG/, "nothing runs after quit");
  t.same(s.out.stderr.split("\n"), [
    'swarmctl: line 9: unknown command "frobnicate" (type help for the list)',
    "swarmctl: line 10: --port is the session's: give it on the swarmctl command line",
    "swarmctl: line 11: standard input holds this session's commands: give the value on the line",
    "Usage: memory set <key> <value | -> [--ttl seconds] [--namespace ns]",
    "swarmctl: line 12: bridge takes over standard input and output: run it on its own",
    "Usage: bridge [--reconnect-for seconds]",
    "",
  ]);

  const json = swarmctl(["--port", String(port), "--json"]);
  json.child.stdin.end("memory get note\nmemory get nothing-here\n");
  t.equal(await json.exited, 1, "memory get of a missing key fails, as on its own");
  t.same(json.out.stdout.trim().split("\n").map((l) => JSON.parse(l).value ?? null), ["two words", null], "--json for the session: every line prints JSON");
});

t.test("a session goes on across a daemon restart, connecting again for the next line", async (t) => {
  const port = await freePort();
  const db = join(tempDir(t), "session.db");
  const first = await spawnListening(t, ["--db", db, "--port", String(port), "--http-port", "0"]);
  const s = swarmctl(["--port", String(port)]);
  t.teardown(() => s.child.kill("SIGKILL"));
  s.child.stdin.write("memory set k v1\n");
  await s.until(() => s.out.stdout.includes("OK (version 1)"), "the first line's reply");
  first.proc.kill("SIGTERM");
  await new Promise((resolve) => first.proc.once("exit", resolve));
  await spawnListening(t, ["--db", db, "--port", String(port), "--http-port", "0"]);
  s.child.stdin.end("memory get k\n");
  t.equal(await s.exited, 0);
  t.same(s.out.stdout, 'OK (version 1)\n"v1"\n');
  t.equal(s.out.stderr, "");
});

t.test("Ctrl-C while waiting for a reply ends swarmctl at once: 130 alone or in a script (any line), 0 for a watch", async (t) => {
  // A server that accepts and never answers: only Ctrl-C ends the wait before the 30-second timeout.
  const silent = createServer((socket: Socket) => socket.on("error", () => {}));
  const sockets = new Set<Socket>();
  silent.on("connection", (s: Socket) => sockets.add(s));
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    silent.close();
  });
  const port = String((silent.address() as { port: number }).port);
  for (const [what, args, input, code, said] of [
    ["a command", ["--port", port, "agent", "list"], "", 130, "swarmctl: interrupted\n"],
    ["a script", ["--port", port], "agent list\nping\n", 130, "swarmctl: line 1: interrupted\n"],
    ["a watch", ["--port", port, "agent", "list", "--watch", "1"], "", 0, ""],
    ["a watch in a script", ["--port", port], "agent list --watch 1\nping\n", 130, ""],
  ] as const) {
    const s = swarmctl([...args]);
    s.child.stdin.end(input);
    await s.until(() => sockets.size > 0, "the connection");
    await new Promise((r) => setTimeout(r, 200));
    const sent = Date.now();
    s.child.kill("SIGINT");
    t.equal(await s.exited, code, `${what}: exit ${code}`);
    t.ok(Date.now() - sent < 2_000, `${what}: at once (${Date.now() - sent} ms)`);
    t.equal(s.out.stderr, said);
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  }
});

const hasScript = spawnSync("script", ["--version"]).status === 0;

t.test("at a terminal: a prompt, Tab completion, Ctrl-C stops a wait or drops a line, history kept, Ctrl-D leaves", { skip: !hasScript && "script(1) from util-linux is not installed" }, async (t) => {
  const { port } = await startDaemon(t);
  const history = join(tempDir(t), "history");
  // script(1) runs swarmctl on a pseudo-terminal and passes our keystrokes to it. `exec`: no shell between them, to
  // be stopped by the Ctrl-C that the terminal sends to every process in the foreground.
  const term = swarmctl([], { SWARMCTL_HISTORY: history, TERM: "xterm" }, "script", ["-qfec", `exec ${process.execPath} ${SWARMCTL} --port ${port}`, "/dev/null"]);
  t.teardown(() => term.child.kill("SIGKILL"));
  const prompt = `127.0.0.1:${port}> `;
  const promptRe = prompt.replace(/\./g, "\\.");
  // What a reader of the terminal sees, less readline's cursor movements.
  const screen = (): string => term.out.stdout.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "").replace(/\r+\n/g, "\n");
  const prompts = (): number => screen().split(prompt).length - 1;
  await term.until(() => prompts() === 1, "the prompt");
  t.match(screen(), /^Type "help" for the commands, "quit" or Ctrl-D to leave\.\n/);

  // Tab completes a command's name, a tool's name after call (asked of the daemon), and an option.
  term.child.stdin.write("swarm i\t");
  await term.until(() => screen().endsWith("swarm init "), "swarm init, completed");
  term.child.stdin.write("\r");
  await term.until(() => prompts() === 2, "the next prompt");
  t.match(screen(), new RegExp(`${promptRe}swarm init \\nswarm_\\d+_\\w+\\n${promptRe}$`));
  term.child.stdin.write("memory set completed yes\r");
  await term.until(() => prompts() === 3, "the prompt after memory set");
  term.child.stdin.write("call memory_retr\t");
  await term.until(() => screen().endsWith("call memory_retrieve "), "the tool's name, completed");
  term.child.stdin.write("key=completed\r");
  await term.until(() => prompts() === 4, "the prompt after call");
  t.match(screen(), /"value": "yes"/, "the completed call ran");
  term.child.stdin.write("memory get completed --r\t");
  await term.until(() => screen().endsWith("--raw "), "an option, completed");
  term.child.stdin.write("\r");
  await term.until(() => prompts() === 5, "the prompt after memory get");
  t.match(screen(), new RegExp(`memory get completed --raw \\nyes${promptRe}$`), "--raw prints the text as it is");

  term.child.stdin.write("this line is dropped\x03");
  await term.until(() => prompts() === 6, "a fresh prompt after Ctrl-C");
  t.match(screen(), new RegExp(`this line is dropped\\^C\\n${promptRe}$`));

  term.child.stdin.write('task run "never runs" --caps nobody --wait\r');
  await term.until(() => /\[ +\] +0%/.test(screen()), "the progress bar of the wait");
  term.child.stdin.write("\x03");
  await term.until(() => prompts() === 7, "the prompt after Ctrl-C stopped the wait");
  t.match(screen(), /swarmctl: stopped waiting; (task_\d+_\w+) goes on \(swarmctl task wait \1; swarmctl task cancel \1\)\n/);

  term.child.stdin.write("\x04");
  t.equal(await term.exited, 0, "Ctrl-D leaves, exit 0");
  t.same(
    readFileSync(history, "utf8").split("\n"),
    ["swarm init ", "memory set completed yes", "call memory_retrieve key=completed", "memory get completed --raw ", 'task run "never runs" --caps nobody --wait', ""],
    "typed commands kept, as completed; a dropped line not",
  );
});
