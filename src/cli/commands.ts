import type { SwarmClient } from "../client/index.js";
import type { OptionSpec } from "./args.js";
import { keyValues, pairsToObject, parseValue, progressBar, table, UsageError } from "./format.js";

export interface CommandContext {
  readonly client: SwarmClient;
  readonly args: string[];
  readonly opt: (name: string) => string | undefined;
  readonly flag: (name: string) => boolean;
  readonly json: boolean;
  /** Prints `data` as JSON with --json, else the human form. */
  readonly print: (data: unknown, human: () => string) => void;
}

export interface Command {
  readonly name: string;
  readonly usage: string;
  readonly summary: string;
  readonly options?: Readonly<Record<string, OptionSpec>>;
  run(ctx: CommandContext): Promise<number>;
}

const need = (ctx: CommandContext, i: number, what: string): string => {
  const v = ctx.args[i];
  if (v === undefined) throw new UsageError(`missing ${what}`);
  return v;
};
const list = (text: string | undefined): string[] | undefined => text?.split(",").map((s) => s.trim()).filter(Boolean);
const num = (text: string | undefined, what: string): number | undefined => {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n)) throw new UsageError(`${what} must be a number, got "${text}"`);
  return n;
};
const swarmOpt = { swarm: { value: "swarmId", help: "Swarm (default: the only active swarm)" } };
const nsOpt = { namespace: { value: "ns", help: "Namespace (default: default)" } };
const agentColumns = ["id", "name", "type", "status", "health", "workload", "currentTask"];

