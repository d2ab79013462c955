import t, { type Test } from "tap";
import { LineClient } from "../scripts/line-client.js";
import { startDaemon } from "./helpers/daemon.js";

// The JSON-RPC 2.0 specification's example exchanges (§7), adapted to swarmd's methods, over a real socket.

const { port } = await startDaemon(t);

async function client(t: Test): Promise<LineClient> {
  const c = await LineClient.connect(port);
  t.teardown(() => c.close());
  return c;
}

/** Sends `line`, then a sentinel ping; returns the lines that arrived before the sentinel's reply. */
let sentinels = 0;
async function repliesTo(c: LineClient, line: string): Promise<string[]> {
  const before = c.texts.length;
  const sentinel = `sentinel-${++sentinels}`;
  c.write(line + "\n");
  c.send({ jsonrpc: "2.0", id: sentinel, method: "ping" });
  await c.reply(sentinel);
  const fresh = c.texts.slice(before);
  return fresh.slice(0, fresh.findIndex((l) => l.includes(`"id":"${sentinel}"`)));
}

t.test("a call with named params echoes the id and puts jsonrpc and id first", async (t) => {
  const c = await client(t);
  const [reply] = await repliesTo(c, '{"jsonrpc":"2.0","method":"ping","params":{},"id":1}');
  t.match(reply, /^\{"jsonrpc":"2\.0","id":1,"result":\{"status":"ok","timestamp":\d+\}\}$/);
});

t.test("a call of a method that does not exist is -32601 with the request's id", async (t) => {
  const c = await client(t);
  const [reply] = await repliesTo(c, '{"jsonrpc":"2.0","method":"foobar","id":"1"}');
  const m = JSON.parse(reply as string);
  t.equal(m.id, "1");
  t.equal(m.error.code, -32601);
  t.match(m.error.message, /foobar/);
});

