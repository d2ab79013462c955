import { spawn } from "node:child_process";
import { join } from "node:path";
import t from "tap";
import { SWARMCTL, sdkThroughBridge } from "./helpers/bridge.js";
import { freePort, startDaemon, tempDir } from "./helpers/daemon.js";
import { spawnListening } from "./helpers/spawn.js";

const TOKENS = { SWARMD_AUTH_TOKENS: "host:write:br1dge-restart-secret" };

t.test("swarmctl bridge outlives a daemon restart: the host's session goes on, what was in flight is answered", async (t) => {
  const db = join(tempDir(t), "bridge.db");
  const port = await freePort();
  const first = await spawnListening(t, ["--db", db, "--port", String(port), "--http-port", "0"], TOKENS);
  const { client, errors, stderr } = await sdkThroughBridge(t, "sdk-bridge-restart", ["--port", String(port), "--token", "br1dge-restart-secret"]);
  const stored = await client.callTool({ name: "memory_store", arguments: { key: "before", value: "kept" } });
  t.equal(stored.isError, undefined);

  // A call the daemon is still working on when it dies: a long wait for a task no worker takes.
  await client.callTool({ name: "swarm_init", arguments: { topology: "mesh" } });
  const task = await client.callTool({ name: "task_orchestrate", arguments: { task: "never taken" } });
  const taskId = (task.structuredContent as { taskId: string }).taskId;
  const waiting = client.callTool({ name: "task_wait", arguments: { taskId, timeoutMs: 60_000 } }, undefined, { timeout: 90_000 }).catch((e: unknown) => e);
  await new Promise((r) => setTimeout(r, 200));
  first.proc.kill("SIGKILL");
  const lost = await waiting;
  t.match(String(lost), /was lost before it answered; the request may or may not have taken effect/, "the call in flight is answered, not left hanging");

  // The daemon comes back on the same port a moment later (the bridge keeps trying meanwhile).
  await new Promise((r) => setTimeout(r, 700));
  await spawnListening(t, ["--db", db, "--port", String(port), "--http-port", "0"], TOKENS);
  // The SDK rejects a ping answered with anything but {}: what the daemon answers only an initialized session, so this
  // passes only if the bridge replayed the host's handshake on the new connection.
  t.same(await client.ping(), {}, "the new connection carries the host's handshake");
  const retrieved = await client.callTool({ name: "memory_retrieve", arguments: { key: "before" } });
  t.equal((retrieved.structuredContent as { value: unknown }).value, "kept", "the same host session reads what it stored before the restart");
  const status = await client.callTool({ name: "task_status", arguments: { taskId } });
  t.equal((status.structuredContent as { status: string }).status, "pending", "and the task it submitted");
  t.same(errors, [], "the host saw no protocol error");
  t.match(stderr(), /swarmctl bridge: the connection to 127\.0\.0\.1:\d+ was lost \(.*\); connecting again/);
  t.match(stderr(), /swarmctl bridge: connected to 127\.0\.0\.1:\d+ again; the host's session goes on/);
  t.comment(stderr().trim());
});

t.test("swarmctl bridge gives up on a daemon that stays away: one line on stderr, exit 3", async (t) => {
  const port = await freePort();
  const first = await spawnListening(t, ["--db", join(tempDir(t), "gone.db"), "--port", String(port), "--http-port", "0"]);
  const bridge = spawn(process.execPath, [SWARMCTL, "bridge", "--port", String(port), "--reconnect-for", "1"], { env: { PATH: process.env.PATH ?? "" } });
  let stdout = "";
  let stderr = "";
  bridge.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  bridge.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  bridge.stdin.write('{"jsonrpc":"2.0","id":1,"method":"ping"}\n');
  while (!stdout.includes('"id":1')) await new Promise((r) => setTimeout(r, 20));
  first.proc.kill("SIGKILL");
  const code = await new Promise((r) => bridge.on("close", r));
  t.equal(code, 3);
  t.match(stderr, /swarmctl: swarmd at 127\.0\.0\.1:\d+ did not come back within 1 s/);
});

t.test("swarmctl bridge without --token passes a refusal on: the host may authenticate itself", async (t) => {
  const { port } = await startDaemon(t, TOKENS);
  const bridge = spawn(process.execPath, [SWARMCTL, "bridge", "--port", String(port)], { env: { PATH: process.env.PATH ?? "" } });
  // Listened for from the start: the bridge may be gone before the test has read the last reply.
  const closed = new Promise((r) => bridge.on("close", r));
  let stdout = "";
  bridge.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  const reply = async (id: number): Promise<{ result?: unknown; error?: { data?: { reason?: string } } }> => {
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
      const line = stdout.split("\n").find((l) => l.includes(`"id":${id}`));
      if (line !== undefined) return JSON.parse(line);
    }
    throw new Error(`no reply ${id} through the bridge in 10 s`);
  };
  bridge.stdin.write('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"memory_list","arguments":{}}}\n');
  t.equal((await reply(1)).error?.data?.reason, "unauthenticated", "the daemon's answer, as it gave it");
  bridge.stdin.write('{"jsonrpc":"2.0","id":2,"method":"authenticate","params":{"token":"br1dge-restart-secret"}}\n');
  await reply(2);
  bridge.stdin.end('{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"memory_list","arguments":{}}}\n');
  t.ok((await reply(3)).result, "then the host's own token works");
  t.equal(await closed, 0, "and the bridge ends with the host's input");
});

t.test("swarmctl bridge keeps u64 ids exact: what was answered is not answered again, what was lost is, by its own id", async (t) => {
  const port = await freePort();
  const first = await spawnListening(t, ["--db", join(tempDir(t), "u64.db"), "--port", String(port), "--http-port", "0"]);
  const bridge = spawn(process.execPath, [SWARMCTL, "bridge", "--port", String(port), "--reconnect-for", "0"], { env: { PATH: process.env.PATH ?? "" } });
  let stdout = "";
  bridge.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  // Two ids that JSON.parse makes the same number (18446744073709552000).
  const answered = "18446744073709551615";
  const inFlight = "18446744073709551614";
  bridge.stdin.write(`{"jsonrpc":"2.0","id":${answered},"method":"tools/call","params":{"name":"swarm_init","arguments":{}}}\n`);
  while (!stdout.includes(`"id":${answered}`)) await new Promise((r) => setTimeout(r, 20));
  const taskLine = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"task_orchestrate","arguments":{"task":"never taken"}}}\n`;
  bridge.stdin.write(taskLine);
  while (!stdout.includes('"id":1,')) await new Promise((r) => setTimeout(r, 20));
  const taskId = /"taskId":"(task_[^"]+)"/.exec(stdout)?.[1];
  bridge.stdin.write(`{"jsonrpc":"2.0","id":${inFlight},"method":"tools/call","params":{"name":"task_wait","arguments":{"taskId":"${taskId}","timeoutMs":60000}}}\n`);
  await new Promise((r) => setTimeout(r, 300));
  first.proc.kill("SIGKILL");
  t.equal(await new Promise((r) => bridge.on("close", r)), 3, "--reconnect-for 0: the bridge ends");
  const lines = stdout.trim().split("\n");
  const ids = lines.map((l) => /^\{"jsonrpc":"2\.0","id":([^,]+),/.exec(l)?.[1]);
  t.same(ids, [answered, "1", inFlight], "one reply a request, each with the id it was sent with");
  t.match(lines[2], /"reason":"connection_lost"/, "the one in flight is answered as lost");
});
