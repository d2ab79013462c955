import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { LineClient } from "../line-client.js";
import { scriptArgs } from "../script-args.js";
import { VERSION } from "../../src/version.js";
import { measureStoreFloor } from "./floor.js";
import { measureFootprint } from "./footprint.js";
import { measureInstructions } from "./instructions.js";
import { keyFor, type LoadOptions } from "./requests.js";
import { drive, expectStored, medianRun, prefillMemory, startCeiling, startRedis, startSwarmd, tempDbPath, type LoadResult, type Server } from "./processes.js";
import { prefillRedis } from "./redis.js";
import { measureHistory } from "./history.js";
import { measureRetention } from "./retention.js";
import { measureBackup, measureScale, measureSweep } from "./scale.js";
import { checkTargets, printReport, type Cell } from "./report.js";

const HELP = `Usage: npm run bench -- [options]

Starts swarmd (rate limit off, temporary database), a minimal Node NDJSON ping server (the ceiling) and redis-server
when installed, drives each with the same load generator over loopback, prints a table and writes bench/results.json.

Options:
  --duration <s>   measured seconds per cell and round (default 2)
  --warmup <s>     unmeasured seconds before each cell and round (default 0.5)
  --rounds <n>     rounds of every cell, taken in turns; each figure is the median round (default 3)
  --entries <n>    stored entries for the large side of the scale check (default 1000000)
  --tasks <n>      finished tasks for the large side of the history check and the retention's history (default 1000000)
  --connections <n> idle connections for the RSS check (default 10000)
  --instructions <n> requests counted in each run under valgrind's callgrind (default 40000; after 4× as many unmeasured)
  --only <list>    comma-separated parts to run: throughput, instructions, floor, footprint, scale, history, retention,
                   sweep, backup (default all; instructions needs valgrind, and is skipped with a note without it)
  --ops <list>     throughput operations to run, e.g. ping,agent_list (default all; references always run)
  --out <file>     where to write the results (default bench/results.json)
  --help           this text
`;

const PARTS = ["throughput", "instructions", "floor", "footprint", "scale", "history", "retention", "sweep", "backup"];
const SWARMD_OPS = ["ping", "memory_store", "memory_retrieve", "agent_list", "tools_list"];

const SHAPES = [
  { connections: 1, depth: 1 },
  { connections: 16, depth: 1 },
  { connections: 16, depth: 32 },
  { connections: 1, depth: 64 },
] as const;

async function main(): Promise<void> {
  const values = scriptArgs("bench", HELP, {
    duration: { default: "2", number: true },
    warmup: { default: "0.5", number: true, zero: true },
    rounds: { default: "3", number: true },
    entries: { default: "1000000", number: true },
    tasks: { default: "1000000", number: true },
    connections: { default: "10000", number: true },
    instructions: { default: "40000", number: true },
    only: { default: PARTS.join(","), listOf: PARTS },
    ops: { default: "", listOf: SWARMD_OPS },
    out: { default: "bench/results.json" },
  });
  const durationMs = Number(values.duration) * 1000;
  const rounds = Math.round(Number(values.rounds));
  const warmupMs = Number(values.warmup) * 1000;
  const parts = new Set(values.only.split(","));
  const dir = mkdtempSync(join(tmpdir(), "swarmd-bench-"));
  const results: Record<string, unknown> = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, swarmd: VERSION },
    settings: { durationMs, warmupMs, rounds },
  };
  try {
    const ops = values.ops === "" ? undefined : new Set(values.ops.split(","));
    if (parts.has("throughput")) results.cells = await throughput(dir, durationMs, warmupMs, rounds, ops);
    if (parts.has("instructions")) results.instructions = await step("instructions", () => measureInstructions(dir, Number(values.instructions), rounds));
    if (parts.has("floor")) results.floor = await step("floor", () => measureStoreFloor(dir, 10_000, durationMs, rounds));
    if (parts.has("footprint")) results.footprint = await step("footprint", () => measureFootprint(dir, 5, Number(values.connections)));
    if (parts.has("scale")) results.scale = await step("scale", () => measureScale(dir, [10_000, Number(values.entries)], durationMs, warmupMs, rounds));
    const tasks = Number(values.tasks);
    if (parts.has("history")) results.history = await step("history", () => measureHistory(dir, [Math.min(10_000, Math.ceil(tasks / 10)), tasks], durationMs, warmupMs, rounds));
    if (parts.has("retention")) results.retention = await step("retention", () => measureRetention(dir, tasks));
    if (parts.has("sweep")) results.sweep = await step("sweep", () => measureSweep(dir, Number(values.entries), 200_000));
    if (parts.has("backup")) results.backup = await step("backup", () => measureBackup(dir, Number(values.entries)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  results.targets = checkTargets(results);
  printReport(results);
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, JSON.stringify(results, null, 2) + "\n");
  process.stdout.write(`\nwrote ${values.out}\n`);
}

async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
  process.stderr.write(`bench: ${name}…\n`);
  return fn();
}

