import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startListening } from "./daemon-process.js";
import { LineClient, type Message } from "./line-client.js";
import { scriptArgs } from "./script-args.js";

const HELP = `Usage: npm run crash-test -- [--rounds n] [--writers n]

Kills a daemon with SIGKILL while clients write concurrently, restarts it on the same database, and checks that every
acknowledged write survived: memory entries (with their exact values), swarms and agents. Exits 1 if one did not.

Options:
  --rounds <n>    kill-and-restart rounds (default 5)
  --writers <n>   concurrent writing connections (default 8)
  --help          this text
`;
const values = scriptArgs("crash-test", HELP, { rounds: { default: "5", number: true }, writers: { default: "8", number: true } });
const rounds = Math.round(Number(values.rounds));
const writers = Math.round(Number(values.writers));
const dir = mkdtempSync(join(tmpdir(), "swarmd-crash-"));
const db = join(dir, "crash.db");

const call = (id: string, name: string, args: object): string =>
  JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } }) + "\n";

interface Acked {
  memory: Map<string, unknown>;
  swarms: Set<string>;
  agents: Set<string>;
}
const acked: Acked = { memory: new Map(), swarms: new Set(), agents: new Set() };
const summary: Array<{ round: number; killedAfterMs: number; acknowledged: number; checked: number; lost: number }> = [];

for (let round = 1; round <= rounds; round++) {
  const daemon = await startListening(["--db", db]);
  const clients = await Promise.all(Array.from({ length: writers }, () => LineClient.connect(daemon.port)));
  const sent = new Map<string, { kind: "memory"; key: string; value: unknown } | { kind: "swarm" } | { kind: "agent" }>();
  let n = 0;
  const liveSwarms: string[] = [...acked.swarms].slice(-5);
  const timers = clients.map((c, w) =>
    setInterval(() => {
      let burst = "";
      for (let i = 0; i < 40; i++, n++) {
        const id = `r${round}-w${w}-${n}`;
        if (n % 97 === 0) {
          sent.set(id, { kind: "swarm" });
          burst += call(id, "swarm_init", { maxAgents: 20 });
        } else if (n % 89 === 0 && liveSwarms.length > 0) {
          sent.set(id, { kind: "agent" });
          burst += call(id, "agent_spawn", { type: "coder", swarmId: liveSwarms[n % liveSwarms.length] });
        } else {
          const value = n % 3 === 0 ? `v${n}` : n % 3 === 1 ? { n, round, w } : [n, String(n), n % 2 === 0];
          sent.set(id, { kind: "memory", key: id, value });
          burst += call(id, "memory_store", { key: id, value });
        }
      }
      c.write(burst);
    }, 2),
  );
  const killedAfterMs = 300 + Math.floor(Math.random() * 1200);
  await new Promise((r) => setTimeout(r, killedAfterMs));
  daemon.proc.kill("SIGKILL");
  timers.forEach(clearInterval);
  await daemon.exited;
  // Every reply that arrived before the kill is an acknowledgement the daemon owes.
  let acknowledged = 0;
  for (const c of clients) {
    for (const m of c.messages as Message[]) {
      const what = sent.get(String(m.id));
      if (what === undefined || m.result === undefined) continue;
      acknowledged++;
      if (what.kind === "memory") acked.memory.set(what.key, what.value);
      else if (what.kind === "swarm") acked.swarms.add(m.result.structuredContent.swarmId);
      else acked.agents.add(m.result.structuredContent.agentId);
    }
    c.close();
  }

  const restarted = await startListening(["--db", db]);
  const check = await LineClient.connect(restarted.port);
  let lines = "";
  const expected: Array<[string, (m: Message) => boolean]> = [];
  for (const [key, value] of acked.memory) {
    const id = `check-${expected.length}`;
    lines += call(id, "memory_retrieve", { key });
    expected.push([id, (m) => m.result?.structuredContent.found === true && JSON.stringify(m.result.structuredContent.value) === JSON.stringify(value)]);
  }
  for (const swarmId of acked.swarms) {
    const id = `check-${expected.length}`;
    lines += call(id, "swarm_status", { swarmId });
    expected.push([id, (m) => m.result?.structuredContent.swarmId === swarmId]);
  }
  for (const agentId of acked.agents) {
    const id = `check-${expected.length}`;
    lines += call(id, "agent_status", { agentId });
    expected.push([id, (m) => m.result?.structuredContent.id === agentId]);
  }
  check.write(lines);
  await check.waitForLines(expected.length, 60_000);
  const lost = expected.filter(([id, ok]) => !ok(check.messages.find((m) => m.id === id) ?? {})).length;
  summary.push({ round, killedAfterMs, acknowledged, checked: expected.length, lost });
  process.stderr.write(`round ${round}: killed after ${killedAfterMs} ms, ${acknowledged} writes acknowledged, ${expected.length} checked so far, ${lost} lost\n`);
  check.close();
  restarted.proc.kill("SIGTERM");
  await restarted.exited;
}

const lost = summary.reduce((s, r) => s + r.lost, 0);
const report = {
  rounds,
  writers,
  acknowledgedWrites: summary.reduce((s, r) => s + r.acknowledged, 0),
  distinctEntriesChecked: acked.memory.size + acked.swarms.size + acked.agents.size,
  lost,
  perRound: summary,
};
process.stdout.write(JSON.stringify(report, null, 2) + "\n");
rmSync(dir, { recursive: true, force: true });
process.exit(lost === 0 ? 0 : 1);
