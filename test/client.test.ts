import { spawnSync } from "node:child_process";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import t, { type Test } from "tap";
import { ClientError, RpcError, SwarmClient } from "../src/client/index.js";
import { resolveClientOptions } from "../src/client/options.js";
import { toolContracts } from "../src/protocol/tools/index.js";
import { LineClient } from "../scripts/line-client.js";
import { freePort, startDaemon, tempDir } from "./helpers/daemon.js";
import { spawnListening } from "./helpers/spawn.js";

function client(t: Test, options: ConstructorParameters<typeof SwarmClient>[0]): SwarmClient {
  const c = new SwarmClient({ retryDelayMs: 20, ...options });
  t.teardown(() => c.close());
  return c;
}

/** A fake server: answers initialize and tools/list, hands every other request to `onRequest`. */
async function fakeServer(t: Test, onRequest: (socket: Socket, message: { id: number; method: string; params: any }) => void) {
  const sockets: Socket[] = [];
  const seen: Array<{ method: string; params: any }> = [];
  const server: Server = createServer((socket) => {
    sockets.push(socket);
    let buf = "";
    socket.setEncoding("utf8").on("data", (d: string) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf("\n")) !== -1) {
        const message = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if (message.id === undefined) continue;
        const reply = (result: unknown) => socket.write(JSON.stringify({ jsonrpc: "2.0", id: message.id, result }) + "\n");
        if (message.method === "initialize") reply({ protocolVersion: "2025-11-25", capabilities: { tools: {} }, serverInfo: { name: "fake", version: "0" } });
        else if (message.method === "tools/list") {
          reply({
            tools: [
              { name: "memory_retrieve", inputSchema: { type: "object" }, annotations: { readOnlyHint: true } },
              { name: "memory_delete", inputSchema: { type: "object" }, annotations: { idempotentHint: true } },
              { name: "swarm_init", inputSchema: { type: "object" }, annotations: {} },
            ],
          });
        } else {
          seen.push({ method: message.method, params: message.params });
          onRequest(socket, message);
        }
      }
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.teardown(() => {
    sockets.forEach((s) => s.destroy());
    server.close();
  });
  return { port: (server.address() as { port: number }).port, sockets, seen };
}

t.test("options default from the protocol document's environment names", async (t) => {
  const o = resolveClientOptions({ poolSize: 7 }, { MCP_HOST: "multi-agent-container", MCP_TCP_PORT: "9600", MCP_POOL_SIZE: "4", MCP_POOL_MIN: "1", MCP_RETRY_ATTEMPTS: "5", MCP_RETRY_DELAY: "250", MCP_KEEPALIVE: "15" });
  t.same([o.host, o.port, o.poolSize, o.poolMin, o.retryAttempts, o.retryDelayMs, o.keepaliveMs], ["multi-agent-container", 9600, 7, 1, 5, 250, 15_000]);
  const d = resolveClientOptions({}, {});
  t.same([d.host, d.port, d.poolSize, d.poolMin, d.retryAttempts, d.retryDelayMs, d.keepaliveMs], ["127.0.0.1", 9500, 10, 2, 3, 100, 30_000]);
});

t.test("a client started before the server backs off until the server appears", async (t) => {
  const port = await freePort();
  const c = client(t, { port, poolMin: 0 });
  const started = Date.now();
  const ping = c.ping();
  await new Promise((r) => setTimeout(r, 600));
  await startDaemon(t, { MCP_TCP_PORT: String(port) });
  await ping;
  t.ok(Date.now() - started >= 600, "the call waited for the server");
  const unreachable = client(t, { port: await freePort(), poolMin: 0, acquireTimeoutMs: 300 });
  const err = await unreachable.ping().catch((e: unknown) => e);
  t.ok(err instanceof ClientError && err.code === "CONNECT_FAILED", "no server at all: CONNECT_FAILED with the cause");
  t.match((err as Error).message, /ECONNREFUSED/);
});

t.test("a server restarted mid-run: pending calls fail with CONNECTION_CLOSED, later calls succeed on fresh connections", async (t) => {
  const db = join(tempDir(t), "c.db");
  const port = await freePort();
  const first = await spawnListening(t, ["--db", db, "--port", String(port)]);
  const c = client(t, { port, poolMin: 1, poolSize: 1, acquireTimeoutMs: 15_000 });
  const swarm = await c.swarmInit({ initialAgents: [{ type: "coder" }] });
  const agentId = swarm.agents[0]?.agentId as string;
  await c.agentAttach({ agentId });
  const claim = c.taskClaim({ agentId, waitMs: 20_000 }); // not idempotent: never sent twice
  const blocked = await c.taskOrchestrate({ task: "never runs", requiredCapabilities: ["nobody"] });
  const wait = c.taskWait({ taskId: blocked.taskId, timeoutMs: 1000 }); // read-only: may be sent again
  await new Promise((r) => setTimeout(r, 100));
  first.proc.kill("SIGKILL");
  const err = await claim.catch((e: unknown) => e);
  t.ok(err instanceof ClientError && err.code === "CONNECTION_CLOSED", "the pending call failed");
  t.equal((err as ClientError).written, true, "it had been written, so it was not retried");
  await new Promise((r) => setTimeout(r, 300));
  await spawnListening(t, ["--db", db, "--port", String(port)]);
  const retried = await wait;
  t.equal(retried.taskId, blocked.taskId, "the read-only call was retried on a fresh connection");
  const status = await c.swarmStatus({ swarmId: swarm.swarmId });
  t.equal(status.swarmId, swarm.swarmId, "later calls work on a fresh connection");
});

t.test("the pool keeps its minimum and never exceeds its maximum, as the server counts connections", async (t) => {
  const { daemon } = await startDaemon(t);
  void daemon;
  const port = daemon.address?.port as number;
  const c = client(t, { port, poolMin: 2, poolSize: 4, maxInFlightPerConnection: 5, idleTimeoutMs: 300 });
  await c.ping();
  await new Promise((r) => setTimeout(r, 100));
  t.equal((await c.serverInfo()).connections.open, 2, "poolMin connections, warm");
  await c.swarmInit({});
  const blocked = await c.taskOrchestrate({ task: "x", requiredCapabilities: ["nobody"] });
  const waits = Array.from({ length: 40 }, () => c.taskWait({ taskId: blocked.taskId, timeoutMs: 400 }));
  await new Promise((r) => setTimeout(r, 150));
  const peak = (await c.serverInfo()).connections;
  t.equal(peak.open, 4, "grew to poolSize under load");
  await Promise.all(waits);
  t.ok(peak.total <= 4, `never more than poolSize (${peak.total} opened)`);
  await new Promise((r) => setTimeout(r, 1500));
  t.equal(c.connections, 2, "idle connections above the minimum were closed");
});

t.test("10,000 concurrent calls travel over at most MCP_POOL_SIZE connections", async (t) => {
  const { port } = await startDaemon(t);
  const c = client(t, { port, poolSize: 3 });
  const results = await Promise.all(Array.from({ length: 10_000 }, (_, i) => c.memoryStore({ key: `k${i}`, value: i })));
  t.equal(results.filter((r) => r.stored).length, 10_000);
  const info = await c.serverInfo();
  t.ok(info.connections.total <= 3, `${info.connections.total} connections carried them`);
  t.equal((await c.memoryRetrieve({ key: "k9999" })).value, 9999);
});

t.test("keepalive replaces a connection whose peer accepts but never answers", async (t) => {
  const fake = await fakeServer(t, () => {}); // never answers ping or anything else
  const c = client(t, { port: fake.port, poolMin: 1, keepaliveMs: 150 });
  await new Promise((r) => setTimeout(r, 100));
  const first = fake.sockets.length;
  t.equal(first, 1, "the pool connected");
  for (let i = 0; i < 40 && fake.sockets.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
  t.ok(fake.sockets.length >= 2, "the silent connection was destroyed and replaced");
  t.ok(fake.seen.some((s) => s.method === "ping"), "it was pinged first");
  t.ok(fake.sockets[0]?.destroyed || fake.sockets[0]?.readableEnded, "the first connection was closed");
  void c;
});

t.test("timeouts and aborts reject at once and cancel the call on the server", async (t) => {
  const { port } = await startDaemon(t);
  const c = client(t, { port, requestTimeoutMs: 150 });
  await c.swarmInit({});
  const blocked = await c.taskOrchestrate({ task: "x", requiredCapabilities: ["nobody"] });
  const started = Date.now();
  const timeout = await c.taskWait({ taskId: blocked.taskId, timeoutMs: 5000 }, { timeoutMs: 150 }).catch((e: unknown) => e);
  t.ok(timeout instanceof ClientError && timeout.code === "TIMEOUT");
  t.ok(Date.now() - started < 1000, "failed fast, not retried");
  // A wait the server holds the reply for outlasts the client's request timeout, rather than being cut off by it.
  const held = await c.taskWait({ taskId: blocked.taskId, timeoutMs: 600 });
  t.same([held.timedOut, held.status], [true, "pending"], "task_wait longer than requestTimeoutMs gets its answer");
  t.ok(Date.now() - started >= 600);
  const abort = new AbortController();
  const aborted = c.taskWait({ taskId: blocked.taskId, timeoutMs: 5000 }, { signal: abort.signal, timeoutMs: 0 });
  setTimeout(() => abort.abort(), 50);
  const err = await aborted.catch((e: unknown) => e);
  t.ok(err instanceof ClientError && err.code === "ABORTED");
  t.equal((await c.serverInfo()).name, "swarmd", "the connection is still usable");
});

t.test("a call is retried after its connection died only when that is safe", async (t) => {
  const fake = await fakeServer(t, (socket) => socket.destroy()); // reads the call, then hangs up
  const c = client(t, { port: fake.port, poolMin: 0, retryAttempts: 2 });
  const once = await c.swarmInit({}).catch((e: unknown) => e);
  t.ok(once instanceof ClientError && once.code === "CONNECTION_CLOSED" && once.written);
  t.equal(fake.seen.filter((s) => s.params?.name === "swarm_init").length, 1, "a non-idempotent call that was written is never sent twice");
  await c.memoryRetrieve({ key: "k" }).catch(() => {});
  t.equal(fake.seen.filter((s) => s.params?.name === "memory_retrieve").length, 3, "a read-only call: the first try and two retries");
  await c.memoryDelete({ key: "k" }).catch(() => {});
  t.equal(fake.seen.filter((s) => s.params?.name === "memory_delete").length, 3, "an idempotent call too");
});

t.test("JSON-RPC errors are answers: never retried, with the registry's names", async (t) => {
  const fake = await fakeServer(t, (socket, m) =>
    socket.write(JSON.stringify({ jsonrpc: "2.0", id: m.id, error: { code: -32602, message: "bad", data: { reason: "invalid_arguments" } } }) + "\n"),
  );
  const c = client(t, { port: fake.port, poolMin: 0, retryAttempts: 3 });
  const err = await c.memoryRetrieve({ key: "k" }).catch((e: unknown) => e);
  t.ok(err instanceof RpcError);
  t.same([(err as RpcError).code, (err as RpcError).codeName, (err as RpcError).data?.reason], [-32602, "INVALID_PARAMS", "invalid_arguments"]);
  t.equal(fake.seen.length, 1, "sent once");
});

t.test("batch, progress and notifications", async (t) => {
  const { port } = await startDaemon(t);
  const c = client(t, { port });
  const outcomes = await c.batch([
    { method: "tools/call", params: { name: "memory_store", arguments: { key: "b", value: 1 } } },
    { method: "tools/call", params: { name: "memory_retrieve", arguments: { key: "b" } } },
    { method: "nope" },
  ]);
  t.equal((outcomes[1] as { result: any }).result.structuredContent.value, 1);
  t.ok("error" in (outcomes[2] as object) && (outcomes[2] as { error: RpcError }).error.code === -32601);
  const s = await c.swarmInit({ initialAgents: [{ type: "coder" }] });
  const worker = client(t, { port, poolMin: 1, poolSize: 1 }); // a worker's calls must share its one connection
  const pushed: string[] = [];
  worker.onNotification((n) => pushed.push(n.method));
  await worker.agentAttach({ agentId: s.agents[0]?.agentId as string });
  const task = await c.taskOrchestrate({ task: "work" });
  const progress: number[] = [];
  const waiting = c.taskWait({ taskId: task.taskId, timeoutMs: 5000 }, { onProgress: (p) => progress.push(p.progress) });
  await new Promise((r) => setTimeout(r, 100));
  await worker.taskProgress({ taskId: task.taskId, progress: 0.5 });
  await worker.taskComplete({ taskId: task.taskId, result: { ok: true } });
  const done = await waiting;
  t.same([done.status, done.result], ["completed", { ok: true }]);
  t.ok(pushed.includes("notifications/task/assigned"), "the worker heard its assignment");
  t.ok(progress.includes(50), `progress reached the caller: ${progress.join(", ")}`);
});

t.test("listTools reads every page of tools/list; a page it cannot read is a PROTOCOL_ERROR", async (t) => {
  const { port } = await startDaemon(t, { SWARMD_TOOLS_PAGE_SIZE: "4" });
  const tools = await client(t, { port }).listTools();
  t.same(
    tools.map((x) => x.name),
    toolContracts.map((x) => x.name),
  );
  t.ok(toolContracts.length > 8, "more than two pages");
  t.match(tools.find((x) => x.name === "memory_retrieve")?.annotations, { title: "Retrieve memory", readOnlyHint: true, idempotentHint: true });

  // Another MCP server: a tool with a field of a newer MCP revision, then a page that is not a tools/list page.
  let page: object = { tools: [{ name: "future", inputSchema: { type: "object" }, icons: [{ src: "https://example.org/i.png" }] }] };
  const other = createServer((socket) =>
    socket.setEncoding("utf8").on("data", (d: string) => {
      for (const line of d.split("\n").filter(Boolean)) {
        const m = JSON.parse(line);
        const result = m.method === "initialize" ? { protocolVersion: "2025-11-25", capabilities: { tools: {} }, serverInfo: { name: "other", version: "0" } } : page;
        if (m.id !== undefined) socket.write(JSON.stringify({ jsonrpc: "2.0", id: m.id, result }) + "\n");
      }
    }),
  );
  await new Promise<void>((r) => other.listen(0, "127.0.0.1", r));
  t.teardown(() => other.close());
  const otherClient = client(t, { port: (other.address() as { port: number }).port, poolMin: 0 });
  t.same(await otherClient.listTools(), [{ name: "future", inputSchema: { type: "object" }, icons: [{ src: "https://example.org/i.png" }] }], "fields it does not know are kept");
  page = { tools: [{ title: "no name" }] };
  const err = await otherClient.listTools().catch((e: unknown) => e);
  t.ok(err instanceof ClientError && err.code === "PROTOCOL_ERROR", String(err));
  t.match((err as Error).message, /^The daemon's tools\/list page is not one this client reads: tools\.0\.name: .*; tools\.0\.inputSchema: /);
});

t.test("the package exports the client as swarmd/client", async (t) => {
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", "import { SwarmClient, ClientError, RpcError } from 'swarmd/client'; console.log(typeof SwarmClient, typeof ClientError, typeof RpcError)"], {
    encoding: "utf8",
  });
  t.equal(r.stdout.trim(), "function function function", r.stderr);
  void LineClient;
});
