export { RpcError, STORAGE_REFUSALS, errorCodes, type ErrorName } from "../protocol/errors.js";

/** Failures that never got an answer from the server. */
export type ClientErrorCode =
  /** No connection could be made (the cause says why). */
  | "CONNECT_FAILED"
  /** The connection closed before the reply arrived. */
  | "CONNECTION_CLOSED"
  /** No reply within the request timeout; the call was cancelled on the server. */
  | "TIMEOUT"
  /** No pooled connection became free within the acquire timeout. */
  | "POOL_TIMEOUT"
  /** The caller's AbortSignal fired; the call was cancelled on the server. */
  | "ABORTED"
  /** close() was called. */
  | "CLIENT_CLOSED"
  /** The server sent something that is not JSON-RPC. */
  | "PROTOCOL_ERROR";

export class ClientError extends Error {
  override readonly name = "ClientError";
  constructor(
    readonly code: ClientErrorCode,
    message: string,
    options: { cause?: unknown; written?: boolean; permanent?: boolean } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.written = options.written ?? false;
    this.permanent = options.permanent ?? false;
  }

  /** The request had been written to the socket: the server may have acted on it. */
  readonly written: boolean;

  /** No retry can succeed until a setting changes (a certificate not trusted, TLS against a plain port): not retried. */
  readonly permanent: boolean;
}
