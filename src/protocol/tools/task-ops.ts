import { z } from "zod";
import { defineTool } from "../contract.js";
import { count } from "./fields.js";
import { TASK_STATUSES, assignmentView, taskView } from "./task.js";

const taskId = z.string().min(1).describe("Task id.");

export const taskStatus = defineTool({
  name: "task_status",
  description:
    "A task's status, assignments and progress. Without taskId: the 20 most recent tasks of the connection's current swarm (else of every swarm).",
  annotations: { title: "Task status", readOnlyHint: true, idempotentHint: true },
  input: z.object({ taskId: taskId.optional() }),
  output: taskView.partial().extend({
    tasks: z.array(taskView).optional().describe("Recent tasks, newest first (without taskId)."),
    count: count("How many tasks are listed (without taskId).").optional(),
  }),
});

export const taskResults = defineTool({
  name: "task_results",
  description: "A task's results. summary: the aggregated result; detailed: also each assignment's result, error and timing, the vote tally and the phases; raw: only the aggregated result.",
  annotations: { title: "Task results", readOnlyHint: true, idempotentHint: true },
  input: z.object({ taskId, format: z.enum(["summary", "detailed", "raw"]).default("summary").describe("How much to return.") }),
  output: z.object({
    taskId: z.string().describe("Task id."),
    status: z.enum(TASK_STATUSES).describe("Status."),
    format: z.enum(["summary", "detailed", "raw"]).describe("The format returned."),
    result: z.unknown().optional().describe("The aggregated result (absent until completed)."),
    error: z.unknown().optional().describe("Why it failed or was cancelled."),
    durationMs: z.number().int().nullable().optional().describe("Submission to finish."),
    completedAssignments: count("Assignments that completed.").optional(),
    failedAssignments: count("Assignments that failed, timed out or were abandoned.").optional(),
    assignments: z.array(assignmentView).optional().describe("Every assignment (detailed)."),
    votes: z
      .array(z.object({ result: z.unknown().describe("A distinct result."), count: count("Votes for it.") }))
      .optional()
      .describe("majority_vote tally, most votes first (detailed)."),
    phases: z
      .array(
        z.object({
          name: z.string().describe("Phase."),
          taskId: z.string().describe("Its task id."),
          status: z.string().describe("Its status."),
          result: z.unknown().optional().describe("Its result."),
        }),
      )
      .optional()
      .describe("Phases and their results (detailed)."),
  }),
});

export const taskList = defineTool({
  name: "task_list",
  description: "List tasks, newest first, a page at a time. Without swarmId: the connection's current swarm, else every swarm.",
  annotations: { title: "List tasks", readOnlyHint: true, idempotentHint: true },
  input: z.object({
    swarmId: z.string().min(1).optional().describe("Swarm."),
    status: z.enum(TASK_STATUSES).optional().describe("Only tasks with this status."),
    limit: z.number().int().min(1).max(1000).default(50).describe("Most tasks per page (1–1000)."),
    cursor: z.string().optional().describe("nextCursor from the previous page."),
  }),
  output: z.object({
    tasks: z.array(taskView.omit({ assignments: true })).describe("Tasks, newest first."),
    nextCursor: z.string().nullable().describe("Pass as cursor for the next page; null on the last."),
  }),
});

export const taskCancel = defineTool({
  name: "task_cancel",
  description: "Cancel a task that has not finished, with its phases and the tasks that depend on it; workers running it are told (notifications/task/cancelled).",
  annotations: { title: "Cancel task", destructiveHint: true, idempotentHint: true },
  input: z.object({ taskId, reason: z.string().max(1000).optional().describe("Why, kept with the task.") }),
  output: z.object({
    taskId: z.string().describe("Task id."),
    status: z.literal("cancelled").describe("Always cancelled."),
    cancelledTasks: z.array(z.string().describe("Task id.")).describe("Tasks cancelled: this one, its phases, its dependents."),
    cancelledAssignments: count("Assignments cancelled; their workers were notified."),
  }),
});

export const taskWait = defineTool({
  name: "task_wait",
  description:
    "Wait until a task completes, fails or is cancelled, or until timeoutMs passes; then return its status. With a progress token, notifications/progress report its progress (0–100) while waiting.",
  annotations: { title: "Wait for task", readOnlyHint: true, idempotentHint: true },
  input: z.object({
    taskId,
    timeoutMs: z.number().int().min(0).max(3_600_000).default(30_000).describe("Longest wait in milliseconds."),
  }),
  output: taskView.extend({ timedOut: z.boolean().describe("True when the wait ended before the task did.") }),
});
