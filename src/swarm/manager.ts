import type { AgentManager, SpawnSpec } from "../agent/manager.js";
import type { AgentView } from "../agent/view.js";
import type { Clock } from "../clock.js";
import type { Topology } from "../protocol/agent-types.js";
import { rpcError } from "../protocol/errors.js";
import { newId } from "../protocol/ids.js";
import type { AgentRepo, AgentRow } from "../store/agent-repo.js";
import type { SwarmRepo, SwarmRow } from "../store/swarm-repo.js";
import type { TaskRepo } from "../store/task-repo.js";
import type { UnitOfWork } from "../store/unit-of-work.js";
import type { TaskEngine } from "../task/engine.js";
import { coordinationLayers, topologyEdges } from "./topology.js";

export interface SwarmDeps {
  readonly uow: UnitOfWork;
  readonly swarms: SwarmRepo;
  readonly agents: AgentRepo;
  readonly tasks: TaskRepo;
  readonly agentManager: AgentManager;
  readonly engine: TaskEngine;
  readonly clock: Clock;
  /** MAX_AGENTS: no swarm may be given a larger maxAgents. */
  readonly maxAgents: number;
}

export interface InitSpec {
  readonly topology: Topology;
  readonly maxAgents: number;
  readonly strategy: string;
  readonly name?: string | undefined;
  readonly consensusThreshold: number;
  readonly initialAgents: readonly SpawnSpec[];
}

export interface StatusOptions {
  readonly includeTopology: boolean;
  readonly includePerformance: boolean;
  readonly verbose: boolean;
}

/** Swarms: creation, the current-swarm rule, status with metrics computed from stored history, scaling, destruction. */
export class SwarmManager {
  constructor(private readonly deps: SwarmDeps) {}

  init(spec: InitSpec): { swarm: SwarmRow; agents: AgentRow[] } {
    const { uow, swarms, clock, agentManager } = this.deps;
    this.checkLimit(spec.maxAgents);
    return uow.run(() => {
      const now = clock.now();
      const id = newId("swarm", now);
      swarms.insert({
        id,
        name: spec.name ?? `${spec.topology}-swarm-${swarms.nextNumber()}`,
        topology: spec.topology,
        strategy: spec.strategy,
        maxAgents: spec.maxAgents,
        consensusThreshold: spec.consensusThreshold,
        status: "active",
        createdAt: now,
      });
      const swarm = swarms.get(id) as SwarmRow;
      const agents = spec.initialAgents.map((a) => agentManager.spawn(swarm, a));
      return { swarm, agents };
    });
  }

  /** The swarm a call means: the one named, else the connection's current one if active, else the only active one. */
  resolve(swarmId: string | undefined, current: string | undefined): SwarmRow {
    if (swarmId !== undefined) return this.require(swarmId);
    if (current !== undefined) {
      const swarm = this.deps.swarms.get(current);
      if (swarm?.status === "active") return swarm;
    }
    const active = this.deps.swarms.activeIds();
    if (active.length === 1) return this.require(active[0] as string);
    if (active.length === 0) {
      throw rpcError("SWARM_ERROR", "No swarm is active: call swarm_init first, or pass swarmId.", { reason: "no_active_swarm", activeSwarmIds: [] });
    }
    throw rpcError("SWARM_ERROR", `${active.length} swarms are active; pass swarmId.`, { reason: "ambiguous_swarm", activeSwarmIds: active });
  }

  require(swarmId: string): SwarmRow {
    const swarm = this.deps.swarms.get(swarmId);
    if (swarm === undefined) throw rpcError("SWARM_ERROR", `Swarm ${swarmId} does not exist.`, { reason: "not_found", swarmId });
    return swarm;
  }

  requireActive(swarmId: string): SwarmRow {
    const swarm = this.require(swarmId);
    if (swarm.status !== "active") throw rpcError("SWARM_ERROR", `Swarm ${swarmId} is destroyed.`, { reason: "destroyed", swarmId });
    return swarm;
  }

  status(swarm: SwarmRow, options: StatusOptions) {
    const { agents, tasks, agentManager } = this.deps;
    const members = agents.inSwarm(swarm.id, "members");
    const byStatus = agents.countsIn(swarm.id);
    const views = agentManager.views(members, options.verbose);
    const full = options.verbose || options.includePerformance;
    const summary = tasks.swarmSummary(swarm.id);
    const finished = summary.counts.completed + summary.counts.failed;
    const successRate = finished === 0 ? 0 : summary.counts.completed / finished;
    const avgMs = summary.avgCompletionMs ?? 0;
    const nodes = members.map((r) => ({ id: r.id, type: r.type, name: r.name, status: r.status }));
    const edges = options.includeTopology || swarm.topology === "hierarchical" ? topologyEdges(swarm.topology, nodes) : [];
    const activeAgents = byStatus.idle + byStatus.busy;
    return {
      swarmId: swarm.id,
      name: swarm.name,
      topology: swarm.topology,
      strategy: swarm.strategy,
      status: swarm.status,
      maxAgents: swarm.maxAgents,
      consensusThreshold: swarm.consensusThreshold,
      createdAt: swarm.createdAt,
      destroyedAt: swarm.destroyedAt,
      agents: full ? views : views.map(summaryOf),
      agentCount: members.length,
      activeAgents,
      taskCount: summary.total,
      pendingTasks: summary.counts.pending,
      completedTasks: summary.counts.completed,
      counts: { agents: byStatus, tasks: summary.counts },
      metrics: {
        tasksCompleted: summary.counts.completed,
        tasksFailed: summary.counts.failed,
        successRate,
        avgCompletionTime: avgMs / 1000,
        avgCompletionTimeMs: avgMs,
      },
      topology_type: swarm.topology,
      total_agents: members.length,
      active_agents: activeAgents,
      coordination_layers: coordinationLayers(swarm.topology, nodes, edges),
      efficiency_score: successRate,
      ...(options.includeTopology ? { graph: { type: swarm.topology, nodes, edges } } : {}),
      ...(options.includePerformance ? { performance: performanceOf(views, members, summary.counts.assigned + summary.counts.running) } : {}),
    };
  }

