import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import t from "tap";
import { tempDir } from "./helpers/daemon.js";

// The benchmark's instruction counts (npm run bench -- --only instructions): each server really runs under callgrind
// and answers the requests counted. The counts are not judged here: over so few requests the JIT is still compiling,
// and a store may count fewer than a ping.

const RUN = new URL("../dist/scripts/bench/run.js", import.meta.url).pathname;

t.test("instructions a request are counted under callgrind for the ceiling and swarmd, or skipped with a note", async (t) => {
  const out = join(tempDir(t), "results.json");
  // Started through `env -u NODE_OPTIONS`: otherwise tap's hook, which it passes in NODE_OPTIONS, loads in every node
  // under valgrind, at valgrind's pace (an empty NODE_OPTIONS in the env given to spawnSync saved nothing).
  const args = ["-u", "NODE_OPTIONS", process.execPath, RUN, "--only", "instructions", "--instructions", "200", "--rounds", "1", "--out", out];
  const run = spawnSync("env", args, { encoding: "utf8", timeout: 400_000 });
  t.equal(run.status, 0, run.stderr);
  const results = JSON.parse(readFileSync(out, "utf8"));
  // CI installs valgrind and sets SWARMD_REQUIRE_PROBES=1, so there the part must run; elsewhere it may be skipped.
  if (spawnSync("sh", ["-c", "command -v valgrind"]).status !== 0 && process.env.SWARMD_REQUIRE_PROBES !== "1") {
    t.match(results.instructions.skipped, /valgrind is not installed/);
    t.match(run.stdout, /Instructions a request: skipped/);
    return;
  }
  const rows: Array<{ server: string; op: string; perRequest: number; rounds: number[] }> = results.instructions.rows;
  t.same(rows.map((r) => `${r.server} ${r.op}`), ["ceiling ping", "swarmd ping", "swarmd memory_retrieve", "swarmd memory_store"]);
  t.ok(rows.every((r) => r.rounds.length === 1 && r.perRequest > 0), "each counted once, over the requests it answered");
  t.match(run.stdout, /swarmd\s+ping\s+[\d,]+ \(the ceiling's ping ÷ this: [\d.]+×\)/);
});
