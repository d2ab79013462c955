import { nextPage, parseValue, table } from "../format.js";
import { type Command, type CommandContext, need, nsOpt, num, pageOpts } from "./context.js";

/** Listings cover every namespace unless one is named. */
const everyNamespace = { namespace: { value: "ns", help: "Only this namespace (default: every namespace)" } };

const page = (ctx: CommandContext): { limit: number | undefined; cursor: string | undefined } => ({
  limit: num(ctx.opt("limit"), "--limit"),
  cursor: ctx.opt("cursor"),
});

/** Memory, in the manner of redis-cli. */
export const memory: readonly Command[] = [
  {
    name: "memory get",
    usage: "memory get <key> [--namespace ns] [--raw]",
    summary: "Print a stored value as JSON (exit 1 when not found)",
    watchable: true,
    options: { ...nsOpt, raw: { help: "Print a text value as it is (what memory set - read), without quotes" } },
    async run(ctx) {
      const r = await ctx.client.memoryRetrieve({ key: need(ctx, 0, "key"), namespace: ctx.opt("namespace") });
      const shown = (): string => (typeof r.value === "string" && ctx.flag("raw") ? r.value : JSON.stringify(r.value) + "\n");
      ctx.print(r, () => (r.found ? shown() : "(nil)\n"));
      return r.found ? 0 : 1;
    },
  },
  {
    name: "memory set",
    usage: "memory set <key> <value | -> [--ttl seconds] [--namespace ns]",
    summary: "Store a value (JSON when it parses as JSON, else text; - reads it from standard input)",
    options: { ...nsOpt, ttl: { value: "seconds", help: "Expire after this long" } },
    async run(ctx) {
      const key = need(ctx, 0, "key");
      const given = need(ctx, 1, "value");
      const r = await ctx.client.memoryStore({
        key,
        value: parseValue(given === "-" ? await ctx.readInput() : given),
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
    name: "memory list",
    usage: "memory list [prefix] [--namespace ns] [--limit n] [--cursor c]",
    summary: "List keys with their sizes, versions and expiry times, a page at a time",
    watchable: true,
    options: { ...everyNamespace, ...pageOpts("Entries", 100) },
    async run(ctx) {
      const r = await ctx.client.memoryList({ prefix: ctx.args[0], namespace: ctx.opt("namespace"), ...page(ctx) });
      const rows = r.entries.map((e) => ({ ...e, expires: e.expiresAt === null ? null : new Date(e.expiresAt).toISOString() }));
      ctx.print(r, () => table(rows, ["namespace", "key", "size", "version", "expires"]) + nextPage(r.nextCursor));
      return 0;
    },
  },
  {
    name: "memory search",
    usage: "memory search <pattern> [--namespace ns] [--in key|value|both] [--limit n] [--cursor c]",
    summary: "Find entries by wildcard pattern (* and ?)",
    watchable: true,
    options: { ...everyNamespace, in: { value: "where", help: "key, value or both (default both)" }, ...pageOpts("Entries", 100) },
    async run(ctx) {
      const r = await ctx.client.memorySearch({
        pattern: need(ctx, 0, "pattern"),
        namespace: ctx.opt("namespace"),
        in: (ctx.opt("in") ?? "both") as "both",
        ...page(ctx),
      });
      const rows = r.entries.map((e) => ({ ...e, value: JSON.stringify(e.value) }));
      ctx.print(r, () => table(rows, ["namespace", "key", "value"]) + nextPage(r.nextCursor));
      return 0;
    },
  },
];
