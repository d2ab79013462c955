import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import Database from "better-sqlite3";
import { isFileAt, type FileIdentity } from "./db-file.js";
import { selfContained, syncFile } from "./files.js";

// Runs in a worker thread: copies the database to `dest` with SQLite's online backup on a connection of its own, so
// that neither the copy nor the fsync of a file as large as the database ever blocks the daemon's event loop.

/** What the daemon asks of the worker: copy `source` to `dest`. */
export interface BackupJob {
  readonly source: string;
  /** The file the daemon opened: one put in its place is not what the daemon holds, and is not copied. */
  readonly expect: FileIdentity;
  readonly dest: string;
}

/** What the worker tells the daemon. */
export type BackupMessage =
  | { readonly type: "progress"; readonly copiedPages: number; readonly totalPages: number }
  | { readonly type: "done"; readonly pages: number }
  | { readonly type: "failed"; readonly message: string };

/** Pages copied between looks at the message port (4 MiB at the default page size). */
const STEP_PAGES = 1024;

const { source, expect, dest } = workerData as BackupJob;
function parent(): MessagePort {
  if (parentPort === null) throw new Error("backup-worker must run in a worker thread");
  return parentPort;
}
const port = parent();
const tell = (m: BackupMessage): void => port.postMessage(m);
let stopped = false;
port.on("message", (m: unknown) => {
  if (m === "stop") stopped = true;
});

async function copy(): Promise<number> {
  // Before the file is opened (a deleted one would fail as "unable to open"), and after (the path may change between).
  const stillOurs = (): void => {
    if (!isFileAt(source, expect)) throw new Error(`${source} is no longer the file swarmd opened: it was deleted or replaced`);
  };
  stillOurs();
  const db = new Database(source, { readonly: true, fileMustExist: true });
  try {
    stillOurs();
    // One read transaction for the whole copy: a snapshot that the daemon's writes, made on its own connection, do
    // not disturb. Read in steps without it, SQLite would start the copy over after every write.
    db.exec("BEGIN");
    db.prepare("SELECT count(*) FROM sqlite_master").get();
    const done = await db.backup(dest, {
      progress: ({ totalPages, remainingPages }) => {
        if (stopped) throw new Error("stopped");
        tell({ type: "progress", copiedPages: totalPages - remainingPages, totalPages });
        return STEP_PAGES;
      },
    });
    db.exec("COMMIT");
    return done.totalPages;
  } finally {
    db.close();
  }
}

async function run(): Promise<BackupMessage> {
  try {
    const pages = await copy();
    selfContained(dest);
    syncFile(dest);
    return { type: "done", pages };
  } catch (err) {
    return { type: "failed", message: (err as Error)?.message ?? String(err) };
  }
}

void run().then(tell);
