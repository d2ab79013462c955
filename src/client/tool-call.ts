import type { ToolContract, ToolInput, ToolPayload } from "../protocol/contract.js";
import { payloadOf } from "../protocol/envelope.js";
import { isRefusal, type ClientConnection } from "./connection.js";

/**
 * One tool call on a connection a program keeps for itself (a worker's, an adopter's), resolving with its payload. When
 * the daemon's tokens changed (SIGHUP) the connection is refused until it authenticates again: with a `token` it does,
 * once, and sends the call again. A refusal of the token itself goes to `tokenRefused`, then is thrown.
 */
export async function callTool<C extends ToolContract>(
  conn: ClientConnection,
  tool: C,
  args: ToolInput<C>,
  token: string | undefined,
  tokenRefused: (err: Error) => void = () => {},
): Promise<ToolPayload<C>> {
  const send = async (): Promise<ToolPayload<C>> => payloadOf(await conn.request("tools/call", { name: tool.name, arguments: args })) as ToolPayload<C>;
  try {
    return await send();
  } catch (err) {
    if (!isRefusal(err) || token === undefined) throw err;
    try {
      await conn.request("authenticate", { token });
    } catch (refused) {
      if (isRefusal(refused)) tokenRefused(refused);
      throw refused;
    }
    return send();
  }
}
