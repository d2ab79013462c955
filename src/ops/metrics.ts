import type { Registry } from "prom-client";
import type { MetricSources } from "./prometheus.js";
import { CallSeries } from "./series.js";

const DURATION_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The Prometheus metrics of one daemon: request series kept here, the rest read at scrape time. */
export class DaemonMetrics {
  private registry: Promise<Registry> | undefined;
  private readonly requests = new CallSeries(
    {
      counter: "swarmd_requests_total",
      counterHelp: "JSON-RPC requests and notifications handled, by method and outcome (ok or the error's name).",
      histogram: "swarmd_request_duration_seconds",
      histogramHelp: "Time from a request's arrival to its reply, by method.",
      label: "method",
    },
    DURATION_BUCKETS,
  );
  private readonly tools = new CallSeries(
    {
      counter: "swarmd_tool_calls_total",
      counterHelp: "Tool calls by tool and outcome.",
      histogram: "swarmd_tool_duration_seconds",
      histogramHelp: "Tool call duration, by tool.",
      label: "tool",
    },
    DURATION_BUCKETS,
  );

  constructor(private readonly sources: MetricSources) {}

  /** Called for every request the rpc layer answers (and every notification it handles). */
  observeRequest(method: string, outcome: string, ms: number): void {
    this.requests.observe(method, outcome, ms / 1000);
  }

  observeTool(tool: string, outcome: string, ms: number): void {
    this.tools.observe(tool, outcome, ms / 1000);
  }

  /** The Prometheus text and its content type. */
  async text(): Promise<{ text: string; contentType: string }> {
    this.registry ??= import("./prometheus.js").then((p) => p.buildRegistry(this.sources, [this.requests.counter, this.requests.histogram, this.tools.counter, this.tools.histogram]));
    const registry = await this.registry;
    return { text: await registry.metrics(), contentType: registry.contentType };
  }
}
