import t from "tap";
import { AGENT_TYPES } from "../src/protocol/agent-types.js";
import {
  agentAttach,
  agentInbox,
  agentList,
  agentMessage,
  agentMetrics,
  agentSpawn,
  agentStatus,
  agentTerminate,
  swarmInit,
} from "../src/protocol/tools/index.js";
import { LineClient } from "../scripts/line-client.js";
import { daemonWithClient } from "./helpers/daemon.js";
import { callTool, checkResult, toolError } from "./helpers/tools.js";


t.test("agent_spawn: both forms, aliases to canonical types, defaults; unknown types list the known ones", async (t) => {
  const { c } = await daemonWithClient(t);
  const s = await callTool(t, c, swarmInit, { maxAgents: 10 });
  const a = await callTool(t, c, agentSpawn, { type: "worker", swarmId: s.swarmId });
  t.same([a.type, a.name, a.status, a.capabilities, a.runtime], ["coder", "coder-1", "idle", ["code", "implementation"], { kind: "none" }]);
  const doc = await callTool(t, c, agentSpawn, {
    agentType: "code-analyzer",
    swarmId: s.swarmId,
    config: { model: "claude-3-opus", capabilities: ["python", "rust"], maxConcurrent: 2 },
    resources: { cpuLimit: "2000m" },
  });
  t.same([doc.type, doc.capabilities], ["analyst", ["python", "rust"]], "the document's config.capabilities");
  const explicit = await callTool(t, c, agentSpawn, { type: "task-orchestrator", name: "Lead", capabilities: ["plan"] });
  t.same([explicit.type, explicit.name, explicit.capabilities, explicit.swarmId], ["coordinator", "Lead", ["plan"], s.swarmId]);
  const status = await callTool(t, c, agentStatus, { agentId: doc.agentId });
  t.equal(status.capacity, 2, "config.maxConcurrent is its capacity");
  t.same(status.metadata?.resources, { cpuLimit: "2000m" });
  const unknown = await toolError(c, "agent_spawn", { type: "wizard", swarmId: s.swarmId });
  t.equal(unknown.code, -32602);
  for (const known of AGENT_TYPES) t.match(unknown.message + JSON.stringify(unknown.data), known);
  t.equal((await toolError(c, "agent_spawn", { swarmId: s.swarmId })).data.issues[0].path, "type");
});

t.test("limits: the swarm's maxAgents and the daemon's MAX_AGENTS are -32003 with the numbers", async (t) => {
  const { c } = await daemonWithClient(t, { MAX_AGENTS: "5" });
  const s = await callTool(t, c, swarmInit, { maxAgents: 3 });
  for (let i = 0; i < 3; i++) await callTool(t, c, agentSpawn, { type: "coder", swarmId: s.swarmId });
  const full = await toolError(c, "agent_spawn", { type: "coder", swarmId: s.swarmId });
  t.same([full.code, full.data.reason, full.data.limit, full.data.current], [-32003, "max_agents", 3, 3]);
  const other = await callTool(t, c, swarmInit, { maxAgents: 5 });
  await callTool(t, c, agentSpawn, { type: "coder", swarmId: other.swarmId });
  await callTool(t, c, agentSpawn, { type: "coder", swarmId: other.swarmId });
  const global = await toolError(c, "agent_spawn", { type: "coder", swarmId: other.swarmId });
  t.same([global.data.reason, global.data.scope, global.data.limit, global.data.current], ["max_agents", "global", 5, 5]);
});

t.test("100 clients spawning into one swarm at once never exceed maxAgents", async (t) => {
  const { d, c } = await daemonWithClient(t, { MAX_AGENTS: "1000" });
  const s = await callTool(t, c, swarmInit, { maxAgents: 10 });
  const clients = await Promise.all(Array.from({ length: 100 }, () => LineClient.connect(d.port)));
  t.teardown(() => clients.forEach((x) => x.close()));
  const replies = await Promise.all(clients.map((x) => x.call("agent_spawn", { type: "coder", swarmId: s.swarmId })));
  t.equal(replies.filter((r) => r.result).length, 10, "exactly maxAgents succeeded");
  t.ok(replies.filter((r) => r.error).every((r) => r.error.data.reason === "max_agents"));
  t.equal((await callTool(t, c, agentList, { swarmId: s.swarmId })).count, 10);
});

