import { spawn } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import t, { type Test } from "tap";
import { ClientError, SwarmClient } from "../src/client/index.js";
import { LineClient } from "../scripts/line-client.js";
import { freePort, startDaemon, tempDir } from "./helpers/daemon.js";
import { spawnDaemon, spawnListening, waitForLog } from "./helpers/spawn.js";
import { expiredCert, makeCerts } from "./helpers/tls.js";
import { startWorker } from "./helpers/workers.js";

const certs = makeCerts(tempDir(t, "swarmd-certs-"));

function client(t: Test, options: ConstructorParameters<typeof SwarmClient>[0]): SwarmClient {
  const c = new SwarmClient({ poolMin: 0, acquireTimeoutMs: 1500, retryAttempts: 0, ...options });
  t.teardown(() => c.close());
  return c;
}

t.test("TLS: the same protocol, for clients that trust the daemon's CA", async (t) => {
  const { port, logs } = await startDaemon(t, { SWARMD_TLS_CERT: certs.serverCert, SWARMD_TLS_KEY: certs.serverKey });
  t.equal(logs.find((l) => l.msg === "swarmd listening")?.tls, "server");
  const c = client(t, { port, tls: { ca: certs.read(certs.caCert) } });
  const info = await c.serverInfo();
  t.equal(info.name, "swarmd");
  const notAfter = Date.parse(new X509Certificate(certs.read(certs.serverCert)).validTo);
  t.same(info.security, { authentication: false, tls: "server", tlsCertificateExpiresAt: notAfter }, "server_info says how it is served");
  const s = await c.swarmInit({ initialAgents: [{ type: "coder" }] });
  t.equal((await c.agentList({ swarmId: s.swarmId })).count, 1);
  const untrusting = client(t, { port, tls: true });
  const err = await untrusting.ping().catch((e: unknown) => e);
  t.ok(err instanceof ClientError && err.code === "CONNECT_FAILED", "a client that does not trust the CA cannot connect");
  t.match((err as Error).message, /certificate/);
  const plain = await LineClient.connect(port);
  plain.send({ jsonrpc: "2.0", id: 1, method: "ping" });
  await plain.waitForEnd(3000).catch(() => plain.close());
  t.notOk(plain.messages.some((m) => m.id === 1), "plain TCP gets no protocol answer");
  t.equal((await c.ping(), "still serving"), "still serving", "a failed handshake does not stop the daemon");
  const cli = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const child = spawn(process.execPath, [new URL("../dist/src/cli/swarmctl.js", import.meta.url).pathname, "--port", String(port), "--tls-ca", certs.caCert, "ping"]);
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    child.on("close", (code) => resolve({ code, out, err }));
  });
  t.same([cli.code, cli.out.startsWith("PONG")], [0, true], "swarmctl --tls-ca");
  t.equal(cli.err, "", "to an address: no SNI, so no warning on stderr");
});

