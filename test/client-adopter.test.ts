// SwarmAdopter: a TypeScript program works for the agents others spawn (a visualiser's agent_spawn calls), against a
// real daemon, as the example worker's --adopt does.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import t, { type Test } from "tap";
import { RpcError, SwarmAdopter, SwarmClient, SwarmWorker, type AdopterEvent, type AdopterOptions } from "../src/client/index.js";
import { freePort, startDaemon, tempDir } from "./helpers/daemon.js";
import { spawnListening } from "./helpers/spawn.js";

const HEARTBEAT_MS = 150;

function client(t: Test, port: number, token?: string): SwarmClient {
  const c = new SwarmClient({ port, retryDelayMs: 20, ...(token === undefined ? {} : { token }) });
  t.teardown(() => c.close());
  return c;
}

function adopter(t: Test, options: Omit<AdopterOptions, "handle"> & Partial<Pick<AdopterOptions, "handle">>): { a: SwarmAdopter; events: AdopterEvent[] } {
  const events: AdopterEvent[] = [];
  const a = new SwarmAdopter({
    heartbeatMs: HEARTBEAT_MS,
    retryDelayMs: 20,
    handle: (assignment) => ({ by: assignment.agentId, did: assignment.description }),
    onEvent: (e) => events.push(e),
    ...options,
  });
  t.teardown(() => a.stop());
  return { a, events };
}

