import { statSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import type { Database } from "better-sqlite3";
import type { DatabaseFile } from "./db-file.js";
import type { CheckpointJob } from "./checkpoint-worker.js";
import { workerUrl } from "./worker-url.js";
import type { WriteQueue } from "./write-queue.js";

export interface CheckpointStats {
  /** Checkpoints that copied frames, since start. */
  checkpoints: number;
  framesCopied: number;
  /** Where checkpoints run: a worker thread, or SQLite's automatic checkpoint on the event loop (fallback). */
  mode: "worker" | "automatic";
  /** Times writes waited for a checkpoint so that the write-ahead log could start over (see Checkpointer). */
  writePauses: number;
  /** Milliseconds writes spent held, in all. */
  writePauseMs: number;
}

/** How often the worker checkpoints the WAL; a checkpoint with nothing to copy costs next to nothing. */
export const CHECKPOINT_INTERVAL_MS = 200;

/** The longest writes wait for a catch-up checkpoint; a slower one (a stalled disk) lets them go on regardless. */
const PAUSE_LIMIT_MS = 2000;

/** What the worker reports after a checkpoint: the WAL's frames and how many of them are in the database file. */
interface WorkerReport {
  readonly type: string;
  readonly checkpoints?: number;
  readonly framesCopied?: number;
  readonly walFrames?: number;
  /** Which catch-up request a "caught-up" report answers. */
  readonly catchUp?: number;
}

/**
 * Moves WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside whichever commit crosses the
 * threshold and fsyncs the database file there — tens of milliseconds during which no request is served. A worker
 * thread with its own connection checkpoints instead; automatic checkpoints are switched off only once it runs.
 * The worker (an isolate: about 17 MB) starts when the WAL first holds something to copy, so a daemon that has not
 * written since it started carries none.
 *
 * SQLite starts the WAL over only when a write begins after a checkpoint has copied every frame. Under steady writes
 * a commit always lands while the worker copies, so the WAL would grow without end (2 GB after 20 s of pipelined
 * memory_store, measured). Once it passes `walLimitBytes`, memory writes are held for one checkpoint — typically
 * 5–40 ms — and the next write starts the log over, truncated back to that size.
 */
export class Checkpointer {
  readonly stats: CheckpointStats = { checkpoints: 0, framesCopied: 0, mode: "automatic", writePauses: 0, writePauseMs: 0 };
  private worker: Worker | undefined;
  private waiting: NodeJS.Timeout | undefined;
  private starting: Promise<void> | undefined;
  private stopped = false;
  /** Set while writes are held for a catch-up checkpoint: lets them go after PAUSE_LIMIT_MS at the latest. */
  private pause: NodeJS.Timeout | undefined;
  private pausedAt = 0;
  private catchUps = 0;
  /** Connections holding a read snapshot for long (backups): no checkpoint can catch up past them meanwhile. */
  private longReaders = 0;
  private readonly pageSize: number;

  constructor(
    private readonly db: Database,
    private readonly file: DatabaseFile,
    private readonly writes: WriteQueue,
    private readonly walLimitBytes: number,
  ) {
    this.pageSize = db.pragma("page_size", { simple: true }) as number;
  }

  /**
   * Starts the worker once the WAL is not empty (checked every `intervalMs`); if the worker cannot start, SQLite's
   * automatic checkpoints stay on and `onProblem` hears why.
   */
  start(intervalMs: number, onProblem: (why: string) => void): void {
    const check = (): void => {
      if (this.stopped || this.walBytes() === 0) return;
      clearInterval(this.waiting);
      this.starting = this.startWorker(intervalMs).then((problem) => {
        if (problem !== undefined) onProblem(problem);
      });
    };
    this.waiting = setInterval(check, intervalMs).unref();
    check();
  }

  private async startWorker(intervalMs: number): Promise<string | undefined> {
    // The worker opens the database by its path, and must not open a file put in place of ours: it would copy our log
    // into it. It checks the file it opened is ours; this spares starting it when it is already not.
    if (this.file.loss() !== undefined) return "checkpoints stay on the event loop: the database file was deleted or replaced";
    const job: CheckpointJob = { path: this.file.path, expect: this.file.opened, intervalMs };
    const worker = new Worker(workerUrl("checkpoint-worker"), { workerData: job });
    try {
      await new Promise<void>((resolve, reject) => {
        worker.once("error", reject);
        worker.once("message", (m: { type: string }) => (m.type === "ready" ? resolve() : reject(new Error(JSON.stringify(m)))));
      });
    } catch (err) {
      await worker.terminate();
      return `checkpoints stay on the event loop: the checkpoint worker did not start (${(err as Error).message})`;
    }
    if (this.stopped) {
      await worker.terminate();
      return undefined;
    }
    worker.on("message", (m: WorkerReport) => this.onReport(m));
    worker.unref();
    this.worker = worker;
    this.db.pragma("wal_autocheckpoint = 0");
    this.stats.mode = "worker";
    return undefined;
  }

  /**
   * Another connection will hold a read snapshot for a while (a backup): until the returned function is called, writes
   * are not held for catch-up checkpoints, which could not finish past that snapshot. The log grows meanwhile.
   */
  readerHolds(): () => void {
    this.longReaders++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.longReaders--;
    };
  }

  /** The WAL file's size now. */
  walBytes(): number {
    try {
      return statSync(`${this.file.path}-wal`).size;
    } catch {
      return 0;
    }
  }

  private onReport(m: WorkerReport): void {
    if (m.type !== "checkpoint" && m.type !== "caught-up") return;
    this.stats.checkpoints = m.checkpoints ?? this.stats.checkpoints;
    this.stats.framesCopied = m.framesCopied ?? this.stats.framesCopied;
    if (m.type === "caught-up") {
      // A catch-up that outlasted its pause must not end a later one.
      if (m.catchUp === this.catchUps) this.endPause();
      return;
    }
    const walBytes = (m.walFrames ?? 0) * this.pageSize;
    if (walBytes <= this.walLimitBytes || this.pause !== undefined || this.worker === undefined || this.longReaders > 0) return;
    // No memory write commits until the worker has copied every frame; the first one after that starts the log over.
    this.writes.hold();
    this.stats.writePauses++;
    this.pausedAt = performance.now();
    this.pause = setTimeout(() => this.endPause(), PAUSE_LIMIT_MS);
    this.worker.postMessage({ catchUp: ++this.catchUps });
  }

  private endPause(): void {
    if (this.pause === undefined) return;
    clearTimeout(this.pause);
    this.pause = undefined;
    this.stats.writePauseMs += Math.round(performance.now() - this.pausedAt);
    this.writes.release();
  }

  /** Stops the worker and gives checkpointing back to SQLite (the final checkpoint happens at close). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.waiting);
    this.endPause();
    await this.starting;
    const worker = this.worker;
    if (worker === undefined) return;
    this.worker = undefined;
    const stopped = new Promise<void>((resolve) => {
      worker.on("message", (m: { type: string }) => m.type === "stopped" && resolve());
      worker.once("exit", () => resolve());
    });
    worker.postMessage("stop");
    await Promise.race([stopped, new Promise((r) => setTimeout(r, 2000))]);
    await worker.terminate();
    this.db.pragma("wal_autocheckpoint = 1000");
    this.stats.mode = "automatic";
  }
}
