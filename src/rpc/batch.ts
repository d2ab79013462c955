import { rpcError } from "../protocol/errors.js";
import { NULL_ID, errorLine, lineText, type Line } from "./wire.js";

type Reply = Line | undefined;

export function batchTooLarge(count: number, limit: number) {
  return rpcError("RESOURCE_ERROR", `Batch too large: at most ${limit} items, got ${count}.`, {
    reason: "batch_too_large",
    limit,
    count,
  });
}

/**
 * A native JSON-RPC batch (an array), as the JSON-RPC 2.0 specification answers it: replies in request order, in one
 * line; none when all were notifications.
 */
export function answerArray(items: unknown[], maxItems: number, dispatch: (item: unknown, index: number) => Reply | Promise<Reply>): Reply | Promise<Reply> {
  if (items.length === 0) {
    return errorLine(NULL_ID, rpcError("INVALID_REQUEST", "Invalid Request: the batch is empty.", { reason: "empty_batch" }));
  }
  if (items.length > maxItems) return errorLine(NULL_ID, batchTooLarge(items.length, maxItems));
  const replies = items.map(dispatch);
  const join = (texts: Reply[]): Reply => {
    const present = texts.filter((t): t is Line => t !== undefined);
    return present.length === 0 ? undefined : "[" + present.map(lineText).join(",") + "]";
  };
  return replies.some((r) => r instanceof Promise) ? Promise.all(replies).then(join) : join(replies as Reply[]);
}
