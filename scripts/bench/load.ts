import { connect, type Socket } from "node:net";
import { requestLine, type LoadOptions } from "./requests.js";

/**
 * The load generator, run as its own process so its CPU is its own: C connections × D requests in flight for a fixed
 * time, every latency recorded, replies counted without parsing (NDJSON lines, or RESP replies for Redis).
 * Usage: node load.js '<json options>'; prints one JSON result line.
 */
/**
 * Counts complete replies in a stream: NDJSON lines, or RESP simple/bulk replies. Chunks are views of a read buffer
 * that the next read overwrites, so nothing of one is kept without copying it.
 */
function replyCounter(protocol: LoadOptions["protocol"]): (chunk: Buffer) => number {
  if (protocol === "ndjson") return (chunk) => {
    let n = 0;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) n++;
    return n;
  };
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let n = 0;
    let i = 0;
    for (;;) {
      const eol = pending.indexOf("\r\n", i);
      if (eol === -1) break;
      if (pending[i] === 36 /* $ */) {
        const len = Number(pending.toString("latin1", i + 1, eol));
        const end = len < 0 ? eol + 2 : eol + 2 + len + 2;
        if (end > pending.length) break;
        i = end;
      } else i = eol + 2;
      n++;
    }
    pending = i === pending.length ? Buffer.alloc(0) : Buffer.from(pending.subarray(i));
    return n;
  };
}

const READ_BUFFER_BYTES = 1 << 20;

async function run(o: LoadOptions): Promise<void> {
  let n = 0;
  let measuring = false;
  let done = 0;
  const latencies: number[] = [];
  const sockets: Socket[] = [];
  for (let c = 0; c < o.connections; c++) {
    const sent: bigint[] = [];
    const count = replyCounter(o.protocol);
    const onReplies = (chunk: Buffer): void => {
      const replies = count(chunk);
      const now = process.hrtime.bigint();
      for (let i = 0; i < replies; i++) {
        const t0 = sent.shift() as bigint;
        if (measuring) {
          latencies.push(Number(now - t0) / 1000);
          done++;
        }
      }
      if (running) send(replies);
    };
    // Reads land in one buffer per connection, reused: no allocation or stream machinery per read. On agent_list's
    // 2.1 MB replies the stream's 64 KiB chunks cost the generator twice the CPU a reply and halved the rate it
    // measured.
    const readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
    const socket = connect({
      port: o.port,
      host: "127.0.0.1",
      noDelay: true,
      onread: { buffer: readBuffer, callback: (bytes) => (onReplies(readBuffer.subarray(0, bytes)), true) },
    });
    await new Promise((r) => socket.once("connect", r));
    const send = (k: number): void => {
      let out = "";
      for (let i = 0; i < k; i++) {
        out += requestLine(o, n++);
        sent.push(process.hrtime.bigint());
      }
      socket.write(out);
    };
    socket.on("error", () => {});
    sockets.push(socket);
    (socket as Socket & { start: () => void }).start = () => send(o.depth);
  }
  let running = true;
  for (const s of sockets) (s as Socket & { start: () => void }).start();
  await new Promise((r) => setTimeout(r, o.warmupMs));
  measuring = true;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, o.durationMs));
  measuring = false;
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  running = false;
  for (const s of sockets) s.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  process.stdout.write(
    JSON.stringify({ requests: done, seconds, rps: done / seconds, p50Us: at(0.5), p99Us: at(0.99), maxUs: latencies[latencies.length - 1] ?? NaN, generatorCpu: (cpu.user + cpu.system) / 1e6 / seconds }) + "\n",
  );
}

void run(JSON.parse(process.argv[2] ?? "") as LoadOptions);
