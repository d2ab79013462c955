import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import t from "tap";
import { checkTargets } from "../scripts/bench/report.js";
import { tempDir } from "./helpers/daemon.js";

// `npm run bench` in miniature: the harness must keep working as the daemon changes. Its figures are not judged here
// (timing belongs to benchmarks, not tests); that it measures real servers and reports what it measured is.

const RUN = new URL("../dist/scripts/bench/run.js", import.meta.url).pathname;

t.test("the benchmark drives swarmd and the ceiling server, measures footprint, the sweep and a backup, and writes its results", async (t) => {
  const out = join(tempDir(t), "results.json");
  const args = ["--only", "throughput,floor,footprint,sweep,backup", "--ops", "ping,memory_store", "--duration", "0.3", "--warmup", "0.1", "--rounds", "1", "--entries", "5000", "--connections", "50", "--out", out];
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
  t.ok(results.backup.backup.bytes > 5000 * 100 && results.backup.pingDuringBackup.requests > 0, "a backup of the entries, timed beside pings");
  t.match(run.stdout, /server_backup of 5,000 entries: [\d.]+ MiB in \d+ ms/);
  const floor: Array<{ database: string; perTransaction: number; usPerRow: number }> = results.floor;
  t.same(floor.map((f) => `${f.database} ${f.perTransaction}`), ["file 1", "file 16", "file 64", "file 512", "memory 1", "memory 16", "memory 64", "memory 512"], "SQLite's cost measured alone, on a file and in memory, at each transaction size");
  t.ok(floor.every((f) => f.usPerRow > 0), "each with a cost a row");
  t.match(run.stdout, /SQLite alone/, "and printed");
  t.match(run.stdout, /target\s+goal/, "the table of targets is printed");
  t.ok(results.targets.some((x: { name: string }) => x.name === "ping 16×32"), "targets are judged from the same run");
});

t.test("the history check runs a worker's tasks beside reads over a young and an old history, and judges them flat or not; the retention deletes half", async (t) => {
  const out = join(tempDir(t), "results.json");
  const args = ["--only", "history,retention", "--tasks", "3000", "--duration", "0.3", "--warmup", "0.1", "--rounds", "1", "--out", out];
  const run = spawnSync(process.execPath, [RUN, ...args], { encoding: "utf8", timeout: 240_000 });
  t.equal(run.status, 0, run.stderr);
  const results = JSON.parse(readFileSync(out, "utf8"));
  const rows: Array<{ finishedTasks: number; swarmStatus: { requests: number }; failedTasks: { requests: number }; roundTrip: { tasks: number; p50Ms: number } }> =
    results.history;
  t.same(rows.map((r) => r.finishedTasks), [300, 3000], "a tenth of the history, and all of it");
  for (const r of rows) {
    t.ok(r.swarmStatus.requests > 0 && r.failedTasks.requests > 0, `${r.finishedTasks}: swarm_status and task_list served`);
    t.ok(r.roundTrip.tasks === 20 && r.roundTrip.p50Ms > 0, `${r.finishedTasks}: 20 tasks run by the worker, timed`);
  }
  t.match(run.stdout, /3,000 finished tasks: swarm_status [\d,]+\/s/);
  t.match(run.stdout, /(met |MISS) task round trip at 3,000 vs 300 finished tasks/, "judged as a target");
  // One task finished a second until the fill; those finished more than 1,500 s before the daemon's start go.
  const deleted = results.retention.daemonReport?.deleted as number;
  t.ok(deleted >= 1490 && deleted < 1600, `the retention deleted the older half, as the daemon logged: ${deleted}`);
  t.ok(results.retention.pingDuringPass.requests > 0 && results.retention.pingAfterPass.requests > 0, "pings timed during and after");
  t.match(run.stdout, /Task retention over 3,000 finished tasks, the older half expired: 1,[45]\d\d deleted/);
});

t.test("a missed target says what the ceiling, or the ceiling's ping plus SQLite's upsert, would allow", async (t) => {
  const cell = (server: string, op: string, rps: number, serverCpu = 1) => ({ server, op, connections: 16, depth: 32, rps, serverCpu, generatorCpu: 0.5, requests: 1, seconds: 1, p50Us: 1, p99Us: 1, maxUs: 1 });
  const floor = [1, 16, 64, 512].map((perTransaction) => ({ database: "file", perTransaction, usPerRow: perTransaction === 16 ? 5 : 9 }));
  // The ceiling pings 500,000/s on a whole core: 2 µs a ping; with SQLite's 5 µs a row, 1e6 / 7 ≈ 142,857 stores/s.
  const results = {
    cells: [cell("ceiling", "ping", 500_000), cell("redis", "GET", 800_000), cell("swarmd", "memory_retrieve", 150_000), cell("swarmd", "memory_store", 40_000)],
    floor,
  };
  const targets: Array<{ name: string; met: boolean; limit?: string }> = checkTargets(results);
  const get = targets.find((x) => x.name === "memory_retrieve 16×32");
  t.match(get?.limit, /the ceiling's ping did 500,000\/s, under the 560,000\/s needed/);
  const store = targets.find((x) => x.name === "memory_store 16×32");
  t.match(store?.limit, /at most 142,857\/s \(under the 150,000\/s needed\): the ceiling's 2\.0 µs a ping \+ SQLite's 5\.0 µs a row \(16\/transaction\)/);
  const fast = checkTargets({ ...results, floor: floor.map((f) => ({ ...f, usPerRow: 1 })) });
  t.match(fast.find((x) => x.name === "memory_store 16×32")?.limit, /at most 333,333\/s \(over the 150,000/, "room left where the floor leaves it");
  const met = checkTargets({ ...results, cells: results.cells.map((c) => (c.op === "memory_store" ? { ...c, rps: 200_000 } : c)) });
  t.equal(met.find((x) => x.name === "memory_store 16×32")?.limit, undefined, "a met target needs no limit");
});
