import { Normalizer, transcriptDaemon, Wire, type Entry } from "./transcript.js";

/** Drives a session and writes down every line that crosses the wire, normalised (see transcript.ts). */
export class Recorder {
  readonly entries: Entry[] = [];
  private nextId = 1;
  private readonly norm = new Normalizer();

  constructor(private readonly wire: Wire) {}

  /** Sends a request on `conn` and records everything up to its reply, then `expect` more lines on other connections. */
  async request(conn: string, method: string, params: unknown, expect: Record<string, number> = {}): Promise<any> {
    const id = this.nextId++;
    const msg = { jsonrpc: "2.0", id, method, params };
    this.entries.push({ conn, dir: ">", msg: this.norm.normalize(msg) });
    (await this.wire.conn(conn)).write(JSON.stringify(msg) + "\n");
    let reply: any;
    do {
      const line = await this.wire.next(conn);
      const parsed = JSON.parse(line);
      this.entries.push({ conn, dir: "<", msg: this.norm.normalize(parsed) });
      if (parsed.id === id) reply = parsed;
    } while (reply === undefined);
    for (const [other, n] of Object.entries(expect)) {
      for (let i = 0; i < n; i++) this.entries.push({ conn: other, dir: "<", msg: this.norm.normalize(JSON.parse(await this.wire.next(other))) });
    }
    return reply;
  }

  /** tools/call; resolves with the payload (real values, for the next steps). */
  async tool(conn: string, name: string, args: object, expect: Record<string, number> = {}): Promise<any> {
    const reply = await this.request(conn, "tools/call", { name, arguments: args }, expect);
    return reply.result?.structuredContent ?? reply.error;
  }

  async notify(conn: string, method: string, params: unknown): Promise<void> {
    const msg = { jsonrpc: "2.0", method, params };
    this.entries.push({ conn, dir: ">", msg: this.norm.normalize(msg) });
    (await this.wire.conn(conn)).write(JSON.stringify(msg) + "\n");
  }

  /** A line that is not JSON-RPC at all, and the `replies` it gets. */
  async raw(conn: string, text: string, replies = 1): Promise<void> {
    this.entries.push({ conn, dir: ">", raw: text });
    (await this.wire.conn(conn)).write(text + "\n");
    for (let i = 0; i < replies; i++) this.entries.push({ conn, dir: "<", msg: this.norm.normalize(JSON.parse(await this.wire.next(conn))) });
  }
}

const hello = { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "example", version: "1" } };

