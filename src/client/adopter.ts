import type { ToolPayload } from "../protocol/contract.js";
import { agentList } from "../protocol/tools/agent.js";
import { ClientConnection, isPermanent } from "./connection.js";
import { ClientError, RpcError } from "./errors.js";
import { resolveClientOptions, type ClientOptions, type ResolvedClientOptions } from "./options.js";
import { callTool } from "./tool-call.js";
import { SwarmWorker, type UsageReport, type WorkerEnd, type WorkerEvent, type WorkerOptions } from "./worker.js";

type ListedAgent = ToolPayload<typeof agentList>["agents"][number];

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
  /**
   * Resolves once the agents could be listed (those found are being attached); rejects as `done` does, or when stop()
   * came first.
   */
  readonly ready: Promise<void>;
  readonly done: Promise<"stopped">;
  private readonly workers = new Map<string, SwarmWorker>();
  private readonly options: ResolvedClientOptions;
  /** The connection the looks use, kept between them; opened again after it is lost. */
  private listing: Promise<ClientConnection> | undefined;
  private readonly timer: NodeJS.Timeout;
  private looking: Promise<boolean> | undefined;
  private stopped = false;
  private closing: Promise<void> | undefined;
  private end!: () => void;
  private fail!: (err: unknown) => void;

  constructor(private readonly settings: AdopterOptions) {
    // One connection is enough for a look every heartbeat; the attachments each have their own (SwarmWorker).
    this.options = resolveClientOptions({ clientInfo: { name: "swarmd-adopter", version: "1" }, ...settings });
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
    // A look in flight is not waited for (it may be waiting for a daemon that is away): its connection is dropped.
    this.dropListing();
    return (this.closing ??= (async () => {
      await Promise.all([...this.workers.values()].map((w) => w.stop()));
      this.workers.clear();
    })());
  }

  private dropListing(): void {
    const listing = this.listing;
    this.listing = undefined;
    void listing?.then((conn) => conn.destroy(new ClientError("CLIENT_CLOSED", "The adopter let go of this connection.")), () => {});
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
          if (this.stopped) return false;
          if (isFatal(error)) this.abandon(error);
          else this.settings.onEvent?.({ type: "list_failed", error });
          return false;
        },
      )
      .finally(() => (this.looking = undefined));
    return this.looking;
  }

  private async adoptUnserved(): Promise<void> {
    const { types } = this.settings;
    for (const a of await this.listAgents()) {
      if (this.stopped) return;
      if (a.runtime.attached || this.workers.has(a.id) || (types !== undefined && !types.includes(a.type))) continue;
      this.adopt(a.id);
    }
  }

  /** agent_list on the listing connection, opened when there is none: one try a look, the next heartbeat tries again. */
  private async listAgents(): Promise<ListedAgent[]> {
    const { swarmId } = this.settings;
    const args = { filter: "all" as const, ...(swarmId === undefined ? {} : { swarmId }) };
    for (let attempt = 1; ; attempt++) {
      if (this.stopped) throw new ClientError("CLIENT_CLOSED", "The adopter stopped.");
      this.listing ??= ClientConnection.open(this.options, () => {});
      const opening = this.listing;
      try {
        // After a token reload (SIGHUP) callTool authenticates the kept connection again.
        return (await callTool(await opening, agentList, args, this.options.token)).agents;
      } catch (err) {
        // An answer (a swarm that does not exist, say) leaves the connection as it was.
        if (err instanceof RpcError) throw err;
        if (this.listing === opening) this.dropListing();
        // The kept connection may have died since the last look (a daemon restart): once more on a new one.
        if (attempt === 1 && err instanceof ClientError && err.code === "CONNECTION_CLOSED") continue;
        throw err;
      }
    }
  }

  private adopt(agentId: string): void {
    const { onEvent, usage } = this.settings;
    // The connection's settings, handle and heartbeatMs as given; the worker's schema keeps only what it knows.
    const worker = new SwarmWorker({
      ...this.settings,
      agentId,
      // Without takeover: another worker that attached since the listing keeps its agent.
      takeover: false,
      usage: usage === undefined ? false : () => usage(agentId),
      onEvent: (event) => onEvent?.({ ...event, agentId }),
    });
    this.workers.set(agentId, worker);
    void worker.ready.then(
      () => onEvent?.({ type: "adopted", agentId }),
      () => {},
    );
    void worker.done.then(
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
