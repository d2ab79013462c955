/**
 * The tools/call result envelope (DESIGN §2): MCP's `content` + `structuredContent`, plus the payload's top-level keys
 * mirrored onto the result for legacy clients that read `result.swarmId` directly.
 */
import type { Piece } from "./serialized.js";

/**
 * Builds the result's JSON text from the payload's JSON text, so the payload is serialised once however many times it
 * appears. `payloadJson` must be the JSON text of a plain object.
 */
export function envelopeJson(payloadJson: string, mirror: boolean): string {
  return (envelopePieces([payloadJson], [JSON.stringify(payloadJson)], mirror) as string[]).join("");
}

/**
 * The envelope's text in pieces, from the payload's JSON text in pieces and that text as a JSON string (see
 * Serialized), so a payload given as bytes is neither joined nor re-encoded here.
 */
export function envelopePieces(json: readonly Piece[], quoted: readonly Piece[], mirror: boolean): Piece[] {
  const head: Piece[] = ['{"content":[{"type":"text","text":', ...quoted, '}],"structuredContent":', ...json];
  const [first, ...rest] = json;
  // "{}" has no keys to mirror; otherwise splice the payload's members (and its closing brace) onto the envelope.
  if (!mirror || first === undefined || (rest.length === 0 && first.length <= 2)) return [...head, "}"];
  return [...head, ",", first.slice(1), ...rest];
}

/** The payload of a tools/call result: `structuredContent` when present, else the JSON in the first text block. */
export function payloadOf(result: unknown): unknown {
  if (typeof result !== "object" || result === null) return result;
  const r = result as { structuredContent?: unknown; content?: Array<{ type?: string; text?: string }> };
  if (typeof r.structuredContent === "object" && r.structuredContent !== null) return r.structuredContent;
  const first = Array.isArray(r.content) ? r.content[0] : undefined;
  if (first?.type === "text" && typeof first.text === "string") {
    try {
      return JSON.parse(first.text);
    } catch {
      return first.text;
    }
  }
  return result;
}
