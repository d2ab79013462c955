import Database from "better-sqlite3";
import { parseCli } from "../../src/config/cli.js";
import { CHECKPOINT_INTERVAL_MS } from "../../src/store/checkpointer.js";
import { openStore } from "../../src/store/db.js";
import { MemoryCache } from "../../src/store/memory-cache.js";
import { MemoryRepo } from "../../src/store/memory-repo.js";
import { migrate } from "../../src/store/migrations.js";
import { WriteQueue } from "../../src/store/write-queue.js";
import { prefillMemory, tempDbPath } from "./processes.js";
import { keyFor, VALUE } from "./requests.js";

export interface FloorRow {
  /** `file`: the daemon's database setup; `memory`: an in-memory database, SQLite's work without any file writes. */
  readonly database: "file" | "memory";
  /** Writes committed together: 1 runs in autocommit, as a write alone in its event-loop turn does. */
  readonly perTransaction: number;
  /** Median over the rounds. */
  readonly usPerRow: number;
}

/**
 * Rows per transaction: the most group commit can gather at each load shape (connections × requests in flight), from
 * a write alone in its turn (1 × 1, autocommit) to a whole pipelined window (16 × 32).
 */
export const BATCHES = [1, 16, 64, 512] as const;

/**
 * What SQLite alone costs a memory_store on this machine, sustained: the daemon's own write path — MemoryRepo.upsert
 * queued on the WriteQueue, committed in the next event-loop turn, acknowledged — over the load generator's keys and
 * value for `durationMs`, with the daemon's default row cache (a cached row lets a replace skip RETURNING) and nothing
 * else: no socket, no JSON, no reply. `file` is the daemon's database setup (WAL, synchronous=normal, checkpoints in
 * the worker, writes held while the WAL is caught up) prefilled like the throughput cells; `memory` is the same on an
 * in-memory database, SQLite's b-tree work with no pages written anywhere. Timed by the clock, not the CPU, so the
 * pauses the daemon's writes would wait through count. 1e6 / usPerRow bounds memory_store's throughput for a thread
 * that did nothing but store.
 */
export async function measureStoreFloor(dir: string, keys: number, durationMs: number, rounds: number): Promise<FloorRow[]> {
  const rows: FloorRow[] = [];
  for (const database of ["file", "memory"] as const) {
    for (const perTransaction of BATCHES) {
      const samples: number[] = [];
      for (let round = 0; round < rounds; round++) samples.push(await timeUpserts(dir, database, perTransaction, keys, durationMs));
      samples.sort((a, b) => a - b);
      rows.push({ database, perTransaction, usPerRow: samples[Math.floor(samples.length / 2)] as number });
    }
  }
  return rows;
}

interface FloorDatabase {
  readonly writes: WriteQueue;
  readonly repo: MemoryRepo;
  /** Resolves once the database runs as the daemon's does in steady state. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/** A row cache of the daemon's default size. */
function defaultCache(): MemoryCache {
  const command = parseCli([], {});
  if (command.kind !== "run") throw new Error("the daemon's defaults did not parse");
  return new MemoryCache(command.config.memoryCacheMb * 1024 * 1024);
}

async function open(dir: string, database: FloorRow["database"], keys: number, name: string): Promise<FloorDatabase> {
  if (database === "memory") {
    const db = new Database(":memory:");
    migrate(db);
    return { writes: new WriteQueue(db), repo: new MemoryRepo(db, defaultCache()), ready: async () => {}, close: async () => void db.close() };
  }
  const path = tempDbPath(dir, name);
  await prefillMemory(path, keys);
  const store = await openStore(path, { synchronous: "normal" });
  store.checkpointer.start(CHECKPOINT_INTERVAL_MS, (problem) => process.stderr.write(`bench: ${problem}\n`));
  return {
    writes: store.writes,
    repo: new MemoryRepo(store.db, defaultCache()),
    // The worker starts once the WAL holds something; until then SQLite checkpoints inline, which the daemon does not.
    async ready() {
      const deadline = Date.now() + 5000;
      while (store.checkpointer.stats.mode !== "worker") {
        if (Date.now() > deadline) throw new Error("the checkpoint worker did not start");
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    close: async () => {
      await store.close();
    },
  };
}

async function timeUpserts(dir: string, database: FloorRow["database"], perTransaction: number, keys: number, durationMs: number): Promise<number> {
  const { writes, repo, ready, close } = await open(dir, database, keys, `floor-${perTransaction}-${process.hrtime.bigint()}`);
  const value = JSON.stringify(VALUE);
  const size = Buffer.byteLength(value);
  let n = 0;
  // One transaction's worth, queued in one turn as the daemon queues a wave of requests, and awaited as its replies are.
  const batch = (): Promise<unknown> => {
    const acks: Array<Promise<unknown>> = [];
    for (let i = 0; i < perTransaction; i++, n++) {
      // Fixed now, not read by the closure: it runs at commit, when n has moved on to the next batch.
      const row = { namespace: "default", key: keyFor(n, keys), value, size, tags: null, now: Date.now(), expiresAt: null };
      acks.push(writes.write(() => repo.upsert(row, false), true));
    }
    return Promise.all(acks);
  };
  try {
    while (n < keys) await batch(); // every key once, so the measured rows all replace an existing one, as in the cells
    await ready();
    const started = performance.now();
    const rowsBefore = n;
    while (performance.now() - started < durationMs) await batch();
    return ((performance.now() - started) * 1e3) / (n - rowsBefore);
  } finally {
    await close();
  }
}
