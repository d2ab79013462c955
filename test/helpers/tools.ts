import type { Test } from "tap";
import type { ToolContract, ToolInput, ToolPayload } from "../../src/protocol/contract.js";
import type { LineClient, Message } from "../../scripts/line-client.js";

/**
 * Calls a tool and returns its payload after checking what every client relies on: no error, the payload valid
 * against the tool's own output schema (what strict MCP clients check), content[0].text equal to structuredContent,
 * and every payload key mirrored onto the result.
 */
export async function callTool<C extends ToolContract>(t: Test, c: LineClient, contract: C, args: ToolInput<C>): Promise<ToolPayload<C>> {
  // A call the server holds for up to `timeoutMs` (task_wait) is answered that late, and later still on a busy
  // machine: the usual 5 s for the reply count from the end of its wait.
  const held = (args as { timeoutMs?: unknown }).timeoutMs;
  const reply = await c.call(contract.name, args, undefined, 5000 + (typeof held === "number" ? held : 0));
  if (reply.error) throw new Error(`${contract.name} failed: ${JSON.stringify(reply.error)}`);
  return checkResult(t, contract, reply.result) as ToolPayload<C>;
}

export function checkResult(t: Test, contract: ToolContract, result: Message): unknown {
  const payload = result.structuredContent;
  const parsed = contract.output.safeParse(payload);
  if (!parsed.success) t.fail(`${contract.name} payload does not match its output schema: ${JSON.stringify(parsed.error.issues)}`);
  if (JSON.stringify(JSON.parse(result.content[0].text)) !== JSON.stringify(payload)) t.fail(`${contract.name}: text and structuredContent differ`);
  for (const key of Object.keys(payload)) {
    if (JSON.stringify(result[key]) !== JSON.stringify(payload[key])) t.fail(`${contract.name}: result.${key} is not mirrored`);
  }
  return payload;
}

/** Calls a tool that must fail; returns the JSON-RPC error. */
export async function toolError(c: LineClient, name: string, args: unknown): Promise<{ code: number; message: string; data?: any }> {
  const reply = await c.call(name, args);
  if (!reply.error) throw new Error(`${name} unexpectedly succeeded: ${JSON.stringify(reply.result?.structuredContent)}`);
  return reply.error;
}
