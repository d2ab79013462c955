import type { WorkerChannel } from "../agent/workers.js";
import { rpcError } from "../protocol/errors.js";
import { agentAttach, agentDetach, agentUsage, taskClaim, taskComplete, taskFail, taskProgress } from "../protocol/tools/worker.js";
import type { ToolContext, ToolSession } from "./context.js";
import type { Domain } from "./domain.js";
import { after, bind, type ToolBinding } from "./registry.js";

/** The worker protocol: any connection can execute an agent's work. */
export function workerTools(d: Domain): ToolBinding[] {
  const watched = new WeakSet<ToolSession>();
  /** The connection as a worker; the first time, its agents are set to go offline when it closes. */
  const channelOf = (ctx: ToolContext): WorkerChannel => {
    const session = ctx.session;
    if (!watched.has(session)) {
      watched.add(session);
      session.onClose(() => d.agents.workers.detachConnection(session.connectionId));
    }
    return { connectionId: session.connectionId, notify: (method, params) => session.notify(method, params) };
  };
  const report = (ctx: ToolContext, a: { taskId: string; assignmentId?: string | undefined; agentId?: string | undefined }) => ({
    connectionId: ctx.session.connectionId,
    taskId: a.taskId,
    assignmentId: a.assignmentId,
    agentId: a.agentId,
  });

  return [
    bind(agentAttach, (a, ctx) => {
      const row = d.agents.workers.attach(a.agentId, channelOf(ctx), { takeover: a.takeover, delivery: a.delivery });
      return { agentId: row.id, swarmId: row.swarmId, status: row.status, delivery: a.delivery, attachedAt: row.runtime.attachedAt as number };
    }),
    bind(agentDetach, (a, ctx) => {
      if (d.agents.worker(a.agentId)?.connectionId !== ctx.session.connectionId) {
        d.agents.require(a.agentId);
        throw rpcError("AGENT_ERROR", `This connection is not agent ${a.agentId}'s worker.`, { reason: "not_attached", agentId: a.agentId });
      }
      const requeued = d.agents.workers.detach(a.agentId, "worker detached");
      return { agentId: a.agentId, status: d.agents.require(a.agentId).status, requeuedAssignments: requeued };
    }),
    bind(taskClaim, (a, ctx) =>
      after(d.tasks.claim(a.agentId, ctx.session.connectionId, a.waitMs, ctx.signal), (assignment) => ({ assignment: assignment as never })),
    ),
    bind(taskProgress, (a, ctx) => d.engine.reports.progress(report(ctx, a), a.progress, a.message)),
    bind(taskComplete, (a, ctx) => d.engine.reports.complete(report(ctx, a), a.result)),
    bind(taskFail, (a, ctx) => d.engine.reports.fail(report(ctx, a), a.error, a.retryable)),
    bind(agentUsage, (a, ctx) =>
      d.agents.workers.reportUsage(ctx.session.connectionId, a.agentId, { cpuPercent: a.cpuPercent, memoryPercent: a.memoryPercent, memoryBytes: a.memoryBytes ?? null }),
    ),
  ];
}
