import t from "tap";
import { agentList, agentSpawn, agentTerminate, swarmDestroy, swarmInit, swarmList, swarmScale, swarmStatus } from "../src/protocol/tools/index.js";
import { coordinationLayers, topologyEdges } from "../src/swarm/topology.js";
import { LineClient } from "../scripts/line-client.js";
import { daemonWithClient } from "./helpers/daemon.js";
import { callTool, toolError } from "./helpers/tools.js";


t.test("swarm_init: defaults, the document's config form, initial agents, persisted ids", async (t) => {
  const { c } = await daemonWithClient(t);
  const plain = await callTool(t, c, swarmInit, {});
  t.match(plain.swarmId, /^swarm_\d{13}_[0-9a-z]{9}$/);
  t.same([plain.topology, plain.maxAgents, plain.strategy, plain.status, plain.consensusThreshold], ["mesh", 8, "balanced", "active", 0.7]);
  t.same(plain.agents, []);
  const doc = await callTool(t, c, swarmInit, {
    topology: "hierarchical",
    initialAgents: [
      { type: "coordinator", name: "SwarmLead" },
      { type: "researcher", name: "InfoGatherer" },
      { type: "coder", name: "CodeWriter" },
    ],
    config: { maxAgents: 10, consensusThreshold: 0.6 },
  });
  t.same([doc.maxAgents, doc.consensusThreshold], [10, 0.6]);
  t.same(
    doc.agents.map((a) => [a.name, a.type, a.status, a.runtime.kind]),
    [
      ["SwarmLead", "coordinator", "idle", "none"],
      ["InfoGatherer", "researcher", "idle", "none"],
      ["CodeWriter", "coder", "idle", "none"],
    ],
  );
  t.match(doc.agents[0]?.agentId, /^agent_\d{13}_[0-9a-z]{6}$/);
  const tooMany = await toolError(c, "swarm_init", { maxAgents: 21 });
  t.same([tooMany.code, tooMany.data.reason, tooMany.data.limit], [-32003, "max_agents", 20], "at most MAX_AGENTS");
  const tooFew = await toolError(c, "swarm_init", { maxAgents: 2, initialAgents: [{ type: "coder" }, { type: "coder" }, { type: "coder" }] });
  t.equal(tooFew.data.reason, "max_agents");
  t.equal((await callTool(t, c, swarmList, {})).count, 2, "a failed init left nothing behind");
  t.equal((await toolError(c, "swarm_init", { topology: "torus" })).code, -32602);
});

t.test("which swarm a call means: the connection's current one, else the only active one", async (t) => {
  const { d, c } = await daemonWithClient(t);
  const other = await LineClient.connect(d.port);
  t.teardown(() => other.close());
  const none = await toolError(other, "swarm_status", {});
  t.same([none.code, none.data.reason, none.data.activeSwarmIds], [-32002, "no_active_swarm", []]);
  const first = await callTool(t, c, swarmInit, { name: "first" });
  t.equal((await callTool(t, other, swarmStatus, {})).swarmId, first.swarmId, "the only active swarm");
  const second = await callTool(t, c, swarmInit, { name: "second" });
  t.equal((await callTool(t, c, swarmStatus, {})).swarmId, second.swarmId, "the connection's current swarm");
  const ambiguous = await toolError(other, "swarm_status", {});
  t.same([ambiguous.code, ambiguous.data.reason], [-32002, "ambiguous_swarm"]);
  t.same([...ambiguous.data.activeSwarmIds].sort(), [first.swarmId, second.swarmId].sort());
  const unknown = await toolError(c, "swarm_status", { swarmId: "swarm_123" });
  t.same([unknown.code, unknown.data.reason], [-32002, "not_found"]);
});

