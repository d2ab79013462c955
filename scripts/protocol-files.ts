import { errorCodes } from "../src/protocol/errors.js";
import { LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from "../src/protocol/mcp.js";
import { toolContracts } from "../src/protocol/tools/index.js";
import { describeTool } from "../src/tools/registry.js";
import { recordExamples } from "./examples.js";
import type { Entry } from "./transcript.js";

/**
 * Renders the published protocol/ folder from the code: one JSON file per tool, errors.json, example transcripts
 * recorded against a live daemon, and PROTOCOL.md. `npm run gen:protocol` writes it; the tests and
 * `gen:protocol -- --check` fail when the checked-in copy is stale.
 */
export async function renderProtocolFiles(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const contract of toolContracts) files.set(`tools/${contract.name}.json`, JSON.stringify(describeTool(contract), null, 2) + "\n");
  files.set("errors.json", renderErrors());
  const examples = await recordExamples();
  for (const [name, entries] of examples) files.set(`examples/${name}.ndjson`, entries.map((e) => JSON.stringify(e)).join("\n") + "\n");
  files.set("PROTOCOL.md", renderProtocolMd(examples));
  return files;
}

export function renderErrors(): string {
  const errors = Object.entries(errorCodes).map(([name, spec]) => ({ name, code: spec.code, message: spec.message, description: spec.description, reasons: spec.reasons }));
  return JSON.stringify({ errors }, null, 2) + "\n";
}

/** The first call of each tool in the examples, with its reply's payload (or error). */
function toolExamples(examples: Map<string, Entry[]>): Map<string, { args: unknown; reply: unknown; file: string }> {
  const found = new Map<string, { args: unknown; reply: unknown; file: string }>();
  for (const [file, entries] of examples) {
    entries.forEach((e, i) => {
      const m = e.msg as { method?: string; id?: unknown; params?: { name?: string; arguments?: unknown } } | undefined;
      if (e.dir !== ">" || m?.method !== "tools/call" || typeof m.params?.name !== "string" || found.has(m.params.name)) return;
      const reply = entries.slice(i + 1).find((r) => r.dir === "<" && r.conn === e.conn && (r.msg as { id?: unknown }).id === m.id)?.msg as
        | { result?: { structuredContent?: unknown }; error?: unknown }
        | undefined;
      if (reply?.result?.structuredContent !== undefined) found.set(m.params.name, { args: m.params.arguments, reply: reply.result.structuredContent, file });
    });
  }
  return found;
}

const block = (value: unknown): string => "```json\n" + JSON.stringify(value, null, 2) + "\n```";

