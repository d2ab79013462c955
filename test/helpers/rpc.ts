import { setTimeout as sleep } from "node:timers/promises";
import type { Test } from "tap";
import { z } from "zod";
import { defineTool } from "../../src/protocol/contract.js";
import { mcpMethods } from "../../src/rpc/methods.js";
import { Authenticator } from "../../src/rpc/auth.js";
import { RpcServer } from "../../src/rpc/server.js";
import { bind, ToolRegistry, type ToolBinding } from "../../src/tools/registry.js";
import { TcpTransport } from "../../src/transport/tcp.js";
import { memoryLogger } from "./daemon.js";

/**
 * A tool that takes as long as asked, honours cancellation and reports progress: the plumbing's test subject until the
 * daemon has slow tools of its own. It runs through the real registry, rpc layer and TCP transport.
 */
export const sleepTool = defineTool({
  name: "test_sleep",
  description: "Sleeps for ms milliseconds in steps, reporting progress, and returns how long it slept.",
  annotations: {},
  input: z.object({
    ms: z.number().int().min(0).describe("How long to sleep."),
    steps: z.number().int().min(1).default(1).describe("Progress reports."),
  }),
  output: z.object({ slept: z.number().describe("Milliseconds slept."), aborted: z.boolean().describe("Cancelled.") }),
});

export const sleeps: Array<{ ms: number; aborted: boolean }> = [];

const sleepBinding = bind(sleepTool, async ({ ms, steps }, ctx) => {
  const started = Date.now();
  const record = { ms, aborted: false };
  sleeps.push(record);
  try {
    for (let i = 1; i <= steps; i++) {
      await sleep(ms / steps, undefined, { signal: ctx.signal });
      ctx.progress(i, steps, `step ${i}`);
    }
  } catch (err) {
    record.aborted = true;
    throw err;
  }
  return { slept: Date.now() - started, aborted: false };
});

export interface TestServer {
  readonly rpc: RpcServer;
  readonly port: number;
  readonly logs: Array<Record<string, unknown>>;
}

/** The rpc stack on a real TCP port with `tools` (default: the sleep tool). */
export async function startRpc(
  t: Test,
  options: { tools?: ToolBinding[]; idleTimeoutMs?: number; maxMessageBytes?: number } = {},
): Promise<TestServer> {
  const { log, lines } = memoryLogger();
  const tools = new ToolRegistry(options.tools ?? [sleepBinding], { pageSize: 100 });
  const maxMessageBytes = options.maxMessageBytes ?? 10 * 1024 * 1024;
  const rpc = new RpcServer({
    methods: mcpMethods({ tools, version: "0.0.0-test", resultMirror: true, batchMaxItems: 100 }),
    maxMessageBytes,
    batchMaxItems: 100,
    maxInflight: 1024,
    maxConnections: 1024,
    guard: { rateLimit: 0, rateBurst: 1, authenticator: new Authenticator([]), toolScope: (name) => tools.scopeOf(name) },
    observe: () => {},
    log,
  });
  const tcp = new TcpTransport(
    { host: "127.0.0.1", port: 0, maxMessageBytes, outputSoftLimit: 1 << 20, outputHardLimit: 64 << 20, idleTimeoutMs: options.idleTimeoutMs ?? 0 },
    (conn) => rpc.attach(conn),
  );
  const address = await tcp.listen();
  t.teardown(async () => {
    tcp.stopAccepting();
    await rpc.drain(0);
  });
  return { rpc, port: address.port, logs: lines };
}
