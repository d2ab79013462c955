import { parseArgs } from "node:util";

/** An option of a developer script; each takes a value, `default` when it is not given. */
export interface ScriptOption {
  readonly default?: string;
  /** The value must be a number, above 0 unless `zero` allows 0. */
  readonly number?: boolean;
  readonly zero?: boolean;
  /** The value is a comma-separated list of these names. */
  readonly listOf?: readonly string[];
}

/**
 * The command line of `npm run <script> -- …`: `--help` prints `help` and exits 0; an unknown option, a missing value,
 * a number that is not one or a list item that does not exist prints one line and the help on stderr and exits 2 — not
 * a stack trace.
 */
export function scriptArgs<const O extends Record<string, ScriptOption>>(
  name: string,
  help: string,
  options: O,
  argv: readonly string[] = process.argv.slice(2),
): { readonly [K in keyof O]: O[K] extends { default: string } ? string : string | undefined } {
  const fail = (why: string): never => {
    process.stderr.write(`${name}: ${why}\n\n${help}`);
    process.exit(2);
  };
  let values: Record<string, string | boolean | undefined>;
  try {
    const spec = Object.fromEntries(Object.entries(options).map(([key, o]) => [key, { type: "string" as const, ...(o.default === undefined ? {} : { default: o.default }) }]));
    values = parseArgs({ args: [...argv], options: { ...spec, help: { type: "boolean" } } }).values;
  } catch (err) {
    return fail((err as Error).message.split("\n")[0] ?? String(err));
  }
  if (values.help === true) {
    process.stdout.write(help);
    process.exit(0);
  }
  for (const [key, o] of Object.entries(options)) {
    const value = values[key];
    if (typeof value === "string" && o.listOf !== undefined && value !== "") {
      const unknown = value.split(",").filter((item) => !o.listOf?.includes(item));
      if (unknown.length > 0) fail(`--${key}: no ${unknown.map((u) => JSON.stringify(u)).join(", ")}; choose from ${o.listOf.join(", ")}`);
    }
    if (!o.number || value === undefined) continue;
    const n = Number(value);
    if (typeof value !== "string" || value.trim() === "" || !Number.isFinite(n) || n < 0 || (n === 0 && !o.zero)) {
      fail(`--${key} must be a ${o.zero ? "non-negative" : "positive"} number, got ${JSON.stringify(value)}`);
    }
  }
  return values as never;
}
