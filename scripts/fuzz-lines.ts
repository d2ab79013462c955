import fc from "fast-check";
import type { LineClient } from "./line-client.js";

/**
 * Random input for the daemon, and the oracle that judges its replies: what a hostile or broken client might send
 * (bytes, broken JSON, odd JSON-RPC, odd ids, deep nesting, __proto__ keys, huge numbers, tool calls with arguments of
 * any shape), and JSON-RPC 2.0's rules for how many replies each line gets. Shared by test/fuzz.test.ts and
 * scripts/fuzz.ts.
 */

const METHODS = ["initialize", "ping", "tools/list", "tools/call", "batch", "authenticate", "notifications/cancelled", "notifications/initialized", "nope", "constructor", "__proto__"];

/** Ids of every kind, including ones JSON.parse cannot hold exactly. */
const idText = fc.oneof(
  fc.integer().map(String),
  fc.string({ maxLength: 12 }).map((s) => JSON.stringify(s)),
  fc.constantFrom("null", "0", "-0", "1.5", "1e400", "12345678901234567890", "-98765432109876543210", "true", "{}", "[1]"),
);

const deep = fc.integer({ min: 1, max: 20_000 }).map((n) => "[".repeat(n) + "]".repeat(n));
const oddValue = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  deep,
  fc.constantFrom('{"__proto__":{"polluted":true}}', '{"constructor":{"prototype":{"polluted":true}}}', "1e400", "-1e400", "123456789012345678901234567890", '"\\ud800"'),
);

function request(toolNames: readonly string[]): fc.Arbitrary<string> {
  const method = fc.oneof(fc.constantFrom(...METHODS).map((m) => JSON.stringify(m)), oddValue);
  const params = fc.oneof(
    oddValue,
    fc.record({ name: fc.constantFrom(...toolNames), args: fc.dictionary(fc.string({ maxLength: 12 }), oddValue, { maxKeys: 4 }) }).map(
      ({ name, args }) => `{"name":${JSON.stringify(name)},"arguments":{${Object.entries(args).map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}}`,
    ),
  );
  return fc
    .record(
      { jsonrpc: fc.oneof(fc.constant('"2.0"'), oddValue), id: idText, method, params },
      { requiredKeys: [] },
    )
    .map((r) => "{" + Object.entries(r).map(([k, v]) => `"${k}":${v}`).join(",") + "}");
}

/** One line (without its newline), as bytes. */
export function lineArbitrary(toolNames: readonly string[]): fc.Arbitrary<Buffer> {
  const text = fc.oneof(
    { weight: 5, arbitrary: request(toolNames) },
    { weight: 2, arbitrary: fc.array(request(toolNames), { maxLength: 5 }).map((items) => "[" + items.join(",") + "]") },
    { weight: 2, arbitrary: fc.json() },
    { weight: 1, arbitrary: fc.string({ maxLength: 80 }) },
  );
  const bytes = fc.uint8Array({ maxLength: 120 }).map((b) => Buffer.from(b));
  return fc.oneof({ weight: 8, arbitrary: text.map((t) => Buffer.from(t, "utf8")) }, { weight: 2, arbitrary: bytes }).map((b) => Buffer.from(b.filter((x) => x !== 10)));
}

/** How many reply lines JSON-RPC 2.0 owes for `line` (batches answer in one line). */
export function expectedReplies(line: Buffer, batchMax: number): number {
  let text = line.toString("utf8");
  if (text.endsWith("\r")) text = text.slice(0, -1);
  if (/^[ \t\r]*$/.test(text)) return 0; // JSON whitespace only: a blank line
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 1;
  }
  if (!Array.isArray(value)) return owes(value);
  if (value.length === 0 || value.length > batchMax) return 1;
  return value.some((v) => owes(v) === 1) ? 1 : 0;
}

function owes(v: unknown): 0 | 1 {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return 1;
  const m = v as Record<string, unknown>;
  if (m.method === undefined && m.id !== undefined && ("result" in m || "error" in m)) return 0;
  if (m.id !== undefined) return 1;
  const params = m.params;
  const valid = m.jsonrpc === "2.0" && typeof m.method === "string" && (params === undefined || (typeof params === "object" && params !== null));
  return valid ? 0 : 1;
}

/** Problems with one reply line: it must be a well-formed JSON-RPC response (or, for a batch, an array of them). */
export function replyProblems(text: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return [`not JSON: ${text.slice(0, 80)}`];
  }
  const items = Array.isArray(value) ? value : [value];
  if (items.length === 0) return ["an empty array"];
  return items.flatMap((r) => {
    const m = r as Record<string, any>;
    const problems: string[] = [];
    if (typeof m !== "object" || m === null) return ["not an object"];
    if (m.jsonrpc !== "2.0") problems.push("jsonrpc is not 2.0");
    if (!("id" in m) || !(m.id === null || typeof m.id === "string" || typeof m.id === "number")) problems.push("bad id");
    if (("result" in m) === ("error" in m)) problems.push("not exactly one of result and error");
    if ("error" in m && (!Number.isInteger(m.error?.code) || typeof m.error?.message !== "string")) problems.push("malformed error");
    if (m.error?.code === -32603) problems.push(`internal error: ${m.error.message}`);
    return problems;
  });
}

/** A wrong value for a JSON Schema property, by its type: the daemon must answer -32602, never act or crash. */
export function wrongValueFor(schema: { type?: string | string[]; enum?: unknown[]; anyOf?: unknown[] }): unknown {
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (schema.enum) return "not-one-of-them";
  switch (type) {
    case "string":
      return 12345;
    case "number":
    case "integer":
      return "NaN";
    case "boolean":
      return "yes";
    case "array":
      return { not: "an array" };
    case "object":
      return "not an object";
    default:
      return undefined;
  }
}

/** Longest wait, after the sentinel's reply, for replies still owed. */
const OWED_REPLY_WAIT_MS = 10_000;

/**
 * Sends one line followed by a sentinel ping and judges what came back for the line: the number of replies JSON-RPC
 * owes it, each well-formed. Replies to work that finishes after the sentinel's (a write committing on the next turn,
 * a backup) are waited for, up to OWED_REPLY_WAIT_MS. Returns the problems found, none when all is well.
 */
export async function judgeLine(c: LineClient, line: Buffer, sentinelId: string, batchMax = 100): Promise<{ replies: string[]; problems: string[] }> {
  const before = c.texts.length;
  c.write(Buffer.concat([line, Buffer.from(`\n{"jsonrpc":"2.0","id":"${sentinelId}","method":"ping"}\n`)]));
  await c.reply(sentinelId, 10_000);
  const owed = expectedReplies(line, batchMax);
  const others = (): string[] => c.texts.slice(before).filter((l) => !l.includes(`"${sentinelId}"`));
  // Requests run concurrently, so a slow tool's reply may follow the sentinel's: server_backup starts a worker thread
  // and copies the database (100 ms idle, more on a busy machine). The wait ends as soon as all owed replies are in.
  const deadline = Date.now() + OWED_REPLY_WAIT_MS;
  while (others().length < owed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  const replies = others();
  const problems = replies.flatMap(replyProblems);
  if (replies.length !== owed) problems.unshift(`got ${replies.length} replies, owed ${owed}`);
  return { replies, problems };
}
