// SwarmWorker: a worker written in TypeScript with the bundled client, against a real daemon.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import t, { type Test } from "tap";
import { ClientError, RpcError, SwarmClient, SwarmWorker, TaskFailure, type WorkerEvent, type WorkerOptions } from "../src/client/index.js";
import { freePort, startDaemon, tempDir } from "./helpers/daemon.js";
import { spawnListening } from "./helpers/spawn.js";

function client(t: Test, port: number, token?: string): SwarmClient {
  const c = new SwarmClient({ port, retryDelayMs: 20, ...(token === undefined ? {} : { token }) });
  t.teardown(() => c.close());
  return c;
}

function worker(t: Test, options: WorkerOptions): { w: SwarmWorker; events: WorkerEvent[] } {
  const events: WorkerEvent[] = [];
  const w = new SwarmWorker({ heartbeatMs: 200, onEvent: (e) => events.push(e), ...options });
  t.teardown(() => w.stop());
  return { w, events };
}

/** A swarm with one coder, and its agent id. */
async function oneAgent(c: SwarmClient): Promise<{ swarmId: string; agentId: string }> {
  const swarm = await c.swarmInit({ initialAgents: [{ type: "coder" }] });
  return { swarmId: swarm.swarmId, agentId: swarm.agents[0]?.agentId as string };
}

t.test("a SwarmWorker does what the daemon assigns: results, progress, failures that must not be retried", async (t) => {
  const { port } = await startDaemon(t);
  const c = client(t, port);
  const { agentId } = await oneAgent(c);
  const { w } = worker(t, {
    port,
    agentId,
    handle: async (a, { progress }) => {
      if (a.description === "refuse") throw new TaskFailure("cannot do that", { retryable: false, data: { why: "refused" } });
      if (a.description === "crash") throw new Error("it broke");
      await progress(0.5, "half way");
      await new Promise((r) => setTimeout(r, 100));
      return { did: a.description, input: a.input ?? null, agent: a.agentId };
    },
  });
  await w.ready;
  const { runtime } = await c.agentStatus({ agentId });
  t.same([runtime.kind, runtime.attached, runtime.delivery], ["worker", true, "push"], "attached");

  const task = await c.taskOrchestrate({ task: { description: "greet", input: { name: "Ada" } } });
  const progress: number[] = [];
  const done = await c.taskWait({ taskId: task.taskId, timeoutMs: 10_000 }, { onProgress: (p) => progress.push(p.progress) });
  t.same([done.status, done.result], ["completed", { did: "greet", input: { name: "Ada" }, agent: agentId }]);
  t.ok(progress.includes(50), `the handler's progress reached the caller (${progress.join(", ")})`);

  const refused = await c.taskWait({ taskId: (await c.taskOrchestrate({ task: "refuse" })).taskId, timeoutMs: 10_000 });
  t.same([refused.status, refused.attempts], ["failed", 1], "TaskFailure with retryable false: failed, not retried");
  const results = await c.taskResults({ taskId: refused.taskId, format: "detailed" });
  t.match(JSON.stringify(results), /cannot do that/);
  t.match(JSON.stringify(results), /"why":"refused"/, "with its data");

  const crashed = await c.taskWait({ taskId: (await c.taskOrchestrate({ task: "crash", execution: { retryPolicy: { maxAttempts: 2, initialDelayMs: 10 } } })).taskId, timeoutMs: 10_000 });
  t.same([crashed.status, crashed.attempts], ["failed", 2], "any other error fails the assignment, and the task is retried");
});

t.test("a SwarmWorker's handler learns of a cancellation through its signal; usage is reported", async (t) => {
  const { port } = await startDaemon(t);
  const c = client(t, port);
  const { swarmId, agentId } = await oneAgent(c);
  let aborted: string | undefined;
  const { w } = worker(t, {
    port,
    agentId,
    handle: (_a, { signal }) =>
      new Promise((resolve) =>
        signal.addEventListener("abort", () => {
          aborted = String(signal.reason);
          resolve(null);
        }),
      ),
  });
  await w.ready;
  const listed = (await c.agentList({ swarmId })).agents[0];
  t.ok((listed?.runtime.usage?.memoryBytes ?? 0) > 10_000_000, `the process's memory is reported (${listed?.runtime.usage?.memoryBytes} bytes)`);
  t.equal(typeof listed?.cpu_usage, "number", "and its CPU");

  const task = await c.taskOrchestrate({ task: "wait for it" });
  for (let i = 0; i < 100 && (await c.taskStatus({ taskId: task.taskId })).status !== "running"; i++) await new Promise((r) => setTimeout(r, 20));
  await c.taskCancel({ taskId: task.taskId });
  for (let i = 0; i < 100 && aborted === undefined; i++) await new Promise((r) => setTimeout(r, 20));
  t.match(aborted, /cancelled/, "the signal was aborted with the daemon's reason");
  t.equal((await c.taskStatus({ taskId: task.taskId })).status, "cancelled");
});

