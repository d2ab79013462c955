import { resolve } from "node:path";
import { z } from "zod";

/**
 * Every daemon setting, declared once: where it comes from (environment name from the protocol document or
 * `SWARMD_*`, a flag), its zod schema with the default, and the help line. The schema, the `Config` type, the parser
 * and `swarmd --help` are all derived from this table.
 */
interface SettingSpec {
  readonly env: string;
  readonly flag: string;
  /** Placeholder for the value in --help; absent for boolean switches. */
  readonly metavar?: string;
  readonly schema: z.ZodType;
  readonly help: string;
  /** How the default reads in --help, with its unit. */
  readonly shownDefault: string;
  /** What a valid value looks like, for the one-line error. */
  readonly expect: string;
  readonly boolean?: true;
}

const MiB = 1024 * 1024;
const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
/** Durations are given in seconds (fractions allowed), as `AGENT_TIMEOUT` is, and held in milliseconds. */
const secondsAsMs = (defaultSeconds: number) =>
  z.coerce
    .number()
    .min(0)
    .max(24 * 3600 * 365)
    .default(defaultSeconds)
    .transform((s) => Math.round(s * 1000));
const flag = () => z.stringbool();
const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

export const settings = {
  port: {
    env: "MCP_TCP_PORT",
    flag: "--port",
    metavar: "<port>",
    schema: integer(0, 65535).default(9500),
    help: "TCP port to listen on (0 picks a free port)",
    shownDefault: "9500",
    expect: "an integer from 0 to 65535",
  },
  bind: {
    env: "SWARMD_BIND",
    flag: "--bind",
    metavar: "<addr>",
    schema: z.string().min(1).default("127.0.0.1"),
    help: "Address to listen on (0.0.0.0 for every interface)",
    shownDefault: "127.0.0.1",
    expect: "a host name or IP address",
  },
  db: {
    env: "SWARMD_DB",
    flag: "--db",
    metavar: "<path>",
    schema: z
      .string()
      .min(1)
      .default("./data/swarmd.db")
      .transform((p) => resolve(p)),
    help: "SQLite database file, resolved against the working directory",
    shownDefault: "./data/swarmd.db",
    expect: "a file path",
  },
  dbSync: {
    env: "SWARMD_DB_SYNC",
    flag: "--db-sync",
    metavar: "<mode>",
    schema: z.enum(["normal", "full"]).default("normal"),
    help: "SQLite synchronous mode: normal survives a process kill, full also a power loss",
    shownDefault: "normal",
    expect: "normal or full",
  },
  stdio: {
    env: "SWARMD_STDIO",
    flag: "--stdio",
    schema: flag().default(false),
    help: "Serve MCP on stdin/stdout (for hosts that launch servers) instead of TCP",
    shownDefault: "false",
    expect: "true or false",
    boolean: true,
  },
  logLevel: {
    env: "MCP_LOG_LEVEL",
    flag: "--log-level",
    metavar: "<level>",
    schema: z.enum(logLevels).default("info"),
    help: "Log level",
    shownDefault: "info",
    expect: logLevels.join(", "),
  },
  logFile: {
    env: "MCP_LOG_FILE",
    flag: "--log-file",
    metavar: "<path>",
    schema: z.string().min(1).optional(),
    help: "Append JSON logs to this file instead of stderr",
    shownDefault: "stderr",
    expect: "a file path",
  },
  maxMessageBytes: {
    env: "SWARMD_MAX_MESSAGE_BYTES",
    flag: "--max-message-bytes",
    metavar: "<bytes>",
    schema: integer(1024, 1024 * MiB).default(10 * MiB),
    help: "Largest request line accepted, in bytes",
    shownDefault: "10485760 (10 MiB)",
    expect: "an integer from 1024 to 1073741824",
  },
  idleTimeoutMs: {
    env: "SWARMD_IDLE_TIMEOUT",
    flag: "--idle-timeout",
    metavar: "<seconds>",
    schema: secondsAsMs(600),
    help: "Close a TCP connection idle this long with nothing in flight, in seconds (0 disables)",
    shownDefault: "600 s",
    expect: "a number of seconds ≥ 0",
  },
  batchMaxItems: {
    env: "SWARMD_BATCH_MAX",
    flag: "--batch-max",
    metavar: "<n>",
    schema: integer(1, 100_000).default(100),
    help: "Most items in one batch request",
    shownDefault: "100",
    expect: "an integer from 1 to 100000",
  },
  toolsPageSize: {
    env: "SWARMD_TOOLS_PAGE_SIZE",
    flag: "--tools-page-size",
    metavar: "<n>",
    schema: integer(1, 10_000).default(100),
    help: "Tools per tools/list page (nextCursor beyond)",
    shownDefault: "100",
    expect: "an integer from 1 to 10000",
  },
  resultMirror: {
    env: "SWARMD_RESULT_MIRROR",
    flag: "--result-mirror",
    schema: flag().default(true),
    help: "Mirror tool payload keys onto tools/call results for legacy clients",
    shownDefault: "true",
    expect: "true or false",
    boolean: true,
  },
  shutdownGraceMs: {
    env: "SWARMD_SHUTDOWN_GRACE",
    flag: "--shutdown-grace",
    metavar: "<seconds>",
    schema: secondsAsMs(10),
    help: "On SIGTERM, how long in-flight requests may finish before they are aborted, in seconds",
    shownDefault: "10 s",
    expect: "a number of seconds ≥ 0",
  },
} as const satisfies Record<string, SettingSpec>;

