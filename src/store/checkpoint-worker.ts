import { closeSync, openSync, readSync } from "node:fs";
import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import Database from "better-sqlite3";
import { isFileAt, type FileIdentity } from "./db-file.js";

/**
 * Runs in a worker thread with its own connection: PASSIVE checkpoints copy the WAL into the database file (and
 * fsync it) without blocking the daemon's writer, which runs on the event loop.
 */
export interface CheckpointJob {
  readonly path: string;
  /** The file the daemon opened: another at the path (one put in its place) is not checkpointed into. */
  readonly expect: FileIdentity;
  readonly intervalMs: number;
}

const { path, expect, intervalMs } = workerData as CheckpointJob;
function parent(): MessagePort {
  if (parentPort === null) throw new Error("checkpoint-worker must run in a worker thread");
  return parentPort;
}
const port = parent();

const db = new Database(path, { fileMustExist: true });
if (!isFileAt(path, expect)) {
  db.close();
  throw new Error(`${path} is no longer the file the daemon opened`);
}
db.pragma("busy_timeout = 1000");
let checkpoints = 0;
let framesCopied = 0;
/** The WAL's salts and how many of its frames were in the database file after the previous checkpoint. */
let last = { salt: "", backfilled: 0 };

/**
 * The salts in the WAL header, which SQLite changes whenever it starts the log over. SQLite reports the frames of the
 * current log that are in the database file, counting those earlier checkpoints copied; the salts tell whether those
 * are still the same frames.
 */
function walSalt(): string {
  const header = Buffer.alloc(8);
  let fd: number | undefined;
  try {
    fd = openSync(`${path}-wal`, "r");
    readSync(fd, header, 0, 8, 16);
    return header.toString("hex");
  } catch {
    return "";
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * One PASSIVE checkpoint; reports what it did when it copied frames, and always for a catch-up (numbered `catchUp`),
 * which the daemon waits for.
 */
function checkpoint(catchUp?: number): void {
  const type = catchUp === undefined ? "checkpoint" : "caught-up";
  try {
    const [row] = db.pragma("wal_checkpoint(PASSIVE)") as Array<{ busy: number; log: number; checkpointed: number }>;
    const salt = walSalt();
    const backfilled = Math.max(0, row?.checkpointed ?? 0);
    const copied = salt === last.salt ? Math.max(0, backfilled - last.backfilled) : backfilled;
    last = { salt, backfilled };
    if (copied > 0) {
      checkpoints++;
      framesCopied += copied;
    }
    if (catchUp !== undefined || copied > 0) port.postMessage({ type, catchUp, checkpoints, framesCopied, walFrames: row?.log ?? 0 });
  } catch (err) {
    port.postMessage({ type: "error", message: (err as Error).message });
    if (catchUp !== undefined) port.postMessage({ type, catchUp });
  }
}

const timer = setInterval(() => checkpoint(), intervalMs);

port.on("message", (message: unknown) => {
  if (typeof message === "object" && message !== null && "catchUp" in message) return checkpoint(Number(message.catchUp));
  if (message !== "stop") return;
  clearInterval(timer);
  db.close();
  port.postMessage({ type: "stopped" });
});
port.postMessage({ type: "ready" });
