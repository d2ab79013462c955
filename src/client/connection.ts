import type { Socket } from "node:net";
import { LATEST_PROTOCOL_VERSION } from "../protocol/mcp.js";
import { LineFramer } from "../transport/framing.js";
import { ClientError, RpcError } from "./errors.js";
import type { ResolvedClientOptions } from "./options.js";
import { openSocket, tlsFailure } from "./socket.js";

export interface RequestOptions {
  readonly signal?: AbortSignal | undefined;
  /** Overrides the client's request timeout; 0: none. */
  readonly timeoutMs?: number | undefined;
  /** Receives notifications/progress for this call (the request carries a progress token). */
  readonly onProgress?: ((progress: { progress: number; total?: number; message?: string }) => void) | undefined;
}

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: Error) => void;
  readonly onProgress: RequestOptions["onProgress"];
  readonly cleanup: () => void;
  written: boolean;
}

export type NotificationHandler = (method: string, params: unknown) => void;

const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/**
 * One TCP connection to swarmd, initialized once, multiplexing many requests: ids are per connection, replies are
 * matched through one pending map, and one cleanup path rejects everything pending when the connection dies.
 * Requests queued in one event-loop turn are written together.
 */
export class ClientConnection {
  serverVersion: string | undefined;
  /** Resolves with the reason once the connection is closed, by either side. */
  readonly closed: Promise<ClientError>;
  private markClosed: (err: ClientError) => void = () => {};
  private readonly pending = new Map<number, Pending>();
  private unwritten: Pending[] = [];
  private nextId = 1;
  private queued = "";
  private flushScheduled = false;
  private lastActivity = Date.now();
  private closedWith: ClientError | undefined;
  private retired = false;
  private keepalive: NodeJS.Timeout | undefined;
  private belowWaiters: Array<{ readonly n: number; readonly resolve: () => void }> = [];

  private constructor(
    private readonly socket: Socket,
    private readonly options: ResolvedClientOptions,
    private readonly onNotification: NotificationHandler,
  ) {
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
    const framer = new LineFramer(MAX_MESSAGE_BYTES, {
      line: (text) => this.receive(text),
      oversize: () => this.destroy(new ClientError("PROTOCOL_ERROR", "The server sent an oversized line.")),
    });
    socket.on("data", (chunk: Buffer) => {
      this.lastActivity = Date.now();
      framer.push(chunk);
    });
    socket.on("error", (err) => this.destroy(new ClientError("CONNECTION_CLOSED", `Connection error: ${err.message}`, { cause: err })));
    socket.on("close", () => this.destroy(new ClientError("CONNECTION_CLOSED", "The connection closed before the reply arrived.")));
  }

