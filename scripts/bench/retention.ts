import { drive, startSwarmd, tempDbPath, type LoadResult } from "./processes.js";
import { prefillHistory, swarmWithAgent } from "./history.js";

export interface RetentionResult {
  readonly finishedTasks: number;
  /** What the daemon logged of its first pass: tasks deleted, time, longest slice of event-loop time. */
  readonly daemonReport: { deleted: number; rows: number; durationMs: number; longestSliceMs: number } | null;
  /**
   * Pings back to back over one connection from just after the daemon listened until the pass had ended, in runs of a
   * second: the rate over all of them, and the worst run's latencies.
   */
  readonly pingDuringPass: LoadResult;
  /** The same for two seconds once the pass has ended: what the machine manages meanwhile without it. */
  readonly pingAfterPass: LoadResult;
}

/**
 * A history of `tasks` finished tasks, one a second until now, under a retention of half that span: the daemon's
 * first pass deletes the older half (tasks, assignments) while one connection pings back to back.
 */
export async function measureRetention(dir: string, tasks: number): Promise<RetentionResult> {
  const db = tempDbPath(dir, "retention");
  const { swarmId, agentId } = await swarmWithAgent(db);
  await prefillHistory(db, swarmId, agentId, tasks);
  const swarmd = await startSwarmd(db, { SWARMD_TASK_RETENTION: String(Math.floor(tasks / 2)) });
  try {
    const passed = (): Record<string, unknown> | undefined => swarmd.daemon.logs.find((l) => /^deleted \d+ tasks finished/.test(String(l.msg)));
    const pings: LoadResult[] = [];
    // Pinged in short runs until the pass has been logged, so the pings cover the whole pass however long it takes.
    for (let run = 0; run < 60 && (run === 0 || passed() === undefined); run++) {
      pings.push(await drive(swarmd, { protocol: "ndjson", op: "ping", connections: 1, depth: 1, durationMs: 1000, warmupMs: 0 }));
    }
    const log = passed();
    const daemonReport = log === undefined ? null : { deleted: Number(log.deleted), rows: Number(log.rows), durationMs: Number(log.durationMs), longestSliceMs: Number(log.longestSliceMs) };
    const pingAfterPass = await drive(swarmd, { protocol: "ndjson", op: "ping", connections: 1, depth: 1, durationMs: 2000, warmupMs: 0 });
    return { finishedTasks: tasks, daemonReport, pingDuringPass: worstOf(pings), pingAfterPass };
  } finally {
    await swarmd.stop();
  }
}

/** The runs taken together: requests and seconds summed, everything else the worst of any run. */
function worstOf(runs: readonly LoadResult[]): LoadResult {
  const requests = runs.reduce((n, r) => n + r.requests, 0);
  const seconds = runs.reduce((n, r) => n + r.seconds, 0);
  const worst = (of: (r: LoadResult) => number): number => Math.max(...runs.map(of));
  return {
    requests,
    seconds,
    rps: requests / seconds,
    p50Us: worst((r) => r.p50Us),
    p99Us: worst((r) => r.p99Us),
    maxUs: worst((r) => r.maxUs),
    generatorCpu: worst((r) => r.generatorCpu),
    serverCpu: worst((r) => r.serverCpu),
  };
}