t.test("swarm_status without history: real counts, zero metrics, snake_case aliases with the same values", async (t) => {
  const { c } = await daemonWithClient(t);
  const s = await callTool(t, c, swarmInit, { topology: "star", initialAgents: [{ type: "coder" }, { type: "tester" }] });
  const st = await callTool(t, c, swarmStatus, { swarmId: s.swarmId });
  t.same([st.agentCount, st.total_agents, st.activeAgents, st.active_agents], [2, 2, 2, 2]);
  t.same(st.metrics, { tasksCompleted: 0, tasksFailed: 0, successRate: 0, avgCompletionTime: 0, avgCompletionTimeMs: 0 });
  t.same([st.topology_type, st.coordination_layers, st.efficiency_score, st.taskCount, st.pendingTasks], ["star", 2, 0, 0, 0]);
  t.same(Object.keys(st.agents[0] ?? {}).sort(), ["agentId", "currentTask", "health", "id", "name", "status", "type"], "summaries by default");
  t.equal(st.agents[0]?.health, null, "no executor: health is not measured");
  t.notOk("graph" in st);
  const verbose = await callTool(t, c, swarmStatus, { swarmId: s.swarmId, verbose: true, include_performance: true });
  t.ok(verbose.agents[0]?.performance, "full records with performance");
  t.same(verbose.performance, { utilization: 0, tasksActive: 0, avgTaskTimeMs: null });
});

t.test("topology graphs follow agents joining and leaving", async (t) => {
  const { c } = await daemonWithClient(t);
  const build = async (topology: "mesh" | "star" | "ring" | "hierarchical", types: string[]) => {
    const s = await callTool(t, c, swarmInit, { topology, maxAgents: 10 });
    const ids: string[] = [];
    for (const type of types) ids.push((await callTool(t, c, agentSpawn, { type: type as "coder", swarmId: s.swarmId })).agentId);
    const graph = async () => (await callTool(t, c, swarmStatus, { swarmId: s.swarmId, include_topology: true })).graph!;
    return { s, ids, graph };
  };
  const pairs = (edges: Array<{ source: string; target: string }>, ids: string[]) =>
    edges.map((e) => `${ids.indexOf(e.source)}-${ids.indexOf(e.target)}`).sort();

  const mesh = await build("mesh", ["coder", "coder", "tester", "reviewer"]);
  t.same(pairs((await mesh.graph()).edges, mesh.ids), ["0-1", "0-2", "0-3", "1-2", "1-3", "2-3"], "mesh: every pair");
  const star = await build("star", ["coder", "coordinator", "tester"]);
  t.same(pairs((await star.graph()).edges, star.ids), ["1-0", "1-2"], "star: the coordinator is the hub");
  const ring = await build("ring", ["coder", "tester", "reviewer", "analyst"]);
  t.same(pairs((await ring.graph()).edges, ring.ids), ["0-1", "1-2", "2-3", "3-0"], "ring: a cycle in spawn order");
  await callTool(t, c, agentTerminate, { agentId: ring.ids[1] as string });
  t.same(pairs((await ring.graph()).edges, ring.ids), ["0-2", "2-3", "3-0"], "the ring closes around a terminated agent");
  const tree = await build("hierarchical", ["coder", "coordinator", "coder", "tester", "coder", "tester"]);
  t.same(pairs((await tree.graph()).edges, tree.ids), ["0-2", "0-4", "1-0", "1-3", "3-5"], "coordinator → a lead per type → the rest");
  const st = await callTool(t, c, swarmStatus, { swarmId: tree.s.swarmId });
  t.equal(st.coordination_layers, 3);
  t.equal((await tree.graph()).nodes.length, 6);
});

t.test("topology rules on their own", async (t) => {
  const n = (id: string, type = "coder") => ({ id, type, name: id, status: "idle" });
  t.same(topologyEdges("ring", [n("a"), n("b")]), [{ source: "a", target: "b" }], "two agents in a ring: one edge");
  t.same(topologyEdges("mesh", [n("a")]), []);
  t.equal(coordinationLayers("mesh", [], []), 0);
  const nodes = [n("a", "analyst"), n("b"), n("c")];
  const edges = topologyEdges("hierarchical", nodes);
  t.same(edges, [
    { source: "a", target: "b" },
    { source: "b", target: "c" },
  ], "no coordinator: the first agent is the root");
  t.equal(coordinationLayers("hierarchical", nodes, edges), 3);
});

