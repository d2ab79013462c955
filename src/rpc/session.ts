import { performance } from "node:perf_hooks";
import type { Logger } from "../log.js";
import { rpcError, type RpcError, type StorageRefusal } from "../protocol/errors.js";
import type { Connection } from "../transport/connection.js";
import type { Principal } from "./auth.js";
import {
  Call,
  asRpcError,
  isPromiseLike,
  progressTokenOf,
  shuttingDown,
  type AbortCause,
  type CallOwner,
  type MethodTable,
} from "./call.js";
import { answerArray } from "./batch.js";
import { classify } from "./classify.js";
import type { Monitors } from "./monitor.js";
import { SessionGuard, type GuardConfig } from "./guard.js";
import { NULL_ID, errorLine, notificationLine, resultLine, type JsonRpcId, type Line } from "./wire.js";

/** What a session needs from the server that owns it. */
export interface SessionHost {
  readonly methods: MethodTable;
  readonly closing: boolean;
  readonly maxMessageBytes: number;
  readonly batchMaxItems: number;
  /** Unanswered requests per connection before it is no longer read. */
  readonly maxInflight: number;
  readonly guard: GuardConfig;
  /** Told about every request handled: its method ("unknown" for methods that do not exist), outcome and time. */
  observe(method: string, outcome: string, ms: number): void;
  /** The connections that asked to see every request (the monitor method). */
  readonly monitors: Monitors;
  countRequest(): void;
  /** A write the database refused for now (a full disk, another process's lock), for the connection with `log`. */
  storageRefused(reason: StorageRefusal, log: Logger): void;
  sessionClosed(session: Session): void;
}

type Reply = Line | undefined;

const PARSE_ERROR_LINE = errorLine(NULL_ID, rpcError("PARSE_ERROR", "Parse error: the line is not valid JSON."));

/**
 * One client connection's JSON-RPC + MCP state. Requests are served concurrently: a slow request never holds up a
 * later fast one (replies may come out of order; ids pair them). After the client half-closes, every request it sent
 * is answered before our side closes. Past `maxInflight` unanswered requests the connection is not read until half
 * of them are answered.
 */
export class Session implements CallOwner {
  readonly connectionId: number;
  log: Logger;
  initialized = false;
  protocolVersion: string | undefined;
  clientInfo: unknown;
  requests = 0;
  currentSwarmId: string | undefined;
  readonly guard: SessionGuard;
  private readonly openedAt = Date.now();
  private closeHooks: Array<() => void> = [];
  /** Async work whose reply is not written yet (requests, notifications, native batches). */
  private pending = 0;
  private inputEnded = false;
  private closed = false;
  private readonly inflight = new Map<JsonRpcId, Call>();
  private waiters: Array<() => void> = [];
  private markClosed!: () => void;
  /** Resolves when the connection has closed. */
  readonly closed$ = new Promise<void>((resolve) => (this.markClosed = resolve));

  constructor(
    private readonly conn: Connection,
    private readonly host: SessionHost,
    log: Logger,
  ) {
    this.connectionId = conn.id;
    this.log = log.child({ conn: conn.id, remote: conn.remote });
    this.guard = new SessionGuard(host.guard);
    conn.onmessage = (line, startedAt) => this.receive(line, startedAt);
    conn.onoversize = (bytes) => this.rejectOversize(bytes);
    conn.oninputend = () => {
      this.inputEnded = true;
      this.settle();
    };
    // A monitor waits for other connections' requests, however long that takes.
    conn.onidle = () => this.pending === 0 && !host.monitors.has(conn);
    conn.onerror = (err) => this.log.debug({ err }, "connection error");
    conn.onoverflow = (bytes) => this.log.warn({ bufferedBytes: bytes }, "disconnecting a client that does not read its replies");
    conn.onclose = () => this.handleClose();
    this.log.info({ kind: conn.kind }, "connection opened");
  }

  send(line: string): void {
    this.conn.send(line);
  }

  notify(method: string, params: object): void {
    this.conn.send(notificationLine(method, params));
  }

  monitor(): void {
    this.host.monitors.add(this.conn);
  }

  storageRefused(reason: StorageRefusal): void {
    this.host.storageRefused(reason, this.log);
  }

  onClose(fn: () => void): void {
    if (this.closed) fn();
    else this.closeHooks.push(fn);
  }

  markInitialized(protocolVersion: string, clientInfo: unknown): void {
    this.initialized = true;
    this.protocolVersion = protocolVersion;
    this.clientInfo = clientInfo;
  }

  authenticate(token: unknown): Principal {
    const principal = this.guard.authenticate(token);
    this.log = this.log.child({ principal: principal.name });
    this.log.info({ scope: principal.scope }, "authenticated");
    return principal;
  }

  /** Closes the connection after `ms` (too many failed authentication attempts). */
  closeAfter(ms: number): void {
    this.log.warn({ failures: this.guard.failures }, "closing after repeated authentication failures");
    setTimeout(() => this.conn.destroy(), ms).unref();
  }

  cancel(requestId: unknown): void {
    const call = this.inflight.get(requestId as JsonRpcId);
    call?.abort("cancelled");
  }

  countRequest(): void {
    this.requests++;
    this.host.countRequest();
  }

  /** Resolves once no reply is pending. */
  settled(): Promise<void> {
    return this.pending === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }

  abortAll(cause: AbortCause): void {
    for (const call of this.inflight.values()) call.abort(cause);
  }