  list(status: "active" | "destroyed" | "all") {
    const swarms = this.deps.swarms.list(status);
    return swarms.map((s) => {
      const counts = this.deps.agents.countsIn(s.id);
      return {
        swarmId: s.id,
        name: s.name,
        topology: s.topology,
        strategy: s.strategy,
        status: s.status,
        maxAgents: s.maxAgents,
        agentCount: counts.idle + counts.busy + counts.offline,
        activeAgents: counts.idle + counts.busy,
        createdAt: s.createdAt,
        destroyedAt: s.destroyedAt,
      };
    });
  }

  scale(swarmId: string, maxAgents: number, terminateIdle: boolean) {
    const { uow, agents, swarms, agentManager, clock } = this.deps;
    this.checkLimit(maxAgents);
    return uow.run(() => {
      const swarm = this.requireActive(swarmId);
      const members = agents.inSwarm(swarmId, "members");
      const terminated: string[] = [];
      if (members.length > maxAgents && terminateIdle) {
        const idle = members.filter((r) => r.status === "idle").sort((a, b) => b.seq - a.seq);
        for (const r of idle) {
          if (members.length - terminated.length <= maxAgents) break;
          agentManager.terminate(r.id, "swarm scaled down");
          terminated.push(r.id);
        }
      }
      const remaining = members.length - terminated.length;
      if (remaining > maxAgents) {
        throw rpcError(
          "RESOURCE_ERROR",
          `Swarm ${swarmId} has ${remaining} agents${terminateIdle ? " that are not idle" : ""}; ${terminateIdle ? "terminate some first" : "pass terminateIdle: true or terminate some first"}.`,
          { reason: "agent_count_above_limit", limit: maxAgents, current: remaining, swarmId },
        );
      }
      swarms.setMaxAgents(swarmId, maxAgents, clock.now());
      return { swarmId, maxAgents, previousMaxAgents: swarm.maxAgents, agentCount: remaining, terminatedAgents: terminated };
    });
  }

  destroy(swarmId: string) {
    const { uow, agents, swarms, agentManager, engine, clock } = this.deps;
    return uow.run(() => {
      this.requireActive(swarmId);
      const cancelledTasks = engine.cancelSwarm(swarmId, "swarm destroyed");
      const members = agents.inSwarm(swarmId, "members");
      for (const r of members) agentManager.terminate(r.id, "swarm destroyed");
      const destroyedAt = clock.now();
      swarms.markDestroyed(swarmId, destroyedAt);
      return { swarmId, status: "destroyed" as const, terminatedAgents: members.length, cancelledTasks, destroyedAt };
    });
  }

  /** Swarms, agents and tasks by status, for metrics. */
  counts(): { swarms: Record<string, number>; agents: Record<string, number>; tasks: Record<string, number> } {
    return { swarms: this.deps.swarms.countByStatus(), agents: this.deps.agents.countByStatus(), tasks: this.deps.tasks.countByStatus() };
  }

  private checkLimit(maxAgents: number): void {
    if (maxAgents > this.deps.maxAgents) {
      throw rpcError("RESOURCE_ERROR", `maxAgents may be at most ${this.deps.maxAgents} (MAX_AGENTS).`, {
        reason: "max_agents",
        limit: this.deps.maxAgents,
        requested: maxAgents,
        scope: "global",
      });
    }
  }
}

function summaryOf(v: AgentView) {
  return { id: v.id, agentId: v.agentId, name: v.name, type: v.type, status: v.status, health: v.health, currentTask: v.currentTask };
}

function performanceOf(views: readonly AgentView[], members: readonly AgentRow[], tasksActive: number) {
  const attached = views.filter((v) => v.runtime.attached);
  const capacity = attached.reduce((n, v) => n + v.capacity, 0);
  const running = attached.reduce((n, v) => n + v.workload * v.capacity, 0);
  const completed = members.reduce((n, r) => n + r.tasksCompleted, 0);
  const taskMs = members.reduce((n, r) => n + r.taskMsTotal, 0);
  return { utilization: capacity === 0 ? 0 : running / capacity, tasksActive, avgTaskTimeMs: completed === 0 ? null : taskMs / completed };
}
