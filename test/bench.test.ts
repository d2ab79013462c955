import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import t from "tap";
import { tempDir } from "./helpers/daemon.js";

// `npm run bench` in miniature: the harness must keep working as the daemon changes. Its figures are not judged here
// (timing belongs to benchmarks, not tests); that it measures real servers and reports what it measured is.

const RUN = new URL("../dist/scripts/bench/run.js", import.meta.url).pathname;

t.test("the benchmark drives swarmd and the ceiling server, measures footprint and the sweep, and writes its results", async (t) => {
  const out = join(tempDir(t), "results.json");
  const args = ["--only", "throughput,footprint,sweep", "--ops", "ping,memory_store", "--duration", "0.3", "--warmup", "0.1", "--rounds", "1", "--entries", "5000", "--connections", "50", "--out", out];
  const run = spawnSync(process.execPath, [RUN, ...args], { encoding: "utf8", timeout: 240_000 });
  t.equal(run.status, 0, run.stderr);
  const results = JSON.parse(readFileSync(out, "utf8"));
  const cells: Array<{ server: string; op: string; connections: number; depth: number; requests: number }> = results.cells;
  for (const shape of ["1×1", "16×1", "16×32", "1×64"]) {
    for (const [server, op] of [["ceiling", "ping"], ["swarmd", "ping"], ["swarmd", "memory_store"]]) {
      const cell = cells.find((c) => c.server === server && c.op === op && `${c.connections}×${c.depth}` === shape);
      t.ok(cell && cell.requests > 0, `${server} ${op} ${shape} served requests`);
    }
  }
  t.notOk(cells.some((c) => c.server === "swarmd" && c.op === "agent_list"), "--ops leaves the other operations out");
  t.ok(results.footprint.startupMs.median > 0 && results.footprint.idleRssMB > 0, "startup and RSS measured");
  t.equal(results.sweep.daemonReport.deleted, 200_000, "the sweep deleted every expired entry, as the daemon reports");
  t.match(run.stdout, /target\s+goal/, "the table of targets is printed");
  t.ok(results.targets.some((x: { name: string }) => x.name === "ping 16×32"), "targets are judged from the same run");
});

t.test("bad options are refused with the usage text", async (t) => {
  const run = spawnSync(process.execPath, [RUN, "--duration", "soon"], { encoding: "utf8" });
  t.equal(run.status, 2);
  t.match(run.stderr, /--duration must be a positive number/);
  t.match(run.stderr, /Usage: npm run bench/);
});
