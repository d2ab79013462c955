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

/**
 * `key: value` lines, nested objects as `outer.inner`. Numbers are shown as their names say: `…At` as a UTC time,
 * `…Ms` as a duration under the name without its unit, `bytes`/`…Bytes` as a size (--json prints the raw numbers).
 */
export function keyValues(obj: Record<string, unknown>, prefix = ""): string {
  let out = "";
  for (const [k, v] of Object.entries(obj)) {
    // A payload that gives a time both in seconds and as `…Ms` (avgCompletionTime) would print one name twice.
    if (`${k}Ms` in obj) continue;
    if (v !== null && typeof v === "object" && !Array.isArray(v)) out += keyValues(v as Record<string, unknown>, `${prefix}${k}.`);
    else out += `${prefix}${k.endsWith("Ms") ? k.slice(0, -2) : k}: ${typeof v === "number" ? byName(k, v) : cell(v)}\n`;
  }
  return out;
}

function byName(key: string, n: number): string {
  if (key.endsWith("At") && n > 0) return new Date(n).toISOString();
  if (key.endsWith("Ms")) return duration(n);
  if (key === "bytes" || key.endsWith("Bytes")) return size(n);
  return cell(n);
}

function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.floor(ms / 1000);
  const [d, h, m] = [Math.floor(s / 86_400), Math.floor((s % 86_400) / 3600), Math.floor((s % 3600) / 60)];
  const two = (x: number): string => String(x).padStart(2, "0");
  return d > 0 ? `${d}d ${two(h)}h ${two(m)}m` : h > 0 ? `${h}h ${two(m)}m ${two(s % 60)}s` : `${m}m ${two(s % 60)}s`;
}

function size(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let x = bytes;
  for (; x >= 1024 && i < units.length - 1; i++) x /= 1024;
  return i === 0 ? `${bytes} B` : `${x.toFixed(1)} ${units[i]}`;
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
export function progressBar(stream: NodeJS.WriteStream): { update(percent: number, message?: string): void; note(line: string): void; done(): void } {
  let drawn = false;
  return {
    /** A line of its own on the stream; the bar, if drawn, goes on below it at the next update. */
    note(line) {
      this.done();
      stream.write(`${line}\n`);
    },
    update(percent, message) {
      if (!stream.isTTY) return;
      const p = Math.max(0, Math.min(100, Math.round(percent)));
      const filled = Math.round(p / 5);
      stream.write(`\r[${"#".repeat(filled)}${" ".repeat(20 - filled)}] ${String(p).padStart(3)}% ${message ?? ""}`.slice(0, (stream.columns ?? 80) - 1));
      drawn = true;
    },
    done() {
      if (drawn) stream.write("\n");
      drawn = false;
    },
  };
}
