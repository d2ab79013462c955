/**
 * Ids must be echoed exactly, but JSON.parse rounds integers beyond 2^53 (a Rust client's u64 ids). For such ids we
 * read the id's source text from the line. Only called on that rare path, on text JSON.parse already accepted.
 */

/**
 * The JSON text a reply carries for a request's parsed `id`: a string or safe integer as JSON.stringify writes it, any
 * other number as the request wrote it. `index` is the request's place in a native batch, else -1.
 */
export function idText(id: string | number, line: string, index = -1): string {
  if (typeof id === "string") return JSON.stringify(id);
  if (Number.isSafeInteger(id)) return String(id);
  return rawIdMember(line, index < 0 ? 0 : arrayElementStart(line, index)) ?? JSON.stringify(id);
}

/** Source text of the `"id"` member of the object starting at `from` (the last one, as JSON.parse keeps). */
function rawIdMember(text: string, from = 0): string | undefined {
  let i = skipWs(text, from);
  if (text[i] !== "{") return undefined;
  i = skipWs(text, i + 1);
  let found: string | undefined;
  while (i < text.length && text[i] === '"') {
    const keyEnd = skipString(text, i);
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    i = skipWs(text, keyEnd);
    i = skipWs(text, i + 1); // past ':'
    const valueEnd = skipValue(text, i);
    if (key === "id") found = text.slice(i, valueEnd);
    i = skipWs(text, valueEnd);
    if (text[i] !== ",") break;
    i = skipWs(text, i + 1);
  }
  return found;
}

/** Offset where element `index` of the top-level array in `text` starts. */
function arrayElementStart(text: string, index: number): number {
  let i = skipWs(text, 0) + 1;
  for (let n = 0; n < index; n++) {
    i = skipValue(text, skipWs(text, i));
    i = skipWs(text, i) + 1; // past ','
  }
  return skipWs(text, i);
}

function skipWs(text: string, i: number): number {
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) break;
    i++;
  }
  return i;
}

function skipString(text: string, i: number): number {
  for (i++; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 92) i++;
    else if (c === 34) return i + 1;
  }
  return i;
}

/** End of the value starting at `i`; nesting is counted, not recursed, so depth costs nothing. */
function skipValue(text: string, i: number): number {
  const first = text[i];
  if (first === '"') return skipString(text, i);
  if (first !== "{" && first !== "[") {
    while (i < text.length && !",]} \t\r\n".includes(text[i] as string)) i++;
    return i;
  }
  let depth = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      i = skipString(text, i);
      continue;
    }
    if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") {
      depth--;
      if (depth === 0) return i + 1;
    }
    i++;
  }
  return i;
}
