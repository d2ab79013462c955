// swarmctl --watch: a listing run again and again, as watch(1) would, through a daemon that comes and goes.
import { join } from "node:path";
import t from "tap";
import { agentSpawn, memoryStore, swarmInit } from "../src/protocol/tools/index.js";
import { LineClient } from "../scripts/line-client.js";
import { freePort, startDaemon, tempDir } from "./helpers/daemon.js";
import { spawnListening } from "./helpers/spawn.js";
import { startSwarmctl } from "./helpers/swarmctl.js";
import { callTool } from "./helpers/tools.js";

const watching = (port: number, ...args: string[]) => startSwarmctl(["--port", String(port), ...args]);

t.test("agent list --watch: each run under a line with the time, through a daemon not there yet, until Ctrl-C", async (t) => {
  const port = await freePort();
  const w = watching(port, "agent", "list", "--watch", "0.2");
  t.teardown(() => w.child.kill("SIGKILL"));
  await w.until(() => /swarmctl: No connection within \d+ ms/.test(w.out.stdout), "a run that cannot connect says why");

  await spawnListening(t, ["--db", join(tempDir(t), "watch.db"), "--port", String(port), "--http-port", "0"]);
  const c = await LineClient.connect(port);
  t.teardown(() => c.close());
  const { swarmId } = await callTool(t, c, swarmInit, {});
  const { agentId } = await callTool(t, c, agentSpawn, { type: "tester", swarmId });
  await w.until(() => w.out.stdout.includes(agentId), "the next runs list the new agent");
  w.child.kill("SIGINT");
  t.equal(await w.exited, 0, "Ctrl-C ends it, exit 0");

  const frames = w.out.stdout.split(/^Every 0\.2 s: swarmctl --port \d+ agent list --watch 0\.2 {4}\d{4}-\d\d-\d\dT[\d:.]+Z$/m).slice(1);
  t.ok(frames.length >= 2, `${frames.length} runs, each under its own line`);
  t.match(frames.at(-1), new RegExp(`^\\n\\nID +NAME +TYPE +STATUS[^\\n]*\\n${agentId} +tester-1 +tester +idle`), "the latest is the table");
  t.equal(w.out.stderr, "", "nothing on stderr: a failed run is part of its frame");
});

t.test("--watch with --json: one JSON line a run, failures on stderr; --watch only where a command only reads", async (t) => {
  const { port } = await startDaemon(t);
  const w = watching(port, "--json", "swarm", "list", "--watch", "0.1");
  t.teardown(() => w.child.kill("SIGKILL"));
  await w.until(() => w.out.stdout.split("\n").length > 3, "three runs");
  w.child.kill("SIGINT");
  t.equal(await w.exited, 0);
  const lines = w.out.stdout.trim().split("\n");
  t.same(lines.map((l) => Object.keys(JSON.parse(l) as object)), lines.map(() => ["swarms", "count"]), "each line the payload, nothing else");

  const zero = watching(port, "agent", "list", "--watch", "0");
  t.equal(await zero.exited, 2);
  t.match(zero.out.stderr, /^swarmctl: --watch must be a positive number of seconds, not "0"\n/);
  const missing = watching(port, "task", "status", "--watch", "1");
  t.equal(await missing.exited, 2, "a usage error ends it at once, as it ends one run");
  t.match(missing.out.stderr, /^swarmctl: missing taskId\n/);
  const writes = watching(port, "memory", "set", "k", "v", "--watch", "1");
  t.equal(await writes.exited, 2, "a command that changes state does not take --watch");
  t.match(writes.out.stderr, /^swarmctl: unknown option --watch/);
});

t.test("memory get and memory search --watch follow a value as it changes, and show a key not there yet as (nil)", async (t) => {
  const { port } = await startDaemon(t);
  const c = await LineClient.connect(port);
  t.teardown(() => c.close());
  const get = watching(port, "memory", "get", "build-status", "--watch", "0.1");
  const search = watching(port, "--json", "memory", "search", "build-*", "--in", "key", "--watch", "0.1");
  t.teardown(() => get.child.kill("SIGKILL"));
  t.teardown(() => search.child.kill("SIGKILL"));
  await get.until(() => /\n\n\(nil\)\n/.test(get.out.stdout), "a key not stored yet");
  await search.until(() => search.out.stdout.includes("\n"), "the search's first run");
  await callTool(t, c, memoryStore, { key: "build-status", value: "running" });
  await get.until(() => get.out.stdout.includes('"running"'), "the stored value");
  await callTool(t, c, memoryStore, { key: "build-status", value: { passed: 12 } });
  await get.until(() => get.out.stdout.includes('{"passed":12}'), "and the new one");
  await search.until(() => search.out.stdout.includes('"passed":12'), "the search finds it too");
  for (const w of [get, search]) {
    w.child.kill("SIGINT");
    t.equal(await w.exited, 0);
  }
  const found = search.out.stdout.trim().split("\n").map((l) => (JSON.parse(l) as { entries: Array<{ key: string }> }).entries.map((e) => e.key));
  t.same(found[0], [], "the search's first runs found nothing");
  t.same(found.at(-1), ["build-status"], "its last found the key");
});

t.test("--watch never shows the token it was given on its title line", async (t) => {
  const { port } = await startDaemon(t, { SWARMD_AUTH_TOKENS: "ops:read:watch-secret-value" });
  for (const token of [["--token", "watch-secret-value"], ["--token=watch-secret-value"]]) {
    const w = watching(port, ...token, "info", "--watch", "0.1");
    t.teardown(() => w.child.kill("SIGKILL"));
    await w.until(() => /^name: swarmd$/m.test(w.out.stdout), "a run");
    w.child.kill("SIGINT");
    t.equal(await w.exited, 0);
    t.match(w.out.stdout, token.length === 2 ? /^Every 0\.1 s: swarmctl --port \d+ --token … info --watch 0\.1 /m : /^Every 0\.1 s: swarmctl --port \d+ --token=… info/m);
    t.notMatch(w.out.stdout, /watch-secret-value/, "the secret is not printed");
  }
});