type Settings = typeof settings;
type SettingKey = keyof Settings;

const shape = Object.fromEntries(Object.entries(settings).map(([key, s]) => [key, s.schema])) as {
  [K in SettingKey]: Settings[K]["schema"];
};
export const configSchema = z.object(shape);
export type Config = Readonly<z.output<typeof configSchema>>;

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

export type CliCommand = { kind: "help" } | { kind: "version" } | { kind: "run"; config: Config };

const settingByFlag = new Map<string, SettingKey>(
  (Object.keys(settings) as SettingKey[]).map((key) => [settings[key].flag, key]),
);

/**
 * Reads flags (`--port 9500`, `--port=9500`, `--stdio`, `--no-result-mirror`) over environment variables over
 * defaults. Throws ConfigError with one line a user can act on.
 */
export function parseCli(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): CliCommand {
  const fromFlags = new Map<SettingKey, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "-h" || arg === "--help") return { kind: "help" };
    if (arg === "-V" || arg === "--version") return { kind: "version" };
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const negated = name.startsWith("--no-") ? settingByFlag.get("--" + name.slice(5)) : undefined;
    if (negated !== undefined && eq === -1 && isBoolean(negated)) {
      fromFlags.set(negated, "false");
      continue;
    }
    const key = settingByFlag.get(name);
    if (key === undefined) throw new ConfigError(`unknown option "${arg}" (see swarmd --help)`);
    if (eq !== -1) fromFlags.set(key, arg.slice(eq + 1));
    else if (isBoolean(key)) fromFlags.set(key, "true");
    else if (i + 1 < argv.length) fromFlags.set(key, argv[++i] as string);
    else throw new ConfigError(`option ${name} needs a value: ${settings[key].expect}`);
  }

  const raw: Record<string, string | undefined> = {};
  for (const key of Object.keys(settings) as SettingKey[]) {
    const fromEnv = env[settings[key].env];
    raw[key] = fromFlags.get(key) ?? (fromEnv === "" ? undefined : fromEnv);
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const key = parsed.error.issues[0]?.path[0] as SettingKey;
    const s = settings[key];
    const source = fromFlags.has(key) ? s.flag : s.env;
    throw new ConfigError(`${source} must be ${s.expect}, got "${raw[key]}"`);
  }
  return { kind: "run", config: Object.freeze(parsed.data) };
}

function isBoolean(key: SettingKey): boolean {
  return "boolean" in settings[key];
}

export function helpText(version: string): string {
  const rows = (Object.keys(settings) as SettingKey[]).map((key) => {
    const s = settings[key];
    const shown = "metavar" in s ? `${s.flag} ${s.metavar}` : s.shownDefault === "true" ? `--[no-]${s.flag.slice(2)}` : s.flag;
    return [shown, s.env, s.shownDefault, s.help];
  });
  const widths = [0, 1, 2].map((col) => Math.max(...rows.map((r) => (r[col] as string).length)));
  const table = rows
    .map((r) => "  " + r.slice(0, 3).map((cell, col) => cell.padEnd(widths[col] as number)).join("  ") + "  " + r[3])
    .join("\n");
  return `swarmd ${version} — MCP swarm daemon: newline-delimited JSON-RPC 2.0 on TCP (or stdio), state in SQLite

Usage: swarmd [options]

Options override environment variables, which override defaults.

  ${"option".padEnd(widths[0] as number)}  ${"environment".padEnd(widths[1] as number)}  ${"default".padEnd(widths[2] as number)}  meaning
${table}
  -h, --help      Show this help and exit
  -V, --version   Print the version and exit

Probe a running daemon:
  echo '{"jsonrpc":"2.0","id":1,"method":"ping","params":{}}' | nc 127.0.0.1 9500
`;
}