t.test("a TLS mismatch is one failure that says what to change, at once, and close() does not wait it out", async (t) => {
  const tls = await startDaemon(t, { SWARMD_TLS_CERT: certs.serverCert, SWARMD_TLS_KEY: certs.serverKey });
  const mutual = await startDaemon(t, { SWARMD_TLS_CERT: certs.serverCert, SWARMD_TLS_KEY: certs.serverKey, SWARMD_TLS_CA: certs.caCert });
  const plain = await startDaemon(t);
  const ca = certs.read(certs.caCert);
  const cases = [
    [{ port: tls.port, tls: true }, /certificate is not trusted: give the client the CA that signed it \(tls\.ca; swarmctl --tls-ca\)/],
    [{ port: tls.port, tls: { ca, servername: "elsewhere.example" } }, /certificate is not for elsewhere\.example: connect by a name it lists, or set tls\.servername/],
    [{ port: plain.port, tls: { ca } }, /does not speak TLS on this port: connect without TLS/],
    [{ port: mutual.port, tls: { ca } }, /wants a client certificate \(tls\.cert and tls\.key; swarmctl --tls-cert and --tls-key\)/],
  ] as const;
  for (const [options, message] of cases) {
    const c = new SwarmClient({ ...options, poolMin: 2, acquireTimeoutMs: 10_000 });
    const started = Date.now();
    const err = await c.ping().catch((e: unknown) => e);
    t.ok(err instanceof ClientError && err.code === "CONNECT_FAILED" && err.permanent, `CONNECT_FAILED, not retried: ${String(err)}`);
    t.match((err as Error).message, message);
    t.ok(Date.now() - started < 3_000, "at once, not after the 10 s acquire timeout");
    const closing = Date.now();
    await c.close();
    t.ok(Date.now() - closing < 3_000, "and close() returns at once too");
  }
  const bridge = spawn(process.execPath, [new URL("../dist/src/cli/swarmctl.js", import.meta.url).pathname, "bridge", "--port", String(mutual.port), "--tls-ca", certs.caCert]);
  let bridgeErr = "";
  bridge.stderr.setEncoding("utf8").on("data", (d: string) => (bridgeErr += d));
  bridge.stdin.end('{"jsonrpc":"2.0","id":1,"method":"ping"}\n');
  t.equal(await new Promise((r) => bridge.on("close", r)), 3);
  t.match(bridgeErr, /^swarmctl: Cannot connect to 127\.0\.0\.1:\d+: the daemon wants a client certificate/, "swarmctl bridge says it too");
  const unaware = client(t, { port: tls.port, acquireTimeoutMs: 500 });
  const err = await unaware.ping().catch((e: unknown) => e);
  t.match(String(err), /closed the connection before answering initialize; a daemon that serves TLS does that to plain connections/);
});

t.test("mutual TLS: with SWARMD_TLS_CA only clients holding a certificate from that CA connect", async (t) => {
  const { port, logs } = await startDaemon(t, { SWARMD_TLS_CERT: certs.serverCert, SWARMD_TLS_KEY: certs.serverKey, SWARMD_TLS_CA: certs.caCert });
  t.equal(logs.find((l) => l.msg === "swarmd listening")?.tls, "mutual");
  const withCert = client(t, { port, tls: { ca: certs.read(certs.caCert), cert: certs.read(certs.clientCert), key: certs.read(certs.clientKey) } });
  t.equal((await withCert.serverInfo()).name, "swarmd");
  const without = client(t, { port, tls: { ca: certs.read(certs.caCert) } });
  const err = await without.ping().catch((e: unknown) => e);
  t.ok(err instanceof ClientError && (err.code === "CONNECT_FAILED" || err.code === "CONNECTION_CLOSED"), `refused: ${(err as Error).message}`);
});

