import { RpcError } from "../protocol/errors.js";
import { joinBytes, type Piece } from "../protocol/serialized.js";

/** A result already serialised (a cached tools/list page, a tools/call envelope): written as is. */
export class RawJson {
  constructor(readonly json: string | readonly Piece[]) {}
}

/** A line to write: text, or pieces of it written together (replies assembled from cached bytes, see Serialized). */
export type Line = string | readonly Piece[];

/** A line as one string (for the rare places that embed a reply in another, such as a native batch). */
export function lineText(line: Line): string {
  return typeof line === "string" ? line : joinBytes(line).toString();
}

export type JsonRpcId = string | number | null;

function resultText(result: unknown): string {
  return result instanceof RawJson ? lineText(result.json) : (JSON.stringify(result) ?? "null");
}

/** Lines are assembled by hand so each message is serialised once and keys come in the conventional order. */
export function resultLine(idJson: string, result: unknown): Line {
  if (result instanceof RawJson && typeof result.json !== "string") return ['{"jsonrpc":"2.0","id":' + idJson + ',"result":', ...result.json, "}"];
  return '{"jsonrpc":"2.0","id":' + idJson + ',"result":' + resultText(result) + "}";
}

export function errorLine(idJson: string, error: RpcError): string {
  return '{"jsonrpc":"2.0","id":' + idJson + ',"error":' + JSON.stringify(error) + "}";
}

export function notificationLine(method: string, params: unknown): string {
  return '{"jsonrpc":"2.0","method":' + JSON.stringify(method) + ',"params":' + resultText(params) + "}";
}

/** The `{"result":…}` / `{"error":…}` items of the batch method's result array. */
export function batchItemText(outcome: { result: unknown } | { error: RpcError }): string {
  return "result" in outcome
    ? '{"result":' + resultText(outcome.result) + "}"
    : '{"error":' + JSON.stringify(outcome.error) + "}";
}

export const NULL_ID = "null";
