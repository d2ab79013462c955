import { metricsOf, type AgentView } from "../agent/view.js";
import { canonicalAgentType } from "../protocol/agent-types.js";
import { agentInbox, agentList, agentMessage, agentMetrics, agentSpawn, agentStatus, agentTerminate } from "../protocol/tools/agent.js";
import type { ToolPayload } from "../protocol/contract.js";
import { Serialized, escapeJsonText, jsonTemplate } from "../protocol/serialized.js";
import type { AgentRow } from "../store/agent-repo.js";
import { currentSwarm, spawnedView, type Domain } from "./domain.js";
import { bind, missingArgument, type ToolBinding } from "./registry.js";

const FILTERS: Record<string, (r: AgentRow) => boolean> = {
  all: (r) => r.status !== "terminated",
  active: (r) => r.status === "idle" || r.status === "busy",
};

export function agentTools(d: Domain): ToolBinding[] {
  return [
    bind(agentSpawn, (a, ctx) => {
      const type = a.type ?? a.agentType;
      if (type === undefined) throw missingArgument("agent_spawn", "type", "required (or agentType)");
      const swarm = d.swarms.resolve(a.swarmId, ctx.session.currentSwarmId);
      const row = d.agents.spawn(swarm, { type: canonicalAgentType(type), name: a.name, capabilities: a.capabilities, config: a.config, resources: a.resources });
      return spawnedView(row);
    }),
    bind(agentList, (a, ctx) => {
      const swarmId = a.swarmId === undefined ? currentSwarm(d, ctx.session) : d.swarms.require(a.swarmId).id;
      const keep = FILTERS[a.filter] ?? ((r: AgentRow) => r.status === a.filter);
      const scope = a.filter === "terminated" ? "terminated" : "members";
      const agents = d.agents.listText(swarmId, a.include_metadata, { name: a.filter, scope, keep });
      // {swarmId, agents, count}, assembled from the listing's text instead of serialised again.
      const [head, tail] = jsonTemplate({ swarmId: swarmId ?? null, agents: null, count: agents.count }, ["agents"]) as [string, string];
      return new Serialized<ToolPayload<typeof agentList>>([head, ...agents.json, tail], ['"' + escapeJsonText(head), ...agents.escaped, escapeJsonText(tail) + '"']);
    }),
    bind(agentStatus, (a) => {
      const row = d.agents.require(a.agentId);
      const [view] = d.agents.views([row], true);
      return {
        ...(view as NonNullable<typeof view>),
        activeAssignments: d.agents.activeAssignments(row.id).map((x) => ({
          assignmentId: x.id,
          taskId: x.taskId,
          status: x.status,
          progress: x.progress,
          deadlineAt: x.deadlineAt,
        })),
        inbox: d.agents.inboxSize(row.id),
        terminatedAt: row.terminatedAt,
        terminationReason: row.terminationReason,
      };
    }),
    bind(agentMetrics, (a, ctx) => {
      const rows =
        a.agentId !== undefined
          ? [d.agents.require(a.agentId)]
          : d.agents.rows(d.swarms.resolve(a.swarmId, ctx.session.currentSwarmId).id, "members");
      const views = d.agents.views(rows, false);
      const agents = rows.map((r, i) => metricsOf(r, views[i] as AgentView));
      return { agents, count: agents.length };
    }),
    bind(agentTerminate, (a) => {
      const { requeued, at } = d.agents.terminate(a.agentId, a.reason ?? null);
      return { agentId: a.agentId, status: "terminated" as const, reason: a.reason ?? null, requeuedAssignments: requeued, terminatedAt: at };
    }),
    bind(agentMessage, (a) => {
      const m = d.agents.message(a.agentId, a.swarmId, a.message);
      return { messageId: m.id, seq: m.seq, agentId: m.agentId, swarmId: m.swarmId, delivered: m.delivered, createdAt: m.createdAt };
    }),
    bind(agentInbox, (a) => {
      const messages = d.agents.inbox(a.agentId, a.since, a.limit);
      const last = messages[messages.length - 1];
      return {
        agentId: a.agentId,
        messages: messages.map((m) => ({ messageId: m.id, seq: m.seq, message: m.body, createdAt: m.createdAt, deliveredAt: m.deliveredAt })),
        nextSince: last?.id ?? a.since ?? null,
      };
    }),
  ];
}
