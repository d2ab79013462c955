import { z } from "zod";
import { defineTool } from "../contract.js";
import { count } from "./fields.js";
import { agentTypeIn, spawnedAgent } from "./swarm.js";
import { agentView } from "./views.js";

const agentIdIn = z.string().min(1).describe("Agent id.");
const swarmIdIn = z.string().min(1).describe("Swarm id; omitted: the connection's current swarm, else the only active swarm.");

export const agentSpawn = defineTool({
  name: "agent_spawn",
  description:
    "Add an agent to a swarm, within the swarm's maxAgents and the daemon's MAX_AGENTS. The agent does work once a worker attaches to it (agent_attach); until then its runtime is none.",
  annotations: { title: "Spawn agent" },
  input: z.object({
    type: agentTypeIn.optional(),
    agentType: agentTypeIn.optional().describe("Same as type (the protocol document's name)."),
    swarmId: swarmIdIn.optional(),
    name: z.string().min(1).max(200).optional().describe("Name (default: <type>-<n>)."),
    capabilities: z.array(z.string().min(1).describe("A capability.")).optional().describe("What it can do (default: its type's capabilities)."),
    config: z
      .record(z.string(), z.unknown())
      .optional()
      .describe("Free-form settings kept with the agent; config.capabilities is read as capabilities and config.maxConcurrent as its capacity (default 1)."),
    resources: z.record(z.string(), z.unknown()).optional().describe("Free-form resource requests kept with the agent."),
  }),
  output: spawnedAgent,
});

export const agentList = defineTool({
  name: "agent_list",
  description:
    "List agents with their measured metrics. Without swarmId: the connection's current swarm, else every active swarm. filter all means every agent that is not terminated.",
  annotations: { title: "List agents", readOnlyHint: true, idempotentHint: true },
  input: z.object({
    swarmId: swarmIdIn.optional(),
    filter: z
      .enum(["all", "active", "idle", "busy", "offline", "terminated"])
      .default("all")
      .describe("all: not terminated; active: idle or busy; or one status."),
    include_metadata: z.boolean().default(false).describe("Include each agent's metadata object."),
  }),
  output: z.object({
    swarmId: z.string().nullable().describe("The swarm listed, or null for every active swarm."),
    agents: z.array(agentView).describe("Agents in spawn order."),
    count: count("How many."),
  }),
});

export const agentStatus = defineTool({
  name: "agent_status",
  description: "One agent's record with its measured metrics, active assignments and unread inbox size.",
  annotations: { title: "Agent status", readOnlyHint: true, idempotentHint: true },
  input: z.object({ agentId: agentIdIn }),
  output: agentView.extend({
    activeAssignments: z
      .array(
        z.object({
          assignmentId: z.string().describe("Assignment id."),
          taskId: z.string().describe("Task id."),
          status: z.string().describe("assigned or running."),
          progress: z.number().nullable().describe("Last reported progress (0–1)."),
          deadlineAt: z.number().int().nullable().describe("When it times out."),
        }),
      )
      .describe("Assignments assigned or running."),
    inbox: count("Messages in its inbox."),
    terminatedAt: z.number().int().nullable().describe("When it was terminated."),
    terminationReason: z.string().nullable().describe("Why it was terminated."),
  }),
});

const metricsRow = z.object({
  agentId: z.string().describe("Agent id."),
  swarmId: z.string().describe("Swarm id."),
  status: z.string().describe("Status."),
  tasksCompleted: count("Assignments completed."),
  tasksFailed: count("Assignments failed, timed out or abandoned."),
  tasksActive: count("Assignments assigned or running."),
  successRate: z.number().describe("completed ÷ (completed + failed); 0 without history."),
  avgTaskTimeMs: z.number().nullable().describe("Average run time of completed assignments; null without history."),
  lastActiveAt: z.number().int().nullable().describe("Last assignment activity or attach."),
  workload: z.number().describe("Running assignments ÷ capacity."),
  health: z.number().int().nullable().describe("0–100, see agent_list."),
  cpuPercent: z.number().nullable().describe("CPU its worker reported, percent of one core; null: none in the last minute (agent_usage)."),
  memoryPercent: z.number().nullable().describe("Memory its worker reported, percent of its machine's; null: none in the last minute."),
});

export const agentMetrics = defineTool({
  name: "agent_metrics",
  description: "Measured metrics of one agent, or of every agent in a swarm (agents that are not terminated).",
  annotations: { title: "Agent metrics", readOnlyHint: true, idempotentHint: true },
  input: z.object({ agentId: agentIdIn.optional(), swarmId: swarmIdIn.optional() }),
  output: z.object({ agents: z.array(metricsRow).describe("One row per agent."), count: count("How many.") }),
});

export const agentTerminate = defineTool({
  name: "agent_terminate",
  description: "Terminate an agent (final). Its unfinished assignments go back to the queue for other agents; its worker is told.",
  annotations: { title: "Terminate agent", destructiveHint: true },
  input: z.object({ agentId: agentIdIn, reason: z.string().max(1000).optional().describe("Why, kept with the agent.") }),
  output: z.object({
    agentId: z.string().describe("Agent id."),
    status: z.literal("terminated").describe("Always terminated."),
    reason: z.string().nullable().describe("The reason given."),
    requeuedAssignments: count("Unfinished assignments returned to the queue."),
    terminatedAt: z.number().int().describe("When."),
  }),
});

export const agentMessage = defineTool({
  name: "agent_message",
  description: "Put a message in an agent's persisted inbox; an attached worker also receives it at once as notifications/agent/message.",
  annotations: { title: "Message agent" },
  input: z.object({
    swarmId: z.string().min(1).optional().describe("Swarm the agent must belong to (checked when given)."),
    agentId: agentIdIn,
    message: z.record(z.string(), z.unknown()).describe("Any JSON object, e.g. {type, action, params}."),
  }),
  output: z.object({
    messageId: z.string().describe("Message id."),
    seq: count("Position in the inbox (increasing)."),
    agentId: z.string().describe("Agent id."),
    swarmId: z.string().describe("Swarm id."),
    delivered: z.boolean().describe("Pushed to an attached worker."),
    createdAt: z.number().int().describe("When."),
  }),
});

export const agentInbox = defineTool({
  name: "agent_inbox",
  description: "Read an agent's inbox in order, after a given message.",
  annotations: { title: "Agent inbox", readOnlyHint: true, idempotentHint: true },
  input: z.object({
    agentId: agentIdIn,
    since: z.string().optional().describe("A messageId: return messages after it."),
    limit: z.number().int().min(1).max(1000).default(100).describe("Most messages (1–1000)."),
  }),
  output: z.object({
    agentId: z.string().describe("Agent id."),
    messages: z
      .array(
        z.object({
          messageId: z.string().describe("Message id."),
          seq: count("Position in the inbox."),
          message: z.record(z.string(), z.unknown()).describe("The message."),
          createdAt: z.number().int().describe("When it was sent."),
          deliveredAt: z.number().int().nullable().describe("When it was pushed to a worker, or null."),
        }),
      )
      .describe("Messages in order."),
    nextSince: z.string().nullable().describe("Pass as since to continue; null when there were none."),
  }),
});
