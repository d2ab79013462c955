import { totalmem } from "node:os";
import pRetry from "p-retry";
import type { z } from "zod";
import type { ToolContract, ToolInput, ToolPayload } from "../protocol/contract.js";
import { agentAttach, agentDetach, agentUsage, taskComplete, taskFail, taskProgress, type assignmentPayload } from "../protocol/tools/worker.js";
import { ClientConnection, isPermanent } from "./connection.js";
import { ClientError, RpcError, STORAGE_REFUSALS } from "./errors.js";
import { resolveClientOptions, type ClientOptions, type ResolvedClientOptions } from "./options.js";
import { callTool } from "./tool-call.js";

export type Assignment = z.infer<typeof assignmentPayload>;
export type UsageReport = Omit<ToolInput<typeof agentUsage>, "agentId">;

export interface AssignmentContext {
  /**
   * Aborted when the result can no longer count: the daemon cancelled the assignment (another agent won, the task was
   * cancelled, it timed out), the connection to the daemon was lost (the daemon gives the work to another agent), or
   * the worker stopped.
   */
  readonly signal: AbortSignal;
  /** Reports progress (0–1), which also extends the assignment's deadline. */
  progress(fraction: number, message?: string): Promise<void>;
}

/** Thrown by a handler to fail its assignment with details; `retryable: false` asks that the task not be tried again. */
export class TaskFailure extends Error {
  constructor(
    message: string,
    readonly details: { readonly data?: unknown; readonly retryable?: boolean } = {},
  ) {
    super(message);
    this.name = "TaskFailure";
  }
}

/** Refusals that pass with time: connecting again later may succeed. */
const PASSING = new Set(["shutting_down", "rate_limited", "too_many_connections", "swarm_busy", ...STORAGE_REFUSALS]);

/** Why a worker ended: stop() was called, the agent was terminated, or another worker took it over. */
export type WorkerEnd = "stopped" | "terminated" | "taken_over";

export type WorkerEvent =
  | { readonly type: "attached"; readonly again: boolean }
  | { readonly type: "disconnected"; readonly error: Error }
  | { readonly type: "report_failed"; readonly taskId: string; readonly error: Error }
  /**
   * The daemon cannot store the assignment's result now (its disk is full, or another process holds the database's
   * lock): the result is kept and sent again every second until it is stored.
   */
  | { readonly type: "report_delayed"; readonly taskId: string; readonly error: Error };

/** How often a finished assignment's report the database could not take (STORAGE_REFUSALS) is sent again. */
const REPORT_RETRY_MS = 1_000;

export interface WorkerOptions extends ClientOptions {
  /** The agent to work for (agent_spawn names it). */
  readonly agentId: string;
  /** Does one assignment: resolves with its result (any JSON), or throws (a TaskFailure for details) to fail it. */
  readonly handle: (assignment: Assignment, context: AssignmentContext) => unknown;
  /** Replace a worker already attached to the agent (default true: a restarted worker replaces its old connection). */
  readonly takeover?: boolean;
  /** How often (ms) a running assignment reports progress, keeping its lease, and usage is reported (default 5000). */
  readonly heartbeatMs?: number;
  /** What agent_usage reports: by default this process's CPU and memory; a function of your own, or false for none. */
  readonly usage?: false | (() => UsageReport);
  /** Connections made, lost, and reports that did not arrive: for your log. */
  readonly onEvent?: (event: WorkerEvent) => void;
}

/**
 * An agent's worker on a connection of its own: attaches, runs each assignment the daemon pushes through `handle`,
 * reports progress while it runs and its result or failure after, reports usage, and when the daemon goes away
 * connects again with backoff and attaches again — for as long as it takes, as a worker should. `done` resolves with
 * why it ended, or rejects when it cannot work at all (a refused token, an unknown or terminated agent, TLS that
 * cannot be trusted). `import { SwarmWorker } from "swarmd/client"`.
 */