/** The sessions recorded into protocol/examples/, covering every method and every tool. */
export const scenarios: Record<string, (r: Recorder) => Promise<void>> = {
  async core(r) {
    await r.request("probe", "ping", {});
    await r.request("client", "initialize", hello);
    await r.notify("client", "notifications/initialized", {});
    await r.request("client", "ping", {});
    await r.request("client", "tools/list", {});
    await r.tool("client", "server_info", {});
    await r.tool("client", "server_backup", { name: "before-upgrade.db" });
    await r.request("client", "batch", [{ method: "ping" }, { method: "tools/call", params: { name: "memory_retrieve", arguments: { key: "nothing" } } }, { method: "nope" }]);
    await r.raw("client", "this is not json");
    await r.raw("client", '[{"jsonrpc":"2.0","id":"a","method":"ping"},{"jsonrpc":"2.0","method":"notifications/initialized"},{"foo":"boo"}]');
    await r.request("client", "server/discover", {});
    await r.tool("client", "no_such_tool", {});
    await r.tool("client", "memory_store", { key: 5 });
  },

  async swarms(r) {
    await r.request("client", "initialize", hello);
    const s = await r.tool("client", "swarm_init", {
      topology: "hierarchical",
      maxAgents: 6,
      name: "demo",
      initialAgents: [{ type: "coordinator", name: "lead" }, { type: "coder" }],
    });
    const [lead, coder] = s.agents.map((a: { agentId: string }) => a.agentId);
    await r.tool("client", "agent_spawn", { type: "tester", swarmId: s.swarmId });
    await r.tool("client", "agent_spawn", { agentType: "worker", config: { capabilities: ["rust", "code"] } });
    await r.tool("client", "swarm_status", { include_topology: true });
    await r.tool("client", "swarm_list", {});
    await r.tool("client", "agent_list", { filter: "all" });
    await r.tool("client", "agent_status", { agentId: coder });
    await r.tool("client", "agent_metrics", {});
    await r.tool("client", "agent_message", { agentId: coder, message: { type: "command", action: "analyse_code", params: { file: "main.rs" } } });
    await r.tool("client", "agent_inbox", { agentId: coder });
    await r.tool("client", "agent_spawn", { type: "wizard" });
    await r.tool("client", "swarm_scale", { swarmId: s.swarmId, maxAgents: 3, terminateIdle: true });
    await r.tool("client", "agent_terminate", { agentId: lead, reason: "example" });
    await r.tool("client", "swarm_destroy", { swarmId: s.swarmId });
    await r.tool("client", "swarm_status", { swarmId: "swarm_0_none" });
  },

  async tasks(r) {
    await r.request("client", "initialize", hello);
    const s = await r.tool("client", "swarm_init", { initialAgents: [{ type: "coder" }] });
    const agentId = s.agents[0].agentId;
    await r.request("worker", "initialize", { ...hello, clientInfo: { name: "example-worker", version: "1" } });
    await r.tool("worker", "agent_attach", { agentId });
    await r.tool("worker", "agent_usage", { cpuPercent: 3.5, memoryPercent: 0.4, memoryBytes: 68_157_440 });
    const t1 = await r.tool("client", "task_orchestrate", { task: "echo hello", requiredCapabilities: ["code"] }, { worker: 1 });
    await r.tool("worker", "task_progress", { taskId: t1.taskId, progress: 0.5, message: "halfway" });
    await r.tool("worker", "task_complete", { taskId: t1.taskId, result: { exitCode: 0, stdout: "hello\n" } });
    await r.tool("client", "task_wait", { taskId: t1.taskId, timeoutMs: 1000 });
    await r.tool("client", "task_status", { taskId: t1.taskId });
    await r.tool("client", "task_results", { taskId: t1.taskId, format: "detailed" });
    const t2 = await r.tool("client", "task_orchestrate", { task: { description: "exit 1", requiredCapabilities: ["code"] }, execution: { retryPolicy: "none" } }, { worker: 1 });
    await r.tool("worker", "task_fail", { taskId: t2.taskId, error: { message: "exit code 1" }, retryable: false });
    const t3 = await r.tool("client", "task_orchestrate", { task: "sleep 60", priority: "low" }, { worker: 1 });
    await r.tool("client", "task_cancel", { taskId: t3.taskId, reason: "example" }, { worker: 1 });
    await r.tool("client", "task_list", {});
    await r.tool("worker", "agent_detach", { agentId });
    await r.tool("worker", "agent_attach", { agentId, delivery: "pull" });
    const t4 = await r.tool("client", "task_orchestrate", { task: "echo pulled", phases: [{ name: "only" }] });
    const claimed = await r.tool("worker", "task_claim", { agentId, waitMs: 0 });
    await r.tool("worker", "task_complete", { taskId: claimed.assignment.taskId, result: "pulled" });
    await r.tool("client", "task_status", { taskId: t4.taskId });
    await r.tool("client", "task_complete", { taskId: t4.taskId, result: "not mine" });
  },

  async memory(r) {
    await r.request("client", "initialize", hello);
    await r.tool("client", "memory_store", { key: "project_context", value: { language: "rust", framework: "actix-web" }, tags: ["config"] });
    await r.tool("client", "memory_store", { key: "counter", value: "123", namespace: "examples" });
    await r.tool("client", "memory_retrieve", { key: "project_context" });
    await r.tool("client", "memory_retrieve", { key: "missing" });
    await r.tool("client", "memory_list", { namespace: "examples", includeValues: true });
    await r.tool("client", "memory_search", { pattern: "project_*", in: "key" });
    await r.tool("client", "memory_stats", {});
    await r.tool("client", "memory_usage", { action: "store", key: "cf", value: 1, namespace: "claude-flow" });
    await r.tool("client", "memory_usage", { action: "retrieve", key: "cf", namespace: "claude-flow" });
    await r.tool("client", "memory_store", { key: "counter", value: "again", namespace: "examples", ifAbsent: true });
    await r.tool("client", "memory_delete", { key: "counter", namespace: "examples" });
  },
};

/** Records every scenario against a fresh daemon each. */
export async function recordExamples(): Promise<Map<string, Entry[]>> {
  const out = new Map<string, Entry[]>();
  for (const [name, scenario] of Object.entries(scenarios)) {
    const daemon = await transcriptDaemon();
    const wire = new Wire(daemon.port);
    try {
      const recorder = new Recorder(wire);
      await scenario(recorder);
      for (const conn of ["client", "worker", "probe"]) {
        if (wire.unread(conn) > 0) throw new Error(`scenario ${name}: unexpected lines left on ${conn}`);
      }
      out.set(name, recorder.entries);
    } finally {
      wire.close();
      await daemon.close();
    }
  }
  return out;
}
