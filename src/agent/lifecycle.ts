import type { AgentStatus, AgentType } from "../protocol/agent-types.js";
import { rpcError } from "../protocol/errors.js";

/**
 * idle ⇄ busy while a worker runs its assignments; → offline when that worker goes away (and back to idle when one
 * attaches); → terminated, which is final.
 */
const ALLOWED: Readonly<Record<AgentStatus, readonly AgentStatus[]>> = {
  idle: ["busy", "offline", "terminated"],
  busy: ["idle", "offline", "terminated"],
  offline: ["idle", "terminated"],
  terminated: [],
};

export function assertTransition(agentId: string, from: AgentStatus, to: AgentStatus): void {
  if (from === to || ALLOWED[from].includes(to)) return;
  throw rpcError("AGENT_ERROR", `Agent ${agentId} is ${from} and cannot become ${to}.`, { reason: "illegal_transition", agentId, from, to });
}

/** What an agent of each type can do when it is spawned without explicit capabilities; tasks route by these. */
export const DEFAULT_CAPABILITIES: Readonly<Record<AgentType, readonly string[]>> = {
  coordinator: ["coordination", "planning"],
  researcher: ["research", "analysis"],
  coder: ["code", "implementation"],
  analyst: ["analysis", "code-analysis"],
  architect: ["architecture", "design"],
  tester: ["testing", "validation"],
  reviewer: ["review", "code"],
  optimizer: ["optimization", "performance"],
  documenter: ["documentation"],
  monitor: ["monitoring"],
  specialist: ["specialist"],
};
