import t, { type Test } from "tap";
import { LineClient } from "../scripts/line-client.js";
import { startDaemon } from "./helpers/daemon.js";
import { toolContracts } from "../src/protocol/tools/index.js";
import { SUPPORTED_PROTOCOL_VERSIONS } from "../src/protocol/mcp.js";

const { port, config } = await startDaemon(t);

async function client(t: Test, p = port): Promise<LineClient> {
  const c = await LineClient.connect(p);
  t.teardown(() => c.close());
  return c;
}

t.test("initialize echoes every supported version and offers the latest for anything else", async (t) => {
  for (const v of SUPPORTED_PROTOCOL_VERSIONS) {
    const c = await client(t);
    const r = (await c.request("initialize", { protocolVersion: v, clientInfo: { name: "t", version: "1" }, capabilities: {} })).result;
    t.equal(r.protocolVersion, v);
  }
  const semver = await client(t);
  const asObject = await semver.request("initialize", { protocolVersion: { major: 2024, minor: 11, patch: 5 }, capabilities: { tools: true } });
  t.equal(asObject.result.protocolVersion, "2024-11-05", "VisionFlow's {major, minor, patch} gets the revision it names");
  const odd: unknown[] = ["1.0.0", { major: 2099, minor: 1, patch: 1 }, { major: "2024" }, null, undefined, 42, "2099-01-01"];
  for (const v of odd) {
    const c = await client(t);
    const reply = await c.request("initialize", v === undefined ? {} : { protocolVersion: v, capabilities: { tools: true } });
    t.notOk(reply.error, `no error for ${JSON.stringify(v)}`);
    t.equal(reply.result.protocolVersion, "2025-11-25", `latest offered for ${JSON.stringify(v)}`);
  }
});

t.test("initialize describes the server with object capabilities", async (t) => {
  const c = await client(t);
  const r = (await c.request("initialize", { protocolVersion: "2024-11-05", clientInfo: { name: "visionflow", version: "0.1.0" } })).result;
  t.same(r.capabilities, { tools: { listChanged: false } });
  t.equal(r.serverInfo.name, "swarmd");
  t.match(r.serverInfo.version, /^\d+\.\d+\.\d+/);
  t.type(r.instructions, "string");
});

t.test("ping is a health status before initialize and exactly {} after", async (t) => {
  const c = await client(t);
  const before = (await c.request("ping")).result;
  t.same(Object.keys(before), ["status", "timestamp"]);
  t.equal(before.status, "ok");
  t.ok(Math.abs(before.timestamp - Date.now()) < 5000, "timestamp is now, in ms");
  await c.request("initialize", { protocolVersion: "2025-06-18" });
  c.send({ jsonrpc: "2.0", method: "notifications/initialized" });
  const afterText = c.texts.length;
  await c.request("ping", {}, "after");
  t.equal(c.texts.slice(afterText).find((l) => l.includes('"after"')), '{"jsonrpc":"2.0","id":"after","result":{}}');
});

t.test("requests are served without initialize (some clients never send it)", async (t) => {
  const c = await client(t);
  const r = await c.call("server_info");
  t.equal(r.result.structuredContent.name, "swarmd");
});

t.test("methods that do not exist are -32601 at once", async (t) => {
  const c = await client(t);
  for (const method of ["server/discover", "resources/list", "prompts/list", "tools/unknown"]) {
    t.equal((await c.request(method)).error.code, -32601, method);
  }
});

t.test("tools/list: every tool, property and array is described for strict clients", async (t) => {
  const c = await client(t);
  const { tools, nextCursor } = (await c.request("tools/list")).result;
  t.equal(nextCursor, undefined, "one page by default");
  t.same(
    tools.map((x: any) => x.name),
    toolContracts.map((x) => x.name),
  );
  for (const tool of tools) {
    t.ok(tool.description?.length > 20, `${tool.name} has a description`);
    t.equal(tool.inputSchema.type, "object", `${tool.name} input is an object schema`);
    t.notOk("$schema" in tool.inputSchema, "no $schema marker");
    t.type(tool.annotations, "object");
    walk(tool.inputSchema, `${tool.name}.input`);
    walk(tool.outputSchema, `${tool.name}.output`);
  }
  function walk(schema: any, where: string): void {
    if (schema.type === "array") {
      t.type(schema.items, "object", `${where} array has items`);
      walk(schema.items, `${where}[]`);
    }
    for (const [key, prop] of Object.entries<any>(schema.properties ?? {})) {
      t.ok(prop.description, `${where}.${key} has a description`);
      walk(prop, `${where}.${key}`);
    }
  }
});

