import type { AgentManager } from "../agent/manager.js";
import type { AgentRow } from "../store/agent-repo.js";
import type { SwarmManager } from "../swarm/manager.js";
import type { TaskEngine } from "../task/engine.js";
import type { TaskManager } from "../task/manager.js";
import type { ToolSession } from "./context.js";

/** The managers the swarm, agent, task and worker tools adapt, and the deployment limits they apply. */
export interface Domain {
  readonly swarms: SwarmManager;
  readonly agents: AgentManager;
  readonly tasks: TaskManager;
  readonly engine: TaskEngine;
  readonly limits: {
    /** MAX_AGENTS. */
    readonly maxAgents: number;
    /** AGENT_TIMEOUT, in ms: how long an assignment may run without a report. */
    readonly agentTimeoutMs: number;
  };
}

/** The swarm swarm_init made on this connection, while it is still active. */
export function currentSwarm(domain: Domain, session: ToolSession): string | undefined {
  const id = session.currentSwarmId;
  if (id === undefined) return undefined;
  try {
    return domain.swarms.requireActive(id).id;
  } catch {
    return undefined;
  }
}

/** What agent_spawn and swarm_init report about a new agent. */
export function spawnedView(row: AgentRow) {
  return {
    agentId: row.id,
    swarmId: row.swarmId,
    type: row.type,
    name: row.name,
    status: row.status,
    capabilities: row.capabilities,
    runtime: { kind: row.runtime.kind },
    createdAt: row.createdAt,
  };
}
