import { setTimeout as sleep } from "node:timers/promises";
import t, { type Test } from "tap";
import { LineClient } from "../scripts/line-client.js";
import { startDaemon } from "./helpers/daemon.js";
import { sleeps, startRpc } from "./helpers/rpc.js";

const MiB = 1024 * 1024;
const { port } = await startDaemon(t);

async function client(t: Test, p = port): Promise<LineClient> {
  const c = await LineClient.connect(p);
  t.teardown(() => c.close());
  return c;
}

t.test("a multi-byte character split across two writes arrives whole", async (t) => {
  const c = await client(t);
  const line = Buffer.from('{"jsonrpc":"2.0","id":"é😀","method":"ping","params":{"note":"😀"}}\n', "utf8");
  const cut = line.indexOf(Buffer.from("😀", "utf8")) + 2; // inside the 4-byte sequence
  c.write(line.subarray(0, cut));
  await sleep(30);
  c.write(line.subarray(cut));
  const reply = await c.reply("é😀");
  t.equal(reply.result.status, "ok");
});

t.test("CRLF line endings and blank lines are tolerated", async (t) => {
  const c = await client(t);
  c.write('\r\n\n   \n{"jsonrpc":"2.0","id":1,"method":"ping"}\r\n\t\r\n{"jsonrpc":"2.0","id":2,"method":"ping"}\n');
  const lines = await c.waitForLines(2);
  t.same(
    lines.map((l) => JSON.parse(l).id),
    [1, 2],
  );
  await sleep(50);
  t.equal(c.texts.length, 2, "blank lines got no reply");
});

t.test("a 2 MiB message is accepted", async (t) => {
  const c = await client(t);
  const pad = "x".repeat(2 * MiB);
  c.send({ jsonrpc: "2.0", id: "big", method: "ping", params: { pad } });
  t.equal((await c.reply("big")).result.status, "ok");
});

t.test("an 11 MiB message is refused with id null; the next line on the same connection is served", async (t) => {
  const c = await client(t);
  const huge = JSON.stringify({ jsonrpc: "2.0", id: "huge", method: "ping", params: { pad: "y".repeat(11 * MiB) } });
  c.write(huge.slice(0, 4 * MiB));
  c.write(huge.slice(4 * MiB) + "\n" + JSON.stringify({ jsonrpc: "2.0", id: "next", method: "ping" }) + "\n");
  const next = await c.reply("next", 15_000);
  t.equal(next.result.status, "ok");
  const refused = c.messages.filter((m) => m.error);
  t.equal(refused.length, 1, "one error for the oversized line");
  t.equal(refused[0]?.id, null);
  t.equal(refused[0]?.error.code, -32003);
  t.equal(refused[0]?.error.data.reason, "message_too_large");
  t.equal(refused[0]?.error.data.limit, 10 * MiB);
  t.notOk(c.messages.some((m) => m.id === "huge"), "the oversized request itself was not executed");
});

t.test("the size limit is configurable and counts bytes, not characters", async (t) => {
  const small = await startDaemon(t, { SWARMD_MAX_MESSAGE_BYTES: "2048" });
  const c = await client(t, small.port);
  const fits = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping", params: { p: "a".repeat(1900) } });
  const tooMany = JSON.stringify({ jsonrpc: "2.0", id: 2, method: "ping", params: { p: "é".repeat(1000) } }); // ~2050 bytes
  c.write(fits + "\n" + tooMany + "\n" + JSON.stringify({ jsonrpc: "2.0", id: 3, method: "ping" }) + "\n");
  await c.reply(3);
  t.same(
    c.messages.map((m) => [m.id, m.error?.data?.reason ?? "ok"]),
    [
      [1, "ok"],
      [null, "message_too_large"],
      [3, "ok"],
    ],
  );
});

t.test("1,000 pipelined requests in one write get 1,000 replies with matching ids", async (t) => {
  const c = await client(t);
  let batch = "";
  for (let i = 0; i < 1000; i++) batch += `{"jsonrpc":"2.0","id":${i},"method":"ping"}\n`;
  c.write(batch);
  const lines = await c.waitForLines(1000);
  const ids = lines.map((l) => JSON.parse(l).id as number);
  t.same(
    ids,
    Array.from({ length: 1000 }, (_, i) => i),
    "every id once, in order for synchronous methods",
  );
});

t.test("after the client half-closes, everything it sent is answered and then the server closes", async (t) => {
  const c = await client(t);
  for (let i = 0; i < 50; i++) c.send({ jsonrpc: "2.0", id: i, method: i % 2 ? "ping" : "tools/call", params: { name: "server_info" } });
  c.endInput();
  await c.waitForEnd();
  t.equal(c.texts.length, 50);
});

