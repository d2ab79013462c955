import type { Logger } from "../log.js";
import type { Connection } from "../transport/connection.js";
import { rpcError, type StorageRefusal } from "../protocol/errors.js";
import type { MethodTable } from "./call.js";
import type { GuardConfig } from "./guard.js";
import { Monitors } from "./monitor.js";
import { Session, type SessionHost } from "./session.js";
import { NULL_ID, errorLine } from "./wire.js";

export interface RpcServerOptions {
  readonly methods: MethodTable;
  readonly maxMessageBytes: number;
  readonly batchMaxItems: number;
  readonly maxInflight: number;
  readonly maxConnections: number;
  readonly guard: GuardConfig;
  readonly log: Logger;
  /** Told about every request handled (metrics). */
  readonly observe?: (method: string, outcome: string, ms: number) => void;
  /** Told about every write the database refused for now (a full disk, a lock); without it each is logged. */
  readonly storageRefused?: (reason: StorageRefusal, log: Logger) => void;
}

/** Owns every session: counts what server_info reports and drains them at shutdown. */
export class RpcServer implements SessionHost {
  readonly methods: MethodTable;
  readonly maxMessageBytes: number;
  readonly batchMaxItems: number;
  readonly maxInflight: number;
  readonly guard: GuardConfig;
  readonly monitors = new Monitors();
  closing = false;
  requestsServed = 0;
  connectionsTotal = 0;
  private readonly sessions = new Set<Session>();
  private readonly log: Logger;
  private onEmpty: (() => void) | undefined;
  private readonly maxConnections: number;

  constructor(private readonly options: RpcServerOptions) {
    this.methods = options.methods;
    this.maxMessageBytes = options.maxMessageBytes;
    this.batchMaxItems = options.batchMaxItems;
    this.maxInflight = options.maxInflight;
    this.guard = options.guard;
    this.maxConnections = options.maxConnections;
    this.log = options.log;
  }

  get connectionsOpen(): number {
    return this.sessions.size;
  }

  /** Serves a new connection; one over the limit is told why in one line and closed. */
  attach(conn: Connection): Session | undefined {
    if (this.sessions.size >= this.maxConnections) {
      const limit = this.maxConnections;
      conn.send(
        errorLine(NULL_ID, rpcError("RESOURCE_ERROR", `Too many connections: at most ${limit} are served at once.`, { reason: "too_many_connections", limit })),
      );
      conn.end();
      this.log.warn({ remote: conn.remote, limit }, "refused a connection over the limit");
      return undefined;
    }
    const session = new Session(conn, this, this.log);
    this.sessions.add(session);
    this.connectionsTotal++;
    return session;
  }

  countRequest(): void {
    this.requestsServed++;
  }

  observe(method: string, outcome: string, ms: number): void {
    this.options.observe?.(method, outcome, ms);
  }

  storageRefused(reason: StorageRefusal, log: Logger): void {
    if (this.options.storageRefused) this.options.storageRefused(reason, log);
    else log.warn({ reason }, "a write was refused");
  }

  sessionClosed(session: Session): void {
    this.sessions.delete(session);
    if (this.sessions.size === 0) this.onEmpty?.();
  }

  /**
   * Shutdown, DESIGN §5: new requests get -32000 "shutting down"; in-flight requests may finish within `graceMs`,
   * then they are aborted; replies are flushed and connections closed.
   */
  async drain(graceMs: number): Promise<void> {
    this.closing = true;
    const all = (): Promise<unknown> => Promise.all([...this.sessions].map((s) => s.settled()));
    if (!(await within(all(), graceMs))) {
      for (const s of this.sessions) s.abortAll("shutting_down");
      await within(all(), 1000);
    }
    const closed = new Promise<void>((resolve) => (this.onEmpty = resolve));
    for (const s of this.sessions) s.end();
    if (this.sessions.size > 0) await within(closed, 1000);
    for (const s of this.sessions) s.destroy();
  }
}

/** True when `promise` settled within `ms`. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
