import type { Clock } from "../clock.js";
import type { AgentType } from "../protocol/agent-types.js";
import { rpcError } from "../protocol/errors.js";
import { newId } from "../protocol/ids.js";
import type { AgentRepo, AgentRow, AgentScope, MessageRow } from "../store/agent-repo.js";
import type { AssignmentRepo, AssignmentRow } from "../store/assignment-repo.js";
import type { SwarmRepo, SwarmRow } from "../store/swarm-repo.js";
import { parentsOf } from "../swarm/topology.js";
import type { UnitOfWork } from "../store/unit-of-work.js";
import type { Revision } from "../store/revision.js";
import { DEFAULT_CAPABILITIES } from "./lifecycle.js";
import { AgentListing, type ListingFilter, type ListingText } from "./listing.js";
import { agentView, groupByAgent, type AgentView } from "./view.js";
import { AgentWorkers, type BoundWorker } from "./workers.js";
import type { BackgroundFailure } from "../background.js";

export interface AgentDeps {
  readonly uow: UnitOfWork;
  readonly agents: AgentRepo;
  readonly assignments: AssignmentRepo;
  /** Swarms' topologies, for each agent's parent in its swarm (metadata.parent_id). */
  readonly swarms: Pick<SwarmRepo, "get">;
  /** Moves with every agent or assignment write: the listing's cache key. */
  readonly revision: Revision;
  readonly clock: Clock;
  /** MAX_AGENTS: agents that are not terminated, across every swarm. */
  readonly maxAgents: number;
  /** Hears about agents that could not be written offline after their worker left (a full disk); tried again. */
  readonly reportFailure: BackgroundFailure;
}

export interface SpawnSpec {
  readonly type: AgentType;
  readonly name?: string | undefined;
  readonly capabilities?: readonly string[] | undefined;
  readonly config?: Record<string, unknown> | undefined;
  readonly resources?: Record<string, unknown> | undefined;
}

/**
 * Agents: limits, lifecycle, the workers bound to them, and their inboxes. Which connection works for which agent is
 * held in memory — connections do not survive a restart, so after one every worker-run agent is offline until a
 * worker attaches again.
 */
export class AgentManager {
  /** Returns an agent's unfinished work to the queue; set by the task engine. Returns how many assignments. */
  releaseWork: (agentId: string, why: string) => number = () => 0;
  /** An agent became able to take work; the task engine schedules. */
  onLive: () => void = () => {};
  /** Workers attaching to agents and leaving them. */
  readonly workers: AgentWorkers;

  private readonly listing: AgentListing;

  constructor(private readonly deps: AgentDeps) {
    this.workers = new AgentWorkers(deps, {
      require: (agentId) => this.require(agentId),
      releaseWork: (agentId, why) => this.releaseWork(agentId, why),
      onLive: () => this.onLive(),
    });
    this.listing = new AgentListing(deps.revision, (swarmId, withMetadata, scope) => this.viewed(this.rows(swarmId, scope), withMetadata));
  }

  spawn(swarm: SwarmRow, spec: SpawnSpec): AgentRow {
    const { agents, uow, clock } = this.deps;
    return uow.run(() => {
      if (swarm.status !== "active") {
        throw rpcError("SWARM_ERROR", `Swarm ${swarm.id} is destroyed.`, { reason: "destroyed", swarmId: swarm.id });
      }
      const inSwarm = agents.countLive(swarm.id);
      if (inSwarm >= swarm.maxAgents) {
        throw rpcError("RESOURCE_ERROR", `Swarm ${swarm.id} already has its maximum of ${swarm.maxAgents} agents.`, {
          reason: "max_agents",
          limit: swarm.maxAgents,
          current: inSwarm,
          swarmId: swarm.id,
        });
      }
      const everywhere = agents.countLive();
      if (everywhere >= this.deps.maxAgents) {
        throw rpcError("RESOURCE_ERROR", `The daemon already runs its maximum of ${this.deps.maxAgents} agents (MAX_AGENTS).`, {
          reason: "max_agents",
          limit: this.deps.maxAgents,
          current: everywhere,
          scope: "global",
        });
      }
      const now = clock.now();
      const seq = agents.nextSeq(swarm.id);
      const fromConfig = spec.config?.capabilities;
      const capabilities =
        spec.capabilities ??
        (Array.isArray(fromConfig) && fromConfig.every((c) => typeof c === "string") ? (fromConfig as string[]) : undefined) ??
        DEFAULT_CAPABILITIES[spec.type];
      const maxConcurrent = spec.config?.maxConcurrent;
      const capacity = Number.isInteger(maxConcurrent) && (maxConcurrent as number) >= 1 ? Math.min(100, maxConcurrent as number) : 1;
      const id = newId("agent", now);
      agents.insert({
        id,
        swarmId: swarm.id,
        seq,
        type: spec.type,
        name: spec.name ?? `${spec.type}-${seq}`,
        status: "idle",
        capabilities: [...new Set(capabilities)],
        capacity,
        config: spec.config ?? null,
        resources: spec.resources ?? null,
        runtime: { kind: "none" },
        createdAt: now,
      });
      return agents.get(id) as AgentRow;
    });
  }

  require(agentId: string): AgentRow {
    const row = this.deps.agents.get(agentId);
    if (row === undefined) throw rpcError("AGENT_ERROR", `Agent ${agentId} does not exist.`, { reason: "not_found", agentId });
    return row;
  }

