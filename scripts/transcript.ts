import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { parseCli } from "../src/config/cli.js";
import { Daemon } from "../src/daemon.js";
import { LineClient } from "./line-client.js";

/**
 * Transcripts of real sessions with the daemon: `{conn, dir: ">" | "<", msg}` lines (or `raw` for a line that is not
 * JSON). Values that differ from run to run — generated ids, times, the pid, paths — are normalised the same way
 * when recording and when replaying: an id is named by kind and order of first appearance (`<swarm-1>`), so a
 * request that uses an id from an earlier reply is sent with the real value on replay.
 */
export interface Entry {
  readonly conn: string;
  readonly dir: ">" | "<";
  readonly msg?: unknown;
  readonly raw?: string;
}

const ID = /\b(swarm|agent|task|msg|asg)_\d{13}_[0-9a-z]+\b/g;
/** Keys whose values are times, durations, sizes on disk or other facts of one run. */
const VOLATILE = new Set([
  "createdAt", "updatedAt", "expiresAt", "startedAt", "finishedAt", "destroyedAt", "terminatedAt", "attachedAt", "lastActiveAt",
  "deadlineAt", "timestamp", "uptimeMs", "durationMs", "avgCompletionTime", "avgCompletionTimeMs", "age", "pid", "node",
  "requestsServed", "path", "bytes", "walBytes", "checkpoints", "activity_level", "response_time_ms", "avgTaskTimeMs",
  "estimatedDurationMs", "connectionId", "retryAfterMs", "at", "seq", "pages", "dir", "modifiedAt", "measuredAt",
]);

export class Normalizer {
  private readonly names = new Map<string, string>();
  private readonly values = new Map<string, string>();
  private readonly counts = new Map<string, number>();

  /** A copy of `value` with ids named and volatile values masked. */
  normalize(value: unknown, key?: string, parent?: Record<string, unknown>): unknown {
    if (key !== undefined && VOLATILE.has(key) && value !== null) return typeof value === "number" ? 0 : "<volatile>";
    if (key === "version" && parent?.name === "swarmd") return "<version>";
    if (typeof value === "string") {
      if (key === "text") {
        try {
          return JSON.stringify(this.normalize(JSON.parse(value)));
        } catch {
          // not JSON: normalise as text
        }
      }
      return value.replace(ID, (id) => this.name(id));
    }
    if (Array.isArray(value)) return value.map((v) => this.normalize(v));
    if (value !== null && typeof value === "object") {
      const o = value as Record<string, unknown>;
      return Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(ID, (id) => this.name(id)), this.normalize(v, k, o)]));
    }
    return value;
  }

  /** The real value behind every placeholder in `value` (for requests replayed with this run's ids). */
  realize(value: unknown): unknown {
    return JSON.parse(JSON.stringify(value).replace(/<(swarm|agent|task|msg|asg)-\d+>/g, (name) => this.values.get(name) ?? name));
  }

  private name(id: string): string {
    let name = this.names.get(id);
    if (name === undefined) {
      const kind = id.slice(0, id.indexOf("_"));
      const n = (this.counts.get(kind) ?? 0) + 1;
      this.counts.set(kind, n);
      name = `<${kind}-${n}>`;
      this.names.set(id, name);
      this.values.set(name, id);
    }
    return name;
  }
}

/** A daemon for transcripts: in this process, fresh database, no rate limit, no sweep surprises. */
export async function transcriptDaemon(): Promise<{ port: number; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "swarmd-transcript-"));
  const command = parseCli([], {
    MCP_TCP_PORT: "0",
    SWARMD_DB: join(dir, "t.db"),
    SWARMD_RATE_LIMIT: "0",
    SWARMD_HTTP_PORT: "0",
    SWARMD_MEMORY_SWEEP_INTERVAL: "3600",
  });
  if (command.kind !== "run") throw new Error("unexpected CLI command");
  const daemon = new Daemon({ config: command.config, log: pino({ level: "silent" }) });
  await daemon.start();
  return {
    port: daemon.address?.port as number,
    async close() {
      await daemon.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Connections by name, each line read in order. */
export class Wire {
  private readonly conns = new Map<string, LineClient>();
  private readonly read = new Map<string, number>();

  constructor(private readonly port: number) {}

  async conn(name: string): Promise<LineClient> {
    let c = this.conns.get(name);
    if (c === undefined) {
      c = await LineClient.connect(this.port);
      this.conns.set(name, c);
      this.read.set(name, 0);
    }
    return c;
  }

  /** The next line received on `name`, in order. */
  async next(name: string): Promise<string> {
    const c = await this.conn(name);
    const i = this.read.get(name) ?? 0;
    await c.waitForLines(i + 1, 10_000);
    this.read.set(name, i + 1);
    return c.texts[i] as string;
  }

  /** Lines received on `name` and not read yet. */
  unread(name: string): number {
    const c = this.conns.get(name);
    return c === undefined ? 0 : c.texts.length - (this.read.get(name) ?? 0);
  }

  close(): void {
    for (const c of this.conns.values()) c.close();
  }
}

/** Replays a transcript against a fresh daemon; returns the differences (none when the daemon still answers the same). */
export async function replay(entries: readonly Entry[]): Promise<string[]> {
  const daemon = await transcriptDaemon();
  const wire = new Wire(daemon.port);
  const norm = new Normalizer();
  const problems: string[] = [];
  try {
    for (const [i, e] of entries.entries()) {
      if (e.dir === ">") {
        const c = await wire.conn(e.conn);
        c.write((e.raw ?? JSON.stringify(norm.realize(e.msg))) + "\n");
        continue;
      }
      const got = norm.normalize(JSON.parse(await wire.next(e.conn)));
      if (JSON.stringify(got) !== JSON.stringify(e.msg)) problems.push(`entry ${i + 1} (${e.conn}): expected ${JSON.stringify(e.msg)}, got ${JSON.stringify(got)}`);
    }
  } finally {
    wire.close();
    await daemon.close();
  }
  return problems;
}
