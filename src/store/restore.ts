import { existsSync, mkdirSync } from "node:fs";
import { rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import Database from "better-sqlite3";
import { fileStamp, syncFile, unusedPath } from "./files.js";
import { ClaimedError, DatabaseClaim } from "./claim.js";
import { LATEST_SCHEMA_VERSION } from "./migrations.js";

/** Why a restore did not happen, in one line an operator can act on. The database is untouched. */
export class RestoreError extends Error {
  override readonly name = "RestoreError";
}

export interface RestoreResult {
  readonly bytes: number;
  readonly schemaVersion: number;
  /** Where the database that was replaced now is; undefined when there was none. */
  readonly keptAt: string | undefined;
}

/** Tables every swarmd database has; a file without them is not a swarmd backup. */
const REQUIRED_TABLES = ["memory", "swarms", "agents", "tasks", "assignments"];

/**
 * Puts a backup in place of the database at `dbPath`, which no swarmd may be using (the same claim a starting daemon
 * takes). The backup is checked first (SQLite's quick_check, swarmd's tables, a schema this swarmd can read) and
 * copied beside the database; the database it replaces is kept, renamed with its write-ahead log, and never deleted.
 * A write-ahead log left by a killed daemon must not meet the restored file — SQLite would replay it onto pages it
 * does not belong to — so it moves away before the copy moves in.
 */
export async function restoreDatabase(backupPath: string, dbPath: string, at = new Date()): Promise<RestoreResult> {
  const from = resolve(backupPath);
  const to = resolve(dbPath);
  if (from === to) throw new RestoreError(`${from} is the database itself; name a backup file`);
  if (!existsSync(from)) throw new RestoreError(`no backup at ${from}`);
  let claim: DatabaseClaim;
  try {
    mkdirSync(dirname(to), { recursive: true }); // restoring onto a new machine: nothing is there yet
    claim = DatabaseClaim.take(to);
  } catch (err) {
    if (err instanceof ClaimedError) throw new RestoreError(`${err.message}; stop that swarmd before restoring`);
    throw new RestoreError((err as Error).message);
  }
  const copy = `${to}.restoring`;
  try {
    const schemaVersion = await copyCheckedBackup(from, copy);
    const keptAt = existsSync(to) ? await keepReplaced(to, at) : undefined;
    await rm(`${to}-shm`, { force: true });
    await rename(copy, to);
    syncFile(dirname(to));
    return { bytes: (await stat(to)).size, schemaVersion, keptAt };
  } finally {
    await rm(copy, { force: true });
    claim.release();
  }
}

/** Checks the backup and copies it to `copy` through SQLite (so a backup with its own -wal comes out whole). */
async function copyCheckedBackup(from: string, copy: string): Promise<number> {
  let source: Database.Database;
  try {
    source = new Database(from, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new RestoreError(`cannot open ${from} as a SQLite database: ${(err as Error).message}`);
  }
  try {
    let check: unknown;
    try {
      check = source.pragma("quick_check", { simple: true });
    } catch (err) {
      throw new RestoreError(`${from} is not a usable SQLite database: ${(err as Error).message}`);
    }
    if (check !== "ok") throw new RestoreError(`${from} fails SQLite's integrity check: ${String(check)}`);
    const tables = new Set(
      (source.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((r) => r.name),
    );
    const missing = REQUIRED_TABLES.filter((t) => !tables.has(t));
    if (missing.length > 0) throw new RestoreError(`${from} is not a swarmd database (no ${missing.join(", ")} table)`);
    const version = source.pragma("user_version", { simple: true }) as number;
    if (version > LATEST_SCHEMA_VERSION) {
      throw new RestoreError(`${from} has schema version ${version}, newer than this swarmd understands (${LATEST_SCHEMA_VERSION}); upgrade swarmd`);
    }
    await rm(copy, { force: true });
    await source.backup(copy);
    syncFile(copy);
    return version;
  } finally {
    source.close();
  }
}

/** Renames the database being replaced, and its write-ahead log, to `<name>.replaced-<time>`; returns that path. */
async function keepReplaced(db: string, at: Date): Promise<string> {
  const base = join(dirname(db), `${basename(db)}.replaced-${fileStamp(at)}`);
  const kept = unusedPath((n) => (n === 1 ? base : `${base}-${n}`));
  if (existsSync(`${db}-wal`)) await rename(`${db}-wal`, `${kept}-wal`);
  await rename(db, kept);
  return kept;
}
