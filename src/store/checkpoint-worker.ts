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

const timer = setInterval(() => {
  try {
    const [row] = db.pragma("wal_checkpoint(PASSIVE)") as Array<{ busy: number; log: number; checkpointed: number }>;
    if (row && row.checkpointed > 0) {
      checkpoints++;
      framesCopied += row.checkpointed;
      port.postMessage({ type: "checkpoint", checkpoints, framesCopied, walFrames: row.log });
    }
  } catch (err) {
    port.postMessage({ type: "error", message: (err as Error).message });
  }
}, intervalMs);

port.on("message", (message: unknown) => {
  if (message !== "stop") return;
  clearInterval(timer);
  db.close();
  port.postMessage({ type: "stopped" });
});
port.postMessage({ type: "ready" });