export class SwarmWorker {
  /** Resolves once the worker has attached the first time; rejects as `done` does, or if it ended before attaching. */
  readonly ready: Promise<void>;
  readonly done: Promise<WorkerEnd>;
  private readonly options: ResolvedClientOptions;
  private readonly heartbeatMs: number;
  private readonly running = new Map<string, AbortController>();
  private end: ((why: WorkerEnd) => void) | undefined;
  private fail: ((err: unknown) => void) | undefined;
  private readonly ended: Promise<WorkerEnd>;
  private stopping = false;

  constructor(private readonly settings: WorkerOptions) {
    // One connection, never pooled: the attachment belongs to it. (The schema keeps only the connection's settings.)
    this.options = resolveClientOptions({ clientInfo: { name: "swarmd-worker", version: "1" }, ...settings });
    this.heartbeatMs = settings.heartbeatMs ?? 5_000;
    this.ended = new Promise((resolve, reject) => {
      this.end = resolve;
      this.fail = reject;
    });
    void this.ended.catch(() => {});
    let attached: () => void = () => {};
    const first = new Promise<void>((resolve) => (attached = resolve));
    this.done = this.run(attached);
    const endedFirst = (why: WorkerEnd): never => {
      throw new ClientError("CLIENT_CLOSED", `The worker ended (${why}) before it attached.`);
    };
    this.ready = Promise.race([first, this.done.then(endedFirst)]);
    void this.ready.catch(() => {});
  }

  /** Stops: running assignments are aborted and return to the queue, the agent is detached, the connection closed. */
  async stop(): Promise<WorkerEnd> {
    this.stopping = true;
    this.end?.("stopped");
    return this.done.catch(() => "stopped" as const);
  }

  private async run(attached: () => void): Promise<WorkerEnd> {
    let again = false;
    for (;;) {
      const conn = await pRetry(() => this.attach(), {
        retries: Number.POSITIVE_INFINITY,
        minTimeout: 100,
        maxTimeout: 2_000,
        factor: 2,
        randomize: true,
        shouldRetry: ({ error }) => !this.stopping && !isPermanent(error) && !(error instanceof RpcError && !PASSING.has(String(error.data?.reason))),
      }).catch((err: unknown) => {
        if (this.stopping) return undefined;
        throw err;
      });
      if (conn === undefined) return "stopped";
      this.settings.onEvent?.({ type: "attached", again });
      attached();
      again = true;
      const usage = this.settings.usage === false ? undefined : setInterval(() => void this.reportUsage(conn), this.heartbeatMs);
      void this.reportUsage(conn);
      const lost = conn.closed.then((error) => ({ error }));
      let outcome: WorkerEnd | { error: Error };
      try {
        outcome = await Promise.race([lost, this.ended]);
      } catch (err) {
        conn.destroy(new ClientError("CLIENT_CLOSED", "The worker ended."));
        throw err;
      } finally {
        clearInterval(usage);
        this.abortAll("the worker's connection to swarmd ended");
      }
      if (typeof outcome === "string") {
        if (outcome === "stopped") await this.call(conn, agentDetach, { agentId: this.settings.agentId }).catch(() => {});
        await conn.close();
        return outcome;
      }
      this.settings.onEvent?.({ type: "disconnected", error: outcome.error });
      if (this.stopping) return "stopped";
    }
  }

  /** Connects and attaches; an RpcError here (a refused token, an unknown agent) ends the worker, unless PASSING. */
  private async attach(): Promise<ClientConnection> {
    // Notifications come only after attaching, so after `conn` is set.
    const conn: ClientConnection = await ClientConnection.open(this.options, (method, params) => this.notified(conn, method, params));
    try {
      await this.call(conn, agentAttach, { agentId: this.settings.agentId, takeover: this.settings.takeover ?? true, delivery: "push" });
    } catch (err) {
      conn.destroy(new ClientError("CLIENT_CLOSED", "attach failed"));
      throw err;
    }
    return conn;
  }