function renderProtocolMd(examples: Map<string, Entry[]>): string {
  const byTool = toolExamples(examples);
  const missing = toolContracts.filter((c) => !byTool.has(c.name)).map((c) => c.name);
  if (missing.length > 0) throw new Error(`no example exchange for: ${missing.join(", ")} (add one to scripts/examples.ts)`);
  const errorRows = Object.entries(errorCodes)
    .map(([name, s]) => `| ${s.code} | \`${name}\` | ${s.description} | ${Object.keys(s.reasons).map((r) => `\`${r}\``).join(", ")} |`)
    .join("\n");
  const tools = toolContracts
    .map((c) => {
      const ex = byTool.get(c.name) as { args: unknown; reply: unknown; file: string };
      const hints = Object.entries(c.annotations).filter(([k, v]) => k !== "title" && v === true).map(([k]) => k.replace(/Hint$/, ""));
      return `### ${c.name}\n\n${c.description}${hints.length ? `\n\nHints: ${hints.join(", ")}.` : ""} Schemas: [tools/${c.name}.json](tools/${c.name}.json). From [examples/${ex.file}.ndjson](examples/${ex.file}.ndjson):\n\nArguments\n\n${block(ex.args)}\n\nPayload (\`structuredContent\`)\n\n${block(ex.reply)}\n`;
    })
    .join("\n");
  return `# The swarmd protocol

Generated from the code by \`npm run gen:protocol\`; do not edit. Values that differ from run to run are shown
normalised: generated ids as \`<swarm-1>\`, \`<agent-2>\`, …, times and sizes as \`0\` or \`"<volatile>"\`.

## Transport and framing

TCP (default port 9500; TLS when configured) or stdin/stdout with \`swarmd --stdio\`. UTF-8 JSON, one message per line,
terminated by \`\\n\`; \`\\r\\n\` and blank lines are tolerated. A line over the size limit (10 MiB by default) is answered
with a \`-32003\` error with \`id: null\` and \`data.reason: "message_too_large"\`; the rest of that line is discarded and the
connection goes on. A client may send its requests and then close its sending side: everything sent before is answered,
then the server closes. Replies are single-line JSON; requests on one connection run concurrently, so replies may come
out of order — ids pair them, echoed with their exact type and value.

## Lifecycle

\`initialize\` answers \`protocolVersion\` (the client's if it is one of ${SUPPORTED_PROTOCOL_VERSIONS.join(", ")}, otherwise
${LATEST_PROTOCOL_VERSION}), \`capabilities: {"tools":{"listChanged":false}}\`, \`serverInfo\` and \`instructions\`.
\`notifications/initialized\` is silent. Clients that never initialize are served as well. With tokens configured, a
connection authenticates with \`authenticate {token}\` or \`initialize\` \`params._meta["swarmd/token"]\` before anything but
\`initialize\`, \`ping\`, \`authenticate\` and notifications.

## ping

Before the server has answered \`initialize\` on a connection, \`ping\` returns \`{"status":"ok","timestamp":<ms>}\` (for
health probes such as \`nc\`). After it, the result is exactly \`{}\`, as MCP requires.

## tools/list and tools/call

\`tools/list\` returns every tool with its input and output JSON Schema (draft-07 vocabulary) and annotations
(\`readOnlyHint\`, \`idempotentHint\`, \`destructiveHint\`); \`nextCursor\` pages. \`tools/call {name, arguments}\` returns the
MCP envelope — \`content: [{type: "text", text: <payload as JSON>}]\` and \`structuredContent: <payload>\` — with the
payload's top-level keys mirrored onto the result for legacy clients. A request carrying \`params._meta.progressToken\`
receives \`notifications/progress\`; \`notifications/cancelled {requestId}\` aborts a request and suppresses its reply.

## batch

\`{"method":"batch","params":[{"method":…,"params":…},…]}\` (or \`"params":{"requests":[…]}\`) runs the items in order and
returns an array of \`{"result":…}\` or \`{"error":…}\`. At most 100 items by default; \`initialize\` and \`batch\` cannot be
items. Native JSON-RPC array batches are answered as the JSON-RPC 2.0 specification says.

## monitor

\`monitor\` (an admin token's, when tokens are configured) answers \`{"monitoring":true}\`; from then until it closes, the
connection is also sent \`notifications/monitor/request\` for every request served on any other connection: \`{at,
connection, remote, principal?, method, tool?, params?, outcome, ms}\`, where \`params\` are the request's parameters (a
tool's arguments) as JSON cut at 512 characters, never a token, and \`outcome\` is \`ok\`, \`cancelled\` or the error's
name. A monitor that reads too slowly loses events instead of holding the daemon; once it has caught up it is sent
\`notifications/monitor/dropped {count}\`. It may go on making requests; they are not shown to itself. It cannot be a
batch item. No other connection is ever sent these.

## Notifications the server sends

\`notifications/progress\`; to workers: \`notifications/task/assigned\` (an assignment), \`notifications/task/cancelled\`,
\`notifications/agent/message\`, \`notifications/agent/detached\`, \`notifications/agent/terminated\`; to monitors:
\`notifications/monitor/request\`, \`notifications/monitor/dropped\`.

## Errors

Errors are JSON-RPC errors with a one-sentence \`message\` and, where it helps, \`data.reason\` (see [errors.json](errors.json)).

| Code | Name | Meaning | \`data.reason\` |
| --- | --- | --- | --- |
${errorRows}

## Tools

${tools}`;
}
