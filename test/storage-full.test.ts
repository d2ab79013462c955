// A database disk that fills up: writes are refused with a clear error, no write is acknowledged and then lost, and
// the daemon stays up — also when its TTL sweep cannot write either. A real filesystem that fills: a small tmpfs.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { LineClient } from "../scripts/line-client.js";
import { spawnListening } from "./helpers/spawn.js";

const dir = mkdtempSync(join(tmpdir(), "swarmd-full-"));
let mounted = false;
try {
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", dir], { stdio: "ignore" });
  mounted = true;
} catch {
  // not root, or no CAP_SYS_ADMIN: the test says so and skips
}
t.teardown(() => {
  if (mounted) execFileSync("umount", ["-l", dir]);
  rmSync(dir, { recursive: true, force: true });
});

const value = (bytes: number): string => randomBytes(bytes).toString("base64");

t.test(
  "a full disk: writes refused with storage_full, every acknowledged write there after a restart, the daemon up",
  { skip: mounted ? false : "needs to mount a small tmpfs (root with CAP_SYS_ADMIN)" },
  async (t) => {
    const args = ["--db", join(dir, "swarmd.db"), "--memory-sweep-interval", "0.2"];
    const first = await spawnListening(t, args);
    const c = await LineClient.connect(first.port);
    t.teardown(() => c.close());
    // Entries that expire while the disk is full: the sweep must then write too.
    for (let i = 0; i < 6; i++) t.notOk((await c.call("memory_store", { key: `ttl${i}`, value: value(15_000), ttl: 3 })).error);

    const acknowledged = new Map<string, string>();
    let refused: { key: string; error: Record<string, unknown> } | undefined;
    for (let i = 0; i < 200 && refused === undefined; i++) {
      const v = value(45_000);
      const reply = await c.call("memory_store", { key: `k${i}`, value: v });
      if (reply.error) refused = { key: `k${i}`, error: reply.error };
      else acknowledged.set(`k${i}`, v);
    }
    t.ok(acknowledged.size >= 5, `${acknowledged.size} values stored before the disk filled`);
    t.match(refused?.error, { code: -32000, message: /disk is full/, data: { reason: "storage_full" } }, "the write that did not fit is refused, clearly");
    const again = await c.call("memory_store", { key: "later", value: value(45_000) });
    t.match(again.error, { data: { reason: "storage_full" } }, "and so is the next");
    const read = await c.call("memory_retrieve", { key: "k0" });
    t.equal(read.result?.structuredContent?.value, acknowledged.get("k0"), "reads go on");

    await new Promise((r) => setTimeout(r, 4_000)); // the entries expire, and the sweep meets the full disk
    t.equal((await c.request("ping")).result?.status, "ok", "still answering");
    t.equal(first.proc.exitCode, null, "still running");
    const sweepFailures = first.logs.filter((l) => /^memory TTL sweep failed/.test(String(l.msg)));
    t.ok(sweepFailures.length <= 1, `a failing sweep is logged once, not every interval (${sweepFailures.length})`);

    first.proc.kill("SIGTERM");
    await first.exited;
    execFileSync("mount", ["-o", "remount,size=8m", dir]); // space freed
    const second = await spawnListening(t, args);
    const d = await LineClient.connect(second.port);
    t.teardown(() => d.close());
    for (const [key, v] of acknowledged) {
      const r = await d.call("memory_retrieve", { key });
      if (r.result?.structuredContent?.value !== v) t.fail(`${key}: acknowledged before the restart, ${JSON.stringify(r.result ?? r.error).slice(0, 80)} after it`);
    }
    t.pass(`all ${acknowledged.size} acknowledged values read back after the restart`);
    for (const key of [refused?.key, "later"]) t.match((await d.call("memory_retrieve", { key })).result?.structuredContent, { found: false }, `${key}, refused, is absent`);
    t.notOk((await d.call("memory_store", { key: "later", value: "fits now" })).error, "with space again, writes are taken");
  },
);
