import { canonicalAgentType } from "../protocol/agent-types.js";
import { swarmDestroy, swarmInit, swarmList, swarmScale, swarmStatus } from "../protocol/tools/swarm.js";
import { spawnedView, type Domain } from "./domain.js";
import { bind, type ToolBinding } from "./registry.js";

const DEFAULT_MAX_AGENTS = 8;

export function swarmTools(d: Domain): ToolBinding[] {
  return [
    bind(swarmInit, (a, ctx) => {
      const { swarm, agents } = d.swarms.init({
        topology: a.topology,
        maxAgents: a.maxAgents ?? a.config?.maxAgents ?? Math.min(DEFAULT_MAX_AGENTS, d.limits.maxAgents),
        strategy: a.strategy,
        name: a.name,
        consensusThreshold: a.config?.consensusThreshold ?? 0.7,
        initialAgents: (a.initialAgents ?? []).map((x) => ({ type: canonicalAgentType(x.type), name: x.name, capabilities: x.capabilities })),
      });
      ctx.session.currentSwarmId = swarm.id;
      return {
        swarmId: swarm.id,
        name: swarm.name,
        topology: swarm.topology,
        maxAgents: swarm.maxAgents,
        strategy: swarm.strategy,
        consensusThreshold: swarm.consensusThreshold,
        status: "active" as const,
        agents: agents.map(spawnedView),
        createdAt: swarm.createdAt,
      };
    }),
    bind(swarmStatus, (a, ctx) =>
      d.swarms.status(d.swarms.resolve(a.swarmId, ctx.session.currentSwarmId), {
        includeTopology: a.include_topology,
        includePerformance: a.include_performance,
        verbose: a.verbose,
      }),
    ),
    bind(swarmList, (a) => {
      const swarms = d.swarms.list(a.status);
      return { swarms, count: swarms.length };
    }),
    bind(swarmScale, (a) => d.swarms.scale(a.swarmId, a.maxAgents, a.terminateIdle)),
    bind(swarmDestroy, (a, ctx) => {
      const destroyed = d.swarms.destroy(a.swarmId);
      if (ctx.session.currentSwarmId === a.swarmId) ctx.session.currentSwarmId = undefined;
      return destroyed;
    }),
  ];
}
