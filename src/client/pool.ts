import genericPool, { type Factory, type Options, type Pool } from "generic-pool";
import pRetry, { AbortError } from "p-retry";
import { ClientConnection, isPermanent, isRefusal, type NotificationHandler } from "./connection.js";
import { ClientError } from "./errors.js";
import type { ResolvedClientOptions } from "./options.js";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface PooledResource {
  readonly obj: ClientConnection;
  readonly lastIdleTime: number;
}

/**
 * What the pool evicts on each run: connections that died on their own (keepalive, server gone) or were retired —
 * generic-pool then refills its minimum at once — and connections idle for idleTimeoutMs while more than the minimum
 * are free. (The default evictor would also close the minimum's connections after their idle timeout and reopen them.)
 */
class ConnectionEvictor {
  evict(config: { softIdleTimeoutMillis: number; min: number }, resource: PooledResource, available: number): boolean {
    if (!resource.obj.lendable) return true;
    return Date.now() - resource.lastIdleTime > config.softIdleTimeoutMillis && available > config.min;
  }
}

interface ResourceRequest {
  readonly promise: Promise<unknown>;
  reject(reason: Error): void;
}

type PriorityQueueClass = new (size: number) => { enqueue(request: ResourceRequest, priority?: number): void };

/**
 * generic-pool's Pool built with our evictor (its typings do not declare the constructor) and a queue of waiting
 * acquires that can be given up: generic-pool has no API for that, and its drain() waits for every acquire, so one
 * whose caller already got a permanent failure would hold close() for the whole acquire timeout. (Its queue forgets
 * a request that rejects with a TimeoutError.)
 */
function createPool(factory: Factory<ClientConnection>, options: Options): { pool: Pool<ClientConnection>; giveUpWaiting(cause: Error): void } {
  const { Pool: PoolClass, Deque, PriorityQueue } = genericPool as unknown as {
    Pool: new (evictor: unknown, deque: unknown, queue: unknown, f: Factory<ClientConnection>, o: Options) => Pool<ClientConnection>;
    Deque: unknown;
    PriorityQueue: PriorityQueueClass;
  };
  const waiting = new Set<ResourceRequest>();
  class AbandonableQueue extends PriorityQueue {
    override enqueue(request: ResourceRequest, priority?: number): void {
      waiting.add(request);
      const settled = (): void => void waiting.delete(request);
      request.promise.then(settled, settled);
      super.enqueue(request, priority);
    }
  }
  return {
    pool: new PoolClass(ConnectionEvictor, Deque, AbandonableQueue, factory, options),
    giveUpWaiting(cause) {
      for (const request of waiting) request.reject(Object.assign(new Error(cause.message, { cause }), { name: "TimeoutError" }));
    },
  };
}

/**
 * Connections from generic-pool: `poolMin` kept open, `poolSize` at most, validated on borrow, idle ones above the
 * minimum evicted. A connection is lent only while a request is written to it, so many calls share it; one carrying
 * `maxInFlightPerConnection` calls is held back until some finish, which makes the pool open more.
 */
export class ConnectionPool {
  private readonly pool: Pool<ClientConnection>;
  private readonly giveUpWaiting: (cause: Error) => void;
  private lastCreateError: Error | undefined;
  private failures = 0;
  /** Every connection opened and not yet destroyed, so all can be retired at once. */
  private readonly connections = new Set<ClientConnection>();