t.test("agent_list: filters, every active swarm without swarmId, honest metrics", async (t) => {
  const { d, c } = await daemonWithClient(t);
  const s1 = await callTool(t, c, swarmInit, { initialAgents: [{ type: "coder" }, { type: "tester" }] });
  const s2 = await callTool(t, c, swarmInit, { initialAgents: [{ type: "reviewer" }] });
  await callTool(t, c, agentTerminate, { agentId: s1.agents[1]?.agentId as string, reason: "done" });
  const fresh = await LineClient.connect(d.port); // a new connection per poll, like VisionFlow's newer backends
  t.teardown(() => fresh.close());
  const everywhere = await callTool(t, fresh, agentList, { filter: "all" });
  t.equal(everywhere.swarmId, null);
  t.same(
    everywhere.agents.map((a) => a.type),
    ["coder", "reviewer"],
    "every active swarm's agents that are not terminated",
  );
  const mine = await callTool(t, c, agentList, {});
  t.equal(mine.swarmId, s2.swarmId, "the connection's current swarm");
  t.same((await callTool(t, c, agentList, { swarmId: s1.swarmId, filter: "terminated" })).agents.map((a) => a.type), ["tester"]);
  t.same((await callTool(t, c, agentList, { swarmId: s1.swarmId, filter: "active" })).count, 1);
  t.same((await callTool(t, c, agentList, { swarmId: s1.swarmId, filter: "busy" })).count, 0);
  const a = everywhere.agents[0]!;
  t.same([a.id, a.agentId, a.swarm_id, a.swarmId], [a.id, a.id, s1.swarmId, s1.swarmId]);
  t.same([a.cpu_usage, a.memory_usage, a.health, a.workload, a.currentTask], [null, null, null, 0, null], "nothing invented");
  t.same(a.performance, {
    cpu_usage: null,
    memory_usage: null,
    health_score: null,
    activity_level: 0,
    tasks_active: 0,
    tasks_completed: 0,
    tasks_failed: 0,
    success_rate: 0,
    response_time_ms: null,
  });
  t.ok(a.age >= 0);
  t.notOk("metadata" in a);
  t.type((await callTool(t, c, agentList, { include_metadata: true })).agents[0]?.metadata, "object");
});

t.test("agent_terminate is final; illegal transitions are errors", async (t) => {
  const { c } = await daemonWithClient(t);
  const s = await callTool(t, c, swarmInit, { initialAgents: [{ type: "coder" }] });
  const id = s.agents[0]?.agentId as string;
  const done = await callTool(t, c, agentTerminate, { agentId: id, reason: "no longer needed" });
  t.same([done.status, done.reason, done.requeuedAssignments], ["terminated", "no longer needed", 0]);
  const again = await toolError(c, "agent_terminate", { agentId: id });
  t.same([again.code, again.data.reason], [-32001, "terminated"]);
  const attach = await toolError(c, "agent_attach", { agentId: id });
  t.same([attach.code, attach.data.reason], [-32001, "terminated"]);
  const st = await callTool(t, c, agentStatus, { agentId: id });
  t.same([st.status, st.health, st.terminationReason], ["terminated", 0, "no longer needed"]);
  t.same((await toolError(c, "agent_status", { agentId: "agent_0_none" })).data.reason, "not_found");
});

t.test("agent_metrics for one agent or a whole swarm", async (t) => {
  const { c } = await daemonWithClient(t);
  const s = await callTool(t, c, swarmInit, { initialAgents: [{ type: "coder" }, { type: "tester" }] });
  const one = await callTool(t, c, agentMetrics, { agentId: s.agents[0]?.agentId as string });
  t.same(one.agents.map((m) => [m.agentId, m.tasksCompleted, m.successRate, m.avgTaskTimeMs, m.workload, m.health]), [
    [s.agents[0]?.agentId, 0, 0, null, 0, null],
  ]);
  t.equal((await callTool(t, c, agentMetrics, {})).count, 2, "the current swarm");
});

