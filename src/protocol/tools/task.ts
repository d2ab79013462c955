import { z } from "zod";
import { defineTool } from "../contract.js";
import { count, msOrNull } from "./fields.js";

export const PRIORITIES = ["low", "medium", "high", "critical"] as const;
export const AGGREGATIONS = ["first", "all", "majority_vote"] as const;
export const TASK_STATUSES = ["pending", "assigned", "running", "completed", "failed", "cancelled"] as const;

const capabilities = z.array(z.string().min(1).describe("A capability.")).describe("Capabilities an agent needs, all of them, to run it.");
const priority = z.enum(PRIORITIES).describe("critical > high > medium > low; FIFO within a priority.");
const taskId = z.string().min(1).describe("Task id.");

const retryPolicy = z
  .union([
    z.enum(["none", "fixed", "exponential_backoff"]).describe("none: 1 attempt; fixed: 3 attempts 1 s apart; exponential_backoff: 3 attempts, 1 s then 2 s."),
    z
      .object({
        maxAttempts: z.number().int().min(1).max(100).describe("Attempts in all."),
        initialDelayMs: z.number().int().min(0).max(3_600_000).default(1000).describe("Wait before the second attempt."),
        multiplier: z.number().min(1).max(10).default(2).describe("Each later wait is this many times the one before."),
      })
      .describe("Explicit policy."),
  ])
  .describe("What happens after a failed attempt.");

const taskObject = z
  .object({
    description: z.string().min(1).max(100_000).describe("What to do."),
    priority: priority.optional(),
    strategy: z.string().max(100).optional().describe("Strategy name, recorded."),
    timeout: z.number().positive().max(86_400).optional().describe("Seconds an assignment may run (default AGENT_TIMEOUT)."),
    requiredCapabilities: capabilities.optional(),
    parallelism: z.number().int().min(1).max(100).optional().describe("How many distinct agents each run it."),
    consensusRequired: z.boolean().optional().describe("Aggregate by majority_vote."),
    input: z.unknown().optional().describe("Any JSON handed to the worker with the assignment."),
  })
  .describe("The protocol document's task object.");

export const taskOrchestrate = defineTool({
  name: "task_orchestrate",
  description:
    "Submit a task to a swarm. It is routed to live agents whose capabilities include every required one (least loaded first), executed by their workers, and its results stored and aggregated. Accepts claude-flow's form ({task: string, …}) and the protocol document's ({task: {…}, execution: {…}}), plus phases that run in dependency order.",
  annotations: { title: "Orchestrate task" },
  input: z.object({
    task: z.union([z.string().min(1).max(100_000).describe("What to do (claude-flow form)."), taskObject]).describe("The task."),
    swarmId: z.string().min(1).optional().describe("Swarm; omitted: the connection's current swarm, else the only active swarm."),
    strategy: z.enum(["parallel", "sequential", "adaptive", "balanced"]).optional().describe("sequential: phases run one after another unless they say otherwise."),
    priority: priority.optional(),
    dependencies: z.array(taskId).max(1000).optional().describe("Tasks that must complete first."),
    maxAgents: z.number().int().min(1).max(100).optional().describe("claude-flow form: how many agents run it (parallelism)."),
    requiredCapabilities: capabilities.optional(),
    timeout: z.number().positive().max(86_400).optional().describe("Seconds an assignment may run (default AGENT_TIMEOUT)."),
    input: z.unknown().optional().describe("Any JSON handed to the worker with the assignment."),
    execution: z
      .object({
        mode: z.string().max(100).optional().describe("Execution mode, recorded."),
        retryPolicy: retryPolicy.optional(),
        resultAggregation: z.enum(AGGREGATIONS).optional().describe("first: the first result wins (others cancelled); all: every result; majority_vote: the most common result, if its share reaches the swarm's consensusThreshold."),
        failureThreshold: z.number().min(0).max(1).optional().describe("Share of failed assignments above which an attempt fails (default 0)."),
      })
      .optional()
      .describe("How it is executed."),
    phases: z
      .array(
        z.object({
          name: z.string().min(1).max(200).describe("Phase name, unique within the task."),
          description: z.string().max(100_000).optional().describe("What this phase does (default: the task's description)."),
          requiredCapabilities: capabilities.optional(),
          parallelism: z.number().int().min(1).max(100).optional().describe("Agents that each run this phase."),
          dependsOn: z.array(z.string().describe("A phase name.")).optional().describe("Phases that must complete first."),
          input: z.unknown().optional().describe("Any JSON handed to the worker."),
        }),
      )
      .max(100)
      .optional()
      .describe("Phases: each is a subtask; the task completes when all do, with their results by name."),
  }),
  output: z.object({
    taskId: z.string().describe("The task's id."),
    swarmId: z.string().describe("Its swarm."),
    task: z.string().describe("Its description (claude-flow field)."),
    status: z.enum(TASK_STATUSES).describe("Status right after scheduling."),
    priority: z.enum(PRIORITIES).describe("Priority."),
    strategy: z.string().describe("Strategy."),
    assignedAgents: z
      .array(
        z.object({
          agentId: z.string().describe("Agent id."),
          role: z.enum(["coordinator", "worker", "validator"]).describe("From the agent's type: coordinator; reviewer and tester validate; others work."),
          capabilities: z.array(z.string().describe("A capability.")).describe("The agent's capabilities."),
          phase: z.string().describe("The phase it was assigned to."),
        }),
      )
      .describe("Agents assigned so far (none while no capable agent is free)."),
    orchestrationPlan: z
      .object({
        phases: z
          .array(
            z.object({
              name: z.string().describe("Phase name (execute when there are no phases)."),
              taskId: z.string().describe("The phase's task id."),
              agents: z.array(z.string().describe("Agent id.")).describe("Agents assigned so far."),
              dependencies: z.array(z.string().describe("Phase name.")).describe("Phases it waits for."),
              status: z.enum(TASK_STATUSES).describe("Phase status."),
            }),
          )
          .describe("Phases in dependency order."),
      })
      .describe("How it will run."),
    coordination: z
      .object({
        aggregation: z.enum(AGGREGATIONS).describe("How results combine."),
        consensusThreshold: z.number().describe("The swarm's threshold for majority_vote."),
        failureThreshold: z.number().describe("Share of failed assignments that fails an attempt."),
        maxAttempts: count("Attempts in all."),
      })
      .describe("Coordination settings."),
    pendingReason: z.string().nullable().describe("Why nothing runs yet, when nothing does."),
    estimatedDurationMs: z.number().optional().describe("Average duration of this swarm's completed tasks; present only when such history exists."),
    createdAt: z.number().int().describe("When it was submitted."),
  }),
});