  worker(agentId: string): BoundWorker | undefined {
    return this.workers.of(agentId);
  }

  /** Can take work now: a worker is attached and the agent is idle or busy. */
  isLive(row: AgentRow): boolean {
    return this.workers.of(row.id) !== undefined && (row.status === "idle" || row.status === "busy");
  }

  /** busy while it runs assignments, idle otherwise (offline and terminated agents stay as they are). */
  refreshStatus(agentId: string): void {
    const row = this.deps.agents.get(agentId);
    if (row === undefined || row.status === "offline" || row.status === "terminated") return;
    const running = this.deps.assignments.activeByAgent(agentId).some((a) => a.status === "running");
    const status = running ? "busy" : "idle";
    if (status !== row.status) this.deps.agents.setStatus(agentId, status, this.deps.clock.now());
  }

  terminate(agentId: string, reason: string | null): { requeued: number; at: number } {
    const { agents, uow, clock } = this.deps;
    return uow.run(() => {
      const row = this.require(agentId);
      if (row.status === "terminated") {
        throw rpcError("AGENT_ERROR", `Agent ${agentId} is already terminated.`, { reason: "terminated", agentId });
      }
      const requeued = this.releaseWork(agentId, "agent terminated");
      this.workers.dismiss(agentId, reason);
      const at = clock.now();
      agents.terminate(agentId, reason, at);
      return { requeued, at };
    });
  }

  message(agentId: string, swarmId: string | undefined, body: Record<string, unknown>): MessageRow & { delivered: boolean } {
    const { agents, uow, clock } = this.deps;
    return uow.run(() => {
      const row = this.require(agentId);
      if (swarmId !== undefined && swarmId !== row.swarmId) {
        throw rpcError("AGENT_ERROR", `Agent ${agentId} is not in swarm ${swarmId}.`, { reason: "not_in_swarm", agentId, swarmId });
      }
      if (row.status === "terminated") throw rpcError("AGENT_ERROR", `Agent ${agentId} is terminated.`, { reason: "terminated", agentId });
      const now = clock.now();
      const message = { id: newId("msg", now), agentId, swarmId: row.swarmId, body, createdAt: now };
      const seq = agents.insertMessage(message);
      const worker = this.workers.of(agentId);
      if (worker !== undefined) {
        agents.markDelivered(message.id, now);
        uow.afterCommit(() =>
          worker.channel.notify("notifications/agent/message", { messageId: message.id, seq, agentId, swarmId: row.swarmId, message: body, createdAt: now }),
        );
      }
      return { ...message, seq, deliveredAt: worker ? now : null, delivered: worker !== undefined };
    });
  }

  inbox(agentId: string, since: string | undefined, limit: number): MessageRow[] {
    this.require(agentId);
    let after = 0;
    if (since !== undefined) {
      const seq = this.deps.agents.messageSeq(agentId, since);
      if (seq === undefined) throw rpcError("AGENT_ERROR", `Message ${since} is not in agent ${agentId}'s inbox.`, { reason: "unknown_message", agentId, messageId: since });
      after = seq;
    }
    return this.deps.agents.messagesAfter(agentId, after, limit);
  }

  /** A swarm's agents in spawn order, or those of every active swarm: the members, or the terminated. */
  rows(swarmId: string | undefined, scope: AgentScope): AgentRow[] {
    return swarmId === undefined ? this.deps.agents.inActiveSwarms(scope) : this.deps.agents.inSwarm(swarmId, scope);
  }

  activeAssignments(agentId: string): AssignmentRow[] {
    return this.deps.assignments.activeByAgent(agentId);
  }

  inboxSize(agentId: string): number {
    return this.deps.agents.countMessages(agentId);
  }

  /** agent_list's agents as JSON text: a swarm's (or every active swarm's) that the filter keeps, in spawn order. */
  listText(swarmId: string | undefined, withMetadata: boolean, filter: ListingFilter): ListingText {
    return this.listing.text(swarmId, withMetadata, filter, this.deps.clock.now());
  }

  /** Views of many agents with one read of the active assignments. */
  views(rows: readonly AgentRow[], withMetadata: boolean): AgentView[] {
    return this.viewed(rows, withMetadata).map((v) => v.view);
  }

  /** Each row with its active assignments and its view. */
  private viewed(rows: readonly AgentRow[], withMetadata: boolean) {
    const active = groupByAgent(this.deps.assignments.active());
    const now = this.deps.clock.now();
    const parents = withMetadata ? this.parents(rows) : new Map<string, string>();
    return rows.map((row) => {
      const mine = active.get(row.id) ?? [];
      const worker = this.workers.of(row.id);
      const metadata = withMetadata ? { parentId: parents.get(row.id) ?? null } : undefined;
      return { row, active: mine, worker, view: agentView(row, worker, mine, now, metadata) };
    });
  }

  /** Each agent's parent in its swarm's topology (the members not terminated, in spawn order, as swarm_status has them). */
  private parents(rows: readonly AgentRow[]): Map<string, string> {
    const parents = new Map<string, string>();
    for (const swarmId of new Set(rows.map((r) => r.swarmId))) {
      const topology = this.deps.swarms.get(swarmId)?.topology;
      if (topology === undefined) continue;
      const members = this.deps.agents.inSwarm(swarmId, "members");
      for (const [child, parent] of parentsOf(topology, members.map((r) => ({ id: r.id, type: r.type, name: r.name, status: r.status })))) parents.set(child, parent);
    }
    return parents;
  }
}
