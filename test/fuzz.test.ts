import fc from "fast-check";
import t from "tap";
import { judgeLine, lineArbitrary, wrongValueFor } from "../scripts/fuzz-lines.js";
import { toolContracts } from "../src/protocol/tools/index.js";
import { LineFramer } from "../src/transport/framing.js";
import { LineClient } from "../scripts/line-client.js";
import { startDaemon } from "./helpers/daemon.js";

// Property-based tests: the framer against a model, and the live daemon against JSON-RPC 2.0's rules for random
// input. Every line gets exactly the replies it is owed, each well-formed; nothing crashes or is polluted.

t.test("the framer equals a model of newline framing for any bytes in any chunks", async (t) => {
  const model = (bytes: Buffer, max: number): string[] => {
    const out: string[] = [];
    let start = 0;
    for (let i = 0; i <= bytes.length; i++) {
      if (i < bytes.length && bytes[i] !== 10) continue;
      const part = bytes.subarray(start, i);
      start = i + 1;
      if (i === bytes.length && part.length === 0) break;
      if (part.length > max) {
        out.push("<oversize>");
        continue;
      }
      let text = part.toString("utf8");
      if (text.endsWith("\r")) text = text.slice(0, -1);
      if (!/^[ \t\r]*$/.test(text)) out.push(text);
    }
    return out;
  };
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 20 }), fc.integer({ min: 4, max: 32 }), fc.boolean(), (chunks, max, newlines) => {
      const data = chunks.map((c) => Buffer.from(newlines ? c.map((b) => (b % 7 === 0 ? 10 : b)) : c));
      const out: string[] = [];
      const framer = new LineFramer(max, { line: (l) => out.push(l), oversize: () => out.push("<oversize>") });
      for (const chunk of data) framer.push(chunk);
      framer.end();
      t.same(out, model(Buffer.concat(data), max));
    }),
    { numRuns: 500 },
  );
});

t.test("random lines: every line gets exactly the replies JSON-RPC owes it, each well-formed, and the daemon lives", async (t) => {
  const { port } = await startDaemon(t);
  const c = await LineClient.connect(port);
  t.teardown(() => c.close());
  const names = toolContracts.map((x) => x.name).filter((n) => n !== "task_wait" && n !== "task_claim");
  let sentinel = 0;
  let checked = 0;
  await fc.assert(
    fc.asyncProperty(lineArbitrary(names), async (line) => {
      const { replies, problems } = await judgeLine(c, line, `sentinel-${++sentinel}`);
      if (problems.length > 0) throw new Error(`${JSON.stringify(line.toString("utf8"))}: ${problems.join("; ")} — ${replies.join(" | ")}`);
      checked++;
    }),
    { numRuns: 400 },
  );
  t.equal(checked, 400, "400 random lines judged");
  t.equal(({} as Record<string, unknown>).polluted, undefined, "Object.prototype was not polluted");
  t.equal((await c.request("ping")).result !== undefined, true, "the daemon still answers");
});

t.test("every property of every tool with a wrong type is -32602 naming it, and changes nothing", async (t) => {
  const { port } = await startDaemon(t);
  const c = await LineClient.connect(port);
  t.teardown(() => c.close());
  await c.call("memory_store", { key: "kept", value: { a: 1 } });
  await c.call("swarm_init", { name: "kept" });
  const snapshot = async () => [
    (await c.call("memory_list", { includeValues: true, limit: 1000 })).result.structuredContent.entries,
    (await c.call("swarm_list", {})).result.structuredContent.swarms,
    (await c.call("agent_list", { filter: "all" })).result.structuredContent.agents.length,
    (await c.call("task_list", {})).result.structuredContent.tasks.length,
  ];
  const before = await snapshot();
  const { tools } = (await c.request("tools/list")).result as { tools: Array<{ name: string; inputSchema: { properties?: Record<string, any> } }> };
  let cases = 0;
  for (const tool of tools) {
    for (const [property, schema] of Object.entries(tool.inputSchema.properties ?? {})) {
      const wrong = wrongValueFor(schema.anyOf?.[0] ?? schema);
      if (wrong === undefined) continue;
      const reply = await c.call(tool.name, { [property]: wrong });
      t.equal(reply.error?.code, -32602, `${tool.name}.${property} = ${JSON.stringify(wrong)}`);
      cases++;
    }
  }
  t.ok(cases > 60, `${cases} wrong-typed properties`);
  t.same(await snapshot(), before, "stored data is unchanged");
});

t.test("pathological values: 100,000 levels of nesting, __proto__ keys, numbers beyond doubles", async (t) => {
  const { port } = await startDaemon(t);
  const c = await LineClient.connect(port);
  t.teardown(() => c.close());
  const deep = "[".repeat(100_000) + "]".repeat(100_000);
  c.write(`{"jsonrpc":"2.0","id":"deep","method":"tools/call","params":{"name":"memory_store","arguments":{"key":"d","value":${deep}}}}\n`);
  const tooDeep = (await c.reply("deep")).error;
  t.same([tooDeep.code, tooDeep.data.reason], [-32602, "too_deep"]);
  c.write(`{"jsonrpc":"2.0","id":"deep-id","method":"ping","params":{"x":${deep}}}\n`);
  t.ok((await c.reply("deep-id")).result, "deep params that are not used are harmless");
  c.write('{"jsonrpc":"2.0","id":"proto","method":"tools/call","params":{"name":"memory_store","arguments":{"key":"p","value":{"__proto__":{"polluted":true},"a":1}}}}\n');
  await c.reply("proto");
  const back = (await c.call("memory_retrieve", { key: "p" })).result.structuredContent.value;
  t.same(Object.keys(back), ["__proto__", "a"], "__proto__ stays an ordinary key");
  t.equal(({} as Record<string, unknown>).polluted, undefined);
  c.write('{"jsonrpc":"2.0","id":"huge","method":"tools/call","params":{"name":"memory_store","arguments":{"key":"h","value":1e400}}}\n');
  t.ok((await c.reply("huge")).result, "a number beyond doubles is answered (stored as JSON null, as JavaScript reads it)");
  t.ok((await c.request("ping")).result);
});
