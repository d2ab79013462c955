import { RpcError } from "../protocol/errors.js";

/** A result already serialised (a cached tools/list page, a tools/call envelope): written as is. */
export class RawJson {
  constructor(readonly json: string) {}
}

export type JsonRpcId = string | number | null;

function resultText(result: unknown): string {
  return result instanceof RawJson ? result.json : (JSON.stringify(result) ?? "null");
}

/** Lines are assembled by hand so each message is serialised once and keys come in the conventional order. */
export function resultLine(idJson: string, result: unknown): string {
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
