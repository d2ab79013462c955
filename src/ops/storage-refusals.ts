import type { Logger } from "../log.js";
import { REFUSED_BECAUSE, type StorageRefusal } from "../protocol/errors.js";

/** However many writes are refused, each reason is logged at most once in this long. */
const LOG_EVERY_MS = 60_000;

/**
 * Writes the database refused for now — its disk full, or another process holding its lock — counted for /metrics and
 * server_info. The first is logged at once, then one line a minute at most per reason, saying how many were refused
 * since the last: a client retrying in a loop must not flood a log that may be on the very disk that is full.
 */
export class StorageRefusals {
  readonly counts: Record<StorageRefusal, number> = { storage_full: 0, storage_busy: 0 };
  /** When the last write was refused (ms since the epoch), or null. */
  lastAt: number | null = null;
  private readonly loggedAt: Record<StorageRefusal, number> = { storage_full: -Infinity, storage_busy: -Infinity };
  private readonly unlogged: Record<StorageRefusal, number> = { storage_full: 0, storage_busy: 0 };

  note(reason: StorageRefusal, log: Logger, now = Date.now()): void {
    this.counts[reason]++;
    this.unlogged[reason]++;
    this.lastAt = now;
    if (now - this.loggedAt[reason] < LOG_EVERY_MS) return;
    log.warn({ reason, refusedSinceLastLine: this.unlogged[reason] }, `a write was refused: ${REFUSED_BECAUSE[reason]}`);
    this.loggedAt[reason] = now;
    this.unlogged[reason] = 0;
  }
}
