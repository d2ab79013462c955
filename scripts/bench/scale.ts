import { LineClient } from "../line-client.js";
import { keyFor } from "./requests.js";
import { drive, expectStored, medianRun, prefillMemory, startSwarmd, tempDbPath, type LoadResult } from "./processes.js";

export interface ScaleRow {
  readonly entries: number;
  readonly store: LoadResult;
  readonly retrieve: LoadResult;
}

export interface SweepResult {
  readonly liveEntries: number;
  readonly expired: number;
  /** What the daemon measured: its sweep's longest slice of event-loop time. */
  readonly daemonReport: { deleted: number; durationMs: number; slices: number; longestSliceMs: number } | null;
  /** What a client saw: pings back to back over one connection while the sweep ran. */
  readonly pingDuringSweep: LoadResult;
}

const SHAPE = { connections: 16, depth: 1 } as const;

/**
 * memory_store and memory_retrieve at 16×1 over keys spread across a store of each size in `sizes`; the daemons run
 * side by side and take turns for `rounds` rounds, and each figure is the median round. The row cache is off: this
 * measures how SQLite's cost grows with the data, which a cache holding all of the small store and a sliver of the
 * large one would hide behind the working set.
 */
export async function measureScale(dir: string, sizes: readonly number[], durationMs: number, warmupMs: number, rounds: number): Promise<ScaleRow[]> {
  const daemons = [];
  for (const entries of sizes) {
    const db = tempDbPath(dir, `scale-${entries}`);
    await prefillMemory(db, entries);
    const swarmd = await startSwarmd(db, { SWARMD_MEMORY_CACHE_MB: "0" });
    await expectStored(swarmd.port, keyFor(1, entries));
    daemons.push({ entries, swarmd, store: [] as LoadResult[], retrieve: [] as LoadResult[] });
  }
  try {
    for (let round = 0; round < rounds; round++) {
      for (const d of daemons) {
        d.retrieve.push(await drive(d.swarmd, { protocol: "ndjson", op: "memory_retrieve", ...SHAPE, durationMs, warmupMs, keys: d.entries }));
        d.store.push(await drive(d.swarmd, { protocol: "ndjson", op: "memory_store", ...SHAPE, durationMs, warmupMs, keys: d.entries }));
      }
    }
  } finally {
    await Promise.all(daemons.map((d) => d.swarmd.stop()));
  }
  return daemons.map((d) => ({ entries: d.entries, store: medianRun(d.store), retrieve: medianRun(d.retrieve) }));
}

/**
 * `expired` entries expiring at the same moment beside `live` ones that stay: while the sweep deletes them, one
 * connection pings back to back, and the daemon's own sweep report is read from memory_stats.
 */
export async function measureSweep(dir: string, live: number, expired: number): Promise<SweepResult> {
  const db = tempDbPath(dir, "sweep");
  await prefillMemory(db, live);
  const expireAt = Date.now() + 3000;
  await prefillMemory(db, expired, { firstKey: live, expireAt });
  const swarmd = await startSwarmd(db, { SWARMD_MEMORY_SWEEP_INTERVAL: "0.5" });
  try {
    const pingDuringSweep = await drive(swarmd, { protocol: "ndjson", op: "ping", connections: 1, depth: 1, durationMs: Math.max(1000, expireAt - Date.now() + 3000), warmupMs: 200 });
    const client = await LineClient.connect(swarmd.port);
    // memory_stats counts every entry in slices; over a million entries that takes a while.
    client.send({ jsonrpc: "2.0", id: "stats", method: "tools/call", params: { name: "memory_stats", arguments: {} } });
    const stats = await client.reply("stats", 60_000);
    client.close();
    return { liveEntries: live, expired, daemonReport: stats.result?.structuredContent?.lastSweep ?? null, pingDuringSweep };
  } finally {
    await swarmd.stop();
  }
}

export interface BackupMeasure {
  readonly entries: number;
  /** What server_backup reported. */
  readonly backup: { bytes: number; durationMs: number } | null;
  /** Pings back to back over one connection, from a second before the backup began until after it ended. */
  readonly pingDuringBackup: LoadResult;
}

/** server_backup of a database holding `entries` memory entries, with one connection pinging throughout. */
export async function measureBackup(dir: string, entries: number): Promise<BackupMeasure> {
  const db = tempDbPath(dir, "backup");
  await prefillMemory(db, entries);
  const swarmd = await startSwarmd(db);
  try {
    const client = await LineClient.connect(swarmd.port);
    const pings = drive(swarmd, { protocol: "ndjson", op: "ping", connections: 1, depth: 1, durationMs: 8000, warmupMs: 200 });
    await new Promise((r) => setTimeout(r, 1000));
    client.send({ jsonrpc: "2.0", id: "backup", method: "tools/call", params: { name: "server_backup", arguments: {} } });
    const reply = await client.reply("backup", 60_000);
    client.close();
    const payload = reply.result?.structuredContent as { bytes: number; durationMs: number } | undefined;
    return { entries, backup: payload ? { bytes: payload.bytes, durationMs: payload.durationMs } : null, pingDuringBackup: await pings };
  } finally {
    await swarmd.stop();
  }
}