  private notified(conn: ClientConnection, method: string, params: unknown): void {
    const p = params as { agentId?: string; assignmentId?: string; reason?: string };
    if (method === "notifications/task/assigned") void this.perform(conn, params as Assignment);
    else if (method === "notifications/task/cancelled") this.running.get(p.assignmentId ?? "")?.abort(new Error(`cancelled: ${p.reason}`));
    else if (method === "notifications/agent/terminated" && p.agentId === this.settings.agentId) this.end?.("terminated");
    else if (method === "notifications/agent/detached" && p.agentId === this.settings.agentId) this.end?.("taken_over");
  }

  private async perform(conn: ClientConnection, a: Assignment): Promise<void> {
    const controller = new AbortController();
    this.running.set(a.assignmentId, controller);
    const which = { taskId: a.taskId, assignmentId: a.assignmentId, agentId: a.agentId };
    let fraction = 0;
    const progress = async (f: number, message?: string): Promise<void> => {
      fraction = f;
      await this.call(conn, taskProgress, { ...which, progress: f, ...(message === undefined ? {} : { message }) });
    };
    const heartbeat = setInterval(() => progress(fraction).catch(() => {}), this.heartbeatMs);
    // A result is the work itself: while the daemon cannot store it (a full disk, a lock), it is sent again, until it
    // is stored, the assignment is cancelled or the connection is gone (then the assignment times out and runs again).
    const report = async (run: () => Promise<unknown>): Promise<void> => {
      for (let delayed = false; ; delayed = true) {
        try {
          await run();
          return;
        } catch (err) {
          const error = err as Error;
          if (!(error instanceof RpcError && STORAGE_REFUSALS.has(String(error.data?.reason))) || controller.signal.aborted) {
            this.settings.onEvent?.({ type: "report_failed", taskId: a.taskId, error });
            return;
          }
          if (!delayed) this.settings.onEvent?.({ type: "report_delayed", taskId: a.taskId, error });
          await new Promise((resolve) => setTimeout(resolve, REPORT_RETRY_MS));
        }
      }
    };
    try {
      const result = await this.settings.handle(a, { signal: controller.signal, progress });
      if (!controller.signal.aborted) await report(() => this.call(conn, taskComplete, { ...which, result: result ?? null }));
    } catch (err) {
      const details = err instanceof TaskFailure ? err.details : {};
      const error = { message: err instanceof Error ? err.message : String(err), ...(details.data === undefined ? {} : { data: details.data }) };
      if (!controller.signal.aborted) await report(() => this.call(conn, taskFail, { ...which, error, retryable: details.retryable ?? true }));
    } finally {
      clearInterval(heartbeat);
      this.running.delete(a.assignmentId);
    }
  }

  private abortAll(why: string): void {
    for (const controller of this.running.values()) controller.abort(new Error(why));
    this.running.clear();
  }

  private async reportUsage(conn: ClientConnection): Promise<void> {
    const usage = this.settings.usage === false ? undefined : (this.settings.usage ?? processUsage)();
    if (usage !== undefined) await this.call(conn, agentUsage, { agentId: this.settings.agentId, ...usage }).catch(() => {});
  }

  /** One tool call on the worker's connection; a token refused after a reload (SIGHUP) is the end of the worker. */
  private call<C extends ToolContract>(conn: ClientConnection, tool: C, args: ToolInput<C>): Promise<ToolPayload<C>> {
    return callTool(conn, tool, args, this.options.token, (refused) => this.fail?.(refused));
  }
}

let sample = { at: performance.now(), cpu: process.cpuUsage() };

/** This process's CPU since the previous report (percent of one core) and resident memory now. */
function processUsage(): UsageReport {
  const now = { at: performance.now(), cpu: process.cpuUsage() };
  const cpuMs = (now.cpu.user - sample.cpu.user + now.cpu.system - sample.cpu.system) / 1000;
  const cpuPercent = Math.round((1000 * cpuMs) / Math.max(1, now.at - sample.at)) / 10;
  sample = now;
  const memoryBytes = process.memoryUsage.rss();
  return { cpuPercent, memoryPercent: Math.min(100, Math.round((1000 * memoryBytes) / totalmem()) / 10), memoryBytes };
}
