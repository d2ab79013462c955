import { UsageError } from "./format.js";

export interface OptionSpec {
  /** Takes a value (`--swarm id`); otherwise a switch. */
  readonly value?: string;
  readonly help: string;
}

export interface ParsedArgs {
  readonly positionals: string[];
  readonly options: Map<string, string | true>;
}

/** `--name value`, `--name=value` and switches, in any order among positionals; `--` ends options. */
export function parseArgs(argv: readonly string[], spec: Readonly<Record<string, OptionSpec>>): ParsedArgs {
  const positionals: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("--") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const opt = spec[name];
    if (opt === undefined) throw new UsageError(`unknown option --${name}`);
    if (opt.value === undefined) {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`);
      options.set(name, true);
    } else if (eq !== -1) options.set(name, arg.slice(eq + 1));
    else if (i + 1 < argv.length) options.set(name, argv[++i] as string);
    else throw new UsageError(`--${name} needs a value (${opt.value})`);
  }
  return { positionals, options };
}