t.test("a half-closed client still gets the reply of slow work in flight", async (t) => {
  const srv = await startRpc(t);
  const c = await client(t, srv.port);
  c.send({ jsonrpc: "2.0", id: "slow", method: "tools/call", params: { name: "test_sleep", arguments: { ms: 300 } } });
  c.endInput();
  await c.waitForEnd();
  t.equal(c.messages[0]?.id, "slow");
  t.ok(c.messages[0]?.result.structuredContent.slept >= 290);
});

t.test("a slow request does not hold up later fast ones on the same connection", async (t) => {
  const srv = await startRpc(t);
  const c = await client(t, srv.port);
  c.send({ jsonrpc: "2.0", id: "slow", method: "tools/call", params: { name: "test_sleep", arguments: { ms: 500 } } });
  c.send({ jsonrpc: "2.0", id: "fast", method: "ping" });
  c.send({ jsonrpc: "2.0", id: "fast2", method: "tools/call", params: { name: "test_sleep", arguments: { ms: 0 } } });
  await c.waitForLines(3);
  t.same(
    c.messages.map((m) => m.id),
    ["fast", "fast2", "slow"],
  );
});

t.test("notifications/cancelled aborts the handler and suppresses its reply", async (t) => {
  const srv = await startRpc(t);
  const c = await client(t, srv.port);
  const before = sleeps.length;
  c.send({ jsonrpc: "2.0", id: 77, method: "tools/call", params: { name: "test_sleep", arguments: { ms: 5000 } } });
  await sleep(100);
  c.send({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 77, reason: "user" } });
  await sleep(100);
  t.equal(sleeps[before]?.aborted, true, "the handler saw its signal abort");
  const reply = await c.request("ping", {}, "after");
  t.equal(reply.id, "after");
  t.notOk(
    c.messages.some((m) => m.id === 77),
    "no reply for the cancelled request",
  );
});

t.test("progress becomes notifications/progress before the response, only with a progress token", async (t) => {
  const srv = await startRpc(t);
  const c = await client(t, srv.port);
  c.send({
    jsonrpc: "2.0",
    id: 1,
    method: "tools/call",
    params: { name: "test_sleep", arguments: { ms: 60, steps: 3 }, _meta: { progressToken: "tok" } },
  });
  await c.reply(1);
  const progress = c.messages.filter((m) => m.method === "notifications/progress");
  t.same(
    progress.map((m) => [m.params.progressToken, m.params.progress, m.params.total]),
    [
      ["tok", 1, 3],
      ["tok", 2, 3],
      ["tok", 3, 3],
    ],
  );
  t.ok(c.messages.findIndex((m) => m.id === 1) > c.messages.findIndex((m) => m.method), "the response comes last");
  const before = c.texts.length;
  await c.request("tools/call", { name: "test_sleep", arguments: { ms: 30, steps: 3 } }, 2);
  t.equal(c.texts.length - before, 1, "no progress without a token");
});

t.test("an idle connection is closed after the idle timeout, but not while work is in flight", async (t) => {
  const srv = await startRpc(t, { idleTimeoutMs: 200 });
  const busy = await client(t, srv.port);
  busy.send({ jsonrpc: "2.0", id: "long", method: "tools/call", params: { name: "test_sleep", arguments: { ms: 600 } } });
  const idle = await client(t, srv.port);
  await idle.waitForEnd(2000);
  t.pass("the idle connection was closed");
  const reply = await busy.reply("long", 2000);
  t.ok(reply.result, "the busy connection got its reply past the idle timeout");
});

t.test("a client that does not read stops being read (backpressure), then catches up", async (t) => {
  const { daemon, port: p } = await startDaemon(t);
  void daemon;
  const c = await client(t, p);
  c.socket.pause();
  const total = 200_000;
  const line = '{"jsonrpc":"2.0","id":1,"method":"ping"}\n';
  const chunk = line.repeat(10_000);
  for (let i = 0; i < total / 10_000; i++) c.write(chunk);
  await sleep(500);
  const watcher = await client(t, p);
  const served = (await watcher.call("server_info")).result.structuredContent.requestsServed;
  t.ok(served < total / 2, `the daemon stopped reading (${served} of ${total} served while the client did not read)`);
  c.socket.resume();
  await c.waitForLines(total, 30_000);
  t.equal(c.texts.length, total, "every request answered once the client read");
});