  constructor(
    private readonly options: ResolvedClientOptions,
    onNotification: NotificationHandler,
  ) {
    ({ pool: this.pool, giveUpWaiting: this.giveUpWaiting } = createPool(
      {
        create: () => this.create(onNotification),
        destroy: async (conn) => {
          // Calls in flight may finish first (the pool hands a connection out while it multiplexes).
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([conn.settled(), new Promise((resolve) => (timer = setTimeout(resolve, options.requestTimeoutMs || 30_000)))]);
          clearTimeout(timer);
          conn.destroy(new ClientError("CLIENT_CLOSED", "The pool closed this connection."));
          this.connections.delete(conn);
        },
        validate: async (conn) => conn.lendable,
      },
      {
        max: options.poolSize,
        min: options.poolMin,
        testOnBorrow: true,
        acquireTimeoutMillis: options.acquireTimeoutMs,
        // Often enough that a dead connection is replaced within a second or a keepalive period.
        evictionRunIntervalMillis: Math.min(1_000, options.idleTimeoutMs, options.keepaliveMs || Infinity),
        numTestsPerEvictionRun: options.poolSize,
        softIdleTimeoutMillis: options.idleTimeoutMs,
        autostart: options.poolMin > 0,
      },
    ));
    this.pool.on("factoryCreateError", (err) => {
      this.lastCreateError = err instanceof Error ? err : new Error(String(err));
      // generic-pool retries a failed create until the acquire times out; a refused token or an untrusted certificate
      // will not become right by then, so every caller waiting for a connection gets that failure at once.
      if (isPermanent(err)) this.giveUpWaiting(err);
    });
  }

  /** Connections open or being opened, lent or not. */
  get size(): number {
    return this.pool.size;
  }

  /**
   * Runs `send` on a pooled connection; `send` must write its request synchronously and return the reply's promise.
   * A call refused as unauthenticated on a connection that was authenticated means the daemon's tokens changed (an
   * operator's SIGHUP): every connection, all sharing the one token, is retired, and the call — refused before it did
   * anything — is sent once more on a new connection, whose handshake either authenticates again (the token's scope
   * changed) or is refused (it was revoked), which is then the answer.
   */
  async use<T>(send: (conn: ClientConnection) => Promise<T>, again = false): Promise<T> {
    const conn = await this.acquire();
    const reply = send(conn);
    this.lend(conn);
    if (again || this.options.token === undefined) return reply;
    return reply.catch((err: unknown) => {
      if (!isRefusal(err)) throw err;
      if (conn.lendable) for (const c of this.connections) c.retire();
      return this.use(send, true);
    });
  }

  private async acquire(): Promise<ClientConnection> {
    const started = Date.now();
    try {
      return await this.pool.acquire();
    } catch (err) {
      // An acquire given up for a permanent failure (see createPool) carries that failure.
      if (isPermanent((err as Error).cause)) throw (err as Error).cause;
      const cause = this.lastCreateError;
      if (cause !== undefined && this.failures > 0) {
        throw new ClientError("CONNECT_FAILED", `No connection within ${Date.now() - started} ms: ${cause.message}`, { cause });
      }
      throw new ClientError("POOL_TIMEOUT", `No pooled connection became free within ${this.options.acquireTimeoutMs} ms.`, { cause: err });
    }
  }

  async close(): Promise<void> {
    await this.pool.drain();
    await this.pool.clear();
  }

  /** Back to the pool at once, or once its calls in flight drop to half the limit. */
  private lend(conn: ClientConnection): void {
    const limit = this.options.maxInFlightPerConnection;
    if (conn.inFlight < limit) {
      void this.pool.release(conn);
      return;
    }
    void conn.whenBelow(Math.ceil(limit / 2)).then(() => this.pool.release(conn));
  }

  /**
   * Connecting is retried with p-retry (exponential backoff with jitter); when a whole round fails, the next one waits
   * min(2^failures × 50, 2000) ms plus jitter, as node-redis reconnects, so a client started before its server
   * backs off until the server appears.
   */
  private async create(onNotification: NotificationHandler): Promise<ClientConnection> {
    if (this.failures > 0) await sleep(Math.min(2 ** this.failures * 50, 2000) + Math.random() * 50);
    try {
      const open = (): Promise<ClientConnection> =>
        ClientConnection.open(this.options, onNotification).catch((err: unknown) => {
          throw isPermanent(err) ? new AbortError(err) : err;
        });
      const conn = await pRetry(open, {
        retries: this.options.retryAttempts,
        minTimeout: this.options.retryDelayMs,
        factor: 2,
        randomize: true,
      });
      this.failures = 0;
      this.lastCreateError = undefined;
      this.connections.add(conn);
      return conn;
    } catch (err) {
      this.failures++;
      throw err;
    }
  }
}
