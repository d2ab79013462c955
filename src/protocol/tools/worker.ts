import { z } from "zod";
import { defineTool } from "../contract.js";
import { count } from "./fields.js";
import { PRIORITIES, TASK_STATUSES } from "./task.js";
import { usageFields } from "./views.js";

const agentId = z.string().min(1).describe("Agent id.");
const taskId = z.string().min(1).describe("Task id.");
/** Which of this connection's assignments a report is about, when the task alone does not say. */
const which = {
  assignmentId: z.string().optional().describe("The assignment, when this connection holds several for the task."),
  agentId: z.string().optional().describe("The agent, when this connection works for several."),
};

/** What a worker receives: pushed as notifications/task/assigned, or returned by task_claim. */
export const assignmentPayload = z.object({
  assignmentId: z.string().describe("Assignment id; quote it in reports when you hold several for one task."),
  taskId: z.string().describe("Task id."),
  agentId: z.string().describe("The agent doing it."),
  swarmId: z.string().describe("Swarm id."),
  description: z.string().describe("What to do."),
  input: z.unknown().optional().describe("JSON given with the task."),
  phase: z.string().nullable().describe("Phase name, for phases."),
  requiredCapabilities: z.array(z.string().describe("A capability.")).describe("Capabilities it needed."),
  priority: z.enum(PRIORITIES).describe("Priority."),
  attempt: count("Attempt number (1 = first)."),
  timeoutMs: count("How long it may run without a task_progress report."),
  deadlineAt: z.number().int().describe("When it times out unless task_progress extends it."),
  dependencyResults: z.record(z.string(), z.unknown()).describe("Results of the tasks it depended on, by task id (phase tasks included)."),
});

export const agentAttach = defineTool({
  name: "agent_attach",
  description:
    "Bind this connection as an agent's worker: the agent goes live and receives assignments (pushed as notifications/task/assigned, or claimed with task_claim in pull mode). When the connection closes the agent goes offline and its unfinished work returns to the queue.",
  annotations: { title: "Attach worker" },
  input: z.object({
    agentId,
    takeover: z.boolean().default(false).describe("Replace a worker already attached (it is told with notifications/agent/detached)."),
    delivery: z.enum(["push", "pull"]).default("push").describe("push: notifications; pull: task_claim."),
  }),
  output: z.object({
    agentId: z.string().describe("Agent id."),
    swarmId: z.string().describe("Swarm id."),
    status: z.string().describe("The agent's status now."),
    delivery: z.enum(["push", "pull"]).describe("How assignments arrive."),
    attachedAt: z.number().int().describe("When."),
  }),
});

export const agentDetach = defineTool({
  name: "agent_detach",
  description: "Stop working for an agent (it goes offline; its unfinished work returns to the queue).",
  annotations: { title: "Detach worker", idempotentHint: true },
  input: z.object({ agentId }),
  output: z.object({
    agentId: z.string().describe("Agent id."),
    status: z.string().describe("The agent's status now."),
    requeuedAssignments: count("Unfinished assignments returned to the queue."),
  }),
});

export const agentUsage = defineTool({
  name: "agent_usage",
  description:
    "Report the CPU and memory the worker process behind this connection uses now, measured on its machine. agent_list, agent_status and swarm_status show the figures as cpu_usage and memory_usage until a minute has passed without another report (report every few seconds); swarmd measures nothing of workers itself.",
  annotations: { title: "Report usage", idempotentHint: true },
  input: z.object({
    agentId: z.string().optional().describe("One agent this connection works for; without it, every one of them."),
    ...usageFields,
    memoryBytes: z.number().int().min(0).optional().describe("Resident memory, in bytes."),
  }),
  output: z.object({
    agentIds: z.array(z.string().describe("Agent id.")).describe("The agents the report is shown for."),
    measuredAt: z.number().int().describe("When swarmd received it."),
  }),
});

export const taskClaim = defineTool({
  name: "task_claim",
  description: "Pull mode: take the agent's next assignment, waiting up to waitMs for one. The assignment starts running (and its timeout counts) from now.",
  annotations: { title: "Claim assignment" },
  input: z.object({ agentId, waitMs: z.number().int().min(0).max(30_000).default(0).describe("Longest wait (≤ 30000 ms).") }),
  output: z.object({ assignment: assignmentPayload.nullable().describe("The assignment, or null when none came in time.") }),
});

export const taskProgress = defineTool({
  name: "task_progress",
  description: "Report progress on an assignment; extends its deadline by its timeout.",
  annotations: { title: "Report progress", idempotentHint: true },
  input: z.object({
    taskId,
    progress: z.number().min(0).max(1).describe("0–1."),
    message: z.string().max(10_000).optional().describe("What is happening."),
    ...which,
  }),
  output: z.object({
    taskId: z.string().describe("Task id."),
    assignmentId: z.string().describe("Assignment id."),
    deadlineAt: z.number().int().describe("The new deadline."),
  }),
});

export const taskComplete = defineTool({
  name: "task_complete",
  description: "Report an assignment's result. The task completes according to its aggregation.",
  annotations: { title: "Complete assignment" },
  input: z.object({ taskId, result: z.unknown().describe("Any JSON."), ...which }),
  output: z.object({
    taskId: z.string().describe("Task id."),
    assignmentId: z.string().describe("Assignment id."),
    taskStatus: z.enum(TASK_STATUSES).describe("The task's status after this report."),
  }),
});

export const taskFail = defineTool({
  name: "task_fail",
  description: "Report that an assignment failed. The attempt fails once failed assignments pass the task's failureThreshold; it is retried when retryable and attempts remain.",
  annotations: { title: "Fail assignment" },
  input: z.object({
    taskId,
    error: z
      .object({ message: z.string().max(10_000).describe("What went wrong."), data: z.unknown().optional().describe("Details.") })
      .describe("The failure."),
    retryable: z.boolean().default(true).describe("false: do not retry the task."),
    ...which,
  }),
  output: z.object({
    taskId: z.string().describe("Task id."),
    assignmentId: z.string().describe("Assignment id."),
    taskStatus: z.enum(TASK_STATUSES).describe("The task's status after this report."),
    willRetry: z.boolean().describe("The task goes back to pending for another attempt."),
  }),
});
