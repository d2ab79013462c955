import { join } from "node:path";
import t from "tap";
import { tempDir } from "./helpers/daemon.js";
import { spawnDaemon } from "./helpers/spawn.js";

t.test("swarmd --stdio: stdout carries nothing but protocol messages; stdin EOF ends it cleanly", async (t) => {
  const dir = tempDir(t);
  const d = spawnDaemon(t, ["--stdio", "--db", join(dir, "s.db"), "--log-level", "debug"]);
  const lines = [
    { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {} } },
    { jsonrpc: "2.0", method: "notifications/initialized" },
    { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "server_info", arguments: {} } },
    { jsonrpc: "2.0", id: 3, method: "ping" },
  ];
  d.proc.stdin.write(lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
  d.proc.stdin.write("not json\n");
  d.proc.stdin.end('{"jsonrpc":"2.0","id":4,"method":"ping"}'); // no trailing newline before EOF
  t.equal(await d.exited, 0, "exits 0 when the host closes stdin");
  const out = d.stdout().split("\n").filter(Boolean);
  const messages = out.map((l) => JSON.parse(l));
  t.ok(messages.every((m) => m.jsonrpc === "2.0"), "every stdout line is a JSON-RPC message");
  t.same(
    messages.map((m) => m.id),
    [1, 2, 3, null, 4],
  );
  t.same(messages[2].result, {}, "ping after initialize");
  t.equal(messages[3].error.code, -32700);
  t.equal(messages[1].result.structuredContent.connections.open, 1);
  t.ok(d.logs.some((l) => l.msg === "swarmd serving MCP on stdio"), "logs went to stderr");
});
