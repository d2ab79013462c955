import { closeSync, openSync, readSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";

/**
 * Runs in a worker thread with its own connection: PASSIVE checkpoints copy the WAL into the database file (and
 * fsync it) without blocking the daemon's writer, which runs on the event loop.
 */
interface Options {
  readonly path: string;
  readonly intervalMs: number;
}

const { path, intervalMs } = workerData as Options;
const port = parentPort;
if (port === null) throw new Error("checkpoint-worker must run in a worker thread");

const db = new Database(path);
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

/** One PASSIVE checkpoint; reports what it did as `type` (always for a catch-up, which the daemon waits for). */
function checkpoint(type: "checkpoint" | "caught-up"): void {
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
    if (type === "caught-up" || copied > 0) port?.postMessage({ type, checkpoints, framesCopied, walFrames: row?.log ?? 0 });
  } catch (err) {
    port?.postMessage({ type: "error", message: (err as Error).message });
    if (type === "caught-up") port?.postMessage({ type });
  }
}

const timer = setInterval(() => checkpoint("checkpoint"), intervalMs);

port.on("message", (message: unknown) => {
  if (message === "catch-up") return checkpoint("caught-up");
  if (message !== "stop") return;
  clearInterval(timer);
  db.close();
  port.postMessage({ type: "stopped" });
});
port.postMessage({ type: "ready" });
