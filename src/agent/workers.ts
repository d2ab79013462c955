import type { WorkerUsage } from "../protocol/tools/views.js";
import type { WorkerInfo } from "./view.js";

/** A connection working for agents, as the agent manager sees it: something to notify. */
export interface WorkerChannel {
  readonly connectionId: number;
  notify(method: string, params: object): void;
}

export type BoundWorker = WorkerInfo & { readonly channel: WorkerChannel };

/**
 * Which connection works for which agent, and what each worker last reported of its resources. In memory only:
 * connections do not survive a restart.
 */
export class WorkerBindings {
  private readonly byAgent = new Map<string, BoundWorker>();
  private readonly byConnection = new Map<number, Set<string>>();

  of(agentId: string): BoundWorker | undefined {
    return this.byAgent.get(agentId);
  }

  /** The agents a connection works for. */
  agentsOf(connectionId: number): string[] {
    return [...(this.byConnection.get(connectionId) ?? [])];
  }

  bind(agentId: string, channel: WorkerChannel, delivery: "push" | "pull", attachedAt: number): void {
    this.byAgent.set(agentId, { channel, delivery, attachedAt, connectionId: channel.connectionId });
    const mine = this.byConnection.get(channel.connectionId) ?? new Set<string>();
    mine.add(agentId);
    this.byConnection.set(channel.connectionId, mine);
  }

  unbind(agentId: string): void {
    const worker = this.byAgent.get(agentId);
    if (worker === undefined) return;
    this.byAgent.delete(agentId);
    const mine = this.byConnection.get(worker.connectionId);
    mine?.delete(agentId);
    if (mine?.size === 0) this.byConnection.delete(worker.connectionId);
  }

  /** A new report replaces the last one (a new object: the agent listing notices a change by identity). */
  setUsage(agentId: string, usage: WorkerUsage): void {
    const worker = this.byAgent.get(agentId);
    if (worker !== undefined) worker.usage = usage;
  }
}
