import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { ReadBuffer, serializeMessage } from "@modelcontextprotocol/sdk/shared/stdio.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import t, { type Test } from "tap";
import { startDaemon, tempDir } from "./helpers/daemon.js";
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
