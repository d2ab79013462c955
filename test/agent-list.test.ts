import t from "tap";
import { agentAttach, agentList, agentSpawn, agentTerminate, swarmDestroy, swarmInit } from "../src/protocol/tools/index.js";
import { LineClient } from "../scripts/line-client.js";
import { daemonWithClient } from "./helpers/daemon.js";
import { callTool } from "./helpers/tools.js";

// agent_list keeps its agents' text between polls (src/agent/listing.ts); these are the ways that could go stale.

const NAMES = ['quote " and back\\slash', "naïve – 日本語 😀", "tab\tnew\nline"];

t.test("agent_list between polls: every change shows at once, and the time fields move while nothing else does", async (t) => {
  const { d, c } = await daemonWithClient(t);
  const s = await callTool(t, c, swarmInit, { maxAgents: 10 });
  const ids: string[] = [];
  for (const name of NAMES.slice(0, 2)) ids.push((await callTool(t, c, agentSpawn, { type: "coder", name, swarmId: s.swarmId })).agentId);
  const list = (args: Parameters<typeof callTool<typeof agentList>>[3] = {}) => callTool(t, c, agentList, { swarmId: s.swarmId, ...args });

  const first = await list();
  t.same(first.agents.map((a) => a.name), NAMES.slice(0, 2), "names come back exactly, escaping included");
  t.same(await list(), first, "a second poll with nothing changed is the same");

  ids.push((await callTool(t, c, agentSpawn, { type: "coder", name: NAMES[2] as string, swarmId: s.swarmId })).agentId);
  t.same((await list()).agents.map((a) => a.name), NAMES, "a spawned agent is listed on the next poll");

  const worker = await LineClient.connect(d.port);
  await callTool(t, worker, agentAttach, { agentId: ids[0] as string });
  const attached = (await list()).agents[0];
  t.same([attached?.runtime.attached, attached?.health], [true, 100], "an attached worker shows on the next poll");

  worker.close();
  await t.resolves(waitFor(async () => (await list()).agents[0]?.status === "offline"), "the worker's connection closing shows");
  t.same((await list({ filter: "active" })).agents.map((a) => a.agentId), ids.slice(1), "filters see the change too");

  await callTool(t, c, agentTerminate, { agentId: ids[1] as string });
  t.same((await list()).agents.map((a) => a.agentId), [ids[0], ids[2]], "a terminated agent leaves filter all");
  t.same((await list({ filter: "terminated" })).agents.map((a) => a.agentId), [ids[1]]);
  const withMetadata = await list({ include_metadata: true });
  t.same(withMetadata.agents.map((a) => a.metadata?.seq), [1, 3], "include_metadata is its own listing");

  const before = await list();
  await new Promise((r) => setTimeout(r, 1100));
  const after = await list();
  t.ok(after.agents.every((a, i) => a.age >= (before.agents[i]?.age ?? Infinity) + 1), "age moves with time alone");
  const strip = (p: typeof before) => p.agents.map(({ age: _age, performance: { activity_level: _a, ...perf }, ...rest }) => ({ ...rest, perf }));
  t.same(strip(after), strip(before), "and nothing else does");
});

t.test("agent_list of many agents: each agent's age is current on every poll, whichever of them just ticked", async (t) => {
  // Past the listing's block of 64 agents, so blocks are remade one at a time as their agents' ages tick.
  const { c } = await daemonWithClient(t, { MAX_AGENTS: "200" });
  const s = await callTool(t, c, swarmInit, { maxAgents: 200 });
  const names: string[] = [];
  for (let i = 0; i < 150; i++) {
    const name = `${NAMES[i % NAMES.length]} ${i}`;
    names.push(name);
    await callTool(t, c, agentSpawn, { type: "coder", name, swarmId: s.swarmId });
  }
  const stale: string[] = [];
  const until = Date.now() + 1300;
  let polls = 0;
  while (Date.now() < until) {
    const before = Date.now();
    const { agents, count } = await callTool(t, c, agentList, { swarmId: s.swarmId });
    const after = Date.now();
    polls++;
    if (count !== 150 || agents.map((a) => a.name).join("|") !== names.join("|")) stale.push(`poll ${polls}: agents out of order or missing`);
    for (const a of agents) {
      const low = Math.floor((before - a.createdAt) / 1000);
      const high = Math.floor((after - a.createdAt) / 1000);
      if (a.age < low || a.age > high) stale.push(`poll ${polls}: ${a.name} age ${a.age}, expected ${low}..${high}`);
    }
  }
  t.ok(polls > 10, `polled ${polls} times`);
  t.same(stale.slice(0, 5), [], "no poll listed an age other than the agent's age at that moment");
});

t.test("agent_list as an item of a native batch and of the batch method", async (t) => {
  const { c } = await daemonWithClient(t);
  const s = await callTool(t, c, swarmInit, { maxAgents: 10 });
  for (const name of NAMES) await callTool(t, c, agentSpawn, { type: "coder", name, swarmId: s.swarmId });
  const alone = await callTool(t, c, agentList, { swarmId: s.swarmId });
  const params = { name: "agent_list", arguments: { swarmId: s.swarmId } };
  c.send([{ jsonrpc: "2.0", id: "in-array", method: "tools/call", params }]);
  const lines = await c.waitForLines(c.texts.length + 1);
  const native = JSON.parse(lines[lines.length - 1] as string);
  const viaMethod = await c.request("batch", { requests: [{ method: "tools/call", params }] });
  const names = (payload: any) => payload.agents.map((a: { name: string }) => a.name);
  t.same(names(native[0].result.structuredContent), NAMES);
  t.same(names(JSON.parse(native[0].result.content[0].text)), NAMES);
  t.same(names(viaMethod.result[0].result), NAMES, "the mirror too");
  t.same(names(alone), NAMES);
});

t.test("agent_list of every active swarm forgets a destroyed swarm, even one whose agents were all terminated", async (t) => {
  const { d, c } = await daemonWithClient(t);
  const viewer = await LineClient.connect(d.port); // no swarm_init: lists every active swarm
  t.teardown(() => viewer.close());
  const s = await callTool(t, c, swarmInit, { maxAgents: 10 });
  const { agentId } = await callTool(t, c, agentSpawn, { type: "coder", swarmId: s.swarmId });
  await callTool(t, c, agentTerminate, { agentId });
  t.same((await callTool(t, viewer, agentList, { filter: "terminated" })).agents.map((a) => a.agentId), [agentId]);
  await callTool(t, c, swarmDestroy, { swarmId: s.swarmId });
  t.same((await callTool(t, viewer, agentList, { filter: "terminated" })).agents, [], "gone with its swarm");
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}