export const assignmentView = z.object({
  assignmentId: z.string().describe("Assignment id."),
  agentId: z.string().describe("Agent id."),
  attempt: count("Attempt number (1 = first)."),
  status: z.string().describe("assigned, running, completed, failed, timed_out, abandoned or cancelled."),
  progress: z.number().nullable().describe("Last reported progress (0–1)."),
  result: z.unknown().optional().describe("The worker's result (detailed format)."),
  error: z.unknown().optional().describe("The worker's error (detailed format)."),
  startedAt: msOrNull("When it started running."),
  finishedAt: msOrNull("When it finished."),
});

export const taskView = z.object({
  taskId: z.string().describe("Task id."),
  swarmId: z.string().describe("Swarm id."),
  parentId: z.string().nullable().describe("The orchestrated task this phase belongs to."),
  phase: z.string().nullable().describe("Phase name, for phases."),
  description: z.string().describe("What to do."),
  status: z.enum(TASK_STATUSES).describe("Status."),
  priority: z.enum(PRIORITIES).describe("Priority."),
  strategy: z.string().describe("Strategy."),
  requiredCapabilities: z.array(z.string().describe("A capability.")).describe("Required capabilities."),
  parallelism: count("Agents that each run it."),
  aggregation: z.enum(AGGREGATIONS).describe("How results combine."),
  attempts: count("Attempts started."),
  maxAttempts: count("Attempts allowed."),
  pendingReason: z.string().nullable().describe("Why it is not running, while pending."),
  dependencies: z.array(z.string().describe("Task id.")).describe("Tasks it waits for."),
  progress: z.number().describe("0–1: the average progress of its current attempt's assignments (1 when completed)."),
  assignments: z.array(assignmentView).describe("Assignments of every attempt."),
  phases: z
    .array(z.object({ name: z.string().describe("Phase."), taskId: z.string().describe("Its task id."), status: z.string().describe("Its status.") }))
    .describe("Phases, for an orchestrated task with phases."),
  result: z.unknown().optional().describe("The aggregated result, once completed."),
  error: z.unknown().optional().describe("Why it failed or was cancelled."),
  createdAt: z.number().int().describe("Submitted."),
  startedAt: msOrNull("First assignment started."),
  finishedAt: msOrNull("Completed, failed or cancelled."),
  durationMs: msOrNull("finishedAt − createdAt."),
});
