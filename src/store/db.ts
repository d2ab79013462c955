import { mkdirSync } from "node:fs";
import { dirname, isAbsolute } from "node:path";
import Database from "better-sqlite3";
import { Checkpointer } from "./checkpointer.js";
import { migrate } from "./migrations.js";
import { WriteQueue } from "./write-queue.js";

export type Db = Database.Database;

export interface OpenOptions {
  /** `normal`: acknowledged writes survive a process kill (WAL); `full`: they also survive a power loss. */
  readonly synchronous: "normal" | "full";
}

export interface Store {
  readonly db: Db;
  readonly path: string;
  readonly schemaVersion: number;
  /** Group commit for writes acknowledged to clients. */
  readonly writes: WriteQueue;
  /** WAL checkpoints off the event loop; started by the daemon. */
  readonly checkpointer: Checkpointer;
  /** Commits queued writes, stops the checkpointer, then closes. Idempotent. */
  close(): Promise<void>;
}

/** Why the database could not be opened, in words an operator can act on. There is no in-memory fallback. */
export class StoreOpenError extends Error {
  override readonly name = "StoreOpenError";
}

export function openStore(path: string, options: OpenOptions): Store {
  if (!isAbsolute(path)) throw new StoreOpenError(`database path must be absolute, got "${path}"`);
  let db: Db;
  try {
    mkdirSync(dirname(path), { recursive: true });
    db = new Database(path);
  } catch (err) {
    throw new StoreOpenError(describeOpenFailure(path, err));
  }
  try {
    const mode = db.pragma("journal_mode = WAL", { simple: true });
    if (mode !== "wal") throw new Error(`the file system refused write-ahead logging (journal_mode is ${String(mode)})`);
    db.pragma(`synchronous = ${options.synchronous}`);
    db.pragma("busy_timeout = 5000");
    db.pragma("foreign_keys = ON");
    // After a burst, truncate the WAL file back to this size once it has been checkpointed.
    db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
    const schemaVersion = migrate(db);
    const writes = new WriteQueue(db);
    const checkpointer = new Checkpointer(db, path);
    let closing: Promise<void> | undefined;
    return {
      db,
      path,
      schemaVersion,
      writes,
      checkpointer,
      close() {
        return (closing ??= (async () => {
          writes.flush();
          await checkpointer.stop();
          db.close();
        })());
      },
    };
  } catch (err) {
    db.close();
    throw new StoreOpenError(`cannot use the database at ${path}: ${(err as Error).message}`);
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
