import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { toolContracts } from "../src/protocol/tools/index.js";
import { startListening } from "./daemon-process.js";
import { judgeLine, lineArbitrary } from "./fuzz-lines.js";
import { LineClient } from "./line-client.js";
import { scriptArgs } from "./script-args.js";

const HELP = `Usage: npm run fuzz -- [--lines n] [--seed n]

Fuzzes a fresh daemon (temporary database): random lines — bytes, broken JSON, odd JSON-RPC, tool calls with arguments
of any shape — each judged by JSON-RPC 2.0's rules. Prints a JSON report; exits 1 on a violation or a dead daemon.

Options:
  --lines <n>   lines to send (default 10000)
  --seed <n>    the random seed, to replay a run (default: from the clock; the report names it)
  --help        this text
`;
const values = scriptArgs("fuzz", HELP, { lines: { default: "10000", number: true }, seed: { number: true, zero: true } });
const total = Math.round(Number(values.lines));
const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Math.round(Number(values.seed));

const dir = mkdtempSync(join(tmpdir(), "swarmd-fuzz-"));
const daemon = await startListening(["--db", join(dir, "fuzz.db")]);
const c = await LineClient.connect(daemon.port);
const names = toolContracts.map((t) => t.name).filter((n) => n !== "task_wait" && n !== "task_claim");
const lines = fc.sample(lineArbitrary(names), { numRuns: total, seed });

const started = Date.now();
let replies = 0;
const violations: string[] = [];
const codes = new Map<string, number>();
for (const [i, line] of lines.entries()) {
  const judged = await judgeLine(c, line, `fuzz-sentinel-${i}`);
  replies += judged.replies.length;
  for (const r of judged.replies) {
    for (const m of [JSON.parse(r)].flat() as Array<{ error?: { code: number } }>) {
      const code = m.error ? String(m.error.code) : "result";
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
  }
  if (judged.problems.length > 0) violations.push(`${JSON.stringify(line.toString("utf8")).slice(0, 120)}: ${judged.problems.join("; ")}`);
  if (daemon.proc.exitCode !== null) break;
}
const alive = daemon.proc.exitCode === null && (await c.request("ping", {}, "fuzz-final")).result !== undefined;
const report = {
  seed,
  lines: lines.length,
  replies,
  byCode: Object.fromEntries([...codes].sort()),
  violations: violations.length,
  daemonAlive: alive,
  seconds: (Date.now() - started) / 1000,
};
process.stdout.write(JSON.stringify(report, null, 2) + "\n");
for (const v of violations.slice(0, 20)) process.stderr.write(`violation: ${v}\n`);
c.close();
daemon.proc.kill("SIGTERM");
await daemon.exited;
rmSync(dir, { recursive: true, force: true });
process.exit(violations.length === 0 && alive ? 0 : 1);
