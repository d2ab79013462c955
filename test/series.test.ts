import t from "tap";
import { CallSeries } from "../src/ops/series.js";

// The request and tool series behind /metrics: every outcome counted under its own label however they interleave
// (the most frequent is kept first, which must not lose or mix up counts), and each duration in its bucket.

const names = { counter: "calls_total", counterHelp: "calls", histogram: "call_seconds", histogramHelp: "durations", label: "method" };

t.test("outcomes are counted apart however they interleave, and durations land in their buckets", async (t) => {
  const series = new CallSeries(names, [0.001, 0.01, 0.1]);
  // An error first, then ok overtakes it: the front of the list changes while counting.
  const sequence = ["BUSY", "ok", "ok", "BUSY", "ok", "TIMEOUT", "ok", "BUSY", "BUSY", "BUSY"];
  sequence.forEach((outcome, i) => series.observe("ping", outcome, i % 2 === 0 ? 0.0005 : 0.05));
  series.observe("tools/call", "ok", 3);
  const counts = (await series.counter.get()).values.map((v) => `${v.labels.method} ${v.labels.outcome} ${v.value}`).sort();
  t.same(counts, ["ping BUSY 5", "ping TIMEOUT 1", "ping ok 4", "tools/call ok 1"]);
  const durations = (await series.histogram.get()).values;
  const bucket = (method: string, le: number | string) => durations.find((v) => v.metricName === "call_seconds_bucket" && v.labels.method === method && v.labels.le === le)?.value;
  t.equal(bucket("ping", 0.001), 5, "the five fast ones");
  t.equal(bucket("ping", 0.01), 5, "buckets are cumulative");
  t.equal(bucket("ping", 0.1), 10);
  t.equal(bucket("ping", "+Inf"), 10);
  t.equal(bucket("tools/call", 0.1), 0, "3 s is over every bound");
  t.equal(bucket("tools/call", "+Inf"), 1);
  const sum = durations.find((v) => v.metricName === "call_seconds_sum" && v.labels.method === "ping")?.value ?? NaN;
  t.ok(Math.abs(sum - (5 * 0.0005 + 5 * 0.05)) < 1e-12, `sum of durations: ${sum}`);
  series.counter.reset();
  t.same((await series.histogram.get()).values, [], "a reset clears both views");
});
