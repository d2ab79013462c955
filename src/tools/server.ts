import { existsSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import type { ToolPayload } from "../protocol/contract.js";
import { rpcError } from "../protocol/errors.js";
import { LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from "../protocol/mcp.js";
import { serverBackup, serverInfo } from "../protocol/tools/index.js";
import { backupDatabase, listBackups } from "../store/backup.js";
import { fileStamp, unusedPath } from "../store/files.js";
import type { Store } from "../store/db.js";
import type { ToolContext } from "./context.js";
import { bind, type ToolBinding } from "./registry.js";

/** Live facts about the running daemon, read at call time. */
export interface ServerFacts {
  readonly version: string;
  readonly startedAt: number;
  readonly store: Store;
  /** Where server_backup writes. */
  readonly backupDir: string;
  connections(): { open: number; total: number };
  requestsServed(): number;
  writesRefused(): ToolPayload<typeof serverInfo>["database"]["writesRefused"];
  security(): ToolPayload<typeof serverInfo>["security"];
}

export function serverTools(facts: ServerFacts): ToolBinding[] {
  return [
    bind(serverInfo, () => ({
      name: "swarmd" as const,
      version: facts.version,
      pid: process.pid,
      node: process.version,
      startedAt: facts.startedAt,
      uptimeMs: Date.now() - facts.startedAt,
      protocolVersions: [...SUPPORTED_PROTOCOL_VERSIONS],
      latestProtocolVersion: LATEST_PROTOCOL_VERSION,
      connections: facts.connections(),
      requestsServed: facts.requestsServed(),
      database: {
        path: facts.store.path,
        schemaVersion: facts.store.schemaVersion,
        bytes: fileSize(facts.store.path),
        walBytes: facts.store.checkpointer.walBytes(),
        checkpoints: { ...facts.store.checkpointer.stats },
        writesRefused: facts.writesRefused(),
      },
      backups: { dir: facts.backupDir, ...listBackups(facts.backupDir) },
      security: facts.security(),
    })),
    bind(serverBackup, (args, ctx) => backup(facts, args.name ?? freeBackupName(facts.backupDir, new Date()), args.overwrite, ctx)),
  ];
}

/** Backups in flight, by daemon (store): one at a time each. */
const backingUp = new WeakSet<Store>();

async function backup(facts: ServerFacts, name: string, overwrite: boolean, ctx: ToolContext) {
  const path = join(facts.backupDir, name);
  if (backingUp.has(facts.store)) {
    throw rpcError("SERVER_ERROR", "A backup is already being written; try again when it has finished.", { reason: "backup_running" });
  }
  if (!overwrite && existsSync(path)) {
    throw rpcError("SERVER_ERROR", `A backup named ${name} exists; choose another name or pass overwrite: true.`, {
      reason: "backup_exists",
      name,
      path,
    });
  }
  backingUp.add(facts.store);
  let lastPercent = -1;
  try {
    const done = await backupDatabase(facts.store, path, {
      signal: ctx.signal,
      onProgress: ({ copiedPages, totalPages }) => {
        const percent = Math.floor((100 * copiedPages) / Math.max(1, totalPages));
        if (percent === lastPercent) return;
        lastPercent = percent;
        ctx.progress(copiedPages, totalPages, `${copiedPages} of ${totalPages} pages copied`);
      },
    });
    ctx.log.info({ path, bytes: done.bytes, durationMs: done.durationMs }, "database backed up");
    return { name, path, ...done, createdAt: Date.now() };
  } catch (err) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    const cause = (err as Error).message;
    ctx.log.warn({ path, err }, "backup failed");
    throw rpcError("SERVER_ERROR", `The backup to ${path} failed: ${cause}.`, { reason: "backup_failed", path, cause });
  } finally {
    backingUp.delete(facts.store);
  }
}

/** swarmd-20261129-034012.db (UTC), so names sort by time; a second backup within the second gets -2, and so on. */
function freeBackupName(dir: string, at: Date): string {
  const stamp = fileStamp(at);
  return basename(unusedPath((n) => join(dir, n === 1 ? `swarmd-${stamp}.db` : `swarmd-${stamp}-${n}.db`)));
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
