import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Test } from "tap";
import { agentSpawn, swarmInit } from "../../src/protocol/tools/index.js";
import type { LineClient } from "../../scripts/line-client.js";
import { callTool } from "./tools.js";

const WORKER = fileURLToPath(new URL("../../scripts/example-worker.mjs", import.meta.url));

export interface Worker {
  readonly proc: ChildProcess;
  /** The agent it works for; undefined for --adopt. */
  readonly agentId: string | undefined;
  /** What the worker printed on stderr. */
  readonly log: string[];
  /** Its exit code, listened for from the start so that an early exit is not missed. */
  readonly exited: Promise<number | null>;
  /** Resolves when the worker has (re)attached `count` times in all. */
  attached(count?: number): Promise<void>;
}

/** The example worker from scripts/, as a real process, working for `agentId` in shell mode. */
export function startWorker(t: Test, port: number, agentId: string, extra: string[] = []): Worker {
  return workerProcess(t, port, ["--agent", agentId, ...extra], agentId);
}

/** The example worker in --adopt mode, in shell mode: it works for every agent no worker serves. */
export function startAdoptingWorker(t: Test, port: number, extra: string[] = []): Worker {
  return workerProcess(t, port, ["--adopt", ...extra], undefined);
}

function workerProcess(t: Test, port: number, args: string[], agentId: string | undefined): Worker {
  const proc = spawn(process.execPath, [WORKER, ...args, "--port", String(port), "--shell"], { stdio: ["ignore", "ignore", "pipe"] });
  const log: string[] = [];
  const exited = new Promise<number | null>((resolve) => proc.on("exit", resolve));
  proc.stderr?.setEncoding("utf8").on("data", (d: string) => log.push(...d.split("\n").filter(Boolean)));
  t.teardown(() => {
    proc.kill("SIGKILL");
  });
  const attached = async (count = 1): Promise<void> => {
    const deadline = Date.now() + 10_000;
    while (log.filter((l) => /^\[worker[^\]]*\] attached/.test(l)).length < count) {
      if (Date.now() > deadline) throw new Error(`worker ${args.join(" ")} did not attach ${count} times: ${log.join(" | ")}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { proc, agentId, log, exited, attached };
}

export interface Crew {
  readonly swarmId: string;
  readonly agents: Array<{ agentId: string; type: string; name: string; capabilities: string[] }>;
  readonly workers: Worker[];
}

/** A swarm with agents of the given types, each with its own attached worker process. */
export async function crew(
  t: Test,
  c: LineClient,
  port: number,
  members: Array<{ type: string; capabilities?: string[]; config?: Record<string, unknown> }>,
  options: { topology?: "mesh" | "star" | "ring" | "hierarchical"; consensusThreshold?: number; workerArgs?: string[] } = {},
): Promise<Crew> {
  const swarm = await callTool(t, c, swarmInit, {
    topology: options.topology ?? "mesh",
    maxAgents: Math.max(8, members.length),
    ...(options.consensusThreshold === undefined ? {} : { config: { consensusThreshold: options.consensusThreshold } }),
  });
  const agents = [];
  for (const m of members) {
    const a = await callTool(t, c, agentSpawn, { type: m.type as "coder", swarmId: swarm.swarmId, capabilities: m.capabilities, config: m.config });
    agents.push(a);
  }
  const workers = agents.map((a) => startWorker(t, port, a.agentId, options.workerArgs));
  await Promise.all(workers.map((w) => w.attached()));
  return { swarmId: swarm.swarmId, agents, workers };
}
