/**
 * Request counters and latency histograms cheap enough for every request: an observation is a map lookup and a few
 * array writes (prom-client's own metrics hash their label object on every call, which cost a sixth of the daemon's
 * time under pipelined load). prom-client's registry reads them at scrape time through `get()`, the same interface
 * its own metrics expose, so the text format is still prom-client's.
 */

/** One value row as prom-client's registry formats it. */
interface MetricValue {
  readonly metricName?: string;
  readonly labels: Record<string, string | number>;
  readonly value: number;
}

/** What prom-client's Registry.registerMetric needs. */
export interface CollectedMetric {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "histogram";
  readonly aggregator: "sum";
  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: MetricValue[] }>;
  reset(): void;
}

/** A counter with two labels, e.g. (method, outcome). */
export class PairCounter implements CollectedMetric {
  readonly type = "counter";
  readonly aggregator = "sum";
  private readonly counts = new Map<string, Map<string, number>>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly [string, string],
  ) {}

  inc(first: string, second: string): void {
    let inner = this.counts.get(first);
    if (inner === undefined) this.counts.set(first, (inner = new Map()));
    inner.set(second, (inner.get(second) ?? 0) + 1);
  }

  async get() {
    const [a, b] = this.labelNames;
    const values: MetricValue[] = [];
    for (const [first, inner] of this.counts) for (const [second, value] of inner) values.push({ labels: { [a]: first, [b]: second }, value });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.counts.clear();
  }
}

interface Series {
  readonly buckets: Float64Array;
  sum: number;
  count: number;
}

/** A histogram with one label, e.g. method; observations in seconds. */
export class LabelledHistogram implements CollectedMetric {
  readonly type = "histogram";
  readonly aggregator = "sum";
  private readonly series = new Map<string, Series>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelName: string,
    private readonly bounds: readonly number[],
  ) {}

  observe(label: string, seconds: number): void {
    let s = this.series.get(label);
    if (s === undefined) this.series.set(label, (s = { buckets: new Float64Array(this.bounds.length), sum: 0, count: 0 }));
    s.sum += seconds;
    s.count++;
    const { bounds } = this;
    for (let i = 0; i < bounds.length; i++) {
      if (seconds <= (bounds[i] as number)) {
        (s.buckets[i] as number)++;
        break;
      }
    }
  }

  async get() {
    const values: MetricValue[] = [];
    for (const [label, s] of this.series) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += s.buckets[i] as number;
        values.push({ metricName: `${this.name}_bucket`, labels: { le, [this.labelName]: label }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { le: "+Inf", [this.labelName]: label }, value: s.count });
      values.push({ metricName: `${this.name}_sum`, labels: { [this.labelName]: label }, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: { [this.labelName]: label }, value: s.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.series.clear();
  }
}
