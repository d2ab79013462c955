import { loadTokens, unprotectedRefusal, type TokenEntry } from "./protection.js";
import { configSchema, settings, type Config, type SettingKey } from "./settings.js";

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

export type CliCommand =
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "run"; config: Config }
  /** `swarmd restore <backup>`: put a backup in place of the database (`--db`), then exit. */
  | { kind: "restore"; backup: string; config: Config };

const settingByFlag = new Map<string, SettingKey>(
  (Object.keys(settings) as SettingKey[]).map((key) => [settings[key].flag, key]),
);

/**
 * Reads flags (`--port 9500`, `--port=9500`, `--stdio`, `--no-result-mirror`) over environment variables over
 * defaults. Throws ConfigError with one line a user can act on.
 */
export function parseCli(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): CliCommand {
  if (argv[0] === "restore") {
    const backup = argv[1];
    if (argv.includes("-h") || argv.includes("--help")) return { kind: "help" };
    if (backup === undefined || backup.startsWith("-")) throw new ConfigError("restore needs the backup file: swarmd restore <file> [--db <path>]");
    const parsed = parseSettings(argv.slice(2), env);
    if (parsed.kind !== "run") return parsed;
    // Only the database matters here: a restore listens on nothing, so listening rules (protected mode) do not apply.
    return { kind: "restore", backup, config: parsed.config };
  }
  const parsed = parseSettings(argv, env);
  return parsed.kind === "run" ? { kind: "run", config: Object.freeze(checkTogether(parsed.config)) } : parsed;
}

function parseSettings(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): CliCommand {
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
    const got = "secret" in s ? "" : `, got "${raw[key]}"`;
    const detail = "secret" in s ? ` (${parsed.error.issues[0]?.message})` : "";
    throw new ConfigError(`${source} must be ${s.expect}${got}${detail}`);
  }
  return { kind: "run", config: parsed.data };
}

/**
 * Rules that involve several settings. The tokens file is read here too, so that a bad one stops the start with its
 * name; the daemon reads it again when it starts and on SIGHUP (`loadTokens`), so the configuration keeps only the
 * tokens given as settings.
 */
function checkTogether(config: Config): Config {
  let tokens: TokenEntry[];
  try {
    tokens = loadTokens(config.authTokens, config.authTokensFile);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) {
    throw new ConfigError("TLS needs both a certificate and its key (SWARMD_TLS_CERT and SWARMD_TLS_KEY)");
  }
  if (config.outputSoftLimit > config.outputHardLimit) {
    throw new ConfigError("SWARMD_OUTPUT_SOFT_LIMIT must not exceed SWARMD_OUTPUT_HARD_LIMIT");
  }
  const refusal = unprotectedRefusal(config, tokens.length);
  if (refusal !== undefined) throw new ConfigError(refusal);
  return config;
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
       swarmd restore <backup-file> [--db <path>]   put a backup (server_backup, swarmctl backup) in place of the
                                                    database, keeping the one it replaces; swarmd must be stopped

Options override environment variables, which override defaults.

  ${"option".padEnd(widths[0] as number)}  ${"environment".padEnd(widths[1] as number)}  ${"default".padEnd(widths[2] as number)}  meaning
${table}
  -h, --help      Show this help and exit
  -V, --version   Print the version and exit

Signals:
  SIGTERM, SIGINT  let requests in flight finish (--shutdown-grace), close the database, exit 0
  SIGHUP           reopen the log file; read the tokens file and the TLS files again (open connections stay);
                   with none of them configured, SIGHUP ends the process as it does any program

Probe a running daemon:
  echo '{"jsonrpc":"2.0","id":1,"method":"ping","params":{}}' | nc 127.0.0.1 9500
`;
}