t.test("tools/list pages with nextCursor; a bad cursor is -32602", async (t) => {
  const paged = await startDaemon(t, { SWARMD_TOOLS_PAGE_SIZE: "1" });
  const c = await client(t, paged.port);
  const names: string[] = [];
  let cursor: string | undefined;
  do {
    const r = (await c.request("tools/list", cursor ? { cursor } : {})).result;
    t.ok(r.tools.length <= 1);
    names.push(...r.tools.map((x: any) => x.name));
    cursor = r.nextCursor;
  } while (cursor);
  t.same(names, toolContracts.map((x) => x.name));
  for (const cursor of ["bogus", "", "dG9vbHM6OTk5", 5]) {
    const e = (await c.request("tools/list", { cursor })).error;
    t.equal(e.code, -32602, `cursor ${JSON.stringify(cursor)}`);
    t.equal(e.data.reason, "invalid_cursor");
  }
});

t.test("tools/call answers in the MCP envelope with the payload mirrored onto the result", async (t) => {
  const c = await client(t);
  const { result } = await c.call("server_info");
  const payload = JSON.parse(result.content[0].text);
  t.equal(result.content.length, 1);
  t.equal(result.content[0].type, "text");
  t.same(result.structuredContent, payload, "structuredContent is the text's JSON");
  for (const [key, value] of Object.entries(payload)) t.same(result[key], value, `result.${key} mirrors the payload`);
  t.equal(payload.database.path, config.db);
});

t.test("the mirror can be switched off", async (t) => {
  const bare = await startDaemon(t, { SWARMD_RESULT_MIRROR: "false" });
  const c = await client(t, bare.port);
  const { result } = await c.call("server_info");
  t.same(Object.keys(result).sort(), ["content", "structuredContent"]);
});

t.test("an unknown tool and bad arguments are -32602 with detail", async (t) => {
  const c = await client(t);
  const unknown = (await c.call("no_such_tool")).error;
  t.equal(unknown.code, -32602);
  t.equal(unknown.data.reason, "unknown_tool");
  t.equal(unknown.data.tool, "no_such_tool");
  t.match(unknown.message, /no_such_tool/);
  const noName = (await c.request("tools/call", { arguments: {} })).error;
  t.equal(noName.code, -32602);
  const notObject = (await c.request("tools/call", ["server_info"])).error;
  t.equal(notObject.code, -32602);
});

t.test("server_info reports live counts", async (t) => {
  const a = await client(t);
  const b = await client(t);
  await b.request("ping");
  const first = (await a.call("server_info")).result.structuredContent;
  t.ok(first.connections.open >= 2, "both connections counted");
  t.equal(first.pid, process.pid);
  t.equal(first.node, process.version);
  t.same(first.protocolVersions, [...SUPPORTED_PROTOCOL_VERSIONS]);
  await a.request("ping");
  await a.request("ping");
  const second = (await a.call("server_info")).result.structuredContent;
  t.ok(second.requestsServed >= first.requestsServed + 3, "the pings and the call were counted");
  t.ok(second.uptimeMs >= first.uptimeMs);
  b.close();
  await new Promise((r) => setTimeout(r, 100));
  const third = (await a.call("server_info")).result.structuredContent;
  t.equal(third.connections.open, second.connections.open - 1, "a closed connection is no longer counted");
});

t.test("the batch method runs items in order with one result or error each", async (t) => {
  const c = await client(t);
  const viaArray = await c.request("batch", [
    { method: "ping", params: {} },
    { method: "tools/call", params: { name: "server_info", arguments: {} } },
    { method: "nope" },
    { method: "initialize", params: {} },
    { method: "batch", params: [] },
    { method: "tools/call", params: { name: "missing" } },
    "junk",
  ]);
  const items = viaArray.result;
  t.equal(items.length, 7);
  t.equal(items[0].result.status, "ok");
  t.equal(items[1].result.structuredContent.name, "swarmd");
  t.equal(items[2].error.code, -32601);
  t.equal(items[3].error.code, -32600);
  t.equal(items[3].error.data.reason, "not_allowed_in_batch");
  t.equal(items[4].error.data.reason, "not_allowed_in_batch");
  t.equal(items[5].error.code, -32602);
  t.equal(items[6].error.code, -32600);
  const viaObject = await c.request("batch", { requests: [{ method: "ping" }] });
  t.equal(viaObject.result[0].result.status, "ok", "the {requests:[…]} form MCP SDK clients can send");
  const bad = await c.request("batch", { nope: 1 });
  t.equal(bad.error.code, -32602);
});

t.test("the batch method is bounded", async (t) => {
  const small = await startDaemon(t, { SWARMD_BATCH_MAX: "3" });
  const c = await client(t, small.port);
  t.equal((await c.request("batch", [{ method: "ping" }, { method: "ping" }, { method: "ping" }])).result.length, 3);
  const tooMany = (await c.request("batch", [{ method: "ping" }, { method: "ping" }, { method: "ping" }, { method: "ping" }])).error;
  t.equal(tooMany.code, -32003);
  t.same(tooMany.data, { reason: "batch_too_large", limit: 3, count: 4 });
});
