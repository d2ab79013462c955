import { statSync } from "node:fs";
import { join } from "node:path";
import t from "tap";
import { memoryStats, serverInfo } from "../src/protocol/tools/index.js";
import { LineClient } from "../scripts/line-client.js";
import { ManualClock } from "./helpers/clock.js";
import { daemonWithClient, startDaemon, tempDir } from "./helpers/daemon.js";
import { spawnListening } from "./helpers/spawn.js";
import { callTool } from "./helpers/tools.js";

const storeLine = (id: number, key: string, value: unknown, extra: object = {}): string =>
  JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "memory_store", arguments: { key, value, ...extra } } }) + "\n";

t.test("an acknowledged store survives kill -9 of the daemon", async (t) => {
  const dir = tempDir(t);
  const db = join(dir, "durable.db");
  const first = await spawnListening(t, ["--db", db]);
  const c = await LineClient.connect(first.port);
  const valueOf = (i: number): unknown => [String(i), i, i % 2 === 0, null, { i }, [i]][i % 6];
  // Keep writing in bursts until 3,000 stores are acknowledged, then kill mid-stream.
  let sent = 0;
  const writer = setInterval(() => {
    let burst = "";
    for (let n = 0; n < 200; n++, sent++) burst += storeLine(sent, `k${sent}`, valueOf(sent));
    c.write(burst);
  }, 2);
  await c.waitForLines(3000, 20_000);
  first.proc.kill("SIGKILL");
  clearInterval(writer);
  await first.exited;
  const acked = c.messages.filter((m) => m.result?.structuredContent?.stored === true).map((m) => m.id as number);
  t.ok(acked.length >= 3000, `${acked.length} stores were acknowledged before the kill`);
  c.close();

  const second = await spawnListening(t, ["--db", db]);
  const r = await LineClient.connect(second.port);
  t.teardown(() => r.close());
  let batch = "";
  for (const i of acked) {
    batch += JSON.stringify({ jsonrpc: "2.0", id: i, method: "tools/call", params: { name: "memory_retrieve", arguments: { key: `k${i}` } } }) + "\n";
  }
  r.write(batch);
  await r.waitForLines(acked.length, 20_000);
  const lost = r.messages.filter((m) => m.result.structuredContent.found !== true).map((m) => m.id);
  t.same(lost, [], "no acknowledged write was lost");
  const wrong = r.messages.filter((m) => JSON.stringify(m.result.structuredContent.value) !== JSON.stringify(valueOf(m.id)));
  t.same(wrong.length, 0, "every value came back with its type");
  second.proc.kill("SIGTERM");
  t.equal(await second.exited, 0);
});

t.test("100,000 entries expiring together are swept in slices without stalling the event loop", async (t) => {
  const clock = new ManualClock();
  const d = await startDaemon(t, { SWARMD_MEMORY_SWEEP_INTERVAL: "0.05" }, { clock });
  const c = await LineClient.connect(d.port);
  t.teardown(() => c.close());
  const total = 100_000;
  for (let start = 0; start < total; start += 10_000) {
    let chunk = "";
    for (let i = start; i < start + 10_000; i++) chunk += storeLine(i, `exp:${i}`, i, { ttl: 1, namespace: "mass" });
    c.write(chunk);
    await c.waitForLines(start + 10_000, 60_000);
  }
  t.equal(c.messages.filter((m) => m.error).length, 0, "all stored");

  clock.advance(1000);
  let stats = await callTool(t, c, memoryStats, { namespace: "mass" });
  const pings: number[] = [];
  // Stats are read in slices too, so they can show nothing expired a moment before the sweep files its report.
  for (let i = 0; i < 600 && (stats.expiredAwaitingSweep > 0 || stats.lastSweep === null); i++) {
    const sent = Date.now();
    await c.request("ping");
    pings.push(Date.now() - sent);
    stats = await callTool(t, c, memoryStats, { namespace: "mass" });
  }
  t.equal(stats.expiredAwaitingSweep, 0, "everything expired was deleted");
  t.equal(stats.entries, 0);
  const sweep = stats.lastSweep;
  t.equal(sweep?.deleted, total, "one sweep took them all");
  t.ok((sweep?.slices ?? 0) >= 10, `split into ${sweep?.slices} slices`);
  t.ok((sweep?.longestSliceMs ?? Infinity) < 100, `longest slice ${sweep?.longestSliceMs} ms`);
  t.ok(pings.length > 0, `requests were answered during the sweep (slowest ping ${Math.max(...pings)} ms)`);
  t.comment(`sweep: ${JSON.stringify(sweep)}`);
});

t.test("under sustained writes the write-ahead log stays near its size limit", async (t) => {
  const { d, c } = await daemonWithClient(t, { SWARMD_WAL_LIMIT_MB: "1" });
  const wal = join(d.dir, "swarmd.db-wal");
  const walBytes = (): number => {
    try {
      return statSync(wal).size;
    } catch {
      return 0;
    }
  };
  // 60,000 stores of 1 KB over 20,000 keys, about 4,000 in flight: each commit rewrites hundreds of scattered pages
  // and one lands during nearly every checkpoint. Without the limit the log reached 393 MiB here.
  const total = 60_000;
  const value = "x".repeat(1000);
  let largest = 0;
  const sampler = setInterval(() => (largest = Math.max(largest, walBytes())), 20);
  for (let start = 0; start < total; start += 2_000) {
    let chunk = "";
    for (let i = start; i < start + 2_000; i++) chunk += storeLine(i, `w${(i * 7919) % 20_000}`, value);
    c.write(chunk);
    await c.waitForLines(Math.max(0, start - 2_000), 60_000);
  }
  await c.waitForLines(total, 60_000);
  clearInterval(sampler);
  largest = Math.max(largest, walBytes());
  t.equal(c.messages.filter((m) => m.error).length, 0, "every write was stored");
  const info = await callTool(t, c, serverInfo, {});
  const { writePauses, writePauseMs } = info.database.checkpoints;
  t.ok(writePauses > 0, `writes paused ${writePauses} times, ${writePauseMs} ms in all`);
  t.ok(largest < 96 * 1024 * 1024, `the log peaked at ${(largest / 1024 / 1024).toFixed(1)} MiB`);
});
