import { statSync } from "node:fs";
import type { Store } from "../store/db.js";
import { LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from "../protocol/mcp.js";
import { serverInfo } from "../protocol/tools/index.js";
import { bind, type ToolBinding } from "./registry.js";

/** Live facts about the running daemon, read at call time. */
export interface ServerFacts {
  readonly version: string;
  readonly startedAt: number;
  readonly store: Store;
  connections(): { open: number; total: number };
  requestsServed(): number;
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
      },
    })),
  ];
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
