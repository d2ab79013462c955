import { performance } from "node:perf_hooks";
import type { BackgroundWork } from "../background.js";
import type { Clock } from "../clock.js";
import type { MemoryRepo } from "../store/memory-repo.js";

export interface SweepReport {
  at: number;
  deleted: number;
  durationMs: number;
  slices: number;
  longestSliceMs: number;
}

/** Each slice aims at this much event-loop time; the batch size adapts to what a slice really costs. */
const TARGET_SLICE_MS = 2;
const MIN_BATCH = 50;
const MAX_BATCH = 20_000;

/**
 * Deletes expired memory entries in bounded slices: one DELETE of at most `batch` rows per slice, yielding to the
 * event loop (setImmediate) between slices, so however many entries expire at once no request waits behind the
 * sweep for more than a slice. Readers never see expired entries anyway; the sweep only reclaims space.
 */
export class MemorySweeper {
  last: SweepReport | null = null;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private batch = 1000;
  private stopped = false;

  constructor(
    private readonly repo: MemoryRepo,
    private readonly clock: Clock,
    private readonly background: BackgroundWork,
  ) {}

  /** Sweeps every `intervalMs` from an unref'd timer, so it never keeps the process alive. */
  start(intervalMs: number): void {
    this.stopped = false;
    this.timer = setInterval(() => void this.run(), intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a sweep in progress to finish its current slice. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  /**
   * One sweep until nothing expired is left; concurrent calls share it. A failed sweep (a full disk refuses even a
   * delete's log pages) is reported, never thrown: the next interval tries again, and readers never see expired rows.
   */
  run(): Promise<void> {
    return (this.running ??= this.sweep()
      .then(
        () => this.background.succeeded(),
        (err: unknown) => this.background.failed(err),
      )
      .finally(() => (this.running = undefined)));
  }

  private async sweep(): Promise<void> {
    const started = performance.now();
    let deleted = 0;
    let slices = 0;
    let longest = 0;
    for (;;) {
      const size = this.batch;
      const t0 = performance.now();
      const n = this.repo.sweep(this.clock.now(), size);
      const spent = performance.now() - t0;
      slices++;
      deleted += n;
      longest = Math.max(longest, spent);
      this.adapt(spent, n === size);
      if (n < size || this.stopped) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (deleted > 0) {
      this.last = { at: this.clock.now(), deleted, durationMs: round(performance.now() - started), slices, longestSliceMs: round(longest) };
    }
  }

  private adapt(spentMs: number, wasFull: boolean): void {
    if (spentMs > TARGET_SLICE_MS * 2) this.batch = Math.max(MIN_BATCH, Math.floor(this.batch / 2));
    else if (spentMs < TARGET_SLICE_MS / 2 && wasFull) this.batch = Math.min(MAX_BATCH, this.batch * 2);
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
