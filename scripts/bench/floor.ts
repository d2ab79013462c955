import Database from "better-sqlite3";
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
 * What SQLite alone costs a memory_store on this machine: the daemon's own write path — MemoryRepo.upsert queued on a
 * WriteQueue and flushed, the statement and transaction handling the daemon runs — over the load generator's keys and
 * value, with nothing else: no socket, no JSON, no reply, and the row cache off. `file` is the daemon's database setup
 * (WAL, synchronous=normal, checkpoints in the worker) prefilled like the throughput cells; `memory` is the same on an
 * in-memory database, SQLite's b-tree work with no pages written anywhere. 1e6 / usPerRow is a bound on memory_store's
 * throughput for a thread that did nothing but store.
 */
export async function measureStoreFloor(dir: string, keys: number, rowsPerRound: number, rounds: number): Promise<FloorRow[]> {
  const rows: FloorRow[] = [];
  for (const database of ["file", "memory"] as const) {
    for (const perTransaction of BATCHES) {
      const samples: number[] = [];
      for (let round = 0; round < rounds; round++) samples.push(await timeUpserts(dir, database, perTransaction, keys, rowsPerRound));
      samples.sort((a, b) => a - b);
      rows.push({ database, perTransaction, usPerRow: samples[Math.floor(samples.length / 2)] as number });
    }
  }
  return rows;
}

async function timeUpserts(dir: string, database: FloorRow["database"], perTransaction: number, keys: number, count: number): Promise<number> {
  let writes: WriteQueue;
  let repo: MemoryRepo;
  let close: () => Promise<void>;
  let ready = async (): Promise<void> => {};
  if (database === "file") {
    const path = tempDbPath(dir, `floor-${perTransaction}-${process.hrtime.bigint()}`);
    await prefillMemory(path, keys);
    const store = await openStore(path, { synchronous: "normal" });
    store.checkpointer.start(CHECKPOINT_INTERVAL_MS, (problem) => process.stderr.write(`bench: ${problem}\n`));
    writes = store.writes;
    repo = new MemoryRepo(store.db, new MemoryCache(0));
    close = () => store.close();
    // The worker starts once the WAL holds something; until then SQLite checkpoints inline, which the daemon does not.
    ready = async () => {
      const deadline = Date.now() + 5000;
      while (store.checkpointer.stats.mode !== "worker") {
        if (Date.now() > deadline) throw new Error("the checkpoint worker did not start");
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
  } else {
    const db = new Database(":memory:");
    migrate(db);
    writes = new WriteQueue(db);
    repo = new MemoryRepo(db, new MemoryCache(0));
    close = async () => {
      db.close();
    };
  }
  const value = JSON.stringify(VALUE);
  const size = Buffer.byteLength(value);
  let n = 0;
  const upserts = (total: number): void => {
    for (let done = 0; done < total; done += perTransaction) {
      for (let i = 0; i < perTransaction; i++, n++) {
        const now = Date.now();
        void writes.write(() => repo.upsert({ namespace: "default", key: keyFor(n, keys), value, size, tags: null, now, expiresAt: null }, false), true);
      }
      writes.flush();
    }
  };
  try {
    upserts(keys); // every key once, so the measured rows all replace an existing one, as in the throughput cells
    await ready();
    const started = process.hrtime.bigint();
    upserts(count);
    const us = Number(process.hrtime.bigint() - started) / 1e3 / count;
    // Let the acknowledgements settle (and the checkpoint worker run) before the next measurement.
    await new Promise((resolve) => setTimeout(resolve, 50));
    return us;
  } finally {
    await close();
  }
}
