import { parseValue, table } from "../format.js";
import { type Command, need, nsOpt, num } from "./context.js";

/** Memory, in the manner of redis-cli. */
export const memory: readonly Command[] = [
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
