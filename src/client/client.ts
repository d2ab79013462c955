import pRetry from "p-retry";
import type { ToolInput, ToolPayload } from "../protocol/contract.js";
import { toolsListPage, type ToolAnnotations, type ToolDefinition } from "../protocol/mcp.js";
import { payloadOf } from "../protocol/envelope.js";
import { taskClaim, taskWait, type ToolMap, type ToolName } from "../protocol/tools/index.js";
import type { RequestOptions } from "./connection.js";
import { ClientError, RpcError } from "./errors.js";
import { resolveClientOptions, type ClientOptions, type ResolvedClientOptions } from "./options.js";
import { monitorRequests, type MonitorHandlers } from "./monitor.js";
import { ConnectionPool } from "./pool.js";
import { TypedTools } from "./typed.js";

export type Notification = { readonly method: string; readonly params: unknown };
export type BatchOutcome = { readonly result: unknown } | { readonly error: RpcError };

/**
 * Tools whose reply the server holds for up to one of their arguments (ms; its default when absent): the request
 * timeout must outlast that wait, or the default 30 s would cut off a task_wait of a minute — or of its own default.
 */
const HELD_FOR: Readonly<Record<string, (args: Record<string, unknown>) => number | undefined>> = {
  task_wait: (args) => taskWait.input.shape.timeoutMs.safeParse(args.timeoutMs).data,
  task_claim: (args) => taskClaim.input.shape.waitMs.safeParse(args.waitMs).data,
};

/** Time beyond a held reply's wait for it to arrive. */
const HELD_REPLY_MARGIN_MS = 5_000;

/** Methods that change nothing, so a call lost after it was written may be sent again. */
const SAFE_METHODS = new Set(["ping", "tools/list", "initialize"]);

/**
 * The swarmd client: a pool of multiplexed connections with keepalive, retries only where they are safe, and a typed
 * method per tool. `import { SwarmClient } from "swarmd/client"`.
 *
 * Retries: connecting backs off until the server appears (within acquireTimeoutMs); a call is sent again only if it
 * never reached the socket, if the server marks its tool read-only or idempotent, or if the server refused it for the
 * rate (after the retryAfterMs it gave). Any other JSON-RPC error is an answer and is never retried; a timeout fails
 * fast.
 */
