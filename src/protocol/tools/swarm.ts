import { z } from "zod";
import { AGENT_TYPE_NAMES, TOPOLOGIES } from "../agent-types.js";
import { defineTool } from "../contract.js";
import { count, ms } from "./fields.js";
import { agentSummary, agentView, topologyGraph } from "./views.js";

const swarmIdIn = z.string().min(1).describe("Swarm id.");

export const agentTypeIn = z.enum(AGENT_TYPE_NAMES).describe("Agent type; aliases (worker, analyzer, code-analyzer, task-orchestrator) resolve to a canonical type.");

export const spawnedAgent = z.object({
  agentId: z.string().describe("New agent's id."),
  swarmId: z.string().describe("Its swarm."),
  type: z.string().describe("Canonical type."),
  name: z.string().describe("Name."),
  status: z.string().describe("Status (idle: nothing runs yet)."),
  capabilities: z.array(z.string().describe("A capability.")).describe("Capabilities (the type's defaults when none were given)."),
  runtime: z.object({ kind: z.enum(["none", "worker"]).describe("none until a worker attaches.") }).describe("What executes its work."),
  createdAt: ms("When it was spawned."),
});

export const swarmInit = defineTool({
  name: "swarm_init",
  description:
    "Create a swarm with a topology and an agent limit, optionally with initial agents, persisted in SQLite. The connection remembers it as its current swarm, used when later calls omit swarmId.",
  annotations: { title: "Create swarm" },
  input: z.object({
    topology: z.enum(TOPOLOGIES).default("mesh").describe("How agents are connected."),
    maxAgents: z.number().int().min(1).optional().describe("Most agents the swarm may hold (default 8; at most MAX_AGENTS)."),
    strategy: z.enum(["balanced", "specialized", "adaptive"]).default("balanced").describe("Coordination strategy, recorded with the swarm."),
    name: z.string().min(1).max(200).optional().describe("Display name (default: <topology>-swarm-<n>)."),
    initialAgents: z
      .array(
        z.object({
          type: agentTypeIn,
          name: z.string().min(1).max(200).optional().describe("Agent name."),
          capabilities: z.array(z.string().min(1).describe("A capability.")).optional().describe("Capabilities."),
        }),
      )
      .optional()
      .describe("Agents to spawn with the swarm, in the same transaction."),
    config: z
      .object({
        consensusThreshold: z.number().min(0).max(1).optional().describe("Winning share majority_vote tasks need (default 0.7)."),
        maxAgents: z.number().int().min(1).optional().describe("Same as maxAgents (the protocol document's place for it)."),
      })
      .optional()
      .describe("Swarm settings."),
  }),
  output: z.object({
    swarmId: z.string().describe("New swarm's id."),
    name: z.string().describe("Name."),
    topology: z.enum(TOPOLOGIES).describe("Topology."),
    maxAgents: count("Agent limit."),
    strategy: z.string().describe("Strategy."),
    consensusThreshold: z.number().describe("Winning share majority_vote tasks need."),
    status: z.literal("active").describe("Always active for a new swarm."),
    agents: z.array(spawnedAgent).describe("The initial agents."),
    createdAt: ms("When it was created."),
  }),
});

const taskCounts = z
  .object({
    pending: count("Waiting for dependencies, agents or a retry."),
    assigned: count("Assigned, not started."),
    running: count("Running."),
    completed: count("Completed."),
    failed: count("Failed."),
    cancelled: count("Cancelled."),
  })
  .describe("Tasks of this swarm by status.");