export const commands: readonly Command[] = [
  {
    name: "ping",
    usage: "ping",
    summary: "Check the daemon answers (prints PONG and the round trip)",
    async run(ctx) {
      await ctx.client.request("ping", {}); // connects; the second ping measures the round trip alone
      const started = performance.now();
      await ctx.client.request("ping", {});
      const ms = performance.now() - started;
      ctx.print({ status: "ok", latencyMs: Number(ms.toFixed(3)) }, () => `PONG (${ms.toFixed(1)} ms)\n`);
      return 0;
    },
  },
  {
    name: "info",
    usage: "info",
    summary: "The daemon's version, uptime, connections, database",
    async run(ctx) {
      const info = await ctx.client.serverInfo();
      ctx.print(info, () => keyValues(info));
      return 0;
    },
  },
  {
    name: "tools",
    usage: "tools",
    summary: "List the tools with their hints",
    async run(ctx) {
      const { tools } = (await ctx.client.request("tools/list", {})) as { tools: Array<{ name: string; description: string; annotations?: Record<string, boolean> }> };
      const rows = tools.map((t) => ({
        name: t.name,
        hints: [t.annotations?.readOnlyHint && "read-only", t.annotations?.idempotentHint && "idempotent", t.annotations?.destructiveHint && "destructive"].filter(Boolean).join(","),
        description: t.description.split(". ")[0],
      }));
      ctx.print(tools, () => table(rows, ["name", "hints", "description"]));
      return 0;
    },
  },
  {
    name: "call",
    usage: "call <tool> [key=value ...] | call <tool> [--json] '{...}'",
    summary: "Call any tool; values are JSON when they parse as JSON, text otherwise",
    options: { args: { value: "json", help: "All arguments as one JSON object" } },
    async run(ctx) {
      const tool = need(ctx, 0, "tool name");
      const rest = ctx.args.slice(1);
      // `call <tool> --json '{…}'`: the switch selects JSON output and the lone {…} is the arguments.
      const raw = ctx.opt("args") ?? (rest.length === 1 && rest[0]?.trimStart().startsWith("{") ? rest[0] : undefined);
      const args = raw === undefined ? pairsToObject(rest) : (parseValue(raw) as Record<string, unknown>);
      if (typeof args !== "object" || args === null || Array.isArray(args)) throw new UsageError("--args must be a JSON object");
      const payload = await ctx.client.call(tool, args);
      ctx.print(payload, () => JSON.stringify(payload, null, 2) + "\n");
      return 0;
    },
  },
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
    usage: "swarm status [swarmId]",
    summary: "A swarm's counts, metrics and agents",
    async run(ctx) {
      const s = await ctx.client.swarmStatus(ctx.args[0] ? { swarmId: ctx.args[0] } : {});
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
    options: { ...swarmOpt, name: { value: "name", help: "Agent name" }, caps: { value: "a,b", help: "Capabilities" } },
    async run(ctx) {
      const a = await ctx.client.agentSpawn({ type: need(ctx, 0, "agent type") as "coder", swarmId: ctx.opt("swarm"), name: ctx.opt("name"), capabilities: list(ctx.opt("caps")) });
      ctx.print(a, () => `${a.agentId}\n`);
      return 0;
    },
  },
  {
    name: "agent list",
    usage: "agent list [--swarm id] [--filter all|active|idle|busy|offline|terminated]",
    summary: "List agents with their measured metrics",
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
  {
    name: "task run",
    usage: 'task run "<description>" [--swarm id] [--caps a,b] [--priority p] [--parallel n] [--timeout s] [--wait]',
    summary: "Submit a task; with --wait, show its progress and print its result",
    options: {
      ...swarmOpt,
      caps: { value: "a,b", help: "Required capabilities" },
      priority: { value: "p", help: "low, medium, high or critical" },
      parallel: { value: "n", help: "Agents that each run it" },
      timeout: { value: "s", help: "Seconds an assignment may run without a report" },
      wait: { help: "Wait for the task to end (exit 1 if it fails)" },
    },
    async run(ctx) {
      const t = await ctx.client.taskOrchestrate({
        task: need(ctx, 0, "task description"),
        swarmId: ctx.opt("swarm"),
        requiredCapabilities: list(ctx.opt("caps")),
        priority: ctx.opt("priority") as "high" | undefined,
        maxAgents: num(ctx.opt("parallel"), "--parallel"),
        timeout: num(ctx.opt("timeout"), "--timeout"),
      });
      if (!ctx.flag("wait")) {
        ctx.print(t, () => `${t.taskId} ${t.status}${t.pendingReason ? ` (${t.pendingReason})` : ""}\n`);
        return 0;
      }
      const bar = progressBar(process.stderr);
      let view;
      do {
        view = await ctx.client.taskWait(
          { taskId: t.taskId, timeoutMs: 60_000 },
          { timeoutMs: 90_000, onProgress: (p) => bar.update((100 * p.progress) / (p.total ?? 100), p.message) },
        );
      } while (view.timedOut);
      bar.done();
      ctx.print(view, () => `${view.taskId} ${view.status}\n${JSON.stringify(view.result ?? view.error ?? null, null, 2)}\n`);
      return view.status === "completed" ? 0 : 1;
    },
  },
  {
    name: "task status",
    usage: "task status <taskId>",
    summary: "A task's status and assignments",
    async run(ctx) {
      const v = await ctx.client.taskStatus({ taskId: need(ctx, 0, "taskId") });
      ctx.print(v, () => {
        const { assignments, result, error, ...rest } = v;
        return keyValues({ ...rest, result, error }) + "\n" + table(assignments ?? [], ["assignmentId", "agentId", "attempt", "status", "progress"]);
      });
      return 0;
    },
  },
  {
    name: "task results",
    usage: "task results <taskId> [--format summary|detailed|raw]",
    summary: "A task's results",
    options: { format: { value: "format", help: "summary, detailed or raw" } },
    async run(ctx) {
      const r = await ctx.client.taskResults({ taskId: need(ctx, 0, "taskId"), format: (ctx.opt("format") ?? "summary") as "summary" });
      ctx.print(r, () => JSON.stringify(r, null, 2) + "\n");
      return 0;
    },
  },
  {
    name: "memory get",
    usage: "memory get <key> [--namespace ns]",
    summary: "Print a stored value (exit 1 when not found)",
    options: nsOpt,
    async run(ctx) {
      const r = await ctx.client.memoryRetrieve({ key: need(ctx, 0, "key"), namespace: ctx.opt("namespace") });
      ctx.print(r, () => (r.found ? JSON.stringify(r.value) + "\n" : "(nil)\n"));
      return r.found ? 0 : 1;
    },
  },
  {
    name: "memory set",
    usage: "memory set <key> <value> [--ttl seconds] [--namespace ns]",
    summary: "Store a value (JSON when it parses as JSON, else text)",
    options: { ...nsOpt, ttl: { value: "seconds", help: "Expire after this long" } },
    async run(ctx) {
      const r = await ctx.client.memoryStore({
        key: need(ctx, 0, "key"),
        value: parseValue(need(ctx, 1, "value")),
        namespace: ctx.opt("namespace"),
        ttl: num(ctx.opt("ttl"), "--ttl"),
      });
      ctx.print(r, () => `OK (version ${r.version})\n`);
      return 0;
    },
  },
  {
    name: "memory del",
    usage: "memory del <key> [--namespace ns]",
    summary: "Delete a key (prints 1 when it existed, 0 otherwise)",
    options: nsOpt,
    async run(ctx) {
      const r = await ctx.client.memoryDelete({ key: need(ctx, 0, "key"), namespace: ctx.opt("namespace") });
      ctx.print(r, () => `${r.deleted ? 1 : 0}\n`);
      return 0;
    },
  },
  {
    name: "memory search",
    usage: "memory search <pattern> [--namespace ns] [--in key|value|both]",
    summary: "Find entries by wildcard pattern (* and ?)",
    options: { ...nsOpt, in: { value: "where", help: "key, value or both" } },
    async run(ctx) {
      const r = await ctx.client.memorySearch({ pattern: need(ctx, 0, "pattern"), namespace: ctx.opt("namespace"), in: (ctx.opt("in") ?? "both") as "both" });
      ctx.print(r, () => table(r.entries.map((e) => ({ ...e, value: JSON.stringify(e.value) })), ["namespace", "key", "value"]));
      return 0;
    },
  },
];
