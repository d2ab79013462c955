import { readdirSync, statSync } from "node:fs";
import { open, mkdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import type { BackupJob, BackupMessage } from "./backup-worker.js";
import type { Store } from "./db.js";
import { workerUrl } from "./worker-url.js";

export interface BackupProgress {
  readonly copiedPages: number;
  readonly totalPages: number;
}

export interface BackupOptions {
  /** Aborting stops the copy at its next step; nothing is left behind. */
  readonly signal?: AbortSignal | undefined;
  readonly onProgress?: ((progress: BackupProgress) => void) | undefined;
}

export interface BackupResult {
  readonly bytes: number;
  readonly pages: number;
  readonly durationMs: number;
}

/**
 * Copies the database to `dest` while the daemon goes on serving. A worker thread reads one consistent snapshot
 * (every write committed before the call, none that commits once the copy has started) and writes and fsyncs the
 * copy under a temporary name, which is renamed into place once whole: `dest` is absent, the previous file, or a
 * complete backup — never half of one. While the snapshot is held the write-ahead log cannot start over, so the
 * checkpointer is told not to hold writes for it meanwhile.
 */
export async function backupDatabase(store: Store, dest: string, options: BackupOptions = {}): Promise<BackupResult> {
  const started = performance.now();
  const partial = `${dest}.partial`;
  await mkdir(dirname(dest), { recursive: true });
  await rm(partial, { force: true });
  const released = store.checkpointer.readerHolds();
  try {
    const pages = await copyInWorker({ source: store.path, expect: store.file.opened, dest: partial }, options);
    await rename(partial, dest);
    await syncDirectory(dirname(dest));
    const { size } = await stat(dest);
    return { bytes: size, pages, durationMs: Math.round(performance.now() - started) };
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  } finally {
    released();
  }
}

function copyInWorker(job: BackupJob, options: BackupOptions): Promise<number> {
  const { signal, onProgress } = options;
  signal?.throwIfAborted();
  const worker = new Worker(workerUrl("backup-worker"), { workerData: job });
  const stop = (): void => worker.postMessage("stop");
  signal?.addEventListener("abort", stop, { once: true });
  return new Promise<number>((resolve, reject) => {
    worker.on("message", (m: BackupMessage) => {
      if (m.type === "progress") onProgress?.(m);
      // An abort that came too late to stop the copy still means the caller no longer wants it.
      else if (signal?.aborted) reject(signal.reason);
      else if (m.type === "done") resolve(m.pages);
      else reject(new Error(m.message));
    });
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`the backup worker exited (code ${code}) before finishing`)));
  }).finally(() => {
    signal?.removeEventListener("abort", stop);
    void worker.terminate();
  });
}

/** Makes a rename in `dir` durable; off the event loop. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export interface BackupListing {
  /** Backup files in the directory (copies still being written, `.partial`, are not counted). */
  readonly count: number;
  /** The most recently written one, by modification time; null when there is none. */
  readonly newest: { readonly name: string; readonly bytes: number; readonly modifiedAt: number } | null;
}

/**
 * What the backup directory holds now, read from the file system (so it survives restarts and counts copies made by
 * hand). Synchronous, like the rest of server_info, which answers in line with the requests around it; a backup
 * directory holds a handful of files, read in microseconds.
 */
export function listBackups(dir: string): BackupListing {
  let names: string[];
  try {
    names = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile() && !e.name.endsWith(".partial"))
      .map((e) => e.name);
  } catch {
    return { count: 0, newest: null };
  }
  let newest: BackupListing["newest"] = null;
  for (const name of names) {
    const info = statSync(join(dir, name), { throwIfNoEntry: false });
    if (info !== undefined && (newest === null || info.mtimeMs > newest.modifiedAt)) {
      newest = { name, bytes: info.size, modifiedAt: Math.round(info.mtimeMs) };
    }
  }
  return { count: names.length, newest };
}
