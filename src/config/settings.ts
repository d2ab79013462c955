import { resolve } from "node:path";
import { z } from "zod";
import { protectionSettings } from "./protection.js";
import { MiB, flag, integer, logLevels, secondsAsMs, type SettingSpec } from "./spec.js";

/**
 * Every daemon setting, declared once (see SettingSpec). The schema, the `Config` type, the parser and
 * `swarmd --help` are all derived from this table.
 */
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
  walLimitMb: {
    env: "SWARMD_WAL_LIMIT_MB",
    flag: "--wal-limit-mb",
    metavar: "<MiB>",
    schema: integer(1, 1024 * 1024).default(64),
    help: "Write-ahead log size past which writes wait a moment for a checkpoint, so the log can start over",
    shownDefault: "64 MiB",
    expect: "an integer from 1 to 1048576",
  },
  dbLockWaitMs: {
    env: "SWARMD_DB_LOCK_WAIT",
    flag: "--db-lock-wait",
    metavar: "<seconds>",
    schema: secondsAsMs(30),
    help: "How long to wait for a database that another swarmd holds or another process has locked, in seconds (0: fail at once)",
    shownDefault: "30 s",
    expect: "a number of seconds ≥ 0",
  },
  backupDir: {
    env: "SWARMD_BACKUP_DIR",
    flag: "--backup-dir",
    metavar: "<path>",
    schema: z
      .string()
      .min(1)
      .optional()
      .transform((p) => (p === undefined ? undefined : resolve(p))),
    help: "Directory server_backup (swarmctl backup) writes to; default: backups/ beside the database",
    shownDefault: "<db dir>/backups",
    expect: "a directory path",
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
  logFormat: {
    env: "SWARMD_LOG_FORMAT",
    flag: "--log-format",
    metavar: "<format>",
    schema: z.enum(["auto", "json", "pretty"]).default("auto"),
    help: "json lines, pretty lines, or auto: pretty when stderr is a terminal",
    shownDefault: "auto",
    expect: "auto, json or pretty",
  },
  httpPort: {
    env: "SWARMD_HTTP_PORT",
    flag: "--http-port",
    metavar: "<port>",
    schema: integer(0, 65535).default(9501),
    help: "HTTP port for /health, /ready and /metrics on the same address (0 disables; off in stdio mode)",
    shownDefault: "9501",
    expect: "an integer from 0 to 65535",
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
  maxAgents: {
    env: "MAX_AGENTS",
    flag: "--max-agents",
    metavar: "<n>",
    schema: integer(1, 100_000).default(20),
    help: "Most agents (not terminated) across every swarm; no swarm's maxAgents may exceed it",
    shownDefault: "20",
    expect: "an integer from 1 to 100000",
  },
  agentTimeoutMs: {
    env: "AGENT_TIMEOUT",
    flag: "--agent-timeout",
    metavar: "<seconds>",
    schema: secondsAsMs(300).refine((ms) => ms > 0, "must be positive"),
    help: "How long an assignment may run without a progress report, in seconds (tasks may set their own)",
    shownDefault: "300 s",
    expect: "a number of seconds > 0",
  },
  memoryMaxKeyBytes: {
    env: "SWARMD_MEMORY_MAX_KEY_BYTES",
    flag: "--memory-max-key-bytes",
    metavar: "<bytes>",
    schema: integer(1, 64 * 1024).default(512),
    help: "Longest memory key, in bytes",
    shownDefault: "512",
    expect: "an integer from 1 to 65536",
  },
  memoryMaxNamespaceBytes: {
    env: "SWARMD_MEMORY_MAX_NAMESPACE_BYTES",
    flag: "--memory-max-namespace-bytes",
    metavar: "<bytes>",
    schema: integer(1, 64 * 1024).default(128),
    help: "Longest memory namespace, in bytes",
    shownDefault: "128",
    expect: "an integer from 1 to 65536",
  },
  memoryMaxValueBytes: {
    env: "SWARMD_MEMORY_MAX_VALUE_BYTES",
    flag: "--memory-max-value-bytes",
    metavar: "<bytes>",
    schema: integer(1, 512 * MiB).default(MiB),
    help: "Largest memory value (its JSON), in bytes",
    shownDefault: "1048576 (1 MiB)",
    expect: "an integer from 1 to 536870912",
  },
  memoryCacheMb: {
    env: "SWARMD_MEMORY_CACHE_MB",
    flag: "--memory-cache-mb",
    metavar: "<MiB>",
    schema: integer(0, 1024 * 1024).default(64),
    help: "Memory for recently used memory entries, answered without reading SQLite; 0 turns the cache off",
    shownDefault: "64 MiB",
    expect: "an integer from 0 to 1048576",
  },
  taskRetentionMs: {
    env: "SWARMD_TASK_RETENTION",
    flag: "--task-retention",
    metavar: "<seconds>",
    schema: secondsAsMs(0),
    help: "Delete finished tasks (with their phases and assignments) and destroyed swarms (with their agents) this many seconds after they ended (0: keep them)",
    shownDefault: "0 (kept)",
    expect: "a number of seconds ≥ 0",
  },
  memorySweepIntervalMs: {
    env: "SWARMD_MEMORY_SWEEP_INTERVAL",
    flag: "--memory-sweep-interval",
    metavar: "<seconds>",
    schema: secondsAsMs(1).refine((ms) => ms > 0, "must be positive"),
    help: "How often expired memory entries are deleted, in seconds (they are never returned meanwhile)",
    shownDefault: "1 s",
    expect: "a number of seconds > 0",
  },
  ...protectionSettings,
} as const satisfies Record<string, SettingSpec>;

type Settings = typeof settings;
export type SettingKey = keyof Settings;

const shape = Object.fromEntries(Object.entries(settings).map(([key, s]) => [key, s.schema])) as {
  [K in SettingKey]: Settings[K]["schema"];
};
export const configSchema = z.object(shape);
export type Config = Readonly<z.output<typeof configSchema>>;
