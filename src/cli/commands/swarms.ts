import { UsageError, keyValues, table } from "../format.js";
import { agentColumns, type Command, list, need, num, swarmOpt } from "./context.js";

/** Swarms and their agents. */
export const swarms: readonly Command[] = [
  {
    name: "swarm init",
    usage: "swarm init [--topology mesh|hierarchical|ring|star] [--max-agents n] [--strategy s] [--name name]",
    summary: "Create a swarm",
    options: {
      topology: { value: "topology", help: "mesh, hierarchical, ring or star" },
      "max-agents": { value: "n", help: "Agent limit" },
      strategy: { value: "strategy", help: "balanced, specialized or adaptive" },
      name: { value: "name", help: "Display name" },
    },
    async run(ctx) {
      const s = await ctx.client.swarmInit({
        topology: ctx.opt("topology") as "mesh" | undefined,
        maxAgents: num(ctx.opt("max-agents"), "--max-agents"),
        strategy: ctx.opt("strategy") as "balanced" | undefined,
        name: ctx.opt("name"),
      });
      ctx.print(s, () => `${s.swarmId}\n`);
      return 0;
    },
  },
  {
    name: "swarm status",
    usage: "swarm status [swarmId | --swarm id]",
    summary: "A swarm's counts, metrics and agents",
    watchable: true,
    options: swarmOpt,
    async run(ctx) {
      // Full agent records, so the table's columns (workload) are filled as in agent list.
      const s = await ctx.client.swarmStatus({ swarmId: ctx.args[0] ?? ctx.opt("swarm"), verbose: true });
      ctx.print(s, () => {
        const { agents, counts, metrics, ...rest } = s;
        const head = Object.fromEntries(Object.entries(rest).filter(([k]) => ["swarmId", "name", "topology", "status", "maxAgents", "agentCount", "activeAgents", "taskCount"].includes(k)));
        return keyValues({ ...head, tasks: counts.tasks, metrics }) + "\n" + table(agents, agentColumns);
      });
      return 0;
    },
  },
  {
    name: "swarm list",
    usage: "swarm list [--status active|destroyed|all]",
    summary: "List swarms",
    watchable: true,
    options: { status: { value: "status", help: "active, destroyed or all (default all)" } },
    async run(ctx) {
      const r = await ctx.client.swarmList({ status: (ctx.opt("status") ?? "all") as "all" });
      ctx.print(r, () => table(r.swarms, ["swarmId", "name", "topology", "status", "agentCount", "activeAgents", "maxAgents"]));
      return 0;
    },
  },
  {
    name: "swarm destroy",
    usage: "swarm destroy <swarmId>",
    summary: "Terminate a swarm's agents and cancel its tasks",
    async run(ctx) {
      const r = await ctx.client.swarmDestroy({ swarmId: need(ctx, 0, "swarmId") });
      ctx.print(r, () => `${r.swarmId} destroyed: ${r.terminatedAgents} agents terminated, ${r.cancelledTasks} tasks cancelled\n`);
      return 0;
    },
  },
  {
    name: "agent spawn",
    usage: "agent spawn <type> [--swarm id] [--name name] [--caps a,b]",
    summary: "Add an agent to a swarm",
    options: {
      ...swarmOpt,
      name: { value: "name", help: "Agent name" },
      caps: { value: "a,b", help: "Capabilities" },
      // The tool's argument is named type: someone who knows the JSON will try --type.
      type: { value: "type", help: "The agent type, if not given first" },
    },
    async run(ctx) {
      const [given, named] = [ctx.args[0], ctx.opt("type")];
      if (given !== undefined && named !== undefined && given !== named) throw new UsageError(`two agent types: "${given}" and --type "${named}"`);
      const type = given ?? named ?? need(ctx, 0, "agent type");
      const a = await ctx.client.agentSpawn({ type: type as "coder", swarmId: ctx.opt("swarm"), name: ctx.opt("name"), capabilities: list(ctx.opt("caps")) });
      ctx.print(a, () => `${a.agentId}\n`);
      return 0;
    },
  },
  {
    name: "agent list",
    usage: "agent list [--swarm id] [--filter all|active|idle|busy|offline|terminated]",
    summary: "List agents with their measured metrics",
    watchable: true,
    options: { ...swarmOpt, filter: { value: "filter", help: "Which agents (default all: not terminated)" } },
    async run(ctx) {
      const r = await ctx.client.agentList({ swarmId: ctx.opt("swarm"), filter: (ctx.opt("filter") ?? "all") as "all" });
      ctx.print(r, () => table(r.agents, agentColumns));
      return 0;
    },
  },
  {
    name: "agent terminate",
    usage: "agent terminate <agentId> [--reason text]",
    summary: "Terminate an agent; its unfinished work returns to the queue",
    options: { reason: { value: "text", help: "Why" } },
    async run(ctx) {
      const r = await ctx.client.agentTerminate({ agentId: need(ctx, 0, "agentId"), reason: ctx.opt("reason") });
      ctx.print(r, () => `${r.agentId} terminated (${r.requeuedAssignments} assignments requeued)\n`);
      return 0;
    },
  },
];