/** Waits until `check` holds; 10 s at most. */
async function until(check: () => boolean | Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (!(await check()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return check();
}

const adopted = (events: AdopterEvent[]): string[] => events.flatMap((e) => (e.type === "adopted" ? [e.agentId] : []));

t.test("a SwarmAdopter works for the agents others spawn, as they are spawned, and their tasks get done", async (t) => {
  const { port } = await startDaemon(t);
  const c = client(t, port);
  const { a, events } = adopter(t, { port });
  await a.ready;
  t.same(a.agents, [], "nothing to adopt yet");
  // A visualiser's calls, after the adopter started.
  const { swarmId } = await c.swarmInit({ topology: "mesh", maxAgents: 10, strategy: "balanced" });
  const coder = await c.agentSpawn({ type: "coder", swarmId });
  const tester = await c.agentSpawn({ type: "tester", swarmId });
  t.ok(await until(() => adopted(events).length === 2), "both adopted");
  t.same(adopted(events).sort(), [coder.agentId, tester.agentId].sort());
  const listed = await c.agentList({ swarmId });
  t.same(
    listed.agents.map((x) => [x.status, x.runtime.kind, x.runtime.attached]),
    [
      ["idle", "worker", true],
      ["idle", "worker", true],
    ],
    "live, each with a worker",
  );
  t.same(
    listed.agents.map((x) => x.cpu_usage),
    [null, null],
    "no usage function: no figure (this process's own would not be the agent's)",
  );
  for (const [capability, agentId] of [
    ["testing", tester.agentId],
    ["code", coder.agentId],
  ] as const) {
    const task = await c.taskOrchestrate({ swarmId, task: `for ${capability}`, requiredCapabilities: [capability] });
    const done = await c.taskWait({ taskId: task.taskId, timeoutMs: 10_000 });
    t.same([done.status, done.result], ["completed", { by: agentId, did: `for ${capability}` }], `the ${capability} task ran as its agent`);
  }
});

t.test("a SwarmAdopter leaves other workers' agents and those swarmId and types exclude, and lets go when told", async (t) => {
  const { port } = await startDaemon(t);
  const c = client(t, port);
  const one = await c.swarmInit({ initialAgents: [{ type: "coder" }, { type: "coder" }, { type: "tester" }] });
  const two = await c.swarmInit({ initialAgents: [{ type: "coder" }] });
  const [served, free] = one.agents.map((x) => x.agentId) as [string, string];
  const other = new SwarmWorker({ port, agentId: served, handle: () => null, heartbeatMs: HEARTBEAT_MS });
  t.teardown(() => other.stop());
  await other.ready;

  const { a, events } = adopter(t, { port, swarmId: one.swarmId, types: ["coder"], usage: (agentId) => ({ cpuPercent: agentId === free ? 7 : 3, memoryPercent: 1 }) });
  await a.ready;
  t.ok(await until(() => adopted(events).length === 1));
  await new Promise((r) => setTimeout(r, 5 * HEARTBEAT_MS)); // more looks
  t.same(a.agents, [free], "the free coder of its swarm alone: not the served one, the tester, or the other swarm's coder");
  t.same(adopted(events), [free]);
  t.equal((await c.agentList({ swarmId: two.swarmId })).agents[0]?.runtime.attached, false, "the other swarm's coder has no worker");
  t.ok(await until(async () => (await c.agentStatus({ agentId: free })).cpu_usage === 7), "its usage function reports for that agent");

  // The other worker goes away: its agent is offline, and adopted at the next look.
  await other.stop();
  t.ok(await until(() => a.agents.includes(served)), "the agent whose worker left is adopted");
  t.ok(await until(async () => (await c.agentStatus({ agentId: served })).status === "idle"), "and live again");

  // Terminated: let go. Taken over by another worker: let go, and not taken back while that worker serves it.
  await c.agentTerminate({ agentId: free });
  t.ok(await until(() => events.some((e) => e.type === "released" && e.agentId === free && e.why === "terminated")), "a terminated agent is let go");
  const again = new SwarmWorker({ port, agentId: served, handle: () => null, heartbeatMs: HEARTBEAT_MS });
  t.teardown(() => again.stop());
  await again.ready;
  t.ok(await until(() => events.some((e) => e.type === "released" && e.agentId === served && e.why === "taken_over")), "an agent taken over is let go");
  await new Promise((r) => setTimeout(r, 5 * HEARTBEAT_MS));
  t.same(a.agents, [], "and not taken back");
  t.equal(adopted(events).filter((id) => id === served).length, 1, "adopted once");
  const { runtime } = await c.agentStatus({ agentId: served });
  t.equal(runtime.attached, true, "the new worker still serves it");
});

t.test("a SwarmAdopter outlives a daemon restart; stop() leaves its agents offline", async (t) => {
  const db = join(tempDir(t), "adopter.db");
  const port = await freePort();
  const first = await spawnListening(t, ["--db", db, "--port", String(port)]);
  const c = client(t, port);
  const { swarmId, agents } = await c.swarmInit({ initialAgents: [{ type: "coder" }] });
  const agentId = agents[0]?.agentId as string;
  const { a, events } = adopter(t, { port });
  t.ok(await until(() => adopted(events).length === 1));
  first.proc.kill("SIGKILL");
  await first.exited;
  await spawnListening(t, ["--db", db, "--port", String(port)]);
  t.ok(await until(() => events.some((e) => e.type === "attached" && e.again)), "its worker attached again");
  t.same(a.agents, [agentId]);
  const task = await c.taskOrchestrate({ swarmId, task: "after the restart" });
  const done = await c.taskWait({ taskId: task.taskId, timeoutMs: 10_000 });
  t.same([done.status, done.result], ["completed", { by: agentId, did: "after the restart" }]);

  await a.stop();
  t.equal(await a.done, "stopped");
  t.same(a.agents, []);
  t.equal((await c.agentStatus({ agentId })).status, "offline", "stop() detached it");
});

t.test("a SwarmAdopter ends on what no retry mends: a refused token, a token that may not attach", async (t) => {
  const { port } = await startDaemon(t, { SWARMD_AUTH_TOKENS: "ops:write:adopter-write-secret,viewer:read:adopter-read-secret" });
  const c = client(t, port, "adopter-write-secret");
  await c.swarmInit({ initialAgents: [{ type: "coder" }] });

  const refused = adopter(t, { port, token: "not-the-token" }).a;
  const err = await refused.done.catch((e: unknown) => e);
  t.ok(err instanceof RpcError && err.data?.reason === "unauthenticated", "a refused token rejects done");
  t.rejects(refused.ready, "and ready");

  const reader = adopter(t, { port, token: "adopter-read-secret" }).a;
  await reader.ready; // it may list the agents...
  const denied = await reader.done.catch((e: unknown) => e);
  t.ok(denied instanceof RpcError && denied.data?.reason === "forbidden", "...but not attach: done rejects");
  t.same(reader.agents, [], "and it let go of everything");
});

t.test("a SwarmAdopter after SIGHUP changed the tokens: its looks authenticate again; revoked, it ends", async (t) => {
  const tokens = join(tempDir(t), "tokens");
  writeFileSync(tokens, "ops:write:ops-secret-1\nadopter:write:adopter-secret-1\n");
  const { port, daemon } = await startDaemon(t, { SWARMD_AUTH_TOKENS_FILE: tokens });
  const c = client(t, port, "ops-secret-1");
  const { swarmId } = await c.swarmInit({});
  const { a, events } = adopter(t, { port, token: "adopter-secret-1" });
  await a.ready;

  // Its name and token stay, under a new scope line: every connection it holds must authenticate again.
  writeFileSync(tokens, "ops:write:ops-secret-1\nadopter:admin:adopter-secret-1\n");
  daemon.reload();
  const { agentId } = await c.agentSpawn({ type: "coder", swarmId });
  t.ok(await until(() => adopted(events).includes(agentId)), "an agent spawned after the reload is adopted");
  t.same(events.filter((e) => e.type === "list_failed"), [], "no look failed");

  writeFileSync(tokens, "ops:write:ops-secret-1\n");
  daemon.reload();
  const err = await a.done.catch((e: unknown) => e);
  t.ok(err instanceof RpcError && err.data?.reason === "unauthenticated", "a revoked token ends it: done rejects");
});

t.test("a SwarmAdopter stops at once, even while a look waits for a daemon that is away", async (t) => {
  const { a, events } = adopter(t, { port: await freePort() });
  t.ok(await until(() => events.some((e) => e.type === "list_failed")), "looking, and failing");
  const started = Date.now();
  await a.stop();
  const ms = Date.now() - started;
  t.ok(ms < 2_000, `stop() took ${ms} ms, not a connect timeout`);
  t.equal(await a.done, "stopped");
  await t.rejects(a.ready, { code: "CLIENT_CLOSED" }, "ready says it never listed");
});

t.test("a SwarmAdopter started before its daemon keeps looking, and is ready once the daemon answers", async (t) => {
  const port = await freePort();
  const { a, events } = adopter(t, { port, acquireTimeoutMs: 300 });
  let ready = false;
  void a.ready.then(() => (ready = true));
  t.ok(await until(() => events.some((e) => e.type === "list_failed")), "a failed look is reported");
  t.notOk(ready, "not ready while nothing answers");
  await spawnListening(t, ["--db", join(tempDir(t), "late.db"), "--port", String(port)]);
  await a.ready;
  const c = client(t, port);
  const { agents } = await c.swarmInit({ initialAgents: [{ type: "coder" }] });
  t.ok(await until(() => a.agents.includes(agents[0]?.agentId as string)), "and then adopts");
});
