// The monitor method and swarmctl monitor: every request served on other connections, as it is served.
import { createServer, type AddressInfo } from "node:net";
import t from "tap";
import { RpcError, SwarmClient } from "../src/client/index.js";
import { MONITOR_DROPPED, MONITOR_REQUEST, type MonitorEvent } from "../src/protocol/monitor.js";
import { LineClient, type Message } from "../scripts/line-client.js";
import { startDaemon } from "./helpers/daemon.js";
import { startSwarmctl } from "./helpers/swarmctl.js";

const TOKENS = "ops:admin:adm1n-secret-value,viewer:read:r3ad-secret-value";

const events = (c: LineClient): MonitorEvent[] => c.messages.filter((m) => m.method === MONITOR_REQUEST).map((m) => m.params as MonitorEvent);
const dropped = (c: LineClient): number[] => c.messages.filter((m) => m.method === MONITOR_DROPPED).map((m) => (m.params as { count: number }).count);

async function until(ok: () => boolean, what: string): Promise<void> {
  for (const deadline = Date.now() + 15_000; !ok(); await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() > deadline) throw new Error(`${what}: not seen in 15 s`);
  }
}

async function authenticated(port: number, token: string): Promise<LineClient> {
  const c = await LineClient.connect(port);
  t.teardown(() => c.close());
  const reply = await c.request("authenticate", { token });
  if (reply.error) throw new Error(`authenticate: ${JSON.stringify(reply.error)}`);
  return c;
}

t.test("a monitor sees every other connection's requests, with who sent them and how they ended, never a token", async (t) => {
  const { port } = await startDaemon(t, { SWARMD_AUTH_TOKENS: TOKENS });
  const monitor = await authenticated(port, "adm1n-secret-value");
  t.same((await monitor.request("monitor")).result, { monitoring: true });

  const viewer = await LineClient.connect(port);
  t.teardown(() => viewer.close());
  await viewer.request("initialize", { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "v", version: "1" }, _meta: { "swarmd/token": "r3ad-secret-value" } });
  await viewer.call("memory_retrieve", { key: "greeting" });
  await viewer.call("memory_store", { key: "greeting", value: "hi" });
  await viewer.request("no/such/method");
  await monitor.request("ping"); // its own requests are not shown to it
  await viewer.request("authenticate", { token: "r3ad-secret-value" });
  await until(() => events(monitor).length === 5, "five events");

  const seen = events(monitor);
  t.same(
    seen.map((e) => [e.method, e.tool ?? null, e.params ?? null, e.outcome, e.principal ?? null]),
    [
      ["initialize", null, '{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"v","version":"1"},"_meta":{"swarmd/token":"<hidden>"}}', "ok", "viewer"],
      ["tools/call", "memory_retrieve", '{"key":"greeting"}', "ok", "viewer"],
      ["tools/call", "memory_store", '{"key":"greeting","value":"hi"}', "SERVER_ERROR", "viewer"],
      ["no/such/method", null, "{}", "METHOD_NOT_FOUND", "viewer"],
      ["authenticate", null, null, "ok", "viewer"],
    ],
    "in order, a refusal by its error's name, tokens hidden",
  );
  t.notMatch(JSON.stringify(monitor.messages), /secret-value/, "no token anywhere in what the monitor was sent");
  const connection = seen[0]?.connection;
  t.ok(seen.every((e) => e.connection === connection && /^127\.0\.0\.1:\d+$/.test(e.remote) && e.ms >= 0 && e.at > 0), "the sender's connection, address and times");
  t.equal(seen.filter((e) => e.method === "ping").length, 0);

  const big = "x".repeat(2000);
  await viewer.request("ping", { padding: big });
  await until(() => events(monitor).length === 6, "the sixth event");
  t.equal(events(monitor)[5]?.params?.length, 513, "parameters cut at 512 characters and an ellipsis");

  const refused = await (await authenticated(port, "r3ad-secret-value")).request("monitor");
  t.same([refused.error?.code, refused.error?.data?.reason, refused.error?.data?.required], [-32000, "forbidden", "admin"], "a read token may not monitor");

  // A client that never asked to monitor is sent nothing it did not ask for: its next line is its reply.
  const before = viewer.texts.length;
  await viewer.request("ping", {}, "last");
  t.same(viewer.texts.slice(before).map((l) => (JSON.parse(l) as Message).id), ["last"]);
});

t.test("a monitor that stops reading loses events, is told how many, and holds up nobody", async (t) => {
  const { port } = await startDaemon(t, { SWARMD_OUTPUT_SOFT_LIMIT: "65536" });
  const monitor = await LineClient.connect(port);
  t.teardown(() => monitor.close());
  await monitor.request("monitor");
  monitor.socket.pause();

  const writer = await LineClient.connect(port);
  t.teardown(() => writer.close());
  const count = 20_000;
  const value = "v".repeat(400);
  writer.write(Array.from({ length: count }, (_, i) => JSON.stringify({ jsonrpc: "2.0", id: i, method: "tools/call", params: { name: "memory_store", arguments: { key: `k${i}`, value } } }) + "\n").join(""));
  await writer.waitForLines(count, 60_000);
  t.ok(writer.messages.every((m) => m.result !== undefined), "every write was served while the monitor read nothing");

  monitor.socket.resume();
  const shown = (): number => events(monitor).filter((e) => e.tool === "memory_store").length;
  const lost = (): number => dropped(monitor).reduce((a, b) => a + b, 0);
  // Told once it has caught up, not only before a next event that may be long in coming.
  await until(() => shown() + lost() === count, "every request, shown or counted as dropped");
  t.ok(lost() > 0, `${lost()} events dropped while it did not read, ${shown()} shown`);
  await writer.request("ping", {}, "after");
  await until(() => events(monitor).some((e) => e.method === "ping"), "the event after the backlog");
  t.equal(shown() + lost(), count, "nothing counted twice");
  t.match((await monitor.request("ping")).result, { status: "ok" }, "and still connected");
});

