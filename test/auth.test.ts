import { writeFileSync } from "node:fs";
import { join } from "node:path";
import t, { type Test } from "tap";
import { RpcError, SwarmClient } from "../src/client/index.js";
import { LineClient } from "../scripts/line-client.js";
import { startDaemon, tempDir } from "./helpers/daemon.js";
import { spawnDaemon, spawnListening, waitForLog } from "./helpers/spawn.js";
import { startSwarmctl } from "./helpers/swarmctl.js";

const TOKENS = "ops:admin:adm1n-secret-value,ci:write:wr1te-secret-value,viewer:read:r3ad-secret-value";
const { port, logs } = await startDaemon(t, { SWARMD_AUTH_TOKENS: TOKENS });

/** `swarmctl info` with SWARMD_TOKEN set to `token`. */
async function swarmctlInfo(token?: string): Promise<{ code: number | null; out: string; err: string }> {
  const run = startSwarmctl(["--port", String(port), "info"], token === undefined ? {} : { SWARMD_TOKEN: token });
  const code = await run.exited;
  return { code, out: run.out.stdout, err: run.out.stderr };
}

async function connect(t: Test): Promise<LineClient> {
  const c = await LineClient.connect(port);
  t.teardown(() => c.close());
  return c;
}

t.test("before authenticating only initialize, ping, authenticate and notifications are served", async (t) => {
  const c = await connect(t);
  t.equal((await c.request("initialize", { protocolVersion: "2025-06-18" })).result.serverInfo.name, "swarmd");
  c.send({ jsonrpc: "2.0", method: "notifications/initialized" });
  t.same((await c.request("ping")).result, {});
  for (const [method, params] of [
    ["tools/list", {}],
    ["tools/call", { name: "server_info", arguments: {} }],
    ["batch", [{ method: "ping" }]],
  ] as const) {
    const e = (await c.request(method, params)).error;
    t.same([e.code, e.data.reason], [-32000, "unauthenticated"], method);
  }
  const probe = await connect(t);
  t.equal((await probe.request("ping")).result.status, "ok", "health probes work unauthenticated");
});

t.test("authenticate {token}: a wrong token is refused, a right one lets the connection act as its principal", async (t) => {
  const c = await connect(t);
  const started = Date.now();
  const wrong = (await c.request("authenticate", { token: "guess" })).error;
  t.same([wrong.code, wrong.data.reason, wrong.message], [-32000, "unauthenticated", "Invalid token."]);
  t.ok(Date.now() - started >= 90, "a wrong token is answered late");
  const ok = (await c.request("authenticate", { token: "wr1te-secret-value" })).result;
  t.same(ok, { authenticated: true, principal: "ci", scope: "write" });
  t.same((await c.call("server_info")).result.structuredContent.security, { authentication: true, tls: "off", tlsCertificateExpiresAt: null });
  t.equal((await c.call("swarm_init", {})).result.status, "active");
  const line = logs.find((l) => l.msg === "authenticated" && l.principal === "ci");
  t.ok(line, "the log names the principal");
  t.notOk(JSON.stringify(logs).includes("secret-value"), "and never a token");
});

t.test("a token in initialize's _meta authenticates the handshake", async (t) => {
  const c = await connect(t);
  await c.request("initialize", { protocolVersion: "2025-06-18", _meta: { "swarmd/token": "adm1n-secret-value" } });
  t.ok((await c.call("server_info")).result);
  const bad = await connect(t);
  t.equal((await bad.request("initialize", { _meta: { "swarmd/token": "nope" } })).error.data.reason, "unauthenticated");
});

