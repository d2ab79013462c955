import { rpcError } from "../protocol/errors.js";
import { idText } from "../protocol/raw-id.js";
import { NULL_ID, errorLine, type JsonRpcId } from "./wire.js";

/** What a parsed message is, by JSON-RPC 2.0 §4–5. */
export type Classified =
  | { readonly kind: "call"; readonly method: string; readonly params: unknown; readonly id: JsonRpcId | undefined; readonly idJson: string | undefined }
  | { readonly kind: "invalid"; readonly reply: string }
  /** A response the client sent us: nothing to answer. */
  | { readonly kind: "response" };

/**
 * Validates one message. `line` and `index` (its place in a native batch, else -1) let ids that JSON.parse cannot
 * hold exactly (integers beyond 2^53) be echoed from their source text. A call without an id is a notification.
 */
export function classify(message: unknown, line: string, index: number): Classified {
  if (typeof message !== "object" || message === null || Array.isArray(message)) return invalid(NULL_ID, "a request must be a JSON object");
  const m = message as Record<string, unknown>;
  const id = m.id;
  const method = m.method;
  if (method === undefined && id !== undefined && ("result" in m || "error" in m)) return { kind: "response" };
  let idJson: string | undefined;
  if (id !== undefined) {
    if (typeof id === "string" || typeof id === "number") idJson = idText(id, line, index);
    else if (id === null) idJson = NULL_ID;
    else return invalid(NULL_ID, "id must be a string, a number or null");
  }
  if (m.jsonrpc !== "2.0") return invalid(idJson ?? NULL_ID, 'jsonrpc must be "2.0"');
  if (typeof method !== "string") return invalid(idJson ?? NULL_ID, "method must be a string");
  const params = m.params;
  if (params !== undefined && (typeof params !== "object" || params === null)) return invalid(idJson ?? NULL_ID, "params must be an object or an array");
  return { kind: "call", method, params, id: id as JsonRpcId | undefined, idJson };
}

function invalid(idJson: string, why: string): Classified {
  return { kind: "invalid", reply: errorLine(idJson, rpcError("INVALID_REQUEST", `Invalid Request: ${why}.`)) };
}
