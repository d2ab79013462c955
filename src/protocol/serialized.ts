/**
 * Payloads serialised ahead of time. A tools/call result carries its payload twice as JSON and once as a JSON string
 * (DESIGN §2); for a large payload that is read far more often than it changes (agent_list polled by dashboards),
 * keeping both texts of its unchanging parts saves the daemon re-serialising and re-escaping megabytes per call.
 */

/** A piece of JSON text: a string, or its UTF-8 bytes. */
export type Piece = string | Uint8Array;

/**
 * A payload of type T given as pieces of its JSON text and of that text in JSON string form (quotes included),
 * joined into bytes once, when the reply line is written. Bytes, not one string: a megabyte-sized reply assembled
 * from cached strings is flattened and UTF-8-encoded again on every write, which cost more than everything else
 * agent_list did.
 */
export class Serialized<T> {
  /** Only for type checking: the payload this text stands for. */
  declare readonly payload: T;

  constructor(
    readonly json: readonly Piece[],
    readonly quoted: readonly Piece[],
  ) {}
}

/** Pieces of text, joined into one buffer with a single allocation. */
export function joinBytes(pieces: readonly Piece[]): Buffer {
  let total = 0;
  for (const p of pieces) total += typeof p === "string" ? byteLength(p) : p.length;
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const p of pieces) {
    if (typeof p !== "string") {
      out.set(p, at);
      at += p.length;
    } else if (p.length <= SHORT) {
      at = writeShort(out, p, at);
    } else {
      at += out.write(p, at);
    }
  }
  return out;
}

/** Strings up to this long (numbers, punctuation) are measured and copied in JavaScript: a call into C++ costs more. */
const SHORT = 24;

function byteLength(text: string): number {
  if (text.length > SHORT) return Buffer.byteLength(text);
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return Buffer.byteLength(text);
  return text.length;
}

function writeShort(out: Buffer, text: string, at: number): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) return at + out.write(text.slice(i), at + i) + i;
    out[at + i] = c;
  }
  return at + text.length;
}

/** `text` as the inside of a JSON string (without the surrounding quotes). */
export function escapeJsonText(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

/**
 * The JSON text of a plain object cut at the members named by `holes` (dotted paths, in the order the object lists
 * them): n holes give n + 1 parts, and `parts[0] + v0 + parts[1] + v1 + …` is the object with those members set to
 * the JSON texts v0, v1, … Members whose value is undefined are left out, as JSON.stringify does.
 */
export function jsonTemplate(value: object, holes: readonly string[]): string[] {
  const parts: string[] = [];
  let text = "";
  const walk = (obj: object, prefix: string): void => {
    text += "{";
    let first = true;
    for (const [key, member] of Object.entries(obj)) {
      if (member === undefined) continue;
      text += (first ? "" : ",") + JSON.stringify(key) + ":";
      first = false;
      const path = prefix + key;
      if (holes.includes(path)) {
        if (holes[parts.length] !== path) throw new Error(`jsonTemplate: hole ${path} is not where the holes list it`);
        parts.push(text);
        text = "";
      } else if (typeof member === "object" && member !== null && holes.some((h) => h.startsWith(path + "."))) {
        walk(member, path + ".");
      } else {
        text += JSON.stringify(member);
      }
    }
    text += "}";
  };
  walk(value, "");
  if (parts.length !== holes.length) throw new Error(`jsonTemplate: ${holes.length - parts.length} of the holes are not in the value`);
  parts.push(text);
  return parts;
}
