import type { z } from "zod";
import type { agentView as agentViewShape, WorkerUsage } from "../protocol/tools/views.js";
import type { AgentRow } from "../store/agent-repo.js";
import type { AssignmentRow } from "../store/assignment-repo.js";

/** A worker bound to an agent right now (in memory: connections do not survive a restart). */
export interface WorkerInfo {
  readonly connectionId: number;
  readonly delivery: "push" | "pull";
  readonly attachedAt: number;
  /** Its last agent_usage report: replaced with each one, never changed in place (the listing compares by identity). */
  usage?: WorkerUsage;
}

export type AgentView = z.infer<typeof agentViewShape>;

/** How long a usage report is shown: a worker that stopped reporting is not shown with figures it no longer has. */
export const USAGE_SHOWN_MS = 60_000;

export function shownUsage(worker: WorkerInfo | undefined, now: number): WorkerUsage | null {
  const usage = worker?.usage;
  return usage !== undefined && now - usage.measuredAt <= USAGE_SHOWN_MS ? usage : null;
}

/**
 * Health, 0–100: 100 × live × (1 − the failure share of the agent's last 20 finished assignments). live is 1 while a
 * worker is attached and 0 once it is offline or terminated; with no executor at all nothing is measured: null.
 */
export function health(row: AgentRow, worker: WorkerInfo | undefined): number | null {
  if (row.status === "terminated" || row.status === "offline") return 0;
  if (worker === undefined) return row.runtime.kind === "none" ? null : 0;
  const recent = row.recentOutcomes;
  if (recent.length === 0) return 100;
  let failed = 0;
  for (const outcome of recent) if (outcome === "f") failed++;
  return Math.round(100 * (1 - failed / recent.length));
}

/**
 * The members of a view that change while its rows stand still — with time, or with its worker's usage reports — in
 * the order the view holds them (paths as jsonTemplate takes them).
 */
export const LIVE_FIELDS = [
  "cpu_usage",
  "memory_usage",
  "age",
  "runtime.usage",
  "performance.cpu_usage",
  "performance.memory_usage",
  "performance.activity_level",
] as const;

/** Seconds since the agent was spawned. */
export function ageAt(row: AgentRow, now: number): number {
  return Math.floor(Math.max(1, now - row.createdAt) / 1000);
}

/** The share of its lifetime × capacity the agent spent running assignments. */
export function activityAt(row: AgentRow, active: readonly AssignmentRow[], now: number): number {
  let runningMs = 0;
  for (const a of active) if (a.status === "running") runningMs += now - (a.startedAt ?? now);
  return Math.min(1, (row.busyMs + runningMs) / (Math.max(1, now - row.createdAt) * row.capacity));
}

/** Values of LIVE_FIELDS, in that order. */
export function liveValues(age: number, activityLevel: number, usage: WorkerUsage | null): unknown[] {
  return [usage?.cpuPercent ?? null, usage?.memoryPercent ?? null, age, usage, cpuShare(usage), memoryShare(usage), activityLevel];
}

/** performance.* are 0–1 shares (VisionFlow's performance object): a report's percentages ÷ 100, CPU capped at 1. */
function cpuShare(usage: WorkerUsage | null): number | null {
  return usage === null ? null : Math.min(1, usage.cpuPercent / 100);
}

function memoryShare(usage: WorkerUsage | null): number | null {
  return usage === null ? null : usage.memoryPercent / 100;
}

/** What metadata says beyond the row: where the agent sits in its swarm. */
export interface Placement {
  readonly parentId: string | null;
}

/** Everything listed about an agent is read from its row, its active assignments and its worker — nothing invented. */
export function agentView(row: AgentRow, worker: WorkerInfo | undefined, active: readonly AssignmentRow[], now: number, metadata: Placement | undefined): AgentView {
  let running = 0;
  for (const a of active) if (a.status === "running") running++;
  const finished = row.tasksCompleted + row.tasksFailed;
  const age = ageAt(row, now);
  const activityLevel = activityAt(row, active, now);
  const usage = shownUsage(worker, now);
  const h = health(row, worker);
  const view: AgentView = {
    id: row.id,
    agentId: row.id,
    name: row.name,
    type: row.type,
    status: row.status,
    health: h,
    currentTask: active[0]?.taskId ?? null,
    swarmId: row.swarmId,
    swarm_id: row.swarmId,
    capabilities: row.capabilities,
    capacity: row.capacity,
    workload: running / row.capacity,
    cpu_usage: usage?.cpuPercent ?? null,
    memory_usage: usage?.memoryPercent ?? null,
    createdAt: row.createdAt,
    age,
    lastActiveAt: row.lastActiveAt,
    runtime: {
      kind: row.runtime.kind,
      attached: worker !== undefined,
      connectionId: worker?.connectionId ?? null,
      attachedAt: worker?.attachedAt ?? null,
      delivery: worker?.delivery ?? null,
      usage,
    },
    performance: {
      cpu_usage: cpuShare(usage),
      memory_usage: memoryShare(usage),
      health_score: h === null ? null : h / 100,
      activity_level: activityLevel,
      tasks_active: active.length,
      tasks_completed: row.tasksCompleted,
      tasks_failed: row.tasksFailed,
      success_rate: finished === 0 ? 0 : row.tasksCompleted / finished,
      response_time_ms: row.tasksCompleted === 0 ? null : row.responseMsTotal / row.tasksCompleted,
    },
  };
  if (metadata !== undefined) {
    view.metadata = {
      config: row.config ?? {},
      resources: row.resources ?? {},
      seq: row.seq,
      updatedAt: row.updatedAt,
      terminatedAt: row.terminatedAt,
      terminationReason: row.terminationReason,
      parent_id: metadata.parentId,
    };
  }
  return view;
}

export function groupByAgent(assignments: readonly AssignmentRow[]): Map<string, AssignmentRow[]> {
  const byAgent = new Map<string, AssignmentRow[]>();
  for (const a of assignments) {
    const list = byAgent.get(a.agentId);
    if (list) list.push(a);
    else byAgent.set(a.agentId, [a]);
  }
  return byAgent;
}

/** Measured figures of an agent (agent_metrics), from its counters and its view. */
export function metricsOf(r: AgentRow, v: AgentView) {
  return {
    agentId: r.id,
    swarmId: r.swarmId,
    status: r.status,
    tasksCompleted: r.tasksCompleted,
    tasksFailed: r.tasksFailed,
    tasksActive: v.performance.tasks_active,
    successRate: v.performance.success_rate,
    avgTaskTimeMs: r.tasksCompleted === 0 ? null : r.taskMsTotal / r.tasksCompleted,
    lastActiveAt: r.lastActiveAt,
    workload: v.workload,
    health: v.health,
    cpuPercent: v.cpu_usage,
    memoryPercent: v.memory_usage,
  };
}