t.test("messages: a persisted inbox, read in order after a message id; attached workers get them pushed", async (t) => {
  const { d, c } = await daemonWithClient(t);
  const s = await callTool(t, c, swarmInit, { initialAgents: [{ type: "coder" }, { type: "tester" }] });
  const id = s.agents[0]?.agentId as string;
  const first = await callTool(t, c, agentMessage, { swarmId: s.swarmId, agentId: id, message: { type: "command", action: "analyse_code", params: { file: "main.rs" } } });
  t.match(first.messageId, /^msg_\d+_[0-9a-z]{6}$/);
  t.equal(first.delivered, false, "no worker yet");
  const worker = await LineClient.connect(d.port);
  t.teardown(() => worker.close());
  await callTool(t, worker, agentAttach, { agentId: id });
  const second = await callTool(t, c, agentMessage, { agentId: id, message: { n: 2 } });
  t.equal(second.delivered, true);
  await worker.waitForLines(2);
  const pushed = worker.messages.find((m) => m.method === "notifications/agent/message");
  t.same([pushed?.params.messageId, pushed?.params.message], [second.messageId, { n: 2 }]);
  const all = await callTool(t, c, agentInbox, { agentId: id });
  t.same(all.messages.map((m) => m.message), [{ type: "command", action: "analyse_code", params: { file: "main.rs" } }, { n: 2 }]);
  t.equal(all.messages[1]?.deliveredAt !== null && all.messages[0]?.deliveredAt === null, true);
  const later = await callTool(t, c, agentInbox, { agentId: id, since: first.messageId });
  t.same(later.messages.map((m) => m.messageId), [second.messageId]);
  t.equal(later.nextSince, second.messageId);
  t.equal((await callTool(t, c, agentInbox, { agentId: id, limit: 1 })).messages.length, 1);
  t.equal((await toolError(c, "agent_inbox", { agentId: id, since: "msg_nope" })).data.reason, "unknown_message");
  const wrongSwarm = await toolError(c, "agent_message", { swarmId: "swarm_other", agentId: id, message: {} });
  t.same([wrongSwarm.code, wrongSwarm.data.reason], [-32001, "not_in_swarm"]);
});

t.test("workers: one per agent unless taking over; a closed connection leaves the agent offline", async (t) => {
  const { d, c } = await daemonWithClient(t);
  const s = await callTool(t, c, swarmInit, { initialAgents: [{ type: "coder" }] });
  const id = s.agents[0]?.agentId as string;
  const w1 = await LineClient.connect(d.port);
  const w2 = await LineClient.connect(d.port);
  t.teardown(() => [w1, w2].forEach((w) => w.close()));
  const attached = await callTool(t, w1, agentAttach, { agentId: id });
  t.same([attached.status, attached.delivery], ["idle", "push"]);
  let st = await callTool(t, c, agentStatus, { agentId: id });
  t.same([st.health, st.runtime.kind, st.runtime.attached], [100, "worker", true], "a live agent with no history is healthy");
  const busy = await toolError(w2, "agent_attach", { agentId: id });
  t.same([busy.code, busy.data.reason], [-32001, "already_attached"]);
  await callTool(t, w2, agentAttach, { agentId: id, takeover: true });
  await w1.waitForLines(2);
  t.same(w1.messages.find((m) => m.method === "notifications/agent/detached")?.params, { agentId: id, reason: "takeover" });
  t.same((await toolError(w1, "agent_detach", { agentId: id })).data.reason, "not_attached");
  w2.close();
  for (let i = 0; i < 50 && st.status !== "offline"; i++) {
    await new Promise((r) => setTimeout(r, 20));
    st = await callTool(t, c, agentStatus, { agentId: id });
  }
  t.same([st.status, st.health, st.runtime.attached], ["offline", 0, false]);
  t.same((await callTool(t, c, agentList, { filter: "offline" })).count, 1);
  await callTool(t, w1, agentAttach, { agentId: id });
  t.equal((await callTool(t, c, agentStatus, { agentId: id })).status, "idle", "offline → idle when a worker attaches again");
});

t.test("a VisionFlow-style session", async (t) => {
  const { c } = await daemonWithClient(t);
  const init = await c.request("initialize", { protocolVersion: "1.0.0", clientInfo: { name: "VisionFlow-BotsClient", version: "0.1.0" }, capabilities: { tools: true } });
  t.equal(init.result.protocolVersion, "2025-11-25");
  const swarm = (await c.call("swarm_init", { topology: "mesh", maxAgents: 10, strategy: "balanced" })).result;
  t.match(swarm.swarmId, /^swarm_/, "read straight from result.swarmId");
  for (const type of ["coordinator", "researcher", "coder", "analyst"]) {
    const spawned = (await c.call("agent_spawn", { type, swarmId: swarm.swarmId })).result;
    t.match(spawned.agentId, /^agent_/, `result.agentId for ${type}`);
  }
  const list = await c.call("agent_list", { filter: "all" });
  checkResult(t, agentList, list.result);
  const fromText = JSON.parse(list.result.content[0].text);
  t.same(fromText.agents, list.result.agents, "content[0].text and the mirrored result.agents agree");
  t.same(
    list.result.agents.map((a: { type: string; status: string }) => [a.type, a.status]),
    [
      ["coordinator", "idle"],
      ["researcher", "idle"],
      ["coder", "idle"],
      ["analyst", "idle"],
    ],
  );
  const status = (await c.call("swarm_status", { include_topology: true })).result;
  t.same([status.topology_type, status.total_agents, status.graph.nodes.length, status.graph.edges.length], ["mesh", 4, 4, 6]);
});