t.test("scopes: read may call only read-only tools, also inside a batch", async (t) => {
  const c = await connect(t);
  await c.request("authenticate", { token: "r3ad-secret-value" });
  t.ok((await c.call("memory_retrieve", { key: "k" })).result, "read-only: allowed");
  t.ok((await c.request("tools/list")).result.tools.length > 0);
  const store = (await c.call("memory_store", { key: "k", value: 1 })).error;
  t.same([store.code, store.data.reason, store.data.principal, store.data.tool], [-32000, "forbidden", "viewer", "memory_store"]);
  const batch = (await c.request("batch", [{ method: "tools/call", params: { name: "memory_retrieve", arguments: { key: "k" } } }, { method: "tools/call", params: { name: "memory_delete", arguments: { key: "k" } } }])).result;
  t.ok(batch[0].result);
  t.equal(batch[1].error.data.reason, "forbidden");
});

t.test("scopes: server_backup, which writes files on the daemon's host, needs an admin token", async (t) => {
  const writer = await connect(t);
  await writer.request("authenticate", { token: "wr1te-secret-value" });
  const refused = (await writer.call("server_backup", { name: "by-ci.db" })).error;
  t.same([refused.code, refused.data.reason, refused.data.scope, refused.data.required], [-32000, "forbidden", "write", "admin"]);
  t.equal(refused.message, "ci has write scope; server_backup needs an admin token.");
  const admin = await connect(t);
  await admin.request("authenticate", { token: "adm1n-secret-value" });
  t.equal((await admin.call("server_backup", { name: "by-ops.db" })).result.name, "by-ops.db");
});

t.test("three wrong tokens in a row close the connection", async (t) => {
  const c = await connect(t);
  for (let i = 0; i < 3; i++) await c.request("authenticate", { token: `wrong-${i}` });
  await c.waitForEnd(3000);
  t.pass("closed");
  t.ok(logs.some((l) => l.msg === "closing after repeated authentication failures"));
});

t.test("the client and swarmctl send their token", async (t) => {
  const client = new SwarmClient({ port, token: "adm1n-secret-value", poolMin: 0 });
  t.teardown(() => client.close());
  t.equal((await client.serverInfo()).name, "swarmd");
  const anonymous = new SwarmClient({ port, poolMin: 0 });
  t.teardown(() => anonymous.close());
  const err = await anonymous.serverInfo().catch((e: unknown) => e);
  t.ok(err instanceof RpcError && err.data?.reason === "unauthenticated");
  const cli = await swarmctlInfo("r3ad-secret-value");
  t.same([cli.code, /^name: swarmd$/m.test(cli.out)], [0, true]);
  const none = await swarmctlInfo();
  t.same([none.code, none.err], [1, "swarmctl: The daemon requires a token: give --token or set SWARMD_TOKEN. (SERVER_ERROR -32000, unauthenticated)\n"], "without one, swarmctl says how to give it");
});

t.test("a wrong token is the daemon's answer at once, not a connection retried until it times out", async (t) => {
  const wrong = new SwarmClient({ port, token: "not-the-secret", poolMin: 0, acquireTimeoutMs: 10_000 });
  t.teardown(() => wrong.close());
  const started = Date.now();
  const err = await wrong.serverInfo().catch((e: unknown) => e);
  t.ok(err instanceof RpcError && err.data?.reason === "unauthenticated", `the refusal itself: ${String(err)}`);
  t.ok(Date.now() - started < 2000, `in ${Date.now() - started} ms, well within the 10 s acquire timeout`);
  const cli = await swarmctlInfo("not-the-secret");
  t.same([cli.code, cli.err], [1, "swarmctl: The daemon refused the token (--token or SWARMD_TOKEN). (SERVER_ERROR -32000, unauthenticated)\n"], "swarmctl: exit 1, the server refused");
});

