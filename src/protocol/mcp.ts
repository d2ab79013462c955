/** MCP protocol versions swarmd speaks, oldest first; the last one is what we offer when a client asks for another. */
export const SUPPORTED_PROTOCOL_VERSIONS = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"] as const;

export type ProtocolVersion = (typeof SUPPORTED_PROTOCOL_VERSIONS)[number];

export const LATEST_PROTOCOL_VERSION: ProtocolVersion = "2025-11-25";

/**
 * Echo the client's version when we support it; otherwise offer our latest. Never an error: real clients send
 * `"1.0.0"` or even `{major, minor, patch}` objects (COMPAT.md).
 */
export function negotiateProtocolVersion(requested: unknown): ProtocolVersion {
  return typeof requested === "string" && (SUPPORTED_PROTOCOL_VERSIONS as readonly string[]).includes(requested)
    ? (requested as ProtocolVersion)
    : LATEST_PROTOCOL_VERSION;
}

/** Keys of a tools/call result that belong to the MCP envelope and therefore can never be payload keys. */
export const RESERVED_RESULT_KEYS = ["content", "structuredContent", "isError", "_meta"] as const;
