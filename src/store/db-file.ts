import { statSync, type Stats } from "node:fs";
import { stat } from "node:fs/promises";

/** How often the daemon looks at its database file's path. A stat: microseconds. */
export const DB_FILE_CHECK_MS = 1000;

/**
 * Which file a path named when it was looked at. An inode cannot be given to another file while SQLite holds it open,
 * so the device and inode name the open database's file for as long as it is open. (Not the creation time: where
 * statx is unavailable, Node reports the change time in its place, which every write moves.)
 */
export interface FileIdentity {
  readonly dev: number;
  readonly ino: number;
}

/** What became of the database file the daemon opened: its path names no file now, or another file. */
export type FileLoss = "deleted" | "replaced";

function identityOf(s: Stats): FileIdentity {
  return { dev: s.dev, ino: s.ino };
}

/** The file at `path` now; undefined when there is none. */
export function identify(path: string): FileIdentity | undefined {
  const s = statSync(path, { throwIfNoEntry: false });
  return s === undefined ? undefined : identityOf(s);
}

export function sameFile(a: FileIdentity | undefined, b: FileIdentity | undefined): boolean {
  return a !== undefined && b !== undefined && a.dev === b.dev && a.ino === b.ino;
}

/** Whether `path` names the file `identity` was taken of, now. */
export function isFileAt(path: string, identity: FileIdentity): boolean {
  return sameFile(identify(path), identity);
}

/** How a path that named `opened` stands now. */
export function lossOf(opened: FileIdentity, now: FileIdentity | undefined): FileLoss | undefined {
  if (now === undefined) return "deleted";
  return sameFile(opened, now) ? undefined : "replaced";
}

/**
 * The database file as SQLite opened it. SQLite holds the file open, not the path: deleted (`rm -rf data/`, a tmp
 * cleaner) or replaced (`mv other.db swarmd.db`) while the daemon runs, the database goes on answering and taking
 * writes into a file no restart will find, and its write-ahead log stays beside the path, where it would be replayed
 * onto whatever file the path names next. So the daemon looks at the path every second (DatabaseFile.watch), and the
 * store saves what it holds when it closes (saveOrphaned).
 */
export class DatabaseFile {
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    readonly path: string,
    readonly opened: FileIdentity,
    /** The -wal and -shm files as they were once the database was open: ours to remove once their contents are saved. */
    readonly sidecars: ReadonlyMap<string, FileIdentity>,
  ) {}

  /** Looks at `path` and its sidecars; call right after SQLite has opened it and read from it. */
  static opened(path: string): DatabaseFile {
    const opened = identify(path);
    if (opened === undefined) throw new Error(`${path} is gone just after it was opened`);
    const sidecars = new Map<string, FileIdentity>();
    for (const side of [`${path}-wal`, `${path}-shm`]) {
      const id = identify(side);
      if (id !== undefined) sidecars.set(side, id);
    }
    return new DatabaseFile(path, opened, sidecars);
  }

  /** Whether the path still names the file SQLite has open. */
  loss(): FileLoss | undefined {
    return lossOf(this.opened, identify(this.path));
  }

  /** Looks at the path every `intervalMs` without blocking, and calls `onLost` once, the first time it has changed. */
  watch(intervalMs: number, onLost: (loss: FileLoss) => void): void {
    let looking = false;
    this.timer = setInterval(() => {
      if (looking) return;
      looking = true;
      stat(this.path).then(
        (s) => this.found(lossOf(this.opened, identityOf(s)), onLost),
        (err: NodeJS.ErrnoException) => this.found(err.code === "ENOENT" ? "deleted" : undefined, onLost),
      ).finally(() => (looking = false));
    }, intervalMs).unref();
  }

  private found(loss: FileLoss | undefined, onLost: (loss: FileLoss) => void): void {
    if (loss === undefined || this.timer === undefined) return;
    this.stop();
    onLost(loss);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
