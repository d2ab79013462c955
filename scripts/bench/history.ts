import { SwarmWorker } from "../../src/client/index.js";
import { openStore } from "../../src/store/db.js";
import { LineClient } from "../line-client.js";
import { drive, medianRun, startSwarmd, tempDbPath, type LoadResult, type Server } from "./processes.js";

export interface HistoryRow {
  /** Finished tasks (and as many assignments, and a tenth as many terminated agents) in the swarm's history. */
  readonly finishedTasks: number;
  readonly swarmStatus: LoadResult;
  /** task_list of the swarm's failed tasks (one in fifty), a page of 20. */
  readonly failedTasks: LoadResult;
  /** A task submitted, run by an attached worker and awaited, one at a time: milliseconds from submit to result. */
  readonly roundTrip: { readonly tasks: number; readonly p50Ms: number; readonly p99Ms: number };
}

const SHAPE = { connections: 16, depth: 1 } as const;
const ROUND_TRIPS = 20;

/**
 * History only grows — every finished task and assignment, every terminated agent stays — so what a daemon answers
 * all day (swarm_status, a visualiser's poll), lists and the path a task takes must cost the same over a young
 * database and an old one. A swarm with one agent and an attached worker over `sizes` finished tasks each; the
 * daemons run side by side and take turns for `rounds` rounds, and each figure is the median round.
 */
export async function measureHistory(dir: string, sizes: readonly number[], durationMs: number, warmupMs: number, rounds: number): Promise<HistoryRow[]> {
  const daemons = [];
  try {
    for (const finished of sizes) {
      const db = tempDbPath(dir, `history-${finished}`);
      const { swarmId, agentId } = await swarmWithAgent(db);
      await prefillHistory(db, swarmId, agentId, finished);
      const swarmd = await startSwarmd(db);
      const worker = new SwarmWorker({ port: swarmd.port, agentId, heartbeatMs: 60_000, usage: false, handle: () => ({ ok: true }) });
      daemons.push({ finished, swarmd, worker, swarmId, status: [] as LoadResult[], failed: [] as LoadResult[], trips: [] as number[] });
      await worker.ready;
    }
    for (let round = 0; round < rounds; round++) {
      for (const d of daemons) {
        d.status.push(await drive(d.swarmd, { protocol: "ndjson", op: "swarm_status", ...SHAPE, durationMs, warmupMs, swarmId: d.swarmId }));
        d.failed.push(await drive(d.swarmd, { protocol: "ndjson", op: "task_list", ...SHAPE, durationMs, warmupMs, swarmId: d.swarmId }));
        d.trips.push(...(await roundTrips(d.swarmd, d.swarmId, ROUND_TRIPS)));
      }
    }
  } finally {
    await Promise.all(daemons.map(async (d) => (await d.worker.stop(), await d.swarmd.stop())));
  }
  return daemons.map((d) => {
    const trips = [...d.trips].sort((a, b) => a - b);
    const at = (q: number): number => trips[Math.min(trips.length - 1, Math.floor(q * trips.length))] as number;
    return {
      finishedTasks: d.finished,
      swarmStatus: medianRun(d.status),
      failedTasks: medianRun(d.failed),
      roundTrip: { tasks: trips.length, p50Ms: at(0.5), p99Ms: at(0.99) },
    };
  });
}

/** A swarm with one coder, made through the daemon so its rows are the daemon's own. */
export async function swarmWithAgent(db: string): Promise<{ swarmId: string; agentId: string }> {
  const swarmd = await startSwarmd(db);
  try {
    const client = await LineClient.connect(swarmd.port);
    const reply = await client.call("swarm_init", { name: "history", initialAgents: [{ type: "coder" }] });
    client.close();
    const swarm = reply.result?.structuredContent as { swarmId: string; agents: Array<{ agentId: string }> } | undefined;
    if (!swarm?.agents[0]) throw new Error(`swarm_init failed: ${JSON.stringify(reply.error ?? reply.result)}`);
    return { swarmId: swarm.swarmId, agentId: swarm.agents[0].agentId };
  } finally {
    await swarmd.stop();
  }
}

