import { z } from "zod";
import { fractionOrNull, msOrNull, percentOrNull } from "./fields.js";
import { AGENT_STATUSES, AGENT_TYPES } from "../agent-types.js";

// Shapes shared by several tools' outputs.

/** What a worker reports of the resources it uses (agent_usage), measured on its own machine. */
export const usageFields = {
  cpuPercent: z.number().min(0).max(100_000).describe("CPU in use, percent of one core as top shows it (250: two and a half cores busy)."),
  memoryPercent: z.number().min(0).max(100).describe("Resident memory, percent of its machine's memory."),
};

/** A worker's report as agents show it. */
export const workerUsage = z.object({
  ...usageFields,
  memoryBytes: z.number().int().nullable().describe("Resident memory in bytes; null when the worker did not say."),
  measuredAt: z.number().int().describe("When swarmd received the report."),
});
export type WorkerUsage = z.infer<typeof workerUsage>;

export const agentRuntime = z
  .object({
    kind: z.enum(["none", "worker"]).describe("none: nothing executes this agent's work; worker: a client connection does (agent_attach)."),
    attached: z.boolean().describe("A worker is connected right now."),
    connectionId: z.number().int().nullable().describe("The worker's connection while attached."),
    attachedAt: msOrNull("When the worker attached."),
    delivery: z.enum(["push", "pull"]).nullable().describe("push: assignments arrive as notifications; pull: the worker calls task_claim."),
    usage: workerUsage
      .nullable()
      .describe("The worker's last agent_usage report, for a minute after it came; null without one."),
  })
  .describe("What executes the agent's work.");

export const agentPerformance = z
  .object({
    cpu_usage: fractionOrNull("The agent's cpu_usage ÷ 100, at most 1 (a 0–1 share, as health_score is health ÷ 100); null: none reported in the last minute (swarmd does not invent it)."),
    memory_usage: fractionOrNull("The agent's memory_usage ÷ 100; null: none reported in the last minute."),
    health_score: fractionOrNull("health ÷ 100."),
    activity_level: z.number().min(0).max(1).describe("Share of the agent's lifetime × capacity spent running assignments."),
    tasks_active: z.number().int().describe("Assignments assigned or running now."),
    tasks_completed: z.number().int().describe("Assignments completed."),
    tasks_failed: z.number().int().describe("Assignments failed, timed out or abandoned."),
    success_rate: z.number().min(0).max(1).describe("completed ÷ (completed + failed); 0 without history."),
    response_time_ms: z.number().nullable().describe("Average time from assignment to completion; null without history."),
  })
  .describe("Measured performance.");

/** The fields every agent listing carries. */
export const agentSummary = z.object({
  id: z.string().describe("Agent id."),
  agentId: z.string().describe("Agent id (same as id)."),
  name: z.string().describe("Agent name."),
  type: z.enum(AGENT_TYPES).describe("Canonical agent type."),
  status: z.enum(AGENT_STATUSES).describe("idle, busy (running assignments), offline (its worker is gone), terminated."),
  health: z
    .number()
    .int()
    .min(0)
    .max(100)
    .nullable()
    .describe("0–100: 100 × live × (1 − failure share of its last 20 finished assignments); live is 1 with a worker attached, 0 when offline or terminated; null when nothing executes its work."),
  currentTask: z.string().nullable().describe("The task of its oldest active assignment, or null."),
});

export const agentView = agentSummary.extend({
  swarmId: z.string().describe("Swarm id."),
  swarm_id: z.string().describe("Swarm id (snake_case alias)."),
  capabilities: z.array(z.string().describe("A capability.")).describe("What it can do; tasks route by these."),
  capacity: z.number().int().describe("Assignments it may run at once."),
  workload: z.number().min(0).describe("Running assignments ÷ capacity."),
  cpu_usage: percentOrNull("CPU its worker reported, percent of one core (runtime.usage.cpuPercent); null: none in the last minute."),
  memory_usage: percentOrNull("Memory its worker reported, percent of its machine's (runtime.usage.memoryPercent); null: none in the last minute."),
  createdAt: z.number().int().describe("When it was spawned, ms since the epoch."),
  age: z.number().int().describe("Seconds since it was spawned."),
  lastActiveAt: msOrNull("Its last assignment activity or attach."),
  runtime: agentRuntime,
  performance: agentPerformance,
  metadata: z.record(z.string(), z.unknown()).optional().describe("config, resources and lifecycle details, and parent_id: the agent above it in its swarm's topology (star: the hub; hierarchical: the root or its type's lead; null for the top and for mesh and ring peers) (include_metadata)."),
});

export const topologyGraph = z
  .object({
    type: z.string().describe("The swarm's topology."),
    nodes: z
      .array(
        z.object({
          id: z.string().describe("Agent id."),
          type: z.string().describe("Agent type."),
          name: z.string().describe("Agent name."),
          status: z.string().describe("Agent status."),
        }),
      )
      .describe("Agents that are not terminated."),
    edges: z
      .array(z.object({ source: z.string().describe("Agent id."), target: z.string().describe("Agent id.") }))
      .describe("mesh: every pair; star: hub to each other; ring: a cycle in spawn order; hierarchical: coordinator → one lead per type → the rest of that type."),
  })
  .describe("The topology as a graph.");
