import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** What the daemon's state looks like right now, read at scrape time. */
export interface MetricSources {
  connections(): { open: number; total: number };
  counts(): { swarms: Record<string, number>; agents: Record<string, number>; tasks: Record<string, number> };
  memory(): Promise<{ entries: number; bytes: number; expiredAwaitingSweep: number; lastSweep: { deleted: number; longestSliceMs: number } | null }>;
  checkpoints(): { checkpoints: number; framesCopied: number };
}

const DURATION_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The Prometheus metrics of one daemon (prom-client, in a registry of its own). */
export class DaemonMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<"method" | "outcome">;
  private readonly requestSeconds: Histogram<"method">;
  private readonly toolCalls: Counter<"tool" | "outcome">;
  private readonly toolSeconds: Histogram<"tool">;
  private readonly byMethod = new Map<string, Histogram.Internal<"method">>();
  private readonly byTool = new Map<string, Histogram.Internal<"tool">>();

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({ name: "swarmd_requests_total", help: "JSON-RPC requests and notifications handled, by method and outcome (ok or the error's name).", labelNames: ["method", "outcome"], registers });
    this.requestSeconds = new Histogram({ name: "swarmd_request_duration_seconds", help: "Time from a request's arrival to its reply, by method.", labelNames: ["method"], buckets: DURATION_BUCKETS, registers });
    this.toolCalls = new Counter({ name: "swarmd_tool_calls_total", help: "Tool calls by tool and outcome.", labelNames: ["tool", "outcome"], registers });
    this.toolSeconds = new Histogram({ name: "swarmd_tool_duration_seconds", help: "Tool call duration, by tool.", labelNames: ["tool"], buckets: DURATION_BUCKETS, registers });
    new Gauge({
      name: "swarmd_connections",
      help: "Client connections open now.",
      registers,
      collect() {
        this.set(sources.connections().open);
      },
    });
    new Gauge({
      name: "swarmd_connections_accepted",
      help: "Client connections accepted since start.",
      registers,
      collect() {
        this.set(sources.connections().total);
      },
    });
    const byStatus = (name: "swarms" | "agents" | "tasks", statuses: readonly string[]): void => {
      new Gauge({
        name: `swarmd_${name}`,
        help: `${name[0]?.toUpperCase()}${name.slice(1)} by status.`,
        labelNames: ["status"],
        registers,
        collect() {
          const counts = sources.counts()[name];
          for (const status of statuses) this.set({ status }, counts[status] ?? 0);
        },
      });
    };
    byStatus("swarms", ["active", "destroyed"]);
    byStatus("agents", ["idle", "busy", "offline", "terminated"]);
    byStatus("tasks", ["pending", "assigned", "running", "completed", "failed", "cancelled"]);
    // One sliced count of memory per scrape serves five gauges; prom-client collects them concurrently, so each
    // awaits the same count (remembered for a moment).
    let counted: { at: number; value: ReturnType<MetricSources["memory"]> } | undefined;
    const memory = (): ReturnType<MetricSources["memory"]> => {
      if (counted === undefined || performance.now() - counted.at > 250) counted = { at: performance.now(), value: sources.memory() };
      return counted.value;
    };
    const memoryGauge = (name: string, help: string, read: (m: Awaited<ReturnType<MetricSources["memory"]>>) => number): void => {
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          this.set(read(await memory()));
        },
      });
    };
    memoryGauge("swarmd_memory_entries", "Live memory entries.", (m) => m.entries);
    memoryGauge("swarmd_memory_bytes", "Bytes of live memory values.", (m) => m.bytes);
    memoryGauge("swarmd_memory_expired_awaiting_sweep", "Expired memory entries the sweep has not deleted yet.", (m) => m.expiredAwaitingSweep);
    memoryGauge("swarmd_memory_last_sweep_deleted", "Entries the last sweep deleted.", (m) => m.lastSweep?.deleted ?? 0);
    memoryGauge("swarmd_memory_last_sweep_longest_slice_seconds", "The longest event-loop block of the last sweep.", (m) => (m.lastSweep?.longestSliceMs ?? 0) / 1000);
    new Gauge({
      name: "swarmd_wal_checkpoints",
      help: "WAL checkpoints that copied pages since start (from the checkpoint worker).",
      registers,
      collect() {
        this.set(sources.checkpoints().checkpoints);
      },
    });
  }

  /** Called for every request the rpc layer answers (and every notification it handles). */
  observeRequest(method: string, outcome: string, ms: number): void {
    this.requests.inc({ method, outcome });
    let h = this.byMethod.get(method);
    if (h === undefined) this.byMethod.set(method, (h = this.requestSeconds.labels(method)));
    h.observe(ms / 1000);
  }

  observeTool(tool: string, outcome: string, ms: number): void {
    this.toolCalls.inc({ tool, outcome });
    let h = this.byTool.get(tool);
    if (h === undefined) this.byTool.set(tool, (h = this.toolSeconds.labels(tool)));
    h.observe(ms / 1000);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
