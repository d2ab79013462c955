import { SwarmClient } from "./client.js";
import { isPermanent } from "./connection.js";
import { ClientError, RpcError } from "./errors.js";
import type { ClientOptions } from "./options.js";
import { SwarmWorker, type UsageReport, type WorkerEnd, type WorkerEvent, type WorkerOptions } from "./worker.js";

/** Refusals that concern this program, not one agent: adopting anything else would be refused the same way. */
const FATAL_REASONS = new Set(["unauthenticated", "forbidden"]);

export type AdopterEvent =
  /** A worker attached to an agent no worker served. */
  | { readonly type: "adopted"; readonly agentId: string }
  /**
   * Let go of an agent: terminated, taken over by another worker, or not attached because it changed since the
   * listing (another worker attached first, it was terminated) — `error` says which.
   */
  | { readonly type: "released"; readonly agentId: string; readonly why: WorkerEnd | "not_attached"; readonly error?: Error }
  /** The look for agents failed (the daemon is away, say); the next heartbeat looks again. */
  | { readonly type: "list_failed"; readonly error: Error }
  /** An adopted agent's worker reconnected, lost its connection, or could not report a result. */
  | (WorkerEvent & { readonly agentId: string });

export interface AdopterOptions extends ClientOptions {
  /** Does one assignment of any adopted agent (`assignment.agentId` says which), as SwarmWorker's handle. */
  readonly handle: WorkerOptions["handle"];
  /** Adopt only this swarm's agents (default: every active swarm's). */
  readonly swarmId?: string;
  /** Adopt only agents of these types, as agent_list names them (default: any type). */
  readonly types?: readonly string[];
  /** How often (ms) to look for agents; also each worker's heartbeat (default 5000). */
  readonly heartbeatMs?: number;
  /**
   * What agent_usage reports for an agent. None by default: this process's figures would show up on every agent it
   * adopted, and the daemon shows null rather than a figure that is not the agent's own.
   */
  readonly usage?: (agentId: string) => UsageReport;
  readonly onEvent?: (event: AdopterEvent) => void;
}

/**
 * Works for every agent that no worker serves — those there when it starts and, looked for every heartbeat, those
 * spawned later (a visualiser's, say) — with one SwarmWorker each, attached without takeover so that it never takes an
 * agent from another worker. An agent that is terminated or taken over is let go; one whose worker goes away later is
 * adopted again. `done` resolves with "stopped" after stop(), or rejects on what no retry mends (a refused token, one
 * that may not attach, TLS that cannot be trusted). `import { SwarmAdopter } from "swarmd/client"`.
 */
export class SwarmAdopter {
  /** Resolves after the first look for agents (those found are being attached); rejects as `done` does. */
  readonly ready: Promise<void>;
  readonly done: Promise<"stopped">;
  private readonly workers = new Map<string, SwarmWorker>();
  private readonly lister: SwarmClient;
  private readonly timer: NodeJS.Timeout;
  private looking: Promise<boolean> | undefined;
  private stopped = false;
  private closing: Promise<void> | undefined;
  private end!: () => void;
  private fail!: (err: unknown) => void;

  constructor(private readonly settings: AdopterOptions) {
    const { handle: _handle, swarmId: _swarm, types: _types, heartbeatMs: _heartbeat, usage: _usage, onEvent: _onEvent, ...connection } = settings;
    // One connection is enough for a look every heartbeat; the attachments each have their own (SwarmWorker).
    this.lister = new SwarmClient({ ...connection, poolSize: 1, poolMin: 0 });
    this.done = new Promise<"stopped">((resolve, reject) => {
      this.end = () => resolve("stopped");
      this.fail = reject;
    });
    void this.done.catch(() => {});
    this.ready = this.lookUntilListed();
    void this.ready.catch(() => {});
    this.timer = setInterval(() => void this.look(), settings.heartbeatMs ?? 5_000);
  }

  /** The agents adopted now (attached, or connecting again to attach). */
  get agents(): string[] {
    return [...this.workers.keys()];
  }

  /** Stops every worker (their running assignments return to the queue, the agents are detached) and closes. */
  async stop(): Promise<void> {
    await this.shutDown();
    this.end();
  }

  /** Ends on what no retry mends, once everything is let go. */
  private abandon(err: unknown): void {
    void this.shutDown().then(() => this.fail(err));
  }

  private shutDown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    return (this.closing ??= (async () => {
      await this.looking;
      await Promise.all([...this.workers.values()].map((w) => w.stop()));
      this.workers.clear();
      await this.lister.close();
    })());
  }

  /** The first look, repeated every heartbeat until one gets a listing; `done` tells why when it ends first. */
  private async lookUntilListed(): Promise<void> {
    for (;;) {
      if (this.stopped) await new Promise<never>((_resolve, reject) => void this.done.then(() => reject(new ClientError("CLIENT_CLOSED", "The adopter stopped before it could list the agents.")), reject));
      if (await this.look()) return;
      await new Promise((resolve) => setTimeout(resolve, this.settings.heartbeatMs ?? 5_000));
    }
  }

  /** One look at a time: a slow one is not overtaken by the next heartbeat's. True when the agents were listed. */
  private look(): Promise<boolean> {
    this.looking ??= this.adoptUnserved()
      .then(
        () => true,
        (error: Error) => {
          if (isFatal(error)) this.abandon(error);
          else this.settings.onEvent?.({ type: "list_failed", error });
          return false;
        },
      )
      .finally(() => (this.looking = undefined));
    return this.looking;
  }

  private async adoptUnserved(): Promise<void> {
    const { swarmId, types } = this.settings;
    const { agents } = await this.lister.agentList({ filter: "all", ...(swarmId === undefined ? {} : { swarmId }) });
    for (const a of agents) {
      if (this.stopped) return;
      if (a.runtime.attached || this.workers.has(a.id) || (types !== undefined && !types.includes(a.type))) continue;
      this.adopt(a.id);
    }
  }

  private adopt(agentId: string): void {
    const { onEvent, usage, heartbeatMs, swarmId: _swarm, types: _types, ...workerSettings } = this.settings;
    const worker = new SwarmWorker({
      ...workerSettings,
      agentId,
      // Without takeover: another worker that attached since the listing keeps its agent.
      takeover: false,
      ...(heartbeatMs === undefined ? {} : { heartbeatMs }),
      usage: usage === undefined ? false : () => usage(agentId),
      onEvent: (event) => onEvent?.({ ...event, agentId }),
    });
    this.workers.set(agentId, worker);
    worker.ready.then(
      () => onEvent?.({ type: "adopted", agentId }),
      () => {},
    );
    worker.done.then(
      (why) => this.release(agentId, worker, why),
      (error: Error) => {
        if (isFatal(error)) this.abandon(error);
        else this.release(agentId, worker, "not_attached", error);
      },
    );
  }

  private release(agentId: string, worker: SwarmWorker, why: WorkerEnd | "not_attached", error?: Error): void {
    if (this.workers.get(agentId) !== worker || this.stopped) return;
    this.workers.delete(agentId);
    this.settings.onEvent?.({ type: "released", agentId, why, ...(error === undefined ? {} : { error }) });
  }
}

function isFatal(err: unknown): boolean {
  return isPermanent(err) || (err instanceof RpcError && FATAL_REASONS.has(String(err.data?.reason)));
}
