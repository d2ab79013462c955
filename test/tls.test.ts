import { spawn } from "node:child_process";
import { join } from "node:path";
import t, { type Test } from "tap";
import { ClientError, SwarmClient } from "../src/client/index.js";
import { LineClient } from "../scripts/line-client.js";
import { startDaemon, tempDir } from "./helpers/daemon.js";
import { spawnDaemon, waitForLog } from "./helpers/spawn.js";
import { makeCerts } from "./helpers/tls.js";

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
  t.equal((await c.serverInfo()).name, "swarmd");
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
  const cli = await new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(process.execPath, [new URL("../dist/src/cli/swarmctl.js", import.meta.url).pathname, "--port", String(port), "--tls-ca", certs.caCert, "ping"]);
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.on("close", (code) => resolve({ code, out }));
  });
  t.same([cli.code, cli.out.startsWith("PONG")], [0, true], "swarmctl --tls-ca");
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
});
