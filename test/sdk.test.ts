import { spawn } from "node:child_process";
import { connect, type Socket } from "node:net";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { ReadBuffer, serializeMessage } from "@modelcontextprotocol/sdk/shared/stdio.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import t, { type Test } from "tap";
import { SWARMCTL, sdkThroughBridge } from "./helpers/bridge.js";
import { freePort, startDaemon, tempDir } from "./helpers/daemon.js";
import { MAIN } from "./helpers/spawn.js";

/** The ~30-line TCP transport an MCP host needs to reach swarmd with the official SDK. */
class TcpTransport implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  private socket: Socket | undefined;
  private readonly buffer = new ReadBuffer();

  constructor(private readonly port: number) {}

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = (this.socket = connect(this.port, "127.0.0.1", resolve));
      socket.once("error", reject);
      socket.on("data", (chunk: Buffer) => {
        this.buffer.append(chunk);
        for (let m = this.buffer.readMessage(); m; m = this.buffer.readMessage()) this.onmessage?.(m);
      });
      socket.on("error", (err) => this.onerror?.(err));
      socket.on("close", () => this.onclose?.());
    });
  }

  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve) => this.socket?.write(serializeMessage(message), () => resolve()));
  }

  async close(): Promise<void> {
    this.socket?.end();
  }
}

async function exercise(t: Test, client: Client): Promise<void> {
  t.equal(client.getServerVersion()?.name, "swarmd");
  t.type(client.getServerCapabilities()?.tools, "object");
  const { tools } = await client.listTools();
  t.ok(tools.some((x) => x.name === "server_info"), "tools listed");
  const result = await client.callTool({ name: "server_info", arguments: {} });
  t.equal((result.structuredContent as { name: string }).name, "swarmd", "structured content passes the SDK's output-schema check");
  t.same(await client.ping(), {}, "ping after initialize is exactly {}");
}

t.test("the official MCP SDK client over TCP: connect, initialize, list, call, ping", async (t) => {
  const { port } = await startDaemon(t);
  const client = new Client({ name: "sdk-test", version: "1.0.0" });
  await client.connect(new TcpTransport(port));
  await exercise(t, client);
  await client.close();
});

t.test("the official MCP SDK client over stdio, launching `swarmd --stdio`", async (t) => {
  const dir = tempDir(t);
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [MAIN, "--stdio", "--db", join(dir, "stdio.db")],
    stderr: "pipe",
  });
  const client = new Client({ name: "sdk-stdio-test", version: "1.0.0" });
  await client.connect(transport);
  await exercise(t, client);
  await client.close();
});


t.test("the official MCP SDK client over stdio through `swarmctl bridge`: a shared TCP daemon, with a token", async (t) => {
  // The daemon closes connections idle for half a second; the bridge pings every fifth of one while the host is quiet.
  const { port } = await startDaemon(t, { SWARMD_AUTH_TOKENS: "host:write:br1dge-secret-value", SWARMD_IDLE_TIMEOUT: "0.5" });
  const { client, errors } = await sdkThroughBridge(t, "sdk-bridge-test", ["--port", String(port), "--token", "br1dge-secret-value"], { MCP_KEEPALIVE: "0.2" });
  await exercise(t, client);
  await new Promise((r) => setTimeout(r, 1500));
  t.equal((await client.callTool({ name: "memory_store", arguments: { key: "k", value: 1 } })).isError, undefined, "still connected after a quiet spell, and authenticated");
  t.same(errors, [], "the bridge's own pings never reach the host");
});

t.test("swarmctl bridge: a refused token and an absent daemon are one line on stderr and nothing on stdout", async (t) => {
  const { port } = await startDaemon(t, { SWARMD_AUTH_TOKENS: "host:write:br1dge-secret-value" });
  const run = (args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [SWARMCTL, "bridge", ...args], { env: { PATH: process.env.PATH ?? "" } });
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
      child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
      child.on("close", (code) => resolve({ code, stdout, stderr }));
      child.stdin.end('{"jsonrpc":"2.0","id":1,"method":"ping"}\n');
    });
  const refused = await run(["--port", String(port), "--token", "wrong-token-value"]);
  t.same(refused, { code: 1, stdout: "", stderr: "swarmctl: The daemon refused the token (--token or SWARMD_TOKEN). (SERVER_ERROR -32000, unauthenticated)\n" });
  const absent = await run(["--port", String(await freePort())]);
  t.same([absent.code, absent.stdout], [3, ""]);
  t.match(absent.stderr, /^swarmctl: Cannot connect to 127\.0\.0\.1:\d+: connect ECONNREFUSED/);
  const plain = await run(["--port", String(port), "--token", "br1dge-secret-value"]);
  t.same([plain.code, plain.stderr], [0, ""]);
  t.same(JSON.parse(plain.stdout), { jsonrpc: "2.0", id: 1, result: { status: "ok", timestamp: JSON.parse(plain.stdout).result.timestamp } }, "a piped request is answered, then the bridge exits");
});

t.test("swarmctl bridge after SIGHUP changed the tokens: a new scope applies at once, a revoked token ends it", async (t) => {
  const tokens = join(tempDir(t), "tokens");
  writeFileSync(tokens, "host:read:br1dge-secret-2\n");
  const { port, daemon } = await startDaemon(t, { SWARMD_AUTH_TOKENS_FILE: tokens });
  const { client, errors, stderr } = await sdkThroughBridge(t, "sdk-bridge-rotation", ["--port", String(port), "--token", "br1dge-secret-2"]);
  const store = () => client.callTool({ name: "memory_store", arguments: { key: "rotated", value: 1 } });
  t.match(String(await store().catch((e: unknown) => e)), /host has read scope; memory_store changes state/);

  writeFileSync(tokens, "host:write:br1dge-secret-2\n");
  daemon.reload();
  const [stored, listed] = await Promise.all([store(), client.callTool({ name: "memory_list", arguments: {} })]);
  t.equal((stored.structuredContent as { version: number }).version, 1, "the refused call was sent again with the new scope, once");
  t.ok(Array.isArray((listed.structuredContent as { entries: unknown[] }).entries), "and so was the read beside it");
  t.same(errors, [], "the host saw none of it");

  writeFileSync(tokens, "other:admin:other-secret-2\n");
  daemon.reload();
  const closed = new Promise<void>((resolve) => (client.onclose = resolve));
  void store().catch(() => {});
  await closed;
  t.match(stderr(), /swarmctl: The daemon refused the token \(--token or SWARMD_TOKEN\)\./, "revoked: the bridge says why and exits");
});
