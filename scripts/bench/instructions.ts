import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { startDaemonProcess, waitForLog } from "../daemon-process.js";
import { prefillMemory, startCeiling, tempDbPath } from "./processes.js";
import { requestLine, type LoadOptions } from "./requests.js";

/**
 * CPU work a request costs, counted rather than timed: valgrind's callgrind counts the instructions each server's
 * process executes (every thread, user space only) while a fixed number of requests is answered. Throughput on these
 * shared VMs moves 2–4× from one minute to the next; a count moves by a few per cent, so it can show a change of a
 * few per cent in the daemon's own work, and anyone can reproduce it. System calls and the kernel's share are not in
 * it: those are the same a request for both servers (one read and one write a chunk).
 */
export interface InstructionRow {
  readonly server: "ceiling" | "swarmd";
  readonly op: "ping" | "memory_store" | "memory_retrieve";
  /** The median round's instructions over requests. */
  readonly perRequest: number;
  /** Every round's, in order. */
  readonly rounds: number[];
}

export type InstructionsResult =
  | { readonly connections: number; readonly depth: number; readonly requests: number; readonly warmupRequests: number; readonly rows: InstructionRow[] }
  | { readonly skipped: string };

const CONNECTIONS = 16;
const DEPTH = 32;
/** A server under valgrind runs some 50× slower: starting one, or a slow pause in it, takes that much longer. */
const START_TIMEOUT_MS = 180_000;
const STALL_MS = 120_000;

const TARGETS: ReadonlyArray<Pick<InstructionRow, "server" | "op">> = [
  { server: "ceiling", op: "ping" },
  { server: "swarmd", op: "ping" },
  { server: "swarmd", op: "memory_retrieve" },
  { server: "swarmd", op: "memory_store" },
];

/**
 * For each server and operation: `rounds` runs, each a fresh process under callgrind with counting off, driven with
 * 4 × `asked` requests (rounded up to a multiple of 16) to let the JIT settle, then counted over `asked` more (16
 * connections, each sending 32 requests at once and the next 32 once all are answered, so every run is cut into the
 * same chunks).
 */
export async function measureInstructions(dir: string, asked: number, rounds: number): Promise<InstructionsResult> {
  if (spawnSync("valgrind", ["--version"]).status !== 0) {
    return { skipped: "valgrind is not installed (apt-get install valgrind)" };
  }
  // Every connection sends as many: the count is divided by what was really answered.
  const requests = Math.ceil(asked / CONNECTIONS) * CONNECTIONS;
  const warmupRequests = 4 * requests;
  const rows: InstructionRow[] = [];
  for (const target of TARGETS) {
    const counts: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      process.stderr.write(`bench: instructions ${target.server} ${target.op}, round ${round}/${rounds}\n`);
      counts.push(await countOnce(dir, target, warmupRequests, requests));
    }
    const sorted = [...counts].sort((a, b) => a - b);
    rows.push({ ...target, perRequest: (sorted[Math.floor((sorted.length - 1) / 2)] as number) / requests, rounds: counts });
  }
  return { connections: CONNECTIONS, depth: DEPTH, requests, warmupRequests, rows };
}

async function countOnce(dir: string, target: Pick<InstructionRow, "server" | "op">, warmupRequests: number, requests: number): Promise<number> {
  const tag = `${target.server}-${target.op}-${Date.now()}`;
  const launcher = ["valgrind", "--tool=callgrind", "--instr-atstart=no", `--callgrind-out-file=${join(dir, `${tag}.%p`)}`, `--log-file=${join(dir, `${tag}.log`)}`];
  let server: { port: number; pid: number; stop: () => Promise<unknown> };
  if (target.server === "ceiling") {
    server = await startCeiling(launcher);
  } else {
    const db = tempDbPath(dir, tag);
    await prefillMemory(db, 10_000);
    const d = startDaemonProcess(["--port", "0", "--db", db], {}, undefined, launcher);
    const listening = await waitForLog(d, (l) => l.msg === "swarmd listening", START_TIMEOUT_MS);
    server = { port: listening.port as number, pid: d.proc.pid as number, stop: () => (d.proc.kill("SIGTERM"), d.exited) };
  }
  try {
    let n = 0;
    await lockstep(server.port, target.op, warmupRequests, () => n++);
    control(server.pid, "-i", "on");
    await lockstep(server.port, target.op, requests, () => n++);
    control(server.pid, "-d");
    control(server.pid, "-i", "off");
  } finally {
    await server.stop();
  }
  const dump = readdirSync(dir).find((f) => f.startsWith(`${tag}.`) && f.endsWith(".1"));
  if (dump === undefined) throw new Error(`callgrind wrote no dump for ${tag}`);
  const summary = /^summary: (\d+)$/m.exec(readFileSync(join(dir, dump), "utf8"));
  if (summary === null) throw new Error(`no summary line in ${dump}`);
  return Number(summary[1]);
}

function control(pid: number, ...args: string[]): void {
  const run = spawnSync("callgrind_control", [...args, String(pid)], { encoding: "utf8", timeout: STALL_MS });
  if (run.status !== 0) throw new Error(`callgrind_control ${args.join(" ")} ${pid} failed: ${run.stderr || run.stdout}`);
}

/**
 * `total` requests over CONNECTIONS connections; each sends DEPTH request lines in one write and the next DEPTH once
 * all of them are answered. `nextId` numbers the requests across calls, so keys keep striding through the key space.
 */
async function lockstep(port: number, op: LoadOptions["op"], total: number, nextId: () => number): Promise<void> {
  const each = Math.ceil(total / CONNECTIONS);
  await Promise.all(
    Array.from(
      { length: CONNECTIONS },
      () =>
        new Promise<void>((resolve, reject) => {
          const socket = connect({ port, host: "127.0.0.1", noDelay: true });
          let sent = 0;
          let answered = 0;
          let stall: NodeJS.Timeout | undefined;
          const fail = (err: Error): void => (clearTimeout(stall), socket.destroy(), reject(err));
          const send = (): void => {
            clearTimeout(stall);
            stall = setTimeout(() => fail(new Error(`no reply within ${STALL_MS} ms (${answered} of ${each} answered)`)), STALL_MS);
            let lines = "";
            for (let i = 0; i < DEPTH && sent < each; i++, sent++) lines += requestLine({ op }, nextId());
            socket.write(lines);
          };
          socket.once("connect", send);
          socket.on("error", fail);
          socket.on("data", (chunk: Buffer) => {
            for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) answered++;
            if (answered === each) {
              clearTimeout(stall);
              socket.end();
              resolve();
            } else if (answered === sent) send();
          });
        }),
    ),
  );
}
