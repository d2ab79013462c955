import { hostname } from "node:os";
import Database from "better-sqlite3";

/** The process that holds a database, as it recorded itself when it took the claim. */
export interface Holder {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: number;
}

/** Another process holds the database; openStore waits for it as for a database another process has locked. */
export class ClaimedError extends Error {
  override readonly name = "ClaimedError";
  constructor(
    readonly path: string,
    readonly holder: Holder | undefined,
    cause: unknown,
  ) {
    super(`the database at ${path} is in use by ${describeHolder(holder)}`, { cause });
  }
}

function describeHolder(holder: Holder | undefined): string {
  if (holder === undefined) return "another process";
  return `process ${holder.pid} on ${holder.host} (since ${new Date(holder.startedAt).toISOString()})`;
}

/**
 * One process per database. The daemon answers from what it keeps in memory — cached entries, agents and their
 * workers, task routing — so a second daemon writing the same file would leave both answering from stale state.
 * The claim is a write transaction held open on a small SQLite file beside the database (`<db>-lock`) for as long
 * as the store is open. It is an operating-system lock, so the kernel drops it when the process dies, however it
 * dies: a crash never leaves a stale claim for the next start to second-guess.
 */
export class DatabaseClaim {
  private constructor(private readonly lockDb: Database.Database) {}

  /** Takes the claim on `path`, or throws ClaimedError naming the holder. */
  static take(path: string): DatabaseClaim {
    let lockDb: Database.Database;
    try {
      lockDb = new Database(`${path}-lock`, { timeout: 0 });
    } catch (err) {
      throw lockFileError(path, err);
    }
    try {
      // What this file holds is rewritten at every start, so no fsync; the rollback journal stays, so that a process
      // killed while writing it leaves a file the next start can still open.
      lockDb.pragma("synchronous = OFF");
      lockDb.exec("BEGIN IMMEDIATE");
      lockDb.exec("CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL, host TEXT NOT NULL, started_at INTEGER NOT NULL)");
      lockDb.exec("DELETE FROM holder");
      lockDb.prepare("INSERT INTO holder VALUES (?, ?, ?)").run(process.pid, hostname(), Date.now());
      // Committed, so that a process turned away can read who holds the claim; then held again. Should another
      // process take it in between, this BEGIN fails and that process is the holder.
      lockDb.exec("COMMIT");
      lockDb.exec("BEGIN IMMEDIATE");
      return new DatabaseClaim(lockDb);
    } catch (err) {
      const busy = (err as { code?: string }).code === "SQLITE_BUSY";
      const holder = busy ? readHolder(lockDb) : undefined;
      lockDb.close();
      if (busy) throw new ClaimedError(path, holder, err);
      throw lockFileError(path, err);
    }
  }

  /** Lets the next process have the database. Idempotent. */
  release(): void {
    if (this.lockDb.open) this.lockDb.close();
  }
}

function lockFileError(path: string, err: unknown): Error {
  return new Error(`cannot use its lock file ${path}-lock: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

function readHolder(lockDb: Database.Database): Holder | undefined {
  try {
    if (lockDb.inTransaction) lockDb.exec("ROLLBACK");
    const row = lockDb.prepare("SELECT pid, host, started_at AS startedAt FROM holder").get() as Holder | undefined;
    // Our own row: another process took the claim between our two transactions and has not written itself yet.
    return row?.pid === process.pid && row.host === hostname() ? undefined : row;
  } catch {
    return undefined; // the holder is between its two transactions, or has not written itself yet
  }
}