async function throughput(dir: string, durationMs: number, warmupMs: number, rounds: number, ops: Set<string> | undefined): Promise<Cell[]> {
  const db = tempDbPath(dir, "throughput");
  await prefillMemory(db, 10_000);
  const swarmd = await startSwarmd(db);
  const ceiling = await startCeiling();
  const redis = await startRedis(dir, swarmd.port + 1).catch(() => undefined);
  if (redis) await prefillRedis(redis.port, 10_000);
  else process.stderr.write("bench: redis-server is not installed (apt-get install redis-server); its rows are skipped\n");
  const swarmId = await swarmOfAgents(swarmd.port, 1000);
  await expectStored(swarmd.port, keyFor(1, 10_000));
  const runs = new Map<string, { cell: Omit<Cell, keyof LoadResult>; results: LoadResult[] }>();
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const shape of SHAPES) {
        const run = async (server: Server | undefined, protocol: LoadOptions["protocol"], op: LoadOptions["op"]): Promise<void> => {
          if (!server || (server.name === "swarmd" && ops !== undefined && !ops.has(op))) return;
          process.stderr.write(`bench: round ${round}/${rounds} ${server.name} ${op} ${shape.connections}×${shape.depth}\n`);
          const result = await drive(server, { protocol, op, ...shape, durationMs, warmupMs, swarmId });
          const key = `${server.name} ${op} ${shape.connections}×${shape.depth}`;
          const entry = runs.get(key) ?? { cell: { server: server.name, op, ...shape }, results: [] };
          entry.results.push(result);
          runs.set(key, entry);
        };
        // Each comparison runs back to back, so the ratios come from the same moment of a noisy machine.
        await run(ceiling, "ndjson", "ping");
        await run(swarmd, "ndjson", "ping");
        await run(redis, "resp", "PING");
        await run(swarmd, "ndjson", "memory_store");
        await run(redis, "resp", "SET");
        await run(swarmd, "ndjson", "memory_retrieve");
        await run(redis, "resp", "GET");
        await run(swarmd, "ndjson", "agent_list");
        await run(swarmd, "ndjson", "tools_list");
      }
    }
  } finally {
    await Promise.all([swarmd.stop(), ceiling.stop(), redis?.stop()]);
  }
  return [...runs.values()].map(({ cell, results }) => ({ ...cell, ...medianRun(results) }));
}

/** A swarm holding `count` agents, created in one swarm_init. */
async function swarmOfAgents(port: number, count: number): Promise<string> {
  const client = await LineClient.connect(port);
  const initialAgents = Array.from({ length: count }, (_, i) => ({ type: "coder", name: `agent-${i}` }));
  const reply = await client.call("swarm_init", { topology: "mesh", maxAgents: count, initialAgents });
  client.close();
  const swarmId = reply.result?.structuredContent?.swarmId as string | undefined;
  if (!swarmId) throw new Error(`swarm_init failed: ${JSON.stringify(reply.error ?? reply.result)}`);
  return swarmId;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
