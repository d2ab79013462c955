import { spawn } from "node:child_process";
import { createServer, connect, type Socket } from "node:net";
import { LineClient } from "../line-client.js";
import { startDaemonProcess } from "../daemon-process.js";
import { rssMB, tempDbPath, waitForAccept } from "./processes.js";

export interface Footprint {
  /** Spawn to first accepted TCP connection, fresh database; the median of `runs`. */
  readonly startupMs: { readonly median: number; readonly runs: number[] };
  /** The same measured for a bare `node` that only listens: the floor no Node daemon can beat on this machine. */
  readonly nodeFloorMs: number;
  readonly idleRssMB: number;
  readonly connections: number;
  readonly rssWithConnectionsMB: number;
  /** A ping over one more connection while the idle ones are held. */
  readonly pingWithConnectionsMs: number;
  readonly rssAfterCloseMB: number;
  /** A fresh daemon's first tools/list (what an MCP host asks first): sent the moment it accepts, and 2 s later. */
  readonly firstToolsListMs: { readonly atOnce: number; readonly later: number };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Opens `count` connections that never send anything, a few hundred at a time so the listen backlog keeps up. */
async function openIdle(port: number, count: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  while (sockets.length < count) {
    const wave = Array.from({ length: Math.min(500, count - sockets.length) }, () =>
      new Promise<Socket>((resolve, reject) => {
        const s = connect({ port, host: "127.0.0.1" });
        s.once("connect", () => resolve(s));
        s.once("error", reject);
      }),
    );
    sockets.push(...(await Promise.all(wave)));
  }
  for (const s of sockets) s.on("error", () => {});
  return sockets;
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const LISTEN_ONLY = "require('node:net').createServer().listen(Number(process.argv[1]), '127.0.0.1')";

/** Startup time over `runs` fresh starts, then idle RSS and RSS while `connections` idle connections are held. */
export async function measureFootprint(dir: string, runs: number, connections: number): Promise<Footprint> {
  const floors: number[] = [];
  for (let i = 0; i < runs; i++) {
    const port = await freePort();
    const t0 = performance.now();
    const bare = spawn(process.execPath, ["-e", LISTEN_ONLY, String(port)], { stdio: "ignore" });
    floors.push(await waitForAccept(port, 10_000, t0));
    bare.kill();
    await new Promise((r) => bare.once("exit", r));
  }
  const startups: number[] = [];
  const atOnce: number[] = [];
  let last: ReturnType<typeof startDaemonProcess> | undefined;
  for (let i = 0; i < runs; i++) {
    const port = await freePort();
    const t0 = performance.now();
    const d = startDaemonProcess(["--port", String(port), "--db", tempDbPath(dir, `startup-${i}`)], { SWARMD_MAX_CONNECTIONS: String(connections + 10), MCP_LOG_LEVEL: "warn" });
    startups.push(await waitForAccept(port, 10_000, t0));
    if (i < runs - 1) {
      atOnce.push(await timeToolsList(port));
      d.proc.kill("SIGTERM");
      await d.exited;
    } else last = Object.assign(d, { port });
  }
  const daemon = last as NonNullable<typeof last> & { port: number };
  const pid = daemon.proc.pid as number;
  await sleep(2000);
  const idleRssMB = rssMB(pid);
  const later = await timeToolsList(daemon.port);

  const idle = await openIdle(daemon.port, connections);
  await sleep(2000);
  const rssWithConnectionsMB = rssMB(pid);
  const probe = await LineClient.connect(daemon.port);
  const t0 = performance.now();
  await probe.request("ping");
  const pingWithConnectionsMs = performance.now() - t0;
  probe.close();
  for (const s of idle) s.destroy();
  await sleep(2000);
  const rssAfterCloseMB = rssMB(pid);
  daemon.proc.kill("SIGTERM");
  await daemon.exited;

  return {
    startupMs: { median: median(startups), runs: startups },
    nodeFloorMs: median(floors),
    idleRssMB,
    connections,
    rssWithConnectionsMB,
    pingWithConnectionsMs,
    rssAfterCloseMB,
    firstToolsListMs: { atOnce: median(atOnce), later },
  };
}

/** One tools/list on a new connection, from sending to the whole reply. */
async function timeToolsList(port: number): Promise<number> {
  const c = await LineClient.connect(port);
  const t0 = performance.now();
  await c.request("tools/list");
  const ms = performance.now() - t0;
  c.close();
  return ms;
}
