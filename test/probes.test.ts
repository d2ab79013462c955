import { spawn, spawnSync } from "node:child_process";
import t from "tap";
import { startDaemon } from "./helpers/daemon.js";

// The operator's probe from the protocol document, with the netcat family as shipped by Debian.
// CI installs them (.ci/run) and sets SWARMD_REQUIRE_PROBES=1 so that a missing tool fails instead of skipping.

const { port } = await startDaemon(t);
const PING = '{"jsonrpc":"2.0","id":1,"method":"ping","params":{}}\n';
const required = process.env.SWARMD_REQUIRE_PROBES === "1";

interface Probe {
  name: string;
  bin: string;
  args: string[];
  /** Plain OpenBSD nc never half-closes: it prints the reply, then waits until killed. */
  waitsForever?: boolean;
}

const host = "127.0.0.1";
const probes: Probe[] = [
  { name: "nc -N", bin: "nc", args: ["-N", host, String(port)] },
  { name: "nc -q1", bin: "nc", args: ["-q1", host, String(port)] },
  { name: "nc -w1", bin: "nc", args: ["-w1", host, String(port)] },
  { name: "nc (plain)", bin: "nc", args: [host, String(port)], waitsForever: true },
  { name: "ncat", bin: "ncat", args: [host, String(port)] },
  { name: "socat", bin: "socat", args: ["-", `TCP:${host}:${port}`] },
  { name: "busybox nc", bin: "busybox", args: ["nc", host, String(port)] },
];

function installed(bin: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${bin}`]).status === 0;
}

/** Pipes `input` into the probe; resolves with what it printed once `lines` lines arrived or it exited. */
function probe(p: Probe, input: string, lines: number): Promise<{ out: string; exited: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(p.bin, p.args);
    let out = "";
    const timer = setTimeout(() => finish(false), 5000);
    const finish = (exited: boolean): void => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      resolve({ out, exited });
    };
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      if (p.waitsForever && out.split("\n").length > lines) finish(false);
    });
    child.on("exit", () => finish(true));
    child.stdin.end(input);
  });
}

for (const p of probes) {
  const missing = !installed(p.bin) && !required ? `${p.bin} is not installed (CI installs it)` : false;
  t.test(`echo ping | ${p.name}`, { skip: missing }, async (t) => {
    if (!installed(p.bin)) t.fail(`${p.bin} is not installed`);
    const { out, exited } = await probe(p, PING, 1);
    t.match(out, /^\{"jsonrpc":"2\.0","id":1,"result":\{"status":"ok","timestamp":\d+\}\}\n$/);
    if (!p.waitsForever) t.ok(exited, "the probe exits on its own: the server closed after answering");
  });
}

t.test("a client that sends several requests and half-closes gets every reply", async (t) => {
  for (const p of probes.filter((x) => !x.waitsForever)) {
    if (!installed(p.bin)) continue;
    const input = [
      '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-11-05"}}',
      '{"jsonrpc":"2.0","method":"notifications/initialized"}',
      '{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}',
      '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"server_info","arguments":{}}}',
      '{"jsonrpc":"2.0","id":4,"method":"ping","params":{}}',
    ].join("\n");
    const { out } = await probe(p, input + "\n", 4);
    const ids = out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).id);
    t.same(ids, [1, 2, 3, 4], p.name);
  }
});