  end(): void {
    this.conn.end();
  }

  destroy(): void {
    this.conn.destroy();
  }

  private receive(line: string, startedAt: number): void {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      this.conn.send(PARSE_ERROR_LINE);
      return;
    }
    const reply = Array.isArray(message)
      ? answerArray(message, this.host.batchMaxItems, (item, index) => this.dispatch(item, line, index, index === 0 ? startedAt : performance.now()))
      : this.dispatch(message, line, -1, startedAt);
    if (reply === undefined) return;
    if (reply instanceof Promise) this.track(reply);
    else this.conn.send(reply);
  }

  private track(reply: Promise<Reply>): void {
    if (++this.pending >= this.host.maxInflight) this.conn.pauseInput("inflight");
    void reply.then(this.afterAsync);
  }

  private readonly afterAsync = (text: Reply): void => {
    if (--this.pending < this.host.maxInflight / 2) this.conn.resumeInput("inflight");
    if (text !== undefined) this.conn.send(text);
    this.settle();
  };

  private settle(): void {
    if (this.pending > 0) return;
    if (this.waiters.length > 0) for (const resolve of this.waiters.splice(0)) resolve();
    if (this.inputEnded && !this.closed) this.conn.end();
  }

  /** `started`: when its handling began (for a native batch's later items, when their turn came). */
  private dispatch(message: unknown, line: string, index: number, started: number): Reply | Promise<Reply> {
    const c = classify(message, line, index);
    if (c.kind === "response") return undefined;
    if (c.kind === "invalid") return c.reply;
    return this.execute(c.method, c.params, c.id, c.idJson, started);
  }

  private execute(method: string, params: unknown, id: JsonRpcId | undefined, idJson: string | undefined, started: number): Reply | Promise<Reply> {
    const spec = this.host.methods.get(method);
    if (spec === undefined) {
      const err = rpcError("METHOD_NOT_FOUND", `Method not found: ${JSON.stringify(method)}.`, { method });
      return this.refuse("unknown", method, params, started, idJson, err);
    }
    if (this.host.closing) return this.refuse(method, method, params, started, idJson, shuttingDown());
    try {
      this.guard.admit(method, params, spec.cost?.(params) ?? 1);
    } catch (err) {
      return this.refuse(method, method, params, started, idJson, err as RpcError);
    }
    const call = new Call(this, progressTokenOf(params));
    let out: unknown;
    try {
      out = spec.handler(params, call);
    } catch (err) {
      call.done = true;
      return this.refuse(method, method, params, started, idJson, asRpcError(err, call));
    }
    if (!isPromiseLike(out)) {
      call.done = true;
      this.served(method, method, params, "ok", started);
      if (idJson === undefined) return undefined;
      this.countRequest();
      return resultLine(idJson, out);
    }
    if (id !== undefined) this.inflight.set(id, call);
    return Promise.resolve(out).then(
      (result) => (this.finish(method, params, started, id, idJson, call, "ok") ? resultLine(idJson as string, result) : undefined),
      (err: unknown) => {
        const e = asRpcError(err, call);
        return this.finish(method, params, started, id, idJson, call, e.codeName ?? "error") ? errorLine(idJson as string, e) : undefined;
      },
    );
  }

  /** A request handled: counted under `label` for metrics, and shown to any monitor. */
  private served(label: string, method: string, params: unknown, outcome: string, started: number): void {
    const ms = performance.now() - started;
    this.host.observe(label, outcome, ms);
    if (this.host.monitors.active) this.host.monitors.served(this.conn, this.guard.principal?.name, method, params, outcome, ms);
  }

  /** An error reply (none for a notification), counted under `label`. */
  private refuse(label: string, method: string, params: unknown, started: number, idJson: string | undefined, err: RpcError): Reply {
    this.served(label, method, params, err.codeName ?? "error", started);
    if (idJson === undefined) return undefined; // notifications are never answered
    this.countRequest();
    return errorLine(idJson, err);
  }

  /** Settles an async call; true when its reply is to be written. */
  private finish(method: string, params: unknown, started: number, id: JsonRpcId | undefined, idJson: string | undefined, call: Call, outcome: string): boolean {
    call.done = true;
    if (id !== undefined && this.inflight.get(id) === call) this.inflight.delete(id);
    this.served(method, method, params, call.abortedFor === "cancelled" ? "cancelled" : outcome, started);
    if (idJson === undefined || call.abortedFor === "cancelled" || this.closed) return false;
    this.countRequest();
    return true;
  }

  private rejectOversize(bytes: number): void {
    const limit = this.host.maxMessageBytes;
    this.conn.send(
      errorLine(
        NULL_ID,
        rpcError("RESOURCE_ERROR", `Message too large: lines may be at most ${limit} bytes; the rest of this line is ignored.`, {
          reason: "message_too_large",
          limit,
          receivedBytes: bytes,
        }),
      ),
    );
  }

  private handleClose(): void {
    this.closed = true;
    this.abortAll("connection_closed");
    this.inflight.clear();
    this.host.sessionClosed(this);
    this.host.monitors.remove(this.conn);
    for (const hook of this.closeHooks.splice(0)) {
      try {
        hook();
      } catch (err) {
        this.log.error({ err }, "close hook failed");
      }
    }
    this.markClosed();
    this.log.info({ requests: this.requests, durationMs: Date.now() - this.openedAt }, "connection closed");
  }
}
