import type { Database, Statement } from "better-sqlite3";
import { storageRefusal } from "../protocol/errors.js";

interface Pending {
  readonly fn: () => unknown;
  /** Needs its own savepoint: it may change the database and then throw. */
  readonly undoable: boolean;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
}

/** How long queued writes wait for a write lock another process holds (a sqlite3 shell mid-transaction) before failing. */
const LOCK_PATIENCE_MS = 5_000;
/** How often they try for it meanwhile; the event loop serves everyone else in between. */
const LOCK_RETRY_MS = 50;

/**
 * Group commit. Writes queued in the same event-loop turn run in one transaction, in order (a lone single-statement
 * write needs none of its own: see runAlone); a write that throws undoes only itself (by its own savepoint, or by
 * SQLite for a single statement). Every promise settles only after that transaction committed.
 * Reads issued while writes are waiting run after them in the same transaction, so a pipelining client reads its own
 * writes; otherwise reads run at once.
 * While another process holds the database's write lock, queued writes wait for it without blocking the event loop
 * (the connection's own busy wait is kept short), and fail with SQLite's SQLITE_BUSY after LOCK_PATIENCE_MS.
 */
export class WriteQueue {
  private queue: Pending[] = [];
  private scheduled = false;
  private held = false;
  /** Set while queued writes wait for another process's write lock: when they first found it taken, and the retry. */
  private lockedOutSince: number | undefined;
  private lockRetry: NodeJS.Timeout | undefined;
  private readonly rollbackListeners: Array<() => void> = [];
  private readonly sql: Record<"begin" | "commit" | "rollback" | "savepoint" | "release" | "undo", Statement>;

  constructor(private readonly db: Database) {
    const p = (text: string): Statement => db.prepare(text);
    this.sql = {
      begin: p("BEGIN IMMEDIATE"),
      commit: p("COMMIT"),
      rollback: p("ROLLBACK"),
      savepoint: p("SAVEPOINT write"),
      release: p("RELEASE write"),
      undo: p("ROLLBACK TO write"),
    };
  }

  /**
   * `fn` runs synchronously inside the batch's transaction. With `single`, the caller promises that `fn` changes the
   * database with at most one statement and throws only instead of changing it — SQLite undoes a failed statement by
   * itself, so such a write needs no savepoint (two statements fewer per write; a third of a memory_store's time).
   */
  write<T>(fn: () => T, single = false): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, undoable: !single, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  /**
   * Commits wait until release(); writes stay queued meanwhile and are acknowledged once committed. Lets a WAL
   * checkpoint finish with no commit racing it (see Checkpointer). The flush at shutdown commits regardless.
   */
  hold(): void {
    this.held = true;
  }

  release(): void {
    this.held = false;
    if (this.queue.length > 0) this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flushUnlessHeld);
  }

  private readonly flushUnlessHeld = (): void => {
    this.scheduled = false;
    if (!this.held && this.lockRetry === undefined) this.flush();
  };

  private readonly retryLock = (): void => {
    this.lockRetry = undefined;
    this.flushUnlessHeld();
  };

  /** Runs `listener` whenever a batch is rolled back, undoing writes that had already run in it. */
  onRollback(listener: () => void): void {
    this.rollbackListeners.push(listener);
  }

  read<T>(fn: () => T): T | Promise<T> {
    return this.queue.length === 0 ? fn() : this.write(fn);
  }

  /**
   * Commits whatever is queued now. `final` (at shutdown, before the database closes): what cannot be committed now
   * fails instead of waiting for a lock.
   */
  flush(final = false): void {
    if (final) {
      clearTimeout(this.lockRetry);
      this.lockRetry = undefined;
    }
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 1 && !(batch[0] as Pending).undoable) return this.runAlone(batch[0] as Pending, final);
    const { begin, commit, rollback, savepoint, release, undo } = this.sql;
    // The write lock is taken first (BEGIN IMMEDIATE), so a batch that cannot have it has run nothing and can wait.
    try {
      begin.run();
    } catch (err) {
      if (!final && this.waitForLock(batch, err)) return;
      for (const item of batch) item.reject(err);
      return;
    }
    this.lockedOutSince = undefined;
    const results: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      for (const item of batch) {
        if (item.undoable) savepoint.run();
        try {
          const value = item.fn();
          if (!this.db.inTransaction) throw new Error("SQLite rolled the transaction back");
          if (item.undoable) release.run();
          results.push({ ok: true, value });
        } catch (error) {
          // On some errors (a full disk, an I/O error) SQLite abandons the whole transaction: the writes before this
          // one are undone too, and any after it would each commit on their own while being reported as failed.
          if (!this.db.inTransaction) throw error;
          if (item.undoable) {
            undo.run();
            release.run();
          }
          results.push({ ok: false, error });
        }
      }
      commit.run();
    } catch (err) {
      try {
        rollback.run();
      } catch {
        // the failed statement may already have rolled the transaction back
      }
      for (const listener of this.rollbackListeners) listener();
      for (const item of batch) item.reject(err);
      return;
    }
    batch.forEach((item, i) => {
      const r = results[i] as (typeof results)[number];
      if (r.ok) item.resolve(r.value);
      else item.reject(r.error);
    });
  }

  /**
   * A lone single-statement write runs in SQLite's autocommit mode: the statement commits by itself, or fails having
   * changed nothing (so it can wait for a lock and run again). BEGIN, COMMIT and the statement journal SQLite keeps
   * for an upsert inside an explicit transaction cost about as much as the upsert itself, and a lone write is what
   * every client writing one at a time sends.
   */
  private runAlone(item: Pending, final: boolean): void {
    let value: unknown;
    try {
      value = item.fn();
    } catch (error) {
      if (!final && this.waitForLock([item], error)) return;
      item.reject(error);
      return;
    }
    this.lockedOutSince = undefined;
    item.resolve(value);
  }

  /** Puts a batch that found the write lock taken back in front, to try again shortly; false once patience ran out. */
  private waitForLock(batch: Pending[], err: unknown): boolean {
    if (storageRefusal(err) !== "storage_busy") return false;
    const now = Date.now();
    this.lockedOutSince ??= now;
    if (now - this.lockedOutSince >= LOCK_PATIENCE_MS) {
      // Everything that waited meanwhile fails with it; later writes get patience of their own.
      this.lockedOutSince = undefined;
      for (const item of this.queue.splice(0)) item.reject(err);
      return false;
    }
    this.queue = batch.concat(this.queue);
    this.lockRetry = setTimeout(this.retryLock, LOCK_RETRY_MS);
    return true;
  }
}

