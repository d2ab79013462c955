import t, { type Test } from "tap";
import { memoryStore, swarmInit, taskOrchestrate } from "../src/protocol/tools/index.js";
import { LineClient } from "../scripts/line-client.js";
import { startDaemon } from "./helpers/daemon.js";
import { callTool } from "./helpers/tools.js";

async function connect(t: Test, port: number): Promise<LineClient> {
  const c = await LineClient.connect(port);
  t.teardown(() => c.close());
  return c;
}

const pings = (n: number, prefix = "p"): string => Array.from({ length: n }, (_, i) => `{"jsonrpc":"2.0","id":"${prefix}${i}","method":"ping"}`).join("\n") + "\n";

t.test("rate: a token bucket per connection; the excess is rate_limited with retryAfterMs", async (t) => {
  const { port } = await startDaemon(t, { SWARMD_RATE_LIMIT: "20", SWARMD_RATE_BURST: "5" });
  const c = await connect(t, port);
  c.write(pings(12));
  await c.waitForLines(12);
  const limited = c.messages.filter((m) => m.error);
  t.equal(c.messages.filter((m) => m.result).length, 5, "the burst went through");
  t.equal(limited.length, 7);
  t.same([limited[0]?.error.code, limited[0]?.error.data.reason, limited[0]?.error.data.limit], [-32003, "rate_limited", 20]);
  const wait = limited[0]?.error.data.retryAfterMs as number;
  t.ok(wait > 0 && wait <= 50, `retryAfterMs ${wait}`);
  await new Promise((r) => setTimeout(r, 260));
  t.equal((await c.request("ping")).result.status, "ok", "the bucket refilled");
  const other = await connect(t, port);
  t.equal((await other.request("ping")).result.status, "ok", "each connection has its own bucket");
  await new Promise((r) => setTimeout(r, 300));
  const batch = await c.request("batch", [{ method: "ping" }, { method: "ping" }, { method: "ping" }, { method: "ping" }]);
  t.ok(batch.result, "a batch of 4 fits a full bucket of 5");
  const second = await c.request("batch", [{ method: "ping" }, { method: "ping" }, { method: "ping" }]);
  t.equal(second.error?.data.reason, "rate_limited", "batch items count one each");
});

t.test("the protocol document's default: 100 requests a second, bursts of 200", async (t) => {
  const { port } = await startDaemon(t, { SWARMD_RATE_LIMIT: "" }); // unset: the default
  const c = await connect(t, port);
  c.write(pings(260));
  await c.waitForLines(260);
  const served = c.messages.filter((m) => m.result).length;
  t.ok(served >= 200 && served < 230, `${served} of 260 served at once`);
});

t.test("concurrency: a swarm has at most SWARMD_SWARM_CONCURRENCY calls in flight", async (t) => {
  const { port } = await startDaemon(t, { SWARMD_SWARM_CONCURRENCY: "2" });
  const c = await connect(t, port);
  await callTool(t, c, swarmInit, {});
  const task = await callTool(t, c, taskOrchestrate, { task: "x", requiredCapabilities: ["nobody"] });
  const waits = [c.call("task_wait", { taskId: task.taskId, timeoutMs: 300 }), c.call("task_wait", { taskId: task.taskId, timeoutMs: 300 })];
  await new Promise((r) => setTimeout(r, 50));
  const busy = await c.call("task_wait", { taskId: task.taskId, timeoutMs: 300 });
  t.same([busy.error?.code, busy.error?.data.reason, busy.error?.data.limit], [-32003, "swarm_busy", 2]);
  t.equal((await c.call("swarm_status", {})).error?.data.reason, "swarm_busy", "a quick call would be one more in flight too");
  await Promise.all(waits);
  t.ok((await c.call("task_wait", { taskId: task.taskId, timeoutMs: 10 })).result, "places free up when calls finish");
});