t.test("swarm_scale: raise, refuse to orphan agents, or terminate idle ones newest first", async (t) => {
  const { c } = await daemonWithClient(t);
  const s = await callTool(t, c, swarmInit, { maxAgents: 4, initialAgents: [{ type: "coder" }, { type: "tester" }, { type: "reviewer" }] });
  const up = await callTool(t, c, swarmScale, { swarmId: s.swarmId, maxAgents: 6 });
  t.same([up.maxAgents, up.previousMaxAgents, up.agentCount], [6, 4, 3]);
  const refused = await toolError(c, "swarm_scale", { swarmId: s.swarmId, maxAgents: 1 });
  t.same([refused.code, refused.data.reason, refused.data.limit, refused.data.current], [-32003, "agent_count_above_limit", 1, 3]);
  const down = await callTool(t, c, swarmScale, { swarmId: s.swarmId, maxAgents: 1, terminateIdle: true });
  t.same(down.terminatedAgents, [s.agents[2]?.agentId, s.agents[1]?.agentId], "newest first");
  t.equal(down.agentCount, 1);
  t.equal((await toolError(c, "agent_spawn", { type: "coder", swarmId: s.swarmId })).data.reason, "max_agents", "the new limit holds");
  t.equal((await toolError(c, "swarm_scale", { swarmId: s.swarmId, maxAgents: 99 })).data.reason, "max_agents");
});

t.test("swarm_destroy terminates agents and keeps the record as history", async (t) => {
  const { c } = await daemonWithClient(t);
  const s = await callTool(t, c, swarmInit, { initialAgents: [{ type: "coder" }, { type: "tester" }] });
  const gone = await callTool(t, c, swarmDestroy, { swarmId: s.swarmId });
  t.same([gone.status, gone.terminatedAgents, gone.cancelledTasks], ["destroyed", 2, 0]);
  const again = await toolError(c, "swarm_destroy", { swarmId: s.swarmId });
  t.same([again.code, again.data.reason], [-32002, "destroyed"]);
  const spawn = await toolError(c, "agent_spawn", { type: "coder", swarmId: s.swarmId });
  t.same([spawn.code, spawn.data.reason], [-32002, "destroyed"]);
  const history = await callTool(t, c, swarmList, { status: "destroyed" });
  t.same(history.swarms.map((x) => [x.swarmId, x.status, x.agentCount]), [[s.swarmId, "destroyed", 0]]);
  t.equal((await callTool(t, c, swarmList, { status: "active" })).count, 0);
  const terminated = await callTool(t, c, agentList, { swarmId: s.swarmId, filter: "terminated" });
  t.equal(terminated.count, 2, "the agents are kept, terminated");
  const st = await callTool(t, c, swarmStatus, { swarmId: s.swarmId });
  t.same([st.status, st.agentCount, st.counts.agents.terminated], ["destroyed", 0, 2]);
});

t.test("metadata.parent_id: the agent above each one in its swarm's topology, as VisionFlow reads it", async (t) => {
  const { c } = await daemonWithClient(t);
  const parentsIn = async (swarmId: string): Promise<Record<string, string | null>> => {
    const listed = await callTool(t, c, agentList, { swarmId, include_metadata: true });
    return Object.fromEntries(listed.agents.map((a) => [a.name, (a.metadata as { parent_id: string | null }).parent_id]));
  };
  const types = ["coordinator", "coder", "coder", "tester"] as const;
  const tree = await callTool(t, c, swarmInit, { topology: "hierarchical", initialAgents: types.map((type) => ({ type })) });
  const id = (name: string) => tree.agents.find((a) => a.name === name)?.agentId as string;
  t.same(await parentsIn(tree.swarmId), { "coordinator-1": null, "coder-2": id("coordinator-1"), "coder-3": id("coder-2"), "tester-4": id("coordinator-1") }, "root, then one lead per type");
  // The parent follows the members: with the lead gone, the next coder leads.
  await callTool(t, c, agentTerminate, { agentId: id("coder-2") });
  t.same((await parentsIn(tree.swarmId))["coder-3"], id("coordinator-1"));
  const star = await callTool(t, c, swarmInit, { topology: "star", initialAgents: [{ type: "coder" }, { type: "coordinator" }, { type: "tester" }] });
  const hub = star.agents.find((a) => a.type === "coordinator")?.agentId;
  t.same(Object.values(await parentsIn(star.swarmId)).sort(), [hub, hub, null].sort(), "star: the hub above the others");
  const mesh = await callTool(t, c, swarmInit, { topology: "mesh", initialAgents: [{ type: "coder" }, { type: "tester" }] });
  t.same(Object.values(await parentsIn(mesh.swarmId)), [null, null], "peers have no parent");
});
