import { Gauge, Registry, collectDefaultMetrics, type Metric } from "prom-client";
import { EventLoopDelay } from "./event-loop-delay.js";
import type { CollectedMetric } from "./series.js";

/** What the daemon's state looks like right now, read at scrape time. */
export interface MetricSources {
  connections(): { open: number; total: number };
  counts(): { swarms: Record<string, number>; agents: Record<string, number>; tasks: Record<string, number> };
  memory(): Promise<{ entries: number; bytes: number; expiredAwaitingSweep: number; lastSweep: { deleted: number; longestSliceMs: number } | null }>;
  wal(): { checkpoints: number; bytes: number; writePauses: number; writePauseMs: number };
  backups(): { count: number; newest: { modifiedAt: number } | null };
  /** Requests refused since start because the database could not take their writes, by reason. */
  storageRefusals(): Record<string, number>;
  /** When the TLS certificate served now expires (ms since the epoch); undefined without TLS. */
  tlsCertificateExpiry(): number | undefined;
}

/**
 * The Prometheus registry: the request series plus gauges read from the daemon at scrape time and prom-client's
 * process metrics. Loaded on the first scrape, so prom-client costs nothing at startup.
 */
export function buildRegistry(sources: MetricSources, series: readonly CollectedMetric[]): Registry {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  replaceEventLoopDelay(registry);
  for (const m of series) registry.registerMetric(m as unknown as Metric);
  /** A gauge read from the daemon at scrape time. */
  const gauge = (name: string, help: string, read: () => number | Promise<number>): void => {
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        this.set(await read());
      },
    });
  };
  gauge("swarmd_connections", "Client connections open now.", () => sources.connections().open);
  gauge("swarmd_connections_accepted", "Client connections accepted since start.", () => sources.connections().total);
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
  new Gauge({
    name: "swarmd_storage_refusals",
    help: "Requests refused since start because the database could not take their writes: storage_full (its disk was full) or storage_busy (another process held its write lock).",
    labelNames: ["reason"],
    registers,
    collect() {
      for (const [reason, count] of Object.entries(sources.storageRefusals())) this.set({ reason }, count);
    },
  });
  // One sliced count of memory per scrape serves five gauges, one listing of the backup directory two; prom-client
  // collects them concurrently, so each awaits the same reading (remembered for a moment).
  const memory = oncePerScrape(() => sources.memory());
  const backups = oncePerScrape(() => sources.backups());
  const memoryGauge = (name: string, help: string, read: (m: Awaited<ReturnType<MetricSources["memory"]>>) => number): void =>
    gauge(name, help, async () => read(await memory()));
  memoryGauge("swarmd_memory_entries", "Live memory entries.", (m) => m.entries);
  memoryGauge("swarmd_memory_bytes", "Bytes of live memory values.", (m) => m.bytes);
  memoryGauge("swarmd_memory_expired_awaiting_sweep", "Expired memory entries the sweep has not deleted yet.", (m) => m.expiredAwaitingSweep);
  memoryGauge("swarmd_memory_last_sweep_deleted", "Entries the last sweep deleted.", (m) => m.lastSweep?.deleted ?? 0);
  memoryGauge("swarmd_memory_last_sweep_longest_slice_seconds", "The longest event-loop block of the last sweep.", (m) => (m.lastSweep?.longestSliceMs ?? 0) / 1000);
  gauge("swarmd_wal_checkpoints", "WAL checkpoints that copied pages since start (from the checkpoint worker).", () => sources.wal().checkpoints);
  gauge("swarmd_wal_bytes", "Size of the write-ahead log file now.", () => sources.wal().bytes);
  gauge("swarmd_wal_write_pauses", "Times memory writes were held so the write-ahead log, past its limit, could start over.", () => sources.wal().writePauses);
  gauge("swarmd_wal_write_pause_seconds", "Time memory writes spent held for that, in all.", () => sources.wal().writePauseMs / 1000);
  gauge("swarmd_backups", "Backup files in the backup directory now.", () => backups().count);
  gauge(
    "swarmd_backup_newest_timestamp_seconds",
    "When the newest backup was written (Unix time; 0: none), for alerts on backups growing old.",
    () => (backups().newest?.modifiedAt ?? 0) / 1000,
  );
  gauge(
    "swarmd_tls_certificate_expiry_timestamp_seconds",
    "When the TLS certificate served now expires (Unix time; 0: no TLS), for alerts before it does.",
    () => (sources.tlsCertificateExpiry() ?? 0) / 1000,
  );
  return registry;
}

/**
 * prom-client's event-loop gauges mislead: each of their samples still includes the 10 ms sampling interval (an idle
 * daemon showed 10 ms of lag), the first scrape reads an empty histogram (min 9223372036 s, mean NaN), and
 * nodejs_eventloop_lag_seconds times the scrape itself. These keep the names, so dashboards go on working, and report
 * the delay since the previous scrape; 0 while nothing was sampled. The plain nodejs_eventloop_lag_seconds is the mean.
 */
function replaceEventLoopDelay(registry: Registry): void {
  const delay = new EventLoopDelay();
  const snapshot = oncePerScrape(() => {
    const reading = delay.take();
    return { ...reading, "": reading.mean };
  });
  for (const stat of ["", "min", "max", "mean", "stddev", "p50", "p90", "p99"] as const) {
    const name = `nodejs_eventloop_lag${stat === "" ? "" : `_${stat}`}_seconds`;
    registry.removeSingleMetric(name);
    new Gauge({
      name,
      help: `Event loop delay since the previous scrape${stat === "" ? ", mean" : `, ${stat}`}.`,
      registers: [registry],
      collect() {
        this.set(snapshot()[stat]);
      },
    });
  }
}

/** `read`, called at most once in any 250 ms: the gauges of one scrape share its value. */
function oncePerScrape<T>(read: () => T): () => T {
  let last: { at: number; value: T } | undefined;
  return () => {
    if (last === undefined || performance.now() - last.at > 250) last = { at: performance.now(), value: read() };
    return last.value;
  };
}