t.test("a connection with SWARMD_MAX_INFLIGHT unanswered requests is not read until half are answered", async (t) => {
  const { port } = await startDaemon(t, { SWARMD_MAX_INFLIGHT: "4" });
  const c = await connect(t, port);
  await callTool(t, c, swarmInit, {});
  const task = await callTool(t, c, taskOrchestrate, { task: "x", requiredCapabilities: ["nobody"] });
  const slow = Array.from({ length: 6 }, (_, i) => JSON.stringify({ jsonrpc: "2.0", id: `w${i}`, method: "tools/call", params: { name: "task_wait", arguments: { taskId: task.taskId, timeoutMs: 400 } } }));
  c.write(slow.join("\n") + "\n");
  await new Promise((r) => setTimeout(r, 100));
  const sent = Date.now();
  c.send({ jsonrpc: "2.0", id: "after", method: "ping" });
  await c.reply("after");
  t.ok(Date.now() - sent >= 250, `the ping waited ${Date.now() - sent} ms: the connection was not read meanwhile`);
  t.ok(c.messages.findIndex((m) => m.id === "after") > c.messages.findIndex((m) => m.id === "w0"), "answered after the waits");
});

t.test("connections: one over SWARMD_MAX_CONNECTIONS gets one error line and is closed", async (t) => {
  const { port } = await startDaemon(t, { SWARMD_MAX_CONNECTIONS: "2" });
  await connect(t, port);
  await connect(t, port);
  const third = await connect(t, port);
  await third.waitForEnd();
  t.same(third.messages, [
    { jsonrpc: "2.0", id: null, error: { code: -32003, message: "Too many connections: at most 2 are served at once.", data: { reason: "too_many_connections", limit: 2 } } },
  ]);
});

t.test("a client that sends but never reads stops being served at the soft limit; others are not slowed", async (t) => {
  const { port } = await startDaemon(t, { SWARMD_OUTPUT_SOFT_LIMIT: "65536", SWARMD_OUTPUT_HARD_LIMIT: "67108864" });
  const setup = await connect(t, port);
  await callTool(t, setup, memoryStore, { key: "big", value: "x".repeat(256 * 1024) });
  const before = (await setup.call("server_info")).result.structuredContent.requestsServed;
  const slow = await connect(t, port);
  slow.socket.pause(); // reads nothing
  const retrieve = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "memory_retrieve", arguments: { key: "big" } } }) + "\n";
  for (let i = 0; i < 20; i++) slow.write(retrieve.repeat(20)); // 400 replies of ~768 KiB: ~300 MiB if all were made
  const fast = await connect(t, port);
  const latencies: number[] = [];
  for (let i = 0; i < 30; i++) {
    const sent = Date.now();
    await fast.request("ping");
    latencies.push(Date.now() - sent);
    await new Promise((r) => setTimeout(r, 10));
  }
  t.ok(Math.max(...latencies) < 250, `other clients' pings: max ${Math.max(...latencies)} ms`);
  const served = (await setup.call("server_info")).result.structuredContent.requestsServed - before;
  t.ok(served < 60, `only ${served} of the 400 were served before the daemon stopped reading: memory stays bounded`);
});

t.test("a reply that would leave more than the hard limit unread drops the connection", async (t) => {
  const { port, logs } = await startDaemon(t, { SWARMD_OUTPUT_SOFT_LIMIT: "65536", SWARMD_OUTPUT_HARD_LIMIT: "1048576" });
  const setup = await connect(t, port);
  for (let i = 0; i < 6; i++) await callTool(t, setup, memoryStore, { key: `v${i}`, value: "y".repeat(300 * 1024) });
  const slow = await connect(t, port);
  slow.socket.pause();
  slow.send({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "memory_list", arguments: { includeValues: true } } });
  for (let i = 0; i < 100 && !logs.some((l) => l.msg === "disconnecting a client that does not read its replies"); i++) await new Promise((r) => setTimeout(r, 20));
  const cut = logs.find((l) => l.msg === "disconnecting a client that does not read its replies");
  t.ok((cut?.bufferedBytes as number) > 1_048_576, `disconnected with ${cut?.bufferedBytes} bytes unread`);
  slow.socket.resume();
  await slow.waitForEnd();
  t.equal((await setup.request("ping")).result.status, "ok", "the daemon goes on");
});
