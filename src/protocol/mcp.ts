import { z } from "zod";

/** MCP protocol versions swarmd speaks, oldest first; the last one is what we offer when a client asks for another. */
export const SUPPORTED_PROTOCOL_VERSIONS = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"] as const;

export type ProtocolVersion = (typeof SUPPORTED_PROTOCOL_VERSIONS)[number];

export const LATEST_PROTOCOL_VERSION: ProtocolVersion = "2025-11-25";

/**
 * Echo the client's version when we support it; otherwise offer our latest. Never an error: real clients send
 * `"1.0.0"` or even `{major, minor, patch}` objects (COMPAT.md).
 */
export function negotiateProtocolVersion(requested: unknown): ProtocolVersion {
  const asked = typeof requested === "string" ? requested : dateOf(requested);
  return asked !== undefined && (SUPPORTED_PROTOCOL_VERSIONS as readonly string[]).includes(asked) ? (asked as ProtocolVersion) : LATEST_PROTOCOL_VERSION;
}

/** `{major: 2024, minor: 11, patch: 5}` means the 2024-11-05 revision: answered as that, in MCP's string form. */
function dateOf(v: unknown): string | undefined {
  const { major, minor, patch } = (typeof v === "object" && v !== null ? v : {}) as Record<string, unknown>;
  if (![major, minor, patch].every((n) => Number.isInteger(n))) return undefined;
  const two = (n: unknown): string => String(n).padStart(2, "0");
  return `${String(major)}-${two(minor)}-${two(patch)}`;
}

/** Keys of a tools/call result that belong to the MCP envelope and therefore can never be payload keys. */
export const RESERVED_RESULT_KEYS = ["content", "structuredContent", "isError", "_meta"] as const;

/** MCP tool annotations; the client retries only calls the server marks read-only or idempotent. */
export const toolAnnotations = z.object({
  title: z.string().optional(),
  readOnlyHint: z.boolean().optional(),
  destructiveHint: z.boolean().optional(),
  idempotentHint: z.boolean().optional(),
  openWorldHint: z.boolean().optional(),
});
export type ToolAnnotations = z.infer<typeof toolAnnotations>;

/**
 * A tool as tools/list describes it: what the daemon sends and what the client reads back. Loose, so that fields a
 * newer MCP revision adds (icons, _meta, …) reach the client's caller instead of being dropped.
 */
export const toolDefinition = z.looseObject({
  name: z.string(),
  title: z.string().optional(),
  description: z.string().optional(),
  inputSchema: z.record(z.string(), z.unknown()),
  outputSchema: z.record(z.string(), z.unknown()).optional(),
  annotations: toolAnnotations.optional(),
});
export type ToolDefinition = z.infer<typeof toolDefinition>;

/** One page of tools/list; `nextCursor` is there while more pages follow. */
export const toolsListPage = z.object({ tools: z.array(toolDefinition), nextCursor: z.string().optional() });
