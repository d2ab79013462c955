import { closeSync, existsSync, fsyncSync, openSync } from "node:fs";
import Database from "better-sqlite3";

/** fsync, so a rename that follows cannot land before the bytes it names (and the rename itself survives a crash). */
export function syncFile(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * A copy carries its source's write-ahead-log flag, so anything that opened it (even read-only) would create -wal and
 * -shm files beside it. A backup is one file: this switches it to a rollback journal (swarmd turns WAL back on).
 */
export function selfContained(path: string): void {
  const copy = new Database(path, { fileMustExist: true });
  try {
    copy.pragma("journal_mode = DELETE");
  } finally {
    copy.close();
  }
}

/** A UTC time for file names, sortable: 20261129-034012. */
export function fileStamp(at: Date): string {
  return at.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
}

/** `name(1)` if no file has that path, else `name(2)`, and so on. */
export function unusedPath(name: (n: number) => string): string {
  let n = 1;
  while (existsSync(name(n))) n++;
  return name(n);
}
