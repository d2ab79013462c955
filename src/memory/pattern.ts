/**
 * swarmd's search patterns: `*` matches any run of characters, `?` exactly one, everything else — `%` and `_`
 * included — matches itself. They translate to SQLite GLOB, whose only other metacharacter is `[`.
 */
export function toGlob(pattern: string): string {
  return pattern.replace(/\[/g, "[[]");
}

/** The literal text before the first wildcard. */
export function literalPrefix(pattern: string): string {
  const at = pattern.search(/[*?]/);
  return at === -1 ? pattern : pattern.slice(0, at);
}

/**
 * The key range holding exactly the keys that start with `prefix`, for an index seek: [prefix, prefix with its last
 * code point incremented). Code point order is SQLite's byte order for UTF-8. Undefined when there is no range to
 * seek (empty prefix, or one ending in U+10FFFF).
 */
export function prefixRange(prefix: string): { from: string; to: string } | undefined {
  if (prefix.length === 0) return undefined;
  const points = [...prefix];
  const last = (points.pop() as string).codePointAt(0) as number;
  if (last >= 0x10ffff) return undefined;
  const next = last === 0xd7ff ? 0xe000 : last + 1; // skip the surrogate range, which UTF-8 cannot hold
  return { from: prefix, to: points.join("") + String.fromCodePoint(next) };
}
