import { mkdirSync } from "node:fs";
import { dirname, isAbsolute } from "node:path";
import { performance } from "node:perf_hooks";
import Database from "better-sqlite3";
import { Checkpointer } from "./checkpointer.js";
import { ClaimedError, DatabaseClaim } from "./claim.js";
import { DatabaseFile } from "./db-file.js";
import { migrate } from "./migrations.js";
import { saveOrphaned, type OrphanSaved } from "./orphan.js";
import { WriteQueue } from "./write-queue.js";

export type Db = Database.Database;

/** The longest SQLite itself waits for a lock while clients are served (a checkpoint's moment, a reader starting). */
const LOCK_BLIP_MS = 10;
/** How long the writes still queued at shutdown may wait for a lock another process holds. */
const LAST_WRITES_LOCK_WAIT_MS = 5_000;

export interface OpenOptions {
  /** `normal`: acknowledged writes survive a process kill (WAL); `full`: they also survive a power loss. */
  readonly synchronous: "normal" | "full";
  /** How long to keep retrying a database another process holds or has locked (default 30 s; 0: fail at once). */
  readonly lockWaitMs?: number;
  /** WAL size past which memory writes wait for a checkpoint to let the log start over (default 64 MiB). */
  readonly walLimitBytes?: number;
}

export interface Store {
  readonly db: Db;
  readonly path: string;
  readonly schemaVersion: number;
  /** Set when opening upgraded an existing database's schema: from which version, and how long it took. */
  readonly upgraded: { readonly from: number; readonly ms: number } | undefined;
  /** Group commit for writes acknowledged to clients. */
  readonly writes: WriteQueue;
  /** WAL checkpoints off the event loop; started by the daemon. */
  readonly checkpointer: Checkpointer;
  /** The file SQLite opened, to notice it deleted or replaced under the daemon (watched by the daemon). */
  readonly file: DatabaseFile;
  /**
   * Commits queued writes, stops the checkpointer, then closes — saving what the database holds first if its file was
   * deleted or replaced meanwhile, and saying where. Idempotent.
   */
  close(): Promise<OrphanSaved | undefined>;
}

/** Why the database could not be opened, in words an operator can act on. There is no in-memory fallback. */
export class StoreOpenError extends Error {
  override readonly name = "StoreOpenError";
}

/**
 * Claims (see DatabaseClaim), opens (creating) the database, sets it up and migrates it. A database another process
 * holds or has locked is retried asynchronously for up to `lockWaitMs` — SQLite's own busy wait would block the
 * event loop, and with it the /ready probe that should be saying "starting" meanwhile. `onLocked` hears why.
 */
export async function openStore(path: string, options: OpenOptions, onLocked: (attempt: number, why: string) => void = () => {}): Promise<Store> {
  if (!isAbsolute(path)) throw new StoreOpenError(`database path must be absolute, got "${path}"`);
  const deadline = Date.now() + (options.lockWaitMs ?? 30_000);
  for (let attempt = 1; ; attempt++) {
    try {
      return openOnce(path, options);
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause;
      const locked = cause instanceof ClaimedError || cause?.code === "SQLITE_BUSY";
      if (!locked || Date.now() >= deadline) throw err;
      onLocked(attempt, (err as Error).message);
      await new Promise((resolve) => setTimeout(resolve, Math.min(50 * attempt, 500, Math.max(1, deadline - Date.now()))));
    }
  }
}

function openOnce(path: string, options: OpenOptions): Store {
  let claim: DatabaseClaim;
  let db: Db;
  try {
    mkdirSync(dirname(path), { recursive: true });
    claim = DatabaseClaim.take(path);
  } catch (err) {
    if (err instanceof ClaimedError) throw new StoreOpenError(`${err.message}; one swarmd per database`, { cause: err });
    throw new StoreOpenError(describeOpenFailure(path, err), { cause: err });
  }
  try {
    db = new Database(path, { timeout: 0 });
  } catch (err) {
    claim.release();
    throw new StoreOpenError(describeOpenFailure(path, err), { cause: err });
  }
  try {
    const mode = db.pragma("journal_mode = WAL", { simple: true });
    if (mode !== "wal") throw new Error(`the file system refused write-ahead logging (journal_mode is ${String(mode)})`);
    db.pragma(`synchronous = ${options.synchronous}`);
    db.pragma("foreign_keys = ON");
    // After a burst, truncate the WAL file back to this size once it has been checkpointed.
    const walLimitBytes = options.walLimitBytes ?? 64 * 1024 * 1024;
    db.pragma(`journal_size_limit = ${walLimitBytes}`);
    const before = db.pragma("user_version", { simple: true }) as number;
    const migrating = performance.now();
    const schemaVersion = migrate(db);
    const upgraded = before > 0 && schemaVersion !== before ? { from: before, ms: Math.round(performance.now() - migrating) } : undefined;
    // A new (or upgraded) database leaves its schema in the WAL; copy it now, while that is cheap, so the WAL stays
    // empty until the first real write (and the checkpoint worker unstarted until then).
    if (schemaVersion !== before) db.pragma("wal_checkpoint(TRUNCATE)");
    // SQLite waits for a lock by sleeping, which would stop every client for as long: a brief blip is waited out, a
    // lock another process keeps is waited for by the write queue without blocking (and refused elsewhere).
    db.pragma(`busy_timeout = ${LOCK_BLIP_MS}`);
    const file = DatabaseFile.opened(path);
    const writes = new WriteQueue(db);
    const checkpointer = new Checkpointer(db, file, writes, walLimitBytes);
    let closing: Promise<OrphanSaved | undefined> | undefined;
    return {
      db,
      path,
      schemaVersion,
      upgraded,
      writes,
      checkpointer,
      file,
      close() {
        return (closing ??= (async () => {
          // Nobody else is served any more: the last writes may wait for a lock the way SQLite does.
          db.pragma(`busy_timeout = ${LAST_WRITES_LOCK_WAIT_MS}`);
          writes.flush(true);
          await checkpointer.stop();
          file.stop();
          const loss = file.loss();
          let saved: OrphanSaved | undefined;
          if (loss === undefined) db.close();
          else saved = await saveOrphaned(db, file, loss, () => db.close());
          claim.release();
          return saved;
        })());
      },
    };
  } catch (err) {
    db.close();
    claim.release();
    throw new StoreOpenError(`cannot use the database at ${path}: ${(err as Error).message}`, { cause: err });
  }
}

function describeOpenFailure(path: string, err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const text = e?.message ?? String(err);
  if (e?.code === "ERR_DLOPEN_FAILED" || /bindings|NODE_MODULE_VERSION|\.node\b/.test(text)) {
    return `the better-sqlite3 native module could not be loaded (${text}); run "npm rebuild better-sqlite3"`;
  }
  return `cannot open the database at ${path}: ${text}`;
}