export const swarmStatus = defineTool({
  name: "swarm_status",
  description:
    "A swarm's state: its agents, counts, and metrics computed from stored task history. Without swarmId: the connection's current swarm, else the only active swarm.",
  annotations: { title: "Swarm status", readOnlyHint: true, idempotentHint: true },
  input: z.object({
    swarmId: swarmIdIn.optional(),
    include_topology: z.boolean().default(false).describe("Include the topology graph (graph: {type, nodes, edges})."),
    include_performance: z.boolean().default(false).describe("Include each agent's performance and swarm performance."),
    verbose: z.boolean().default(false).describe("Full agent records instead of summaries."),
  }),
  output: z.object({
    swarmId: z.string().describe("Swarm id."),
    name: z.string().describe("Name."),
    topology: z.enum(TOPOLOGIES).describe("Topology."),
    strategy: z.string().describe("Strategy."),
    status: z.enum(["active", "destroyed"]).describe("Swarm status."),
    maxAgents: count("Agent limit."),
    consensusThreshold: z.number().describe("Winning share majority_vote tasks need."),
    createdAt: ms("When it was created."),
    destroyedAt: z.number().int().nullable().describe("When it was destroyed, or null."),
    agents: z.array(agentView.partial().extend(agentSummary.shape)).describe("Agents that are not terminated."),
    agentCount: count("Agents that are not terminated."),
    activeAgents: count("Agents idle or busy."),
    taskCount: count("Tasks submitted to the swarm and still stored (see SWARMD_TASK_RETENTION)."),
    pendingTasks: count("Tasks pending."),
    completedTasks: count("Tasks completed."),
    counts: z
      .object({
        agents: z
          .object({
            idle: count("Idle."),
            busy: count("Busy."),
            offline: count("Offline."),
            terminated: count("Terminated."),
          })
          .describe("Agents by status."),
        tasks: taskCounts,
      })
      .describe("Counts."),
    metrics: z
      .object({
        tasksCompleted: count("Tasks completed."),
        tasksFailed: count("Tasks failed."),
        successRate: z.number().describe("completed ÷ (completed + failed); 0 without history."),
        avgCompletionTime: z.number().describe("Average seconds from submission to completion of completed tasks; 0 without history."),
        avgCompletionTimeMs: z.number().describe("The same in milliseconds."),
      })
      .describe("From stored task history."),
    topology_type: z.string().describe("Topology (snake_case alias)."),
    total_agents: count("Agents that are not terminated (alias)."),
    active_agents: count("Agents idle or busy (alias)."),
    coordination_layers: count("Levels of the topology graph: 1 for mesh and ring, 2 for a star, up to 3 for hierarchical; 0 without agents."),
    efficiency_score: z.number().describe("The swarm's task success rate (0–1); 0 without history."),
    graph: topologyGraph.optional(),
    performance: z
      .object({
        utilization: z.number().describe("Running assignments ÷ capacity of agents with a worker attached; 0 without any."),
        tasksActive: count("Tasks assigned or running."),
        avgTaskTimeMs: z.number().nullable().describe("Average run time of completed assignments; null without history."),
      })
      .optional()
      .describe("Swarm performance (include_performance)."),
  }),
});

const swarmRow = z.object({
  swarmId: z.string().describe("Swarm id."),
  name: z.string().describe("Name."),
  topology: z.enum(TOPOLOGIES).describe("Topology."),
  strategy: z.string().describe("Strategy."),
  status: z.enum(["active", "destroyed"]).describe("Status."),
  maxAgents: count("Agent limit."),
  agentCount: count("Agents that are not terminated."),
  activeAgents: count("Agents idle or busy."),
  createdAt: ms("When it was created."),
  destroyedAt: z.number().int().nullable().describe("When it was destroyed, or null."),
});

export const swarmList = defineTool({
  name: "swarm_list",
  description: "List swarms, newest first.",
  annotations: { title: "List swarms", readOnlyHint: true, idempotentHint: true },
  input: z.object({ status: z.enum(["active", "destroyed", "all"]).default("all").describe("Which swarms.") }),
  output: z.object({ swarms: z.array(swarmRow).describe("Swarms."), count: count("How many.") }),
});

export const swarmScale = defineTool({
  name: "swarm_scale",
  description:
    "Change a swarm's agent limit. Lowering it below the agents that are not terminated is refused unless terminateIdle is set, which terminates idle agents, newest first, to fit.",
  annotations: { title: "Scale swarm", destructiveHint: true },
  input: z.object({
    swarmId: swarmIdIn,
    maxAgents: z.number().int().min(1).describe("The new limit (at most MAX_AGENTS)."),
    terminateIdle: z.boolean().default(false).describe("Terminate idle agents to fit under a lower limit."),
  }),
  output: z.object({
    swarmId: z.string().describe("Swarm id."),
    maxAgents: count("The new limit."),
    previousMaxAgents: count("The limit before."),
    agentCount: count("Agents that are not terminated, after scaling."),
    terminatedAgents: z.array(z.string().describe("Agent id.")).describe("Agents terminated to fit."),
  }),
});

export const swarmDestroy = defineTool({
  name: "swarm_destroy",
  description:
    "Destroy a swarm: terminate its agents and cancel its unfinished tasks. The record stays as history (until SWARMD_TASK_RETENTION, when one is set).",
  annotations: { title: "Destroy swarm", destructiveHint: true },
  input: z.object({ swarmId: swarmIdIn }),
  output: z.object({
    swarmId: z.string().describe("Swarm id."),
    status: z.literal("destroyed").describe("Always destroyed."),
    terminatedAgents: count("Agents terminated."),
    cancelledTasks: count("Unfinished tasks cancelled."),
    destroyedAt: ms("When."),
  }),
});
