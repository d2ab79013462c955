import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import type { Database } from "better-sqlite3";
import { isFileAt, type DatabaseFile, type FileLoss } from "./db-file.js";
import { fileStamp, selfContained, syncFile, unusedPath } from "./files.js";

/** What became of a database whose file was deleted or replaced while it was open, once the store has closed. */
export interface OrphanSaved {
  readonly loss: FileLoss;
  /** Where what it held is now: its own path again, or a file beside it; undefined when it could not be saved. */
  readonly savedTo: string | undefined;
  /** Why it could not be saved. */
  readonly failure?: string;
}

/**
 * Saves what an open database holds whose file is gone from its path, then closes it (`close`). SQLite reads the
 * orphaned file and its log as before, so a copy through the open connection is whole, every acknowledged write in
 * it. The copy is written beside the path; the -wal and -shm files the daemon opened are removed, since SQLite would
 * replay that log onto whichever file the path names next. A deleted file's copy then takes its path, so a restart
 * carries on where the daemon stopped; a file put in its place stays as it is, and the copy is left beside it.
 */
export async function saveOrphaned(db: Database, file: DatabaseFile, loss: FileLoss, close: () => void, at = new Date()): Promise<OrphanSaved> {
  let copy: string | undefined;
  let failure: string | undefined;
  try {
    mkdirSync(dirname(file.path), { recursive: true }); // `rm -rf` takes the directory too
    copy = unusedPath((n) => `${file.path}.orphaned-${fileStamp(at)}${n === 1 ? "" : `-${n}`}`);
    await db.backup(copy);
    selfContained(copy);
    syncFile(copy);
  } catch (err) {
    failure = (err as Error).message;
  }
  // Ours while SQLite still holds them open (an inode it holds cannot belong to another file); removed once closed,
  // saved or not: without the file they belong to, they could only be replayed onto another.
  const ours = [...file.sidecars].filter(([side, opened]) => isFileAt(side, opened)).map(([side]) => side);
  close();
  for (const side of ours) {
    try {
      rmSync(side, { force: true });
    } catch {
      // left where it is, so the copy stays beside the path (below)
    }
  }
  if (failure !== undefined || copy === undefined) {
    if (copy !== undefined) rmSync(copy, { force: true }); // half a copy is not a database
    return { loss, savedTo: undefined, failure };
  }
  // Our copy takes the path only where nothing is, and no log but ours waits beside it (another's would meet the copy).
  const free = file.loss() === "deleted" && !existsSync(`${file.path}-wal`) && !existsSync(`${file.path}-shm`);
  if (!free) return { loss, savedTo: copy };
  try {
    renameSync(copy, file.path);
    syncFile(dirname(file.path));
    return { loss, savedTo: file.path };
  } catch {
    return { loss, savedTo: copy }; // saved all the same, beside the path
  }
}

/** The line an operator reads about a database saved (or not) by saveOrphaned. */
export function describeSaved(path: string, saved: OrphanSaved): string {
  const what = `the database file ${path} was ${saved.loss} while swarmd had it open`;
  if (saved.savedTo === undefined) return `${what}, and what swarmd held could not be saved (${saved.failure}): it is lost`;
  if (saved.savedTo === path) return `${what}; what swarmd held is written back to it, and the next start carries on from there`;
  const left = saved.loss === "replaced" ? ", and the file now at the path is left as it is" : "";
  return `${what}; what swarmd held is saved at ${saved.savedTo}${left} ("swarmd restore ${saved.savedTo}" puts it back)`;
}
