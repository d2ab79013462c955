import { BackgroundWork, type BackgroundFailure } from "../background.js";
import type { Clock } from "../clock.js";
import { rpcError } from "../protocol/errors.js";
import type { WorkerUsage } from "../protocol/tools/views.js";
import type { AgentRepo, AgentRow } from "../store/agent-repo.js";
import type { AssignmentRepo } from "../store/assignment-repo.js";
import type { UnitOfWork } from "../store/unit-of-work.js";
import { assertTransition } from "./lifecycle.js";
import type { WorkerInfo } from "./view.js";

/** A connection working for agents, as the agent manager sees it: something to notify. */
export interface WorkerChannel {
  readonly connectionId: number;
  notify(method: string, params: object): void;
}

export type BoundWorker = WorkerInfo & { readonly channel: WorkerChannel };

export interface AgentWorkersDeps {
  readonly uow: UnitOfWork;
  readonly agents: AgentRepo;
  readonly assignments: AssignmentRepo;
  readonly clock: Clock;
  /** Hears that agents whose worker left could not be written offline (a full disk); it is tried again. */
  readonly reportFailure: BackgroundFailure;
}

/** What the agent manager lends: an agent's row, and the task engine's hooks. */
export interface AgentHooks {
  require(agentId: string): AgentRow;
  releaseWork(agentId: string, why: string): number;
  onLive(): void;
}

/** How soon agents whose worker left are written offline again after that write failed. */
const RETRY_MS = 1_000;

/**
 * Which connection works for which agent — in memory, as connections do not survive a restart — and workers attaching
 * and leaving. A binding changes only once the agent's row is committed, so a write refused by a full disk leaves
 * both as they were. The exception is a worker whose connection closed: it is gone either way, so it is unbound at
 * once, and its agents are written offline (their work back to the queue) as soon as the disk takes it.
 */