t.test("TLS configuration mistakes stop the start with a clear line", async (t) => {
  const half = spawnDaemon(t, ["--port", "0", "--db", join(tempDir(t), "a.db"), "--tls-cert", certs.serverCert]);
  t.equal(await half.exited, 2);
  t.match(half.logs.map((l) => l.text).join(""), /TLS needs both a certificate and its key/);
  const missing = spawnDaemon(t, ["--port", "0", "--db", join(tempDir(t), "b.db"), "--tls-cert", "/nonexistent.pem", "--tls-key", certs.serverKey]);
  t.equal(await missing.exited, 1);
  t.match((await waitForLog(missing, (l) => l.level === 60)).msg, /cannot read the TLS certificate \(SWARMD_TLS_CERT\) \/nonexistent\.pem/);
  for (const [files, message] of [
    [[certs.serverCert, certs.clientKey], /^the TLS key \(SWARMD_TLS_KEY\) \S+client\.key is not the key of the certificate \S+server\.pem$/],
    [[certs.serverKey, certs.serverKey], /^the TLS certificate \(SWARMD_TLS_CERT\) \S+server\.key is not a PEM certificate \(/],
    [[certs.serverCert, certs.caCert], /^the TLS key \(SWARMD_TLS_KEY\) \S+ca\.pem is not an unencrypted PEM private key \(/],
    [[certs.serverCert, certs.serverKey, certs.clientKey], /^the TLS CA \(SWARMD_TLS_CA\) \S+client\.key is not a PEM certificate \(/],
  ] as const) {
    const [cert, key, ca] = files as readonly string[];
    const args = ["--port", "0", "--db", join(tempDir(t), "c.db"), "--tls-cert", cert!, "--tls-key", key!, ...(ca ? ["--tls-ca", ca] : [])];
    const d = spawnDaemon(t, args);
    t.equal(await d.exited, 1);
    const fatal = await waitForLog(d, (l) => l.level === 60);
    t.match(fatal.msg, message);
    t.equal(fatal.err, undefined, "one line, no stack: the message says it all");
  }
  const expired = expiredCert(tempDir(t));
  const late = await spawnListening(t, ["--db", join(tempDir(t), "e.db"), "--tls-cert", expired.cert, "--tls-key", expired.key]);
  const warning = await waitForLog(late, (l) => /TLS certificate has expired/.test(l.msg));
  t.equal(Date.parse(warning.validTo) < Date.now(), true, "an expired certificate is served, with a warning saying since when");
});

/** A TLS connection trusting `ca` that pings: resolves with the socket once the reply came, rejects on a handshake error. */
function tlsPing(t: Test, port: number, ca: Buffer, socket?: TLSSocket): Promise<TLSSocket> {
  const s = socket ?? tlsConnect({ port, host: "127.0.0.1", servername: "localhost", ca });
  if (socket === undefined) t.teardown(() => s.destroy());
  return new Promise((resolve, reject) => {
    s.once("error", reject);
    s.once("data", (d: Buffer) => (JSON.parse(d.toString()).result.status === "ok" ? resolve(s) : reject(new Error(d.toString()))));
    s.write('{"jsonrpc":"2.0","id":1,"method":"ping"}\n');
  });
}

t.test("SIGHUP reads the TLS files again: a renewed certificate serves new connections, open ones go on", async (t) => {
  const renewed = makeCerts(tempDir(t, "swarmd-certs-"), 30);
  const dir = tempDir(t);
  const [cert, key] = [join(dir, "server.pem"), join(dir, "server.key")];
  copyFileSync(certs.serverCert, cert);
  copyFileSync(certs.serverKey, key);
  const httpPort = await freePort();
  const d = await spawnListening(t, ["--db", join(dir, "s.db"), "--tls-cert", cert, "--tls-key", key, "--http-port", String(httpPort)]);
  const expiry = async (): Promise<number> => {
    const body = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    return Number(/^swarmd_tls_certificate_expiry_timestamp_seconds (\S+)$/m.exec(body)?.[1]);
  };
  const notAfter = (file: string): number => Date.parse(new X509Certificate(readFileSync(file)).validTo) / 1000;
  t.equal(await expiry(), notAfter(certs.serverCert), "/metrics says when the certificate expires");
  const open = await tlsPing(t, d.port, certs.read(certs.caCert));

  copyFileSync(renewed.serverCert, cert);
  copyFileSync(renewed.serverKey, key);
  d.proc.kill("SIGHUP");
  const reloaded = await waitForLog(d, (l) => l.msg === "TLS certificate reloaded (SIGHUP)");
  t.equal(Date.parse(reloaded.validTo) / 1000, notAfter(renewed.serverCert), "the log says until when it is valid");
  t.equal(await expiry(), notAfter(renewed.serverCert), "and so does /metrics");
  t.ok(await tlsPing(t, d.port, renewed.read(renewed.caCert)), "new connections get the renewed certificate");
  const old = await tlsPing(t, d.port, certs.read(certs.caCert)).catch((e: Error) => e);
  t.match(String(old), /certificate/, "and not the old one");
  t.ok(await tlsPing(t, d.port, Buffer.alloc(0), open), "a connection opened before goes on");

  writeFileSync(key, "not a key\n");
  d.proc.kill("SIGHUP");
  t.match((await waitForLog(d, (l) => /TLS certificate not reloaded/.test(l.msg))).msg, /the previous one stays/);
  t.ok(await tlsPing(t, d.port, renewed.read(renewed.caCert)), "a bad key changes nothing");
  t.equal(d.proc.exitCode, null);
});

t.test("the example worker works for a daemon with TLS and tokens; a refused token stops it with a reason", async (t) => {
  const tokens = join(tempDir(t), "tokens");
  writeFileSync(tokens, "ops:write:worker-secret-1\nadmin:admin:admin-secret-1\n");
  const { port, daemon } = await startDaemon(t, { SWARMD_TLS_CERT: certs.serverCert, SWARMD_TLS_KEY: certs.serverKey, SWARMD_AUTH_TOKENS_FILE: tokens });
  const c = client(t, { port, tls: { ca: certs.read(certs.caCert) }, token: "worker-secret-1" });
  const { agents } = await c.swarmInit({ initialAgents: [{ type: "coder" }] });
  const agentId = agents[0]!.agentId;
  const worker = startWorker(t, port, agentId, ["--tls-ca", certs.caCert, "--token", "worker-secret-1"]);
  await worker.attached();
  const task = await c.taskOrchestrate({ task: "echo over tls" });
  const done = await c.taskWait({ taskId: task.taskId, timeoutMs: 10_000 });
  t.same([done.status, (done.result as { stdout: string }).stdout], ["completed", "over tls\n"]);

  const refused = startWorker(t, port, agentId, ["--tls-ca", certs.caCert, "--token", "wrong-secret"]);
  t.equal(await refused.exited, 1, "exit 1 rather than reconnecting forever");
  t.match(refused.log.join("\n"), /Invalid token\. \(check --token or SWARMD_TOKEN\)/);
  const anonymous = startWorker(t, port, agentId, ["--tls-ca", certs.caCert]);
  t.equal(await anonymous.exited, 1);
  t.match(anonymous.log.join("\n"), /Not authenticated.*\(no token given: --token or SWARMD_TOKEN\)/);
  const untrusting = startWorker(t, port, agentId, ["--tls", "--token", "worker-secret-1"]);
  t.equal(await untrusting.exited, 1, "an untrusted certificate stops it too");
  t.match(untrusting.log.join("\n"), /certificate.*\(UNABLE_TO_VERIFY_LEAF_SIGNATURE; check --tls-ca, --host, --tls\)/);

  // Its token's scope changed while it works: it authenticates again and goes on, on the same connection.
  writeFileSync(tokens, "ops:admin:worker-secret-1\nadmin:admin:admin-secret-1\n");
  daemon.reload();
  const admin = client(t, { port, tls: { ca: certs.read(certs.caCert) }, token: "admin-secret-1" });
  const rescoped = await admin.taskOrchestrate({ task: "echo after rescoping" });
  t.equal((await admin.taskWait({ taskId: rescoped.taskId, timeoutMs: 10_000 })).status, "completed");
  t.equal(worker.log.filter((l) => l.includes("attached")).length, 1, "without reconnecting");

  // Its token revoked: the next report is refused, and it stops instead of failing every task.
  writeFileSync(tokens, "admin:admin:admin-secret-1\n");
  daemon.reload();
  await admin.taskOrchestrate({ task: "echo after rotation" });
  t.equal(await worker.exited, 1);
  t.match(worker.log.join("\n"), /Invalid token\..*\(check --token or SWARMD_TOKEN\)/);
});

t.test("the image's HEALTHCHECK probe passes for TLS and for mutual TLS, and fails once the daemon is gone", async (t) => {
  const root = new URL("..", import.meta.url).pathname;
  for (const ca of [undefined, certs.caCert]) {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "",
      SWARMD_DB: join(tempDir(t), "probe.db"),
      MCP_TCP_PORT: String(await freePort()),
      SWARMD_HTTP_PORT: String(await freePort()),
      SWARMD_TLS_CERT: certs.serverCert,
      SWARMD_TLS_KEY: certs.serverKey,
      ...(ca === undefined ? {} : { SWARMD_TLS_CA: ca }),
    };
    const start = spawn("sh", ["scripts/image-steps.sh", "start"], { cwd: root, env, stdio: "ignore" });
    t.teardown(() => start.kill("SIGKILL"));
    const probe = (): Promise<number | null> => new Promise((r) => spawn("sh", ["scripts/image-steps.sh", "probe"], { cwd: root, env, stdio: "ignore" }).on("exit", r));
    let code: number | null = 1;
    for (let i = 0; i < 50 && code !== 0; i++) {
      code = await probe();
      if (code !== 0) await new Promise((r) => setTimeout(r, 100));
    }
    const mode = ca === undefined ? "TLS" : "mutual TLS, which the probe has no client certificate for";
    t.equal(code, 0, `healthy with ${mode}`);
    start.kill("SIGTERM");
    await new Promise((r) => start.on("exit", r));
    t.not(await probe(), 0, `unhealthy once stopped (${mode})`);
  }
});
