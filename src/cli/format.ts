/** Output for people: aligned tables, key: value blocks, a progress bar; and the value syntax of key=value arguments. */

export function table(rows: ReadonlyArray<Record<string, unknown>>, columns: readonly string[]): string {
  if (rows.length === 0) return "(none)\n";
  const cells = rows.map((r) => columns.map((c) => cell(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => (row[i] as string).length)));
  const line = (values: readonly string[]): string => values.map((v, i) => v.padEnd(widths[i] as number)).join("  ").trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join("\n") + "\n";
}

/** The line that tells how to get the next page of a listing; nothing after the last page. */
export function nextPage(cursor: string | null): string {
  return cursor === null ? "" : `next page: --cursor ${cursor}\n`;
}

export function keyValues(obj: Record<string, unknown>, prefix = ""): string {
  let out = "";
  for (const [k, v] of Object.entries(obj)) {
    if (v !== null && typeof v === "object" && !Array.isArray(v)) out += keyValues(v as Record<string, unknown>, `${prefix}${k}.`);
    else out += `${prefix}${k}: ${cell(v)}\n`;
  }
  return out;
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return "-";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(2);
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

/** `key=value`: the value is JSON when it parses as JSON (10, true, {"a":1}, "quoted"), otherwise the text itself. */
export function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function pairsToObject(pairs: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`expected key=value, got "${pair}"`);
    out[pair.slice(0, eq)] = parseValue(pair.slice(eq + 1));
  }
  return out;
}

export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Redraws one line on a terminal; prints nothing when stderr is not one. */
export function progressBar(stream: NodeJS.WriteStream): { update(percent: number, message?: string): void; done(): void } {
  let drawn = false;
  return {
    update(percent, message) {
      if (!stream.isTTY) return;
      const p = Math.max(0, Math.min(100, Math.round(percent)));
      const filled = Math.round(p / 5);
      stream.write(`\r[${"#".repeat(filled)}${" ".repeat(20 - filled)}] ${String(p).padStart(3)}% ${message ?? ""}`.slice(0, (stream.columns ?? 80) - 1));
      drawn = true;
    },
    done() {
      if (drawn) stream.write("\n");
    },
  };
}
