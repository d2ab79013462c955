import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { Test } from "tap";

export const SWARMCTL = new URL("../../dist/src/cli/swarmctl.js", import.meta.url).pathname;

/**
 * The official MCP SDK client launching `swarmctl bridge <args>` as an MCP host does, connected; what the bridge
 * writes on stderr and the protocol errors the client saw are kept for the test to read.
 */
export async function sdkThroughBridge(
  t: Test,
  name: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ client: Client; errors: Error[]; stderr: () => string }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [SWARMCTL, "bridge", ...args],
    env: { PATH: process.env.PATH ?? "", ...env },
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (d: Buffer) => (stderr += d));
  const client = new Client({ name, version: "1.0.0" });
  const errors: Error[] = [];
  client.onerror = (err) => errors.push(err);
  await client.connect(transport);
  t.teardown(() => client.close());
  return { client, errors, stderr: () => stderr };
}