t.test("invalid JSON is -32700 with id null, and the connection goes on", async (t) => {
  const c = await client(t);
  const [reply] = await repliesTo(c, '{"jsonrpc":"2.0","method":"foobar,"params":"bar","baz]');
  t.same(JSON.parse(reply as string), { jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error: the line is not valid JSON." } });
  t.equal((await c.request("ping")).result.status, "ok");
});

t.test("an invalid request object is -32600 with id null", async (t) => {
  const c = await client(t);
  for (const line of ['{"jsonrpc":"2.0","method":1,"params":"bar"}', '{"foo":"boo"}', "42", '"text"', "null", "true"]) {
    const replies = await repliesTo(c, line);
    t.equal(replies.length, 1, `one reply to ${line}`);
    const m = JSON.parse(replies[0] as string);
    t.equal(m.id, null, line);
    t.equal(m.error.code, -32600, line);
  }
});

t.test("structural errors echo a readable id and name the problem", async (t) => {
  const c = await client(t);
  const cases: Array<[string, unknown, RegExp]> = [
    ['{"jsonrpc":"1.0","method":"ping","id":5}', 5, /jsonrpc/],
    ['{"method":"ping","id":6}', 6, /jsonrpc/],
    ['{"jsonrpc":"2.0","id":7}', 7, /method/],
    ['{"jsonrpc":"2.0","method":"ping","params":"bar","id":8}', 8, /params/],
    ['{"jsonrpc":"2.0","method":"ping","params":3,"id":9}', 9, /params/],
    ['{"jsonrpc":"2.0","method":"ping","id":{"a":1}}', null, /id must be/],
    ['{"jsonrpc":"2.0","method":"ping","id":[1]}', null, /id must be/],
    ['{"jsonrpc":"2.0","method":"ping","id":true}', null, /id must be/],
  ];
  for (const [line, id, message] of cases) {
    const [reply] = await repliesTo(c, line);
    const m = JSON.parse(reply as string);
    t.equal(m.error?.code, -32600, line);
    t.equal(m.id, id, line);
    t.match(m.error.message, message, line);
  }
});

t.test("an invalid batch (bad JSON) is one -32700", async (t) => {
  const c = await client(t);
  const replies = await repliesTo(c, '[{"jsonrpc":"2.0","method":"ping","params":{},"id":"1"},{"jsonrpc":"2.0","method"]');
  t.equal(replies.length, 1);
  t.equal(JSON.parse(replies[0] as string).error.code, -32700);
});

t.test("an empty batch is one -32600, not an array", async (t) => {
  const c = await client(t);
  const [reply] = await repliesTo(c, "[]");
  const m = JSON.parse(reply as string);
  t.notOk(Array.isArray(m));
  t.equal(m.error.code, -32600);
  t.equal(m.id, null);
});

t.test("batches of non-objects get one -32600 each, in an array", async (t) => {
  const c = await client(t);
  const one = JSON.parse((await repliesTo(c, "[1]"))[0] as string);
  t.ok(Array.isArray(one), "a one-element batch still answers with an array");
  t.equal(one.length, 1);
  const three = JSON.parse((await repliesTo(c, "[1,2,3]"))[0] as string);
  t.same(
    three.map((m: any) => [m.id, m.error.code]),
    [
      [null, -32600],
      [null, -32600],
      [null, -32600],
    ],
  );
});

t.test("a mixed batch answers every request in order and no notification", async (t) => {
  const c = await client(t);
  const batch = [
    { jsonrpc: "2.0", method: "ping", params: {}, id: "1" },
    { jsonrpc: "2.0", method: "notifications/initialized" },
    { jsonrpc: "2.0", method: "tools/call", params: { name: "server_info", arguments: {} }, id: "2" },
    { foo: "boo" },
    { jsonrpc: "2.0", method: "foo.get", params: { name: "myself" }, id: "5" },
    { jsonrpc: "2.0", method: "ping", id: "9" },
  ];
  const replies = await repliesTo(c, JSON.stringify(batch));
  t.equal(replies.length, 1, "one line for the whole batch");
  const arr = JSON.parse(replies[0] as string);
  t.same(
    arr.map((m: any) => [m.id, m.error?.code ?? "ok"]),
    [
      ["1", "ok"],
      ["2", "ok"],
      [null, -32600],
      ["5", -32601],
      ["9", "ok"],
    ],
  );
  t.equal(arr[1].result.structuredContent.name, "swarmd");
});

t.test("a batch of notifications gets no reply at all", async (t) => {
  const c = await client(t);
  const replies = await repliesTo(
    c,
    JSON.stringify([
      { jsonrpc: "2.0", method: "notifications/initialized" },
      { jsonrpc: "2.0", method: "ping", params: {} },
    ]),
  );
  t.same(replies, []);
});

t.test("notifications are never answered, even when they fail", async (t) => {
  const c = await client(t);
  const lines = [
    '{"jsonrpc":"2.0","method":"ping","params":{}}', // VisionFlow's heartbeat
    '{"jsonrpc":"2.0","method":"no/such/method"}',
    '{"jsonrpc":"2.0","method":"tools/call","params":{"name":"nope"}}',
    '{"jsonrpc":"2.0","method":"tools/call","params":[]}',
    '{"jsonrpc":"2.0","method":"tools/list","params":{"cursor":"bogus"}}',
  ];
  for (const line of lines) t.same(await repliesTo(c, line), [], line);
});

t.test("responses sent by the client are ignored", async (t) => {
  const c = await client(t);
  t.same(await repliesTo(c, '{"jsonrpc":"2.0","id":7,"result":{}}'), []);
  t.same(await repliesTo(c, '{"jsonrpc":"2.0","id":8,"error":{"code":-1,"message":"x"}}'), []);
});

t.test("ids come back with their exact type and value", async (t) => {
  const c = await client(t);
  const ids = ["0", "-1", '"abc"', '""', "null", "1.5", '"1"', '"ünï😀"', "1757880683494", "12345678901234567890", "-98765432109876543210", "1e400"];
  for (const id of ids) {
    const [reply] = await repliesTo(c, `{"jsonrpc":"2.0","id":${id},"method":"ping"}`);
    t.ok(reply?.startsWith(`{"jsonrpc":"2.0","id":${id},"result":`), `id ${id} echoed as sent: ${reply}`);
  }
  const batch = await repliesTo(c, '[{"jsonrpc":"2.0","id":"a","method":"ping"},{"jsonrpc":"2.0","id":18446744073709551615,"method":"ping"}]');
  t.match(batch[0], /"id":18446744073709551615,/, "a u64 id inside a native batch is exact too");
});

t.test("names on Object.prototype are not methods", async (t) => {
  const c = await client(t);
  for (const method of ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"]) {
    const [reply] = await repliesTo(c, JSON.stringify({ jsonrpc: "2.0", id: 1, method }));
    t.equal(JSON.parse(reply as string).error.code, -32601, method);
  }
});