export class AgentWorkers {
  private readonly byAgent = new Map<string, BoundWorker>();
  private readonly byConnection = new Map<number, Set<string>>();
  /** Agents whose worker's connection closed and that are not yet written offline. */
  private readonly leftOnline = new Set<string>();
  private readonly goingOffline: BackgroundWork;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly deps: AgentWorkersDeps,
    private readonly hooks: AgentHooks,
  ) {
    this.goingOffline = new BackgroundWork("taking agents offline after their worker left", deps.reportFailure);
  }

  of(agentId: string): BoundWorker | undefined {
    return this.byAgent.get(agentId);
  }

  attach(agentId: string, channel: WorkerChannel, options: { takeover: boolean; delivery: "push" | "pull" }): AgentRow {
    const { agents, uow, clock } = this.deps;
    return uow.run(() => {
      const row = this.hooks.require(agentId);
      if (row.status === "terminated") {
        throw rpcError("AGENT_ERROR", `Agent ${agentId} is terminated.`, { reason: "terminated", agentId });
      }
      const current = this.byAgent.get(agentId);
      const replaced = current !== undefined && current.channel.connectionId !== channel.connectionId ? current : undefined;
      if (replaced !== undefined) {
        if (!options.takeover) {
          throw rpcError("AGENT_ERROR", `Agent ${agentId} already has a worker (connection ${replaced.connectionId}); pass takeover: true to replace it.`, {
            reason: "already_attached",
            agentId,
            connectionId: replaced.connectionId,
          });
        }
        this.hooks.releaseWork(agentId, "worker replaced");
      } else if (this.leftOnline.has(agentId)) {
        this.hooks.releaseWork(agentId, "worker disconnected");
      }
      const now = clock.now();
      const status = row.status === "offline" ? "idle" : this.deps.assignments.activeByAgent(agentId).some((a) => a.status === "running") ? "busy" : "idle";
      assertTransition(agentId, row.status, status);
      agents.setRuntime(agentId, { kind: "worker", delivery: options.delivery, attachedAt: now }, status, now);
      uow.afterCommit(() => {
        this.leftOnline.delete(agentId);
        if (replaced !== undefined) {
          this.unbind(agentId);
          replaced.channel.notify("notifications/agent/detached", { agentId, reason: "takeover" });
        }
        this.bind(agentId, channel, options.delivery, now);
        this.hooks.onLive();
      });
      return agents.get(agentId) as AgentRow;
    });
  }

  /** The worker stops (agent_detach, or its connection closed): the agent goes offline and its work back to the queue. */
  detach(agentId: string, why: string): number {
    const { uow, agents, clock } = this.deps;
    return uow.run(() => {
      const row = this.hooks.require(agentId);
      const requeued = this.hooks.releaseWork(agentId, why);
      if (row.status !== "terminated") {
        assertTransition(agentId, row.status, "offline");
        agents.setStatus(agentId, "offline", clock.now());
      }
      uow.afterCommit(() => {
        this.leftOnline.delete(agentId);
        this.unbind(agentId);
      });
      return requeued;
    });
  }

  /** Every agent this connection worked for goes offline. */
  detachConnection(connectionId: number): void {
    for (const agentId of [...(this.byConnection.get(connectionId) ?? [])]) {
      this.unbind(agentId);
      this.leftOnline.add(agentId);
    }
    this.takeOffline();
  }

  /** The agent is terminated (in the current transaction): once that is committed, its worker is let go and told. */
  dismiss(agentId: string, reason: string | null): void {
    const worker = this.byAgent.get(agentId);
    this.deps.uow.afterCommit(() => {
      this.leftOnline.delete(agentId);
      if (worker === undefined) return;
      this.unbind(agentId);
      worker.channel.notify("notifications/agent/terminated", { agentId, reason });
    });
  }

  /**
   * A worker's agent_usage report, shown for the agent it names or, without one, for every agent the connection works
   * for. Held in memory with the worker: it means nothing once the connection is gone.
   */
  reportUsage(connectionId: number, agentId: string | undefined, usage: Omit<WorkerUsage, "measuredAt">): { agentIds: string[]; measuredAt: number } {
    const agentIds = agentId === undefined ? [...(this.byConnection.get(connectionId) ?? [])] : [agentId];
    if (agentId !== undefined) this.hooks.require(agentId);
    for (const id of agentIds) {
      if (this.byAgent.get(id)?.connectionId !== connectionId) {
        throw rpcError("AGENT_ERROR", `This connection is not agent ${id}'s worker; call agent_attach first.`, { reason: "not_attached", agentId: id });
      }
    }
    if (agentIds.length === 0) {
      throw rpcError("AGENT_ERROR", "This connection works for no agent; call agent_attach first.", { reason: "not_attached" });
    }
    const measuredAt = this.deps.clock.now();
    // A new object: the agent listing notices a change by identity.
    for (const id of agentIds) (this.byAgent.get(id) as BoundWorker).usage = { ...usage, measuredAt };
    return { agentIds, measuredAt };
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
  }

  private readonly takeOffline = (): void => {
    clearTimeout(this.retry);
    if (this.stopped) return;
    for (const agentId of this.leftOnline) {
      if (!this.goingOffline.run(() => this.detach(agentId, "worker disconnected"))) {
        this.retry = setTimeout(this.takeOffline, RETRY_MS);
        this.retry.unref();
        return;
      }
    }
  };

  private bind(agentId: string, channel: WorkerChannel, delivery: "push" | "pull", attachedAt: number): void {
    this.byAgent.set(agentId, { channel, delivery, attachedAt, connectionId: channel.connectionId });
    const mine = this.byConnection.get(channel.connectionId) ?? new Set<string>();
    mine.add(agentId);
    this.byConnection.set(channel.connectionId, mine);
  }

  private unbind(agentId: string): void {
    const worker = this.byAgent.get(agentId);
    if (worker === undefined) return;
    this.byAgent.delete(agentId);
    const mine = this.byConnection.get(worker.connectionId);
    mine?.delete(agentId);
    if (mine?.size === 0) this.byConnection.delete(worker.connectionId);
  }
}
