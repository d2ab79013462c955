import { z } from "zod";
import { defineTool } from "../contract.js";

export const serverInfo = defineTool({
  name: "server_info",
  description:
    "Describe this swarmd process: version, uptime, supported MCP protocol versions, open connections, requests served, database path and pid. Every value is measured, none is a constant.",
  annotations: { title: "Server info", readOnlyHint: true, idempotentHint: true },
  input: z.object({}).describe("No arguments."),
  output: z.object({
    name: z.literal("swarmd").describe("Server name."),
    version: z.string().describe("swarmd version (package.json)."),
    pid: z.number().int().describe("Operating-system process id of the daemon."),
    node: z.string().describe("Node.js version running the daemon."),
    startedAt: z.number().int().describe("When the daemon started, in ms since the Unix epoch."),
    uptimeMs: z.number().int().describe("Milliseconds since the daemon started."),
    protocolVersions: z.array(z.string().describe("An MCP protocol version.")).describe("MCP protocol versions this server speaks."),
    latestProtocolVersion: z.string().describe("The version offered to clients that ask for one we do not speak."),
    connections: z
      .object({
        open: z.number().int().describe("Connections open right now (TCP and stdio)."),
        total: z.number().int().describe("Connections accepted since start."),
      })
      .describe("Client connections."),
    requestsServed: z.number().int().describe("JSON-RPC requests answered since start (batch items count one each)."),
    database: z
      .object({
        path: z.string().describe("Absolute path of the SQLite database file."),
        schemaVersion: z.number().int().describe("Number of the last applied schema migration."),
        bytes: z.number().int().describe("Size of the database file on disk."),
        walBytes: z.number().int().describe("Size of the write-ahead log file on disk."),
        checkpoints: z
          .object({
            mode: z.enum(["worker", "automatic"]).describe("worker: a worker thread checkpoints the WAL off the event loop; automatic: SQLite does, inside commits."),
            checkpoints: z.number().int().describe("Checkpoints that copied pages, since start."),
            framesCopied: z.number().int().describe("WAL frames copied into the database file, since start."),
            writePauses: z
              .number()
              .int()
              .describe("Times memory writes waited a moment for a checkpoint so the write-ahead log, past its size limit, could start over."),
            writePauseMs: z.number().int().describe("Milliseconds memory writes spent waiting for such checkpoints, in all."),
          })
          .describe("WAL checkpointing."),
        writesRefused: z
          .object({
            storage_full: z.number().int().describe("Requests refused since start because the database's disk was full."),
            storage_busy: z.number().int().describe("Requests refused since start because another process held the database's write lock."),
            lastAt: z.number().int().nullable().describe("When the last was refused, in ms since the Unix epoch; null when none was."),
          })
          .describe("Writes the database could not take (their requests answered storage_full or storage_busy)."),
      })
      .describe("The SQLite store."),
    backups: z
      .object({
        dir: z.string().describe("The backup directory (SWARMD_BACKUP_DIR) on the daemon's host."),
        count: z.number().int().describe("Backup files in it now."),
        newest: z
          .object({
            name: z.string().describe("File name."),
            bytes: z.number().int().describe("Size."),
            modifiedAt: z.number().int().describe("When it was written, in ms since the Unix epoch."),
          })
          .nullable()
          .describe("The most recently written backup; null when there is none."),
      })
      .describe("Backups, read from the backup directory at call time."),
    security: z
      .object({
        authentication: z.boolean().describe("Whether connections must authenticate with a token (tokens are configured)."),
        tls: z.enum(["off", "server", "mutual"]).describe("TCP served in the clear, over TLS, or over TLS with client certificates required."),
        tlsCertificateExpiresAt: z
          .number()
          .int()
          .nullable()
          .describe("When the certificate served now expires, in ms since the Unix epoch (it is read again on SIGHUP); null without TLS."),
      })
      .describe("Authentication and TLS as they are now."),
  }),
});

/** Backup names are file names in the backup directory, never paths. */
export const BACKUP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export const serverBackup = defineTool({
  name: "server_backup",
  description:
    "Write a consistent copy of the whole database (swarms, agents, tasks, memory) to a file in the daemon's backup directory, while the daemon goes on serving; copied in steps of a few milliseconds. swarmd restore <file> puts it back. Needs an admin token when tokens are configured.",
  annotations: { title: "Back up the database", readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  adminOnly: true,
  input: z
    .object({
      name: z
        .string()
        .regex(BACKUP_NAME, "a file name: letters, digits, '.', '_' and '-', starting with a letter or digit, at most 128")
        .optional()
        .describe("File name in the backup directory (SWARMD_BACKUP_DIR). Default: swarmd-<UTC date and time>.db."),
      overwrite: z.boolean().default(false).describe("Replace an existing backup of that name (otherwise -32000 backup_exists)."),
    })
    .describe("Where to write the backup."),
  output: z.object({
    name: z.string().describe("File name of the backup."),
    path: z.string().describe("Absolute path of the backup file on the daemon's host."),
    bytes: z.number().int().describe("Size of the backup file."),
    pages: z.number().int().describe("Database pages copied."),
    durationMs: z.number().int().describe("Milliseconds the copy took, start to finish."),
    createdAt: z.number().int().describe("When the backup was complete, in ms since the Unix epoch."),
  }),
});