export class SwarmClient extends TypedTools {
  readonly options: ResolvedClientOptions;
  private readonly pool: ConnectionPool;
  private readonly handlers = new Set<(n: Notification) => void>();
  private annotations: Promise<Map<string, ToolAnnotations>> | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: ClientOptions = {}) {
    super();
    this.options = resolveClientOptions(options);
    this.pool = new ConnectionPool(this.options, (method, params) => {
      for (const handler of this.handlers) handler({ method, params });
    });
  }

  /** Any JSON-RPC method; resolves with its result. */
  request(method: string, params: unknown = {}, options: RequestOptions = {}): Promise<unknown> {
    if (this.closing) return Promise.reject(new ClientError("CLIENT_CLOSED", "The client was closed."));
    return pRetry(() => this.pool.use((conn) => conn.request(method, params, options)), {
      retries: this.options.retryAttempts,
      minTimeout: this.options.retryDelayMs,
      factor: 2,
      randomize: true,
      ...(options.signal ? { signal: options.signal } : {}),
      shouldRetry: ({ error }) => this.retryable(error, method, params),
    });
  }

  /** Calls a tool and resolves with its payload (structuredContent). */
  call<N extends ToolName>(tool: N, args: ToolInput<ToolMap[N]>, options?: RequestOptions): Promise<ToolPayload<ToolMap[N]>>;
  call(tool: string, args?: object, options?: RequestOptions): Promise<unknown>;
  async call(tool: string, args: object = {}, options: RequestOptions = {}): Promise<unknown> {
    // Learn which tools are safe to retry while the server is reachable, before a failure needs the answer.
    void this.toolAnnotations().catch(() => {});
    const held = HELD_FOR[tool]?.(args as Record<string, unknown>);
    const requestTimeoutMs = this.options.requestTimeoutMs;
    const timeoutMs =
      options.timeoutMs ?? (held === undefined || requestTimeoutMs === 0 ? undefined : Math.max(requestTimeoutMs, held + HELD_REPLY_MARGIN_MS));
    return payloadOf(await this.request("tools/call", { name: tool, arguments: args }, timeoutMs === undefined ? options : { ...options, timeoutMs }));
  }

  /** Several calls in one round trip (the batch method): one outcome each, in order. */
  async batch(items: ReadonlyArray<{ method: string; params?: unknown }>, options: RequestOptions = {}): Promise<BatchOutcome[]> {
    const outcomes = (await this.request("batch", { requests: items }, options)) as Array<{ result?: unknown; error?: { code: number; message: string; data?: unknown } }>;
    return outcomes.map((o) => (o.error ? { error: new RpcError(o.error.code, o.error.message, o.error.data as never) } : { result: o.result }));
  }

  /** Notifications the server pushes (task assignments, agent messages, …); returns an unsubscribe function. */
  onNotification(handler: (n: Notification) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /**
   * Every request the daemon serves on other connections, as it serves it, until `signal` fires (see
   * monitorRequests): the monitor method on a connection of its own, outside the pool.
   */
  monitor(handlers: MonitorHandlers, options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.closing) return Promise.reject(new ClientError("CLIENT_CLOSED", "The client was closed."));
    return monitorRequests(this.options, handlers, options.signal);
  }

  async ping(options?: RequestOptions): Promise<void> {
    await this.request("ping", {}, options);
  }

  /** Connections open or opening. */
  get connections(): number {
    return this.pool.size;
  }

  /** Lets calls in flight finish, then closes every connection. */
  close(): Promise<void> {
    return (this.closing ??= this.pool.close());
  }

  private async retryable(error: Error, method: string, params: unknown): Promise<boolean> {
    if (this.closing) return false;
    // Refused for the rate before it ran: safe to send again once the server says so.
    if (error instanceof RpcError && error.data?.reason === "rate_limited") {
      await new Promise((resolve) => setTimeout(resolve, Number(error.data?.retryAfterMs) || this.options.retryDelayMs));
      return true;
    }
    // Another process held the database's lock, so nothing was changed; such locks are brief: try again after the backoff.
    if (error instanceof RpcError && error.data?.reason === "storage_busy") return true;
    if (!(error instanceof ClientError) || error.code !== "CONNECTION_CLOSED") return false;
    if (!error.written || SAFE_METHODS.has(method)) return true;
    if (method !== "tools/call") return false;
    const tool = (params as { name?: unknown }).name;
    // Without the server's word on the tool, it is not known to be safe.
    const known = await this.toolAnnotations().catch(() => undefined);
    const hints = typeof tool === "string" ? known?.get(tool) : undefined;
    return hints?.readOnlyHint === true || hints?.idempotentHint === true;
  }

  /** Every tool tools/list describes, through all its pages. */
  async listTools(options: RequestOptions = {}): Promise<ToolDefinition[]> {
    const tools: ToolDefinition[] = [];
    let cursor: string | undefined;
    do {
      const page = toolsListPage.safeParse(await this.request("tools/list", cursor ? { cursor } : {}, options));
      if (!page.success) {
        const why = page.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
        throw new ClientError("PROTOCOL_ERROR", `The daemon's tools/list page is not one this client reads: ${why}`);
      }
      tools.push(...page.data.tools);
      cursor = page.data.nextCursor;
    } while (cursor);
    return tools;
  }

  /** What tools/list says about each tool (its name and hints), asked once; asked again after a failure. */
  toolAnnotations(): Promise<Map<string, ToolAnnotations>> {
    this.annotations ??= this.listTools()
      .then((tools) => new Map(tools.map((t) => [t.name, t.annotations ?? {}])))
      .catch((err: unknown) => {
        this.annotations = undefined;
        throw err;
      });
    return this.annotations;
  }
}
