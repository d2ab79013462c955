import type { Logger } from "../log.js";
import { REFUSED_BECAUSE, RpcError, rpcError, storageRefusal, type StorageRefusal } from "../protocol/errors.js";
import type { ToolContext, ToolSession } from "../tools/context.js";
import type { Principal } from "./auth.js";
import type { SessionGuard } from "./guard.js";
import { notificationLine } from "./wire.js";

/** What a method handler may ask of the connection it serves (implemented by Session). */
export interface CallOwner extends ToolSession {
  readonly log: Logger;
  /** The server has answered `initialize` on this connection. */
  readonly initialized: boolean;
  markInitialized(protocolVersion: string, clientInfo: unknown): void;
  /** notifications/cancelled: abort the in-flight request with this id and suppress its reply. */
  cancel(requestId: unknown): void;
  /** Count a request answered inside a batch. */
  countRequest(): void;
  send(line: string): void;
  /** Rate and authorization checks for this connection. */
  readonly guard: SessionGuard;
  /** Verifies a token; the connection acts as its principal from now on. Throws on a wrong token. */
  authenticate(token: unknown): Principal;
  /** Closes the connection after `ms`. */
  closeAfter(ms: number): void;
  /** From now on, send this connection an event for every request served on the others. */
  monitor(): void;
  /** The database refused a write of this call for now (counted and logged by the server). */
  storageRefused(reason: StorageRefusal): void;
}

/** A method returns a result (a plain value or RawJson), a promise of one, or throws an RpcError. */
export type MethodHandler = (params: unknown, call: Call) => unknown;

export interface MethodSpec {
  readonly handler: MethodHandler;
  /** May appear as an item of the batch method. */
  readonly batchable: boolean;
  /** Requests this call counts as against the rate limit (a batch: its items); default 1. */
  readonly cost?: (params: unknown) => number;
}

export type MethodTable = ReadonlyMap<string, MethodSpec>;

export type AbortCause = "cancelled" | "shutting_down" | "connection_closed";

/** One request being served: the context its handler receives. */
export class Call implements ToolContext {
  private controller: AbortController | undefined;
  private cause: AbortCause | undefined;
  private lastProgress = -Infinity;
  /** Set once the reply is decided; later progress is dropped. */
  done = false;

  constructor(
    readonly session: CallOwner,
    private readonly progressToken: string | number | undefined,
  ) {}

  get log(): Logger {
    return this.session.log;
  }

  /** Created on first use: most requests finish without ever looking at it. */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.cause !== undefined) this.controller.abort(this.abortError());
    }
    return this.controller.signal;
  }

  get abortedFor(): AbortCause | undefined {
    return this.cause;
  }

  abort(cause: AbortCause): void {
    if (this.cause !== undefined || this.done) return;
    this.cause = cause;
    this.controller?.abort(this.abortError());
  }

  progress(progress: number, total?: number, message?: string): void {
    if (this.progressToken === undefined || this.done || this.cause !== undefined) return;
    if (!(progress > this.lastProgress)) return; // MCP requires progress to increase
    this.lastProgress = progress;
    const params: Record<string, unknown> = { progressToken: this.progressToken, progress };
    if (total !== undefined) params.total = total;
    if (message !== undefined) params.message = message;
    this.session.send(notificationLine("notifications/progress", params));
  }

  private abortError(): RpcError {
    return this.cause === "cancelled"
      ? rpcError("SERVER_ERROR", "The request was cancelled by the client.")
      : shuttingDown();
  }
}

export function shuttingDown(): RpcError {
  return rpcError("SERVER_ERROR", "The server is shutting down.", { reason: "shutting_down" });
}

/** Errors leave as RpcErrors; anything else is a bug, logged with its stack and sent as a bare -32603. */
export function asRpcError(err: unknown, call: Call): RpcError {
  if (err instanceof RpcError) return err;
  if (call.abortedFor === "shutting_down") return shuttingDown();
  // JSON.parse accepts any depth; serialising (and any recursion over the input) overflows the stack on values nested
  // thousands deep. That is bad input, not a bug.
  if (err instanceof RangeError && /call stack/.test(err.message)) {
    return rpcError("INVALID_PARAMS", "A value is nested too deeply.", { reason: "too_deep" });
  }
  const refusal = storageRefusal(err);
  if (refusal !== undefined) {
    call.session.storageRefused(refusal);
    const why = REFUSED_BECAUSE[refusal];
    return rpcError("SERVER_ERROR", `${why[0]?.toUpperCase()}${why.slice(1)}, so nothing was changed; reads still work. ${REFUSAL_ADVICE[refusal]}`, {
      reason: refusal,
    });
  }
  call.log.error({ err }, "request failed unexpectedly");
  return rpcError("INTERNAL_ERROR", "Internal error; see the server log.", { reason: "internal" });
}

const REFUSAL_ADVICE: Record<StorageRefusal, string> = {
  storage_full: "Free space on the daemon's host.",
  storage_busy: "Try again shortly.",
};

/** A JSON object (not an array, not null). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";
}

export function progressTokenOf(params: unknown): string | number | undefined {
  if (typeof params !== "object" || params === null) return undefined;
  const meta = (params as { _meta?: unknown })._meta;
  if (typeof meta !== "object" || meta === null) return undefined;
  const token = (meta as { progressToken?: unknown }).progressToken;
  return typeof token === "string" || typeof token === "number" ? token : undefined;
}