t.test("a SwarmWorker outlives a daemon restart: it connects again, attaches again, and the work gets done", async (t) => {
  const db = join(tempDir(t), "worker.db");
  const port = await freePort();
  const first = await spawnListening(t, ["--db", db, "--port", String(port)]);
  const c = client(t, port);
  const { agentId } = await oneAgent(c);
  const { w, events } = worker(t, { port, agentId, handle: (a) => ({ echoed: a.description }) });
  await w.ready;
  first.proc.kill("SIGKILL");
  await first.exited;
  await new Promise((r) => setTimeout(r, 500));
  await spawnListening(t, ["--db", db, "--port", String(port)]);
  for (let i = 0; i < 250 && !events.some((e) => e.type === "attached" && e.again); i++) await new Promise((r) => setTimeout(r, 20));
  t.same(
    events.map((e) => e.type),
    ["attached", "disconnected", "attached"],
    "attached, lost, attached again",
  );
  const task = await c.taskOrchestrate({ task: "after the restart" });
  const done = await c.taskWait({ taskId: task.taskId, timeoutMs: 10_000 });
  t.same([done.status, done.result], ["completed", { echoed: "after the restart" }]);
});

t.test("a SwarmWorker ends: stop() leaves the agent offline, termination and takeover end it, a refused token fails it", async (t) => {
  const { port } = await startDaemon(t, { SWARMD_AUTH_TOKENS: "ops:write:worker-test-secret" });
  const token = "worker-test-secret";
  const c = client(t, port, token);
  const { agentId } = await oneAgent(c);

  const stopped = worker(t, { port, token, agentId, handle: () => null }).w;
  await stopped.ready;
  t.equal(await stopped.stop(), "stopped");
  t.equal(await stopped.done, "stopped");
  t.equal((await c.agentStatus({ agentId })).status, "offline", "stop() detached it");

  const taken = worker(t, { port, token, agentId, handle: () => null }).w;
  await taken.ready;
  const other = worker(t, { port, token, agentId, handle: () => null }).w;
  await other.ready;
  t.equal(await taken.done, "taken_over", "a second worker with takeover replaces the first");
  await c.agentTerminate({ agentId });
  t.equal(await other.done, "terminated", "termination ends it");

  const spare = (await c.agentSpawn({ type: "coder" })).agentId;
  const refused = worker(t, { port, token: "not-the-token", agentId: spare, handle: () => null }).w;
  const err = await refused.done.catch((e: unknown) => e);
  t.ok(err instanceof RpcError && err.data?.reason === "unauthenticated", "a refused token rejects done, at once");
  t.rejects(refused.ready, "and ready");
  const early = worker(t, { port: await freePort(), agentId, handle: () => null }).w;
  t.equal(await early.stop(), "stopped", "stopped while no daemon answers");
  const never = await early.ready.catch((e: unknown) => e);
  t.ok(never instanceof ClientError && never.code === "CLIENT_CLOSED", "ready rejects: it never attached");
  const unknown = worker(t, { port, token, agentId: "agent_1_nobody", handle: () => null }).w;
  const missing = await unknown.done.catch((e: unknown) => e);
  t.ok(missing instanceof RpcError && missing.data?.reason === "not_found", "so does an agent that does not exist");
});

t.test("a SwarmWorker after SIGHUP changed the tokens: it authenticates again and its work counts; revoked, it ends", async (t) => {
  const tokens = join(tempDir(t), "tokens");
  writeFileSync(tokens, "ops:write:ops-secret-1\nworker:write:worker-secret-1\n");
  const { port, daemon } = await startDaemon(t, { SWARMD_AUTH_TOKENS_FILE: tokens });
  const c = client(t, port, "ops-secret-1");
  const { agentId } = await oneAgent(c);
  const { w, events } = worker(t, { port, token: "worker-secret-1", agentId, usage: false, handle: (a) => ({ echoed: a.description }) });
  await w.ready;

  // The worker's name and token stay, under a new scope line: its connection must authenticate again.
  writeFileSync(tokens, "ops:write:ops-secret-1\nworker:admin:worker-secret-1\n");
  daemon.reload();
  const done = await c.taskWait({ taskId: (await c.taskOrchestrate({ task: "after the reload" })).taskId, timeoutMs: 10_000 });
  t.same([done.status, done.result], ["completed", { echoed: "after the reload" }], "its report was sent again once authenticated");
  t.same(events.filter((e) => e.type !== "attached"), [], "without losing its connection");

  writeFileSync(tokens, "ops:write:ops-secret-1\n");
  daemon.reload();
  void c.taskOrchestrate({ task: "after the revocation" });
  const err = await w.done.catch((e: unknown) => e);
  t.ok(err instanceof RpcError && err.data?.reason === "unauthenticated", "a revoked token ends it: done rejects");
});