t.test("protected mode: no tokens beyond loopback refuses to start, naming both fixes", async (t) => {
  const refused = spawnDaemon(t, ["--bind", "0.0.0.0", "--port", "0", "--db", join(tempDir(t), "p.db")]);
  t.equal(await refused.exited, 2);
  const line = refused.logs.map((l) => l.text).join("\n");
  t.match(line, /refusing to listen on 0\.0\.0\.0 without authentication/);
  t.match(line, /SWARMD_AUTH_TOKENS/);
  t.match(line, /SWARMD_PROTECTED=0/);
  const accepted = await spawnListening(t, ["--bind", "0.0.0.0", "--db", join(tempDir(t), "q.db")], { SWARMD_PROTECTED: "0" });
  t.ok(accepted.port > 0, "SWARMD_PROTECTED=0 accepts the risk");
  const dir = tempDir(t);
  writeFileSync(join(dir, "tokens"), "# operators\nops:admin:from-a-file-secret\n");
  const withFile = await spawnListening(t, ["--bind", "0.0.0.0", "--db", join(dir, "r.db")], { SWARMD_AUTH_TOKENS_FILE: join(dir, "tokens") });
  const listening = await waitForLog(withFile, (l) => l.msg === "swarmd listening");
  t.equal(listening.auth, "1 tokens", "tokens from a file");
  const c = await LineClient.connect(withFile.port);
  t.teardown(() => c.close());
  t.equal((await c.request("authenticate", { token: "from-a-file-secret" })).result.principal, "ops");
});

t.test("SIGHUP reads the tokens file again: a rotated token stops working, the others go on", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "tokens");
  writeFileSync(file, "keep:write:kept-secret-1\ngone:write:gone-secret-1\ndemoted:write:demote-secret-1\n");
  const d = await spawnListening(t, ["--db", join(dir, "s.db")], { SWARMD_AUTH_TOKENS_FILE: file, SWARMD_AUTH_TOKENS: "env:admin:env-secret-01" });
  const as = async (token: string): Promise<LineClient> => {
    const c = await LineClient.connect(d.port);
    t.teardown(() => c.close());
    t.ok((await c.request("authenticate", { token })).result, `authenticated with ${token}`);
    return c;
  };
  const [kept, gone, demoted, env] = await Promise.all(["kept-secret-1", "gone-secret-1", "demote-secret-1", "env-secret-01"].map(as));

  writeFileSync(file, "keep:write:kept-secret-1\ndemoted:read:demote-secret-1\nfresh:write:fresh-secret-1\n");
  d.proc.kill("SIGHUP");
  const reloaded = await waitForLog(d, (l) => l.msg === "access tokens reloaded (SIGHUP)");
  t.same([reloaded.tokens, reloaded.added, reloaded.removed], [4, ["demoted", "fresh"], ["gone", "demoted"]], "the log says what changed");
  t.notOk(JSON.stringify(d.logs).includes("secret-1"), "and never a token");

  t.equal((await kept!.call("swarm_init", {})).result.status, "active", "an unchanged token's connection goes on");
  t.ok((await env!.call("server_info")).result, "tokens given as settings stay");
  const revoked = (await gone!.call("swarm_list")).error;
  t.same([revoked.code, revoked.data.reason], [-32000, "unauthenticated"]);
  t.match(revoked.message, /tokens changed/);
  t.equal((await gone!.request("authenticate", { token: "gone-secret-1" })).error.message, "Invalid token.", "the removed token is refused");
  t.equal((await demoted!.call("swarm_list")).error.data.reason, "unauthenticated", "a token whose scope changed authenticates again");
  t.equal((await demoted!.request("authenticate", { token: "demote-secret-1" })).result.scope, "read");
  t.equal((await demoted!.call("memory_store", { key: "k", value: 1 })).error.data.reason, "forbidden", "with its new scope");
  const fresh = await as("fresh-secret-1");
  t.ok((await fresh.call("memory_store", { key: "k", value: 1 })).result, "an added token works at once");

  writeFileSync(file, "keep:write:kept-secret-1\nthis line is not a token\n");
  d.proc.kill("SIGHUP");
  const refused = await waitForLog(d, (l) => /access tokens not reloaded/.test(l.msg));
  t.match(refused.msg, /the previous ones stay: SWARMD_AUTH_TOKENS_FILE .*tokens: bad token entry "this line is not a token"/);
  t.ok((await fresh.call("swarm_list")).result, "a bad file changes nothing");
  t.equal(d.proc.exitCode, null, "and SIGHUP never stops the daemon");
});

