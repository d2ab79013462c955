/**
 * Request counters and latency histograms cheap enough for every request: an observation is one map lookup and a few
 * field writes (prom-client's own metrics hash their label object on every call, which cost a sixth of the daemon's
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

interface OutcomeCount {
  readonly outcome: string;
  count: number;
}

/** Everything observed under one label. */
interface LabelSeries {
  /** Few per label, the most frequent first once seen: a short scan is cheaper than a second map. */
  readonly outcomes: OutcomeCount[];
  readonly buckets: Float64Array;
  sum: number;
  count: number;
}

export interface CallSeriesNames {
  /** The counter, by label and outcome, e.g. swarmd_requests_total. */
  readonly counter: string;
  readonly counterHelp: string;
  /** The histogram of durations in seconds, by label, e.g. swarmd_request_duration_seconds. */
  readonly histogram: string;
  readonly histogramHelp: string;
  /** The label's name, e.g. method. */
  readonly label: string;
}

/**
 * Calls by label (a method, a tool): how many ended with each outcome, and how long they took. Both Prometheus
 * metrics read the same series, so one observation costs one lookup.
 */
export class CallSeries {
  readonly counter: CollectedMetric;
  readonly histogram: CollectedMetric;
  private readonly series = new Map<string, LabelSeries>();

  constructor(
    names: CallSeriesNames,
    private readonly bounds: readonly number[],
  ) {
    const reset = (): void => this.series.clear();
    this.counter = { name: names.counter, help: names.counterHelp, type: "counter", aggregator: "sum", get: async () => this.counts(names), reset };
    this.histogram = { name: names.histogram, help: names.histogramHelp, type: "histogram", aggregator: "sum", get: async () => this.durations(names), reset };
  }

  observe(label: string, outcome: string, seconds: number): void {
    let s = this.series.get(label);
    if (s === undefined) this.series.set(label, (s = { outcomes: [], buckets: new Float64Array(this.bounds.length), sum: 0, count: 0 }));
    let o = s.outcomes[0];
    if (o === undefined || o.outcome !== outcome) o = outcomeCount(s.outcomes, outcome);
    o.count++;
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

  private counts(names: CallSeriesNames) {
    const values: MetricValue[] = [];
    for (const [label, s] of this.series) for (const o of s.outcomes) values.push({ labels: { [names.label]: label, outcome: o.outcome }, value: o.count });
    return { name: names.counter, help: names.counterHelp, type: "counter", aggregator: "sum", values };
  }

  private durations(names: CallSeriesNames) {
    const values: MetricValue[] = [];
    const bucket = `${names.histogram}_bucket`;
    for (const [label, s] of this.series) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += s.buckets[i] as number;
        values.push({ metricName: bucket, labels: { le, [names.label]: label }, value: cumulative });
      });
      values.push({ metricName: bucket, labels: { le: "+Inf", [names.label]: label }, value: s.count });
      values.push({ metricName: `${names.histogram}_sum`, labels: { [names.label]: label }, value: s.sum });
      values.push({ metricName: `${names.histogram}_count`, labels: { [names.label]: label }, value: s.count });
    }
    return { name: names.histogram, help: names.histogramHelp, type: "histogram", aggregator: "sum", values };
  }
}

/** The count for `outcome`, added when new; one that has just outnumbered the first moves to the front. */
function outcomeCount(outcomes: OutcomeCount[], outcome: string): OutcomeCount {
  const at = outcomes.findIndex((o) => o.outcome === outcome);
  if (at === -1) {
    const added = { outcome, count: 0 };
    outcomes.push(added);
    return added;
  }
  const found = outcomes[at] as OutcomeCount;
  const first = outcomes[0] as OutcomeCount;
  if (at > 0 && found.count >= first.count) [outcomes[0], outcomes[at]] = [found, first];
  return found;
}
