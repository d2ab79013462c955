import type { FloorRow } from "./floor.js";
import type { Footprint } from "./footprint.js";
import type { LoadResult } from "./processes.js";
import type { HistoryRow } from "./history.js";
import type { InstructionsResult } from "./instructions.js";
import type { RetentionResult } from "./retention.js";
import type { BackupMeasure, ScaleRow, SweepResult } from "./scale.js";

export interface Cell extends LoadResult {
  readonly server: string;
  readonly op: string;
  readonly connections: number;
  readonly depth: number;
}

export interface Target {
  readonly name: string;
  readonly goal: string;
  readonly measured: string;
  readonly met: boolean;
  /** For a missed goal, what this run's Node and SQLite would allow any daemon, where the run measured it. */
  readonly limit?: string | undefined;
}

/** What each swarmd operation is compared with: the ceiling server's ping, or Redis's matching command. */
const REFERENCE: Record<string, { server: string; op: string }> = {
  ping: { server: "ceiling", op: "ping" },
  memory_store: { server: "redis", op: "SET" },
  memory_retrieve: { server: "redis", op: "GET" },
  PING: { server: "ceiling", op: "ping" },
};

const shapeOf = (c: { connections: number; depth: number }): string => `${c.connections}×${c.depth}`;

function reference(cells: readonly Cell[], c: Cell): Cell | undefined {
  const ref = REFERENCE[c.op];
  return ref && cells.find((r) => r.server === ref.server && r.op === ref.op && r.connections === c.connections && r.depth === c.depth);
}

/** Measured over reference throughput, or undefined when the reference did not run. */
export function ratio(cells: readonly Cell[], c: Cell): number | undefined {
  const ref = reference(cells, c);
  return ref ? c.rps / ref.rps : undefined;
}

const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }) : "—");

/** The issue's targets, each judged on figures from this one run. */
export function checkTargets(results: Record<string, unknown>): Target[] {
  const cells = (results.cells ?? []) as Cell[];
  const floor = (results.floor ?? []) as FloorRow[];
  const targets: Target[] = [];
  const find = (server: string, op: string, shape: string): Cell | undefined => cells.find((c) => c.server === server && c.op === op && shapeOf(c) === shape);
  /**
   * For a missed goal of `needed`/s at `shape`: the most this run's Node and SQLite would allow any daemon. The
   * ceiling's ping limits every operation. A store also pays SQLite on the same event loop, so the ceiling's server
   * time a request plus SQLite's cheapest upsert in transactions no larger than the shape keeps in flight limit it too.
   */
  const limit = (op: string, shape: string, needed: number): string | undefined => {
    const ceiling = find("ceiling", "ping", shape);
    if (!ceiling) return undefined;
    if (needed > ceiling.rps) return `the ceiling's ping did ${fmt(ceiling.rps)}/s, under the ${fmt(needed)}/s needed`;
    if (op !== "memory_store") return undefined;
    const cheapest = floor.filter((f) => f.database === "file" && f.perTransaction <= ceiling.connections * ceiling.depth).sort((a, b) => a.usPerRow - b.usPerRow)[0];
    if (!cheapest) return undefined;
    const pingUs = (ceiling.serverCpu * 1e6) / ceiling.rps;
    const most = 1e6 / (pingUs + cheapest.usPerRow);
    return `at most ${fmt(most)}/s (${most < needed ? "under" : "over"} the ${fmt(needed)}/s needed): the ceiling's ${fmt(pingUs, 1)} µs a ping + SQLite's ${fmt(cheapest.usPerRow, 1)} µs a row (${cheapest.perTransaction}/transaction)`;
  };
  const byRatio = (op: string, shapes: string[], min: number, against: string): void => {
    for (const shape of shapes) {
      const c = find("swarmd", op, shape);
      const ref = c && reference(cells, c);
      if (!c || !ref) continue;
      const r = c.rps / ref.rps;
      const met = r >= min;
      targets.push({ name: `${op} ${shape}`, goal: `≥ ${min}× ${against}`, measured: `${fmt(r, 2)}×`, met, limit: met ? undefined : limit(op, shape, min * ref.rps) });
    }
  };
  const all = ["1×1", "16×1", "16×32", "1×64"];
  byRatio("ping", all, 0.9, "ceiling");
  byRatio("memory_store", ["1×1", "16×1"], 0.6, "Redis SET");
  const pipelined = find("swarmd", "memory_store", "16×32");
  if (pipelined) {
    const met = pipelined.rps >= 150_000;
    targets.push({ name: "memory_store 16×32", goal: "≥ 150,000/s", measured: `${fmt(pipelined.rps)}/s`, met, limit: met ? undefined : limit("memory_store", "16×32", 150_000) });
  }
  byRatio("memory_retrieve", all, 0.7, "Redis GET");
  const list = find("swarmd", "agent_list", "1×1");
  if (list) targets.push({ name: "agent_list (1,000 agents) 1×1", goal: "p99 ≤ 5 ms", measured: `${fmt(list.p99Us / 1000, 2)} ms`, met: list.p99Us <= 5000 });
  const ceiling = cells.filter((c) => c.server === "ceiling");
  if (ceiling.length > 0) {
    const busiest = Math.max(...ceiling.map((c) => c.generatorCpu));
    targets.push({ name: "load generator vs ceiling", goal: "generator < 1 core", measured: `${fmt(busiest, 2)} core at most`, met: busiest < 0.95 });
  }
  const footprint = results.footprint as Footprint | undefined;
  if (footprint) {
    targets.push({ name: "startup to first accept", goal: "≤ 300 ms", measured: `${fmt(footprint.startupMs.median)} ms`, met: footprint.startupMs.median <= 300 });
    targets.push({ name: "idle RSS", goal: "≤ 80 MB", measured: `${fmt(footprint.idleRssMB, 1)} MB`, met: footprint.idleRssMB <= 80 });
  }
  const scale = results.scale as ScaleRow[] | undefined;
  if (scale && scale.length === 2) {
    const [small, large] = scale as [ScaleRow, ScaleRow];
    for (const op of ["store", "retrieve"] as const) {
      const r = large[op].rps / small[op].rps;
      targets.push({ name: `memory_${op} at ${fmt(large.entries)} vs ${fmt(small.entries)} entries`, goal: "flat (≥ 0.8×)", measured: `${fmt(r, 2)}×`, met: r >= 0.8 });
    }
  }
  const history = results.history as HistoryRow[] | undefined;
  if (history && history.length === 2) {
    const [young, old] = history as [HistoryRow, HistoryRow];
    const sizes = `${fmt(old.finishedTasks)} vs ${fmt(young.finishedTasks)} finished tasks`;
    for (const [name, key] of [["swarm_status", "swarmStatus"], ["task_list (failed)", "failedTasks"]] as const) {
      const r = old[key].rps / young[key].rps;
      targets.push({ name: `${name} at ${sizes}`, goal: "flat (≥ 0.8×)", measured: `${fmt(r, 2)}×`, met: r >= 0.8 });
    }
    const r = young.roundTrip.p50Ms / old.roundTrip.p50Ms;
    targets.push({ name: `task round trip at ${sizes}`, goal: "flat (≥ 0.8×)", measured: `${fmt(r, 2)}×`, met: r >= 0.8 });
  }
  return targets;
}

