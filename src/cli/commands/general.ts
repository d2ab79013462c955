import { runBridge } from "../../client/bridge.js";
import { resolveClientOptions } from "../../client/options.js";
import { keyValues, pairsToObject, parseValue, progressBar, table, UsageError } from "../format.js";
import { type Command, need, num } from "./context.js";

/** Commands about the daemon itself, and `call` for any tool. */
export const general: readonly Command[] = [
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
    watchable: true,
    async run(ctx) {
      const info = await ctx.client.serverInfo();
      ctx.print(info, () => keyValues(info));
      return 0;
    },
  },
  {
    name: "backup",
    usage: "backup [name] [--overwrite]",
    summary: "Copy the database to a file on the daemon's host (put it back with swarmd restore)",
    options: { overwrite: { help: "Replace a backup of that name" } },
    interruptible: true,
    async run(ctx) {
      const bar = progressBar(process.stderr);
      const done = await ctx.client
        .serverBackup(
          { ...(ctx.args[0] === undefined ? {} : { name: ctx.args[0] }), overwrite: ctx.flag("overwrite") },
          // A large database takes a while to copy (progress shows it moving): ten minutes unless --timeout says.
          {
            ...(ctx.opt("timeout") === undefined ? { timeoutMs: 600_000 } : {}),
            signal: ctx.signal,
            onProgress: (p) => bar.update((100 * p.progress) / (p.total ?? 1), p.message),
          },
        )
        .finally(() => bar.done());
      ctx.print(done, () => `${done.path} (${(done.bytes / 1048576).toFixed(1)} MiB in ${done.durationMs} ms)\n`);
      return 0;
    },
  },
  {
    name: "bridge",
    usage: "bridge [--reconnect-for seconds]",
    summary: "Relay stdin and stdout to the daemon, for MCP hosts that launch servers as commands",
    options: { "reconnect-for": { value: "seconds", help: "How long to keep trying when the daemon goes away (default 60; 0: exit at once)" } },
    standalone: true,
    holdsConnection: true,
    async run(ctx) {
      const reconnectFor = num(ctx.opt("reconnect-for"), "--reconnect-for");
      if (reconnectFor !== undefined && reconnectFor < 0) throw new UsageError("--reconnect-for must be 0 or more seconds");
      await runBridge({
        client: resolveClientOptions(ctx.clientOptions),
        input: process.stdin,
        output: process.stdout,
        notice: (text) => process.stderr.write(`swarmctl bridge: ${text}\n`),
        ...(reconnectFor === undefined ? {} : { reconnectForMs: reconnectFor * 1000 }),
      });
      return 0;
    },
  },
  {
    name: "tools",
    usage: "tools",
    summary: "List the tools with their hints",
    async run(ctx) {
      const tools = await ctx.client.listTools();
      const rows = tools.map((t) => ({
        name: t.name,
        hints: [t.annotations?.readOnlyHint && "read-only", t.annotations?.idempotentHint && "idempotent", t.annotations?.destructiveHint && "destructive"].filter(Boolean).join(","),
        description: (t.description ?? "").split(". ")[0],
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
];