/**
 * `count` tasks the agent finished, one a second until now (one in fifty failed), each with its assignment and a
 * 200-byte result, and a tenth as many agents the swarm spawned and terminated, written directly (the triggers that
 * keep the counts run as they would for the daemon's writes).
 */
export async function prefillHistory(db: string, swarmId: string, agentId: string, count: number): Promise<void> {
  const store = await openStore(db, { synchronous: "normal" });
  const result = JSON.stringify({ exitCode: 0, stdout: "x".repeat(200), stderr: "" });
  const params = { count, swarmId, agentId, result, now: Date.now() };
  const numbered = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < @count)";
  store.db.transaction(() => {
    store.db
      .prepare(
        `${numbered} INSERT INTO tasks (id, seq, swarm_id, kind, description, priority, strategy, required_capabilities, parallelism,
           aggregation, failure_threshold, timeout_ms, max_attempts, backoff_ms, backoff_multiplier, status, attempts, result,
           created_at, updated_at, started_at, finished_at)
         SELECT 'task_history_' || i, i, @swarmId, 'task', 'echo ' || i, 1, 'balanced', '[]', 1, 'first', 0.5, 300000, 3, 1000, 2,
           CASE WHEN i % 50 = 0 THEN 'failed' ELSE 'completed' END, 1, @result,
           @now - (@count - i) * 1000, @now - (@count - i) * 1000 + 500, @now - (@count - i) * 1000 + 10, @now - (@count - i) * 1000 + 500
         FROM n`,
      )
      .run(params);
    store.db
      .prepare(
        `${numbered} INSERT INTO assignments (id, task_id, agent_id, attempt, status, result, assigned_at, started_at, finished_at)
         SELECT 'assignment_history_' || i, 'task_history_' || i, @agentId, 1, CASE WHEN i % 50 = 0 THEN 'failed' ELSE 'completed' END,
           @result, @now - (@count - i) * 1000, @now - (@count - i) * 1000 + 10, @now - (@count - i) * 1000 + 500
         FROM n`,
      )
      .run(params);
    store.db
      .prepare(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < @retired)
         INSERT INTO agents (id, swarm_id, seq, type, name, status, capabilities, capacity, config, resources, runtime, created_at,
           updated_at, terminated_at, termination_reason)
         SELECT 'agent_history_' || i, a.swarm_id, a.seq + i, a.type, 'retired-' || i, 'terminated', a.capabilities, a.capacity,
           a.config, a.resources, a.runtime, a.created_at, a.updated_at, a.created_at, 'history'
         FROM n, (SELECT * FROM agents WHERE id = @agentId) a`,
      )
      .run({ retired: Math.max(1, Math.floor(count / 10)), agentId });
  })();
  await store.close();
}

/** Milliseconds from task_orchestrate to task_wait's answer, for `count` tasks one after another. */
async function roundTrips(swarmd: Server, swarmId: string, count: number): Promise<number[]> {
  const client = await LineClient.connect(swarmd.port);
  const times: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      // Generous timeouts: this is where a daemon that reads its whole history on the way is slow.
      const submitted = await client.call("task_orchestrate", { task: `round trip ${i}`, swarmId }, undefined, 60_000);
      const taskId = submitted.result?.structuredContent?.taskId as string | undefined;
      if (taskId === undefined) throw new Error(`task_orchestrate failed: ${JSON.stringify(submitted.error)}`);
      const done = await client.call("task_wait", { taskId, timeoutMs: 60_000 }, undefined, 65_000);
      if (done.result?.structuredContent?.status !== "completed") throw new Error(`task ${taskId} did not complete: ${JSON.stringify(done.error ?? done.result)}`);
      times.push(performance.now() - started);
    }
  } finally {
    client.close();
  }
  return times;
}