t.test("SIGHUP: protected mode keeps the tokens of a daemon beyond loopback rather than leave it with none", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "tokens");
  writeFileSync(file, "ops:admin:only-secret-1\n");
  const d = await spawnListening(t, ["--bind", "0.0.0.0", "--db", join(dir, "s.db")], { SWARMD_AUTH_TOKENS_FILE: file });
  writeFileSync(file, "# everyone left\n");
  d.proc.kill("SIGHUP");
  const refused = await waitForLog(d, (l) => /access tokens not reloaded/.test(l.msg));
  t.match(refused.msg, /no token would be left, and protected mode refuses that on 0\.0\.0\.0/);
  const c = await LineClient.connect(d.port);
  t.teardown(() => c.close());
  t.equal((await c.request("authenticate", { token: "only-secret-1" })).result.principal, "ops");
  t.equal((await c.call("server_info")).error, undefined);

  // On loopback a file without tokens is allowed, as at start: authentication is off, and the log says so loudly.
  const local = await spawnListening(t, ["--db", join(dir, "l.db")], { SWARMD_AUTH_TOKENS_FILE: file });
  const anonymous = await LineClient.connect(local.port);
  t.teardown(() => anonymous.close());
  t.equal((await anonymous.call("server_info")).error, undefined, "a file without tokens at start: authentication is off");
  writeFileSync(file, "ops:admin:only-secret-1\n");
  local.proc.kill("SIGHUP");
  await waitForLog(local, (l) => l.msg === "access tokens reloaded (SIGHUP)");
  t.equal((await anonymous.call("server_info")).error.data.reason, "unauthenticated", "a token added turns it on");
  writeFileSync(file, "");
  local.proc.kill("SIGHUP");
  const off = await waitForLog(local, (l) => /none left/.test(l.msg));
  t.same([off.level, off.msg], [40, "access tokens reloaded (SIGHUP): none left, so authentication is off"]);
  t.equal((await anonymous.call("server_info")).error, undefined, "every connection is trusted again");
});

t.test("the client authenticates again after SIGHUP changed its token's scope, and answers a revoked one at once", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "tokens");
  writeFileSync(file, "app:read:app-secret-01\n");
  const d = await spawnListening(t, ["--db", join(dir, "c.db")], { SWARMD_AUTH_TOKENS_FILE: file });
  const client = new SwarmClient({ port: d.port, token: "app-secret-01", poolMin: 2, poolSize: 4 });
  t.teardown(() => client.close());
  await Promise.all([client.swarmList({}), client.swarmList({})]);
  const denied = await client.memoryStore({ key: "k", value: 1 }).catch((e: unknown) => e);
  t.equal(denied instanceof RpcError && denied.data?.reason, "forbidden", "read scope may not write");

  writeFileSync(file, "app:write:app-secret-01\n");
  d.proc.kill("SIGHUP");
  await waitForLog(d, (l) => l.msg === "access tokens reloaded (SIGHUP)");
  const stored = await Promise.all([1, 2, 3].map((n) => client.memoryStore({ key: `k${n}`, value: n })));
  t.same(stored.map((s) => s.version), [1, 1, 1], "each call was refused on its old connection, then sent once on a new one");
  t.equal((await client.memoryRetrieve({ key: "k3" })).value, 3, "and done once");

  writeFileSync(file, "other:admin:other-secret-01\n");
  d.proc.kill("SIGHUP");
  await waitForLog(d, (l) => l.msg === "access tokens reloaded (SIGHUP)" && JSON.stringify(l.added) === '["other"]');
  const started = Date.now();
  const revoked = await client.swarmList({}).catch((e: unknown) => e);
  t.equal(revoked instanceof RpcError && revoked.data?.reason, "unauthenticated", `a revoked token is the daemon's answer: ${String(revoked)}`);
  t.ok(Date.now() - started < 5_000, "at once, not after the acquire timeout");
});