  /** Connects and performs the MCP initialize handshake. */
  static async open(options: ResolvedClientOptions, onNotification: NotificationHandler): Promise<ClientConnection> {
    const socket = await openSocket(options);
    const conn = new ClientConnection(socket, options, onNotification);
    try {
      const init = (await conn.request(
        "initialize",
        {
          protocolVersion: LATEST_PROTOCOL_VERSION,
          capabilities: {},
          clientInfo: options.clientInfo,
          ...(options.token === undefined ? {} : { _meta: { "swarmd/token": options.token } }),
        },
        { timeoutMs: options.connectTimeoutMs },
      )) as { serverInfo?: { version?: string } };
      conn.serverVersion = init.serverInfo?.version;
      conn.notify("notifications/initialized", {});
    } catch (err) {
      conn.destroy(err instanceof ClientError ? err : new ClientError("CONNECT_FAILED", String(err)));
      // A refused token is the server's answer, not a failure to connect: the caller gets it as it is.
      if (isRefusal(err)) throw err;
      if (err instanceof RpcError) throw new ClientError("CONNECT_FAILED", `initialize failed: ${err.message}`, { cause: err });
      // With TLS 1.3 a daemon that wants a client certificate says so only after the handshake, here.
      const tls = err instanceof ClientError ? tlsFailure(err.cause, options) : undefined;
      if (tls !== undefined) throw tls;
      if (err instanceof ClientError && err.code === "CONNECTION_CLOSED" && options.tls === false) {
        const why = "a daemon that serves TLS does that to plain connections (tls: true or tls.ca; swarmctl --tls or --tls-ca)";
        throw new ClientError("CONNECT_FAILED", `The daemon at ${options.host}:${options.port} closed the connection before answering initialize; ${why}.`, { cause: err });
      }
      throw err;
    }
    conn.startKeepalive();
    return conn;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** Open and not retired: the pool may lend it. */
  get lendable(): boolean {
    return this.closedWith === undefined && !this.retired;
  }

  /** Lent no more (its authentication went stale); calls in flight still get their replies. */
  retire(): void {
    this.retired = true;
  }

  request(method: string, params: unknown, options: RequestOptions = {}): Promise<unknown> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const id = this.nextId++;
    const timeoutMs = options.timeoutMs ?? this.options.requestTimeoutMs;
    const withToken =
      options.onProgress === undefined ? params : { ...(params as object), _meta: { ...((params as { _meta?: object })?._meta ?? {}), progressToken: id } };
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => this.abandon(id, new ClientError("ABORTED", `${method} was aborted.`, { cause: options.signal?.reason, written: true }));
      const entry: Pending = {
        resolve,
        reject,
        onProgress: options.onProgress,
        written: false,
        cleanup: () => {
          clearTimeout(timer);
          options.signal?.removeEventListener("abort", onAbort);
        },
      };
      if (options.signal?.aborted) return reject(new ClientError("ABORTED", `${method} was aborted.`, { cause: options.signal.reason }));
      this.pending.set(id, entry);
      this.unwritten.push(entry);
      options.signal?.addEventListener("abort", onAbort, { once: true });
      if (timeoutMs > 0) {
        timer = setTimeout(() => this.abandon(id, new ClientError("TIMEOUT", `${method}: no reply within ${timeoutMs} ms.`, { written: true })), timeoutMs);
      }
      this.write(JSON.stringify({ jsonrpc: "2.0", id, method, params: withToken ?? {} }));
    });
  }

  notify(method: string, params: unknown): void {
    if (!this.closedWith) this.write(JSON.stringify({ jsonrpc: "2.0", method, params }));
  }

  /** Resolves once fewer than `n` calls are in flight (or the connection is closed). */
  whenBelow(n: number): Promise<void> {
    return this.pending.size < n ? Promise.resolve() : new Promise((resolve) => this.belowWaiters.push({ n, resolve }));
  }

  /** Resolves once nothing is in flight. */
  settled(): Promise<void> {
    return this.whenBelow(1);
  }

  /** Waits for calls in flight, then closes. */
  async close(): Promise<void> {
    await this.settled();
    this.destroy(new ClientError("CLIENT_CLOSED", "The client was closed."));
    this.socket.end();
  }

  /** The one cleanup path: everything pending is rejected with `err`. */
  destroy(err: ClientError): void {
    if (this.closedWith) return;
    this.closedWith = err;
    this.markClosed(err);
    clearInterval(this.keepalive);
    for (const [id, entry] of this.pending) {
      entry.cleanup();
      entry.reject(new ClientError(err.code, err.message, { cause: err.cause, written: entry.written }));
      this.pending.delete(id);
    }
    this.unwritten = [];
    this.wakeSettled();
    this.socket.destroy();
  }

  /** Gives up on one request (timeout, abort) and tells the server to stop working on it. */
  private abandon(id: number, err: ClientError): void {
    const entry = this.pending.get(id);
    if (entry === undefined) return;
    this.pending.delete(id);
    entry.cleanup();
    entry.reject(err);
    this.notify("notifications/cancelled", { requestId: id, reason: err.message });
    this.wakeSettled();
  }

  private receive(text: string): void {
    let message: { id?: unknown; result?: unknown; error?: { code: number; message: string; data?: unknown }; method?: string; params?: unknown };
    try {
      message = JSON.parse(text);
    } catch {
      this.destroy(new ClientError("PROTOCOL_ERROR", "The server sent a line that is not JSON."));
      return;
    }
    if (typeof message.method === "string") {
      if (message.method === "notifications/progress") {
        const p = message.params as { progressToken?: unknown; progress: number; total?: number; message?: string };
        const entry = typeof p?.progressToken === "number" ? this.pending.get(p.progressToken) : undefined;
        if (entry?.onProgress) {
          entry.onProgress({ progress: p.progress, ...(p.total === undefined ? {} : { total: p.total }), ...(p.message === undefined ? {} : { message: p.message }) });
          return;
        }
      }
      this.onNotification(message.method, message.params);
      return;
    }
    const entry = typeof message.id === "number" ? this.pending.get(message.id) : undefined;
    if (entry === undefined) return; // a reply to something abandoned, or an id:null error about a bad line
    this.pending.delete(message.id as number);
    entry.cleanup();
    if (message.error) entry.reject(new RpcError(message.error.code, message.error.message, message.error.data as never));
    else entry.resolve(message.result);
    this.wakeSettled();
  }

  private write(line: string): void {
    this.queued += line + "\n";
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      if (this.closedWith) return;
      const data = this.queued;
      this.queued = "";
      for (const entry of this.unwritten) entry.written = true;
      this.unwritten = [];
      this.lastActivity = Date.now();
      this.socket.write(data);
    });
  }

  /** An idle connection is pinged every keepaliveMs; no reply within that time replaces it. */
  private startKeepalive(): void {
    const every = this.options.keepaliveMs;
    if (every <= 0) return;
    this.keepalive = setInterval(() => {
      if (this.pending.size > 0 || Date.now() - this.lastActivity < every) return;
      this.request("ping", {}, { timeoutMs: every }).catch(() =>
        this.destroy(new ClientError("CONNECTION_CLOSED", `The server did not answer a keepalive ping within ${every} ms.`)),
      );
    }, every);
    this.keepalive.unref();
  }

  private wakeSettled(): void {
    if (this.belowWaiters.length === 0) return;
    const size = this.pending.size;
    const waiting = this.belowWaiters;
    this.belowWaiters = [];
    for (const w of waiting) {
      if (size < w.n) w.resolve();
      else this.belowWaiters.push(w);
    }
  }
}

/** The daemon refused the connection's token: no retry can change that until the token does. */
export function isRefusal(err: unknown): err is RpcError {
  return err instanceof RpcError && (err.data as { reason?: unknown } | undefined)?.reason === "unauthenticated";
}

/** Connecting failed in a way no retry can mend until a setting changes: the caller gets it at once. */
export function isPermanent(err: unknown): err is RpcError | ClientError {
  return isRefusal(err) || (err instanceof ClientError && err.permanent);
}
