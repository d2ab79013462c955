import { LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from "../protocol/mcp.js";
import { serverInfo } from "../protocol/tools/index.js";
import { bind, type ToolBinding } from "./registry.js";

/** Live facts about the running daemon, read at call time. */
export interface ServerFacts {
  readonly version: string;
  readonly startedAt: number;
  readonly dbPath: string;
  readonly schemaVersion: number;
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
      database: { path: facts.dbPath, schemaVersion: facts.schemaVersion },
    })),
  ];
}