export function printReport(results: Record<string, any>): void {
  const out: string[] = [];
  const m = results.machine;
  out.push(`swarmd ${m.swarmd} · ${results.date} · ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB · Node ${m.node}`);
  const st = results.settings;
  out.push(`each cell: ${fmt(st.warmupMs / 1000, 1)} s warm-up + ${fmt(st.durationMs / 1000, 1)} s measured, ${st.rounds} rounds taken in turns; the median round is shown`);
  const cells = (results.cells ?? []) as Cell[];
  if (cells.length > 0) {
    out.push("", "shape   server   operation          req/s     p50 µs    p99 µs  server CPU  gen CPU   ratio");
    for (const c of cells) {
      const r = ratio(cells, c);
      const cols = [
        shapeOf(c).padEnd(7),
        c.server.padEnd(8),
        c.op.padEnd(16),
        fmt(c.rps).padStart(9),
        fmt(c.p50Us).padStart(10),
        fmt(c.p99Us).padStart(9),
        fmt(c.serverCpu, 2).padStart(11),
        fmt(c.generatorCpu, 2).padStart(8),
        (r === undefined ? "" : `${fmt(r, 2)}× ${REFERENCE[c.op]?.op}`).padStart(12),
      ];
      out.push(cols.join(" "));
    }
  }
  const ir = results.instructions as InstructionsResult | undefined;
  if (ir && "skipped" in ir) out.push("", `Instructions a request: skipped, ${ir.skipped}`);
  else if (ir) {
    const ceiling = ir.rows.find((r) => r.server === "ceiling" && r.op === "ping");
    out.push(
      "",
      `Instructions a request (callgrind; ${ir.connections}×${ir.depth} in lockstep; ${fmt(ir.requests)} counted after ${fmt(ir.warmupRequests)}; ` +
        `median of ${ir.rows[0]?.rounds.length ?? 0}):`,
    );
    for (const r of ir.rows) {
      const vs = ceiling && r !== ceiling && r.op === "ping" ? ` (the ceiling's ping ÷ this: ${fmt(ceiling.perRequest / r.perRequest, 2)}×)` : "";
      out.push(`  ${r.server.padEnd(8)} ${r.op.padEnd(16)} ${fmt(r.perRequest).padStart(9)}${vs}  rounds: ${r.rounds.map((n) => fmt(n / ir.requests)).join(", ")}`);
    }
  }
  const floor = (results.floor ?? []) as FloorRow[];
  if (floor.length > 0) {
    out.push("", "SQLite alone — the daemon's memory upsert and group commit, sustained; no socket, JSON or reply; µs a row:");
    for (const database of ["file", "memory"] as const) {
      const rows = floor.filter((f) => f.database === database);
      const label = database === "file" ? "the daemon's file (WAL, checkpoints in the worker)" : "in memory (no page written anywhere)";
      out.push(`  ${label.padEnd(52)} ${rows.map((f) => `${f.perTransaction}/transaction ${fmt(f.usPerRow, 1)}`).join(" · ")}`);
    }
  }
  const f = results.footprint as Footprint | undefined;
  if (f) {
    out.push("", `startup to first accepted connection: median ${fmt(f.startupMs.median)} ms (${f.startupMs.runs.map((x) => fmt(x)).join(", ")}); a bare node that only listens: ${fmt(f.nodeFloorMs)} ms`);
    out.push(`first tools/list of a fresh daemon: ${fmt(f.firstToolsListMs.atOnce, 1)} ms sent as it accepts, ${fmt(f.firstToolsListMs.later, 1)} ms 2 s later`);
    out.push(`RSS idle ${fmt(f.idleRssMB, 1)} MB · with ${fmt(f.connections)} idle connections ${fmt(f.rssWithConnectionsMB, 1)} MB (ping meanwhile ${fmt(f.pingWithConnectionsMs, 1)} ms) · after they close ${fmt(f.rssAfterCloseMB, 1)} MB`);
  }
  for (const row of (results.scale ?? []) as ScaleRow[]) {
    out.push(`${fmt(row.entries).padStart(9)} entries: memory_store ${fmt(row.store.rps)}/s p99 ${fmt(row.store.p99Us)} µs · memory_retrieve ${fmt(row.retrieve.rps)}/s p99 ${fmt(row.retrieve.p99Us)} µs (16×1, row cache off)`);
  }
  for (const row of (results.history ?? []) as HistoryRow[]) {
    out.push(
      `${fmt(row.finishedTasks).padStart(9)} finished tasks: swarm_status ${fmt(row.swarmStatus.rps)}/s p99 ${fmt(row.swarmStatus.p99Us)} µs · ` +
        `task_list (failed) ${fmt(row.failedTasks.rps)}/s p99 ${fmt(row.failedTasks.p99Us)} µs (16×1) · ` +
        `task submitted → run by a worker → awaited p50 ${fmt(row.roundTrip.p50Ms, 1)} ms p99 ${fmt(row.roundTrip.p99Ms, 1)} ms`,
    );
  }
  const r = results.retention as RetentionResult | undefined;
  if (r) {
    const d = r.daemonReport;
    out.push(
      `Task retention over ${fmt(r.finishedTasks)} finished tasks, the older half expired: ` +
        (d ? `${fmt(d.deleted)} deleted (${fmt(d.rows)} task rows, phases included) in ${fmt(d.durationMs)} ms, longest slice ${fmt(d.longestSliceMs, 1)} ms; ` : "no pass logged; ") +
        `pings meanwhile ${fmt(r.pingDuringPass.rps)}/s, worst second's p99 ${fmt(r.pingDuringPass.p99Us)} µs, slowest ${fmt(r.pingDuringPass.maxUs / 1000, 1)} ms ` +
        `(after it: ${fmt(r.pingAfterPass.rps)}/s, p99 ${fmt(r.pingAfterPass.p99Us)} µs)`,
    );
  }
  const s = results.sweep as SweepResult | undefined;
  if (s) {
    const d = s.daemonReport;
    out.push(
      `TTL sweep of ${fmt(s.expired)} entries expiring together beside ${fmt(s.liveEntries)}: ` +
        (d ? `${fmt(d.deleted)} deleted in ${fmt(d.slices)} slices over ${fmt(d.durationMs)} ms, longest slice ${fmt(d.longestSliceMs, 1)} ms; ` : "no sweep report; ") +
        `pings meanwhile p99 ${fmt(s.pingDuringSweep.p99Us)} µs, slowest ${fmt(s.pingDuringSweep.maxUs / 1000, 1)} ms`,
    );
  }
  const b = results.backup as BackupMeasure | undefined;
  if (b) {
    out.push(
      `server_backup of ${fmt(b.entries)} entries: ` +
        (b.backup ? `${fmt(b.backup.bytes / 2 ** 20, 1)} MiB in ${fmt(b.backup.durationMs)} ms; ` : "no backup reply; ") +
        `pings meanwhile p99 ${fmt(b.pingDuringBackup.p99Us)} µs, slowest ${fmt(b.pingDuringBackup.maxUs / 1000, 1)} ms`,
    );
  }
  const targets = (results.targets ?? []) as Target[];
  if (targets.length > 0) {
    out.push("", "target                                   goal                 measured");
    for (const t of targets) out.push(`${t.met ? "met " : "MISS"} ${t.name.padEnd(38)} ${t.goal.padEnd(20)} ${t.measured.padEnd(16)}${t.limit ?? ""}`.trimEnd());
  }
  process.stdout.write(out.join("\n") + "\n");
}
