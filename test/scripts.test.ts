// The developer scripts (npm run bench, fuzz, crash-test) answer their command line as the daemon's CLI does: --help
// prints the usage, and a mistake is one line plus the usage on stderr with exit code 2 — before anything starts.
import { spawnSync } from "node:child_process";
import t from "tap";

const SCRIPTS = [
  { name: "bench", file: "bench/run.js", usage: /^Usage: npm run bench -- \[options\]/, number: "--duration" },
  { name: "fuzz", file: "fuzz.js", usage: /^Usage: npm run fuzz -- \[--lines n\] \[--seed n\]/, number: "--lines" },
  { name: "crash-test", file: "crash-test.js", usage: /^Usage: npm run crash-test -- \[--rounds n\] \[--writers n\]/, number: "--rounds" },
] as const;

function run(file: string, ...args: string[]) {
  return spawnSync(process.execPath, [new URL(`../dist/scripts/${file}`, import.meta.url).pathname, ...args], { encoding: "utf8", timeout: 30_000 });
}

for (const s of SCRIPTS) {
  t.test(`npm run ${s.name}: --help, unknown options and bad numbers`, async (t) => {
    const help = run(s.file, "--help");
    t.equal(help.status, 0, "--help exits 0");
    t.match(help.stdout, s.usage, "and prints the usage on stdout");
    t.equal(help.stderr, "");

    for (const [args, why] of [
      [["--bogus"], /^[a-z-]+: Unknown option '--bogus'/],
      [[s.number, "soon"], new RegExp(`^[a-z-]+: ${s.number} must be a positive number, got "soon"`)],
      [[s.number, "0"], new RegExp(`^[a-z-]+: ${s.number} must be a positive number, got "0"`)],
      [[s.number], new RegExp(`^[a-z-]+: Option '${s.number} <value>' argument missing`)],
    ] as const) {
      const r = run(s.file, ...args);
      t.equal(r.status, 2, `${args.join(" ")}: exit 2`);
      t.match(r.stderr, why, `${args.join(" ")}: says why in one line`);
      t.match(r.stderr, new RegExp(`\\n\\n${s.usage.source.slice(1)}`), "then the usage");
      t.notMatch(r.stderr, /\n\s+at /, "no stack trace");
      t.equal(r.stdout, "", "nothing on stdout");
    }
  });
}

t.test("npm run bench: --only and --ops name what exists", async (t) => {
  const only = run("bench/run.js", "--only", "throughput,footprnt");
  t.equal(only.status, 2);
  t.match(only.stderr, /^bench: --only: no "footprnt"; choose from throughput, instructions, floor, footprint, scale, history, retention, sweep, backup\n/);
  const ops = run("bench/run.js", "--ops", "ping,get");
  t.equal(ops.status, 2);
  t.match(ops.stderr, /^bench: --ops: no "get"; choose from ping, memory_store, memory_retrieve, agent_list, tools_list\n/);
});
