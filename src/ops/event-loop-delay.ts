import { createHistogram } from "node:perf_hooks";

/** How often the event loop's delay is sampled: each sample is how much later than this a timer ran. */
const SAMPLING_MS = 10;

/** The event loop's delay over some span, in seconds; all 0 when nothing was sampled. */
export interface EventLoopDelayReading {
  min: number;
  max: number;
  mean: number;
  stddev: number;
  p50: number;
  p90: number;
  p99: number;
}

/**
 * How late the event loop ran a 10 ms timer, sampled from construction and read (then forgotten) by `take()`.
 *
 * Not monitorEventLoopDelay: resetting its histogram also forgets when it last sampled, so a block that began within
 * one interval after a reset was never counted (a 60 ms block read as 4 ms). Its samples also include the interval.
 */
export class EventLoopDelay {
  private readonly histogram = createHistogram();
  private sampledAt = performance.now();
  private readonly timer = setInterval(() => {
    const now = performance.now();
    // The histogram takes whole nanoseconds, at least 1.
    this.histogram.record(Math.max(1, Math.round((now - this.sampledAt - SAMPLING_MS) * 1e6)));
    this.sampledAt = now;
  }, SAMPLING_MS).unref();

  /** The delay since the previous `take()` (or construction). */
  take(): EventLoopDelayReading {
    const h = this.histogram;
    const seconds = (ns: number): number => (h.count === 0 ? 0 : ns / 1e9);
    const reading = {
      min: seconds(h.min),
      max: seconds(h.max),
      mean: seconds(h.mean),
      stddev: seconds(h.stddev),
      p50: seconds(h.percentile(50)),
      p90: seconds(h.percentile(90)),
      p99: seconds(h.percentile(99)),
    };
    h.reset();
    return reading;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
