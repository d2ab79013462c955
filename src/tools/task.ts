import type { ToolArgs } from "../protocol/contract.js";
import { PRIORITIES, taskOrchestrate } from "../protocol/tools/task.js";
import { taskCancel, taskList, taskResults, taskStatus, taskWait } from "../protocol/tools/task-ops.js";
import type { TaskSpec } from "../task/manager.js";
import { currentSwarm, type Domain } from "./domain.js";
import { bind, type ToolBinding } from "./registry.js";

type OrchestrateArgs = ToolArgs<typeof taskOrchestrate>;

const RETRY_POLICIES = {
  none: { maxAttempts: 1, initialDelayMs: 0, multiplier: 1 },
  fixed: { maxAttempts: 3, initialDelayMs: 1000, multiplier: 1 },
  exponential_backoff: { maxAttempts: 3, initialDelayMs: 1000, multiplier: 2 },
} as const;

/**
 * One TaskSpec from either form: claude-flow's {task: "text", strategy, priority, maxAgents, …} or the protocol
 * document's {task: {description, priority, timeout, requiredCapabilities, parallelism, consensusRequired}, execution}.
 * Where both forms carry a field, the task object wins.
 */
export function taskSpecFrom(a: OrchestrateArgs, swarmId: string, agentTimeoutMs: number): TaskSpec {
  const obj = typeof a.task === "string" ? undefined : a.task;
  const exec = a.execution ?? {};
  const parallelism = obj?.parallelism ?? a.maxAgents ?? 1;
  const policy = exec.retryPolicy;
  const retry =
    policy === undefined ? RETRY_POLICIES.exponential_backoff : typeof policy === "string" ? RETRY_POLICIES[policy] : policy;
  const strategy = obj?.strategy ?? a.strategy ?? "balanced";
  const timeout = obj?.timeout ?? a.timeout;
  return {
    swarmId,
    description: obj?.description ?? (a.task as string),
    input: obj?.input ?? a.input,
    priority: PRIORITIES.indexOf(obj?.priority ?? a.priority ?? "medium"),
    strategy,
    requiredCapabilities: obj?.requiredCapabilities ?? a.requiredCapabilities ?? [],
    parallelism,
    aggregation: exec.resultAggregation ?? (obj?.consensusRequired ? "majority_vote" : parallelism > 1 ? "all" : "first"),
    failureThreshold: exec.failureThreshold ?? 0,
    timeoutMs: timeout === undefined ? agentTimeoutMs : Math.round(timeout * 1000),
    retry,
    dependencies: a.dependencies ?? [],
    phases: a.phases ?? [],
    sequential: strategy === "sequential",
  };
}

/** The doc's roles, read from the agent's type. */
function roleOf(type: string): "coordinator" | "worker" | "validator" {
  return type === "coordinator" ? "coordinator" : type === "reviewer" || type === "tester" ? "validator" : "worker";
}

export function taskTools(d: Domain): ToolBinding[] {
  return [
    bind(taskOrchestrate, (a, ctx) => {
      const swarm = d.swarms.resolve(a.swarmId, ctx.session.currentSwarmId);
      const task = d.tasks.orchestrate(taskSpecFrom(a, swarm.id, d.limits.agentTimeoutMs));
      const parts = d.tasks.parts(task);
      const phaseNameOf = new Map(parts.map((p) => [p.id, p.phase ?? "execute"]));
      const assignedAgents = [];
      const phases = [];
      for (const part of parts) {
        const active = d.tasks.activeAssignments(part);
        for (const x of active) {
          const agent = d.agents.require(x.agentId);
          assignedAgents.push({ agentId: agent.id, role: roleOf(agent.type), capabilities: agent.capabilities, phase: part.phase ?? "execute" });
        }
        phases.push({
          name: part.phase ?? "execute",
          taskId: part.id,
          agents: active.map((x) => x.agentId),
          dependencies: d.tasks.views.brief(part).dependencies.map((id) => phaseNameOf.get(id)).filter((n): n is string => n !== undefined),
          status: part.status,
        });
      }
      const estimate = d.tasks.estimateMs(swarm.id);
      return {
        taskId: task.id,
        swarmId: task.swarmId,
        task: task.description,
        status: task.status,
        priority: PRIORITIES[task.priority] as (typeof PRIORITIES)[number],
        strategy: task.strategy,
        assignedAgents,
        orchestrationPlan: { phases },
        coordination: {
          aggregation: task.aggregation,
          consensusThreshold: swarm.consensusThreshold,
          failureThreshold: task.failureThreshold,
          maxAttempts: task.maxAttempts,
        },
        pendingReason: parts.map((p) => p.pendingReason).find((r) => r !== null) ?? null,
        ...(estimate === undefined ? {} : { estimatedDurationMs: estimate }),
        createdAt: task.createdAt,
      };
    }),
    bind(taskStatus, (a, ctx) => {
      if (a.taskId !== undefined) return d.tasks.views.view(d.tasks.require(a.taskId));
      const swarmId = currentSwarm(d, ctx.session);
      const tasks = d.tasks.list({ swarmId, topLevel: true }, 20).rows.map((t) => d.tasks.views.view(t));
      return { ...(swarmId === undefined ? {} : { swarmId }), tasks, count: tasks.length };
    }),
    bind(taskResults, (a) => d.tasks.views.results(d.tasks.require(a.taskId), a.format)),
    bind(taskList, (a, ctx) => {
      const swarmId = a.swarmId === undefined ? currentSwarm(d, ctx.session) : d.swarms.require(a.swarmId).id;
      const page = d.tasks.list({ swarmId, status: a.status, cursor: a.cursor }, a.limit);
      return { tasks: page.rows.map((t) => d.tasks.views.brief(t)), nextCursor: page.nextCursor };
    }),
    bind(taskCancel, (a) => ({ taskId: a.taskId, status: "cancelled" as const, ...d.engine.cancel(a.taskId, a.reason) })),
    bind(taskWait, async (a, ctx) => {
      const { task, timedOut } = await d.tasks.wait(a.taskId, a.timeoutMs, ctx.signal, (fraction) => ctx.progress(Math.round(fraction * 100), 100));
      return { ...d.tasks.views.view(task), timedOut };
    }),
  ];
}
