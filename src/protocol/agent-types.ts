/** Canonical agent types, and the names real clients use for them (COMPAT.md). */
export const AGENT_TYPES = [
  "coordinator",
  "researcher",
  "coder",
  "analyst",
  "architect",
  "tester",
  "reviewer",
  "optimizer",
  "documenter",
  "monitor",
  "specialist",
] as const;

export type AgentType = (typeof AGENT_TYPES)[number];

export const AGENT_TYPE_ALIASES: Readonly<Record<string, AgentType>> = {
  "task-orchestrator": "coordinator",
  worker: "coder",
  analyzer: "analyst",
  "code-analyzer": "analyst",
};

/** Every name `agent_spawn` accepts as a type. */
export const AGENT_TYPE_NAMES = [...AGENT_TYPES, ...Object.keys(AGENT_TYPE_ALIASES)] as [string, ...string[]];

export function canonicalAgentType(name: string): AgentType {
  return AGENT_TYPE_ALIASES[name] ?? (name as AgentType);
}

export const TOPOLOGIES = ["mesh", "hierarchical", "ring", "star"] as const;
export type Topology = (typeof TOPOLOGIES)[number];

export const AGENT_STATUSES = ["idle", "busy", "offline", "terminated"] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];