t.test("swarmctl monitor: a line a request until Ctrl-C; a read token is refused; a lost daemon ends it", async (t) => {
  const d = await startDaemon(t, { SWARMD_AUTH_TOKENS: TOKENS });
  const watching = startSwarmctl(["--port", String(d.port), "--token", "adm1n-secret-value", "monitor"]);
  t.teardown(() => watching.child.kill("SIGKILL"));
  await watching.until(() => watching.out.stderr.includes("monitoring"), "the monitor's start");
  const c = await authenticated(d.port, "adm1n-secret-value");
  await c.call("memory_store", { key: "k", value: { n: 1 } });
  await watching.until(() => watching.out.stdout.includes("memory_store"), "the store's line");
  t.match(watching.out.stdout, /^\d\d:\d\d:\d\d\.\d{3} \[\d+ 127\.0\.0\.1:\d+ ops\] tools\/call memory_store \{"key":"k","value":\{"n":1\}\} ok \d+\.\d ms$/m);
  watching.child.kill("SIGINT");
  t.equal(await watching.exited, 0, "Ctrl-C ends it, exit 0");

  const viewer = startSwarmctl(["--port", String(d.port), "--token", "r3ad-secret-value", "monitor"]);
  t.equal(await viewer.exited, 1);
  t.match(viewer.out.stderr, /^swarmctl: viewer has read scope; monitor needs an admin token\. \(SERVER_ERROR -32000, forbidden\)\n$/);

  const json = startSwarmctl(["--port", String(d.port), "--token", "adm1n-secret-value", "--json", "monitor"]);
  t.teardown(() => json.child.kill("SIGKILL"));
  await json.until(() => json.out.stderr.includes("monitoring"), "the second monitor's start");
  await c.call("memory_retrieve", { key: "k" });
  await json.until(() => json.out.stdout.includes("\n"), "an event");
  t.match(JSON.parse(json.out.stdout.split("\n")[0] as string), { method: "tools/call", tool: "memory_retrieve", params: '{"key":"k"}', outcome: "ok", principal: "ops" });
  await d.daemon.close();
  t.equal(await json.exited, 3, "the daemon gone: exit 3");
  t.match(json.out.stderr, /swarmctl: The connection to the daemon was lost\.\n$/);
});

t.test("swarmctl monitor notices a daemon that went silent without closing the connection", async (t) => {
  // A peer that answers the handshake and the monitor method, then nothing: a host that vanished, its socket still open.
  const silent = createServer((socket) =>
    socket.setEncoding("utf8").on("data", (d: string) => {
      for (const line of d.split("\n").filter(Boolean)) {
        const m = JSON.parse(line) as Message;
        const result = m.method === "initialize" ? { protocolVersion: "2025-11-25", capabilities: { tools: {} }, serverInfo: { name: "gone", version: "0" } } : m.method === "monitor" ? { monitoring: true } : undefined;
        if (result !== undefined) socket.write(JSON.stringify({ jsonrpc: "2.0", id: m.id, result }) + "\n");
      }
    }),
  );
  await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
  t.teardown(() => silent.close());
  const started = Date.now();
  const watching = startSwarmctl(["--port", String((silent.address() as AddressInfo).port), "monitor"], { MCP_KEEPALIVE: "1" });
  t.teardown(() => watching.child.kill("SIGKILL"));
  t.equal(await watching.exited, 3, watching.out.stderr);
  t.match(watching.out.stderr, /^swarmctl: monitoring swarmd 0 \(Ctrl-C to stop\)\nswarmctl: The connection to the daemon was lost\.\n$/);
  t.ok(Date.now() - started < 10_000, `ended after ${Date.now() - started} ms, within two keepalive periods and startup`);
});

t.test("SwarmClient.monitor: events to a handler until the signal, a refusal as an RpcError", async (t) => {
  const { port } = await startDaemon(t, { SWARMD_AUTH_TOKENS: TOKENS });
  const admin = new SwarmClient({ port, token: "adm1n-secret-value", poolMin: 0 });
  t.teardown(() => admin.close());
  const seen: MonitorEvent[] = [];
  const stop = new AbortController();
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  const monitoring = admin.monitor({ onStart: () => started(), onRequest: (e) => seen.push(e) }, { signal: stop.signal });
  await running;
  await admin.memoryStore({ key: "watched", value: 1 });
  await until(() => seen.some((e) => e.tool === "memory_store"), "the store's event");
  t.match(seen.find((e) => e.tool === "memory_store"), { method: "tools/call", params: '{"key":"watched","value":1}', outcome: "ok", principal: "ops" });
  stop.abort();
  await monitoring;
  t.pass("the signal ends it");

  const viewer = new SwarmClient({ port, token: "r3ad-secret-value", poolMin: 0 });
  t.teardown(() => viewer.close());
  const refused = await viewer.monitor({ onRequest: () => {} }).catch((e: unknown) => e);
  t.ok(refused instanceof RpcError && refused.data?.reason === "forbidden", `refused: ${String(refused)}`);
});
