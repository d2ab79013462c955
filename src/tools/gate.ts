import { rpcError } from "../protocol/errors.js";
import type { ToolSession } from "./context.js";

/**
 * At most `limit` tool calls in flight per swarm: the swarm a call names (swarmId), else the connection's current
 * swarm; calls that concern no swarm are not counted. Synchronous calls pass straight through; calls that wait
 * (task_wait, task_claim, …) hold their place until they finish.
 */
export class SwarmGate {
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly limit: number) {}

  /** Takes a place for the call, or throws swarm_busy; returns the release. */
  enter(args: unknown, session: ToolSession): () => void {
    const named = (args as { swarmId?: unknown } | undefined)?.swarmId;
    const swarmId = typeof named === "string" ? named : session.currentSwarmId;
    if (swarmId === undefined) return () => {};
    const n = this.inFlight.get(swarmId) ?? 0;
    if (n >= this.limit) {
      throw rpcError("RESOURCE_ERROR", `Swarm ${swarmId} already has ${this.limit} calls in flight.`, { reason: "swarm_busy", swarmId, limit: this.limit });
    }
    this.inFlight.set(swarmId, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.inFlight.get(swarmId) ?? 1) - 1;
      if (left === 0) this.inFlight.delete(swarmId);
      else this.inFlight.set(swarmId, left);
    };
  }
}
