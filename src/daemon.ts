import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { systemClock, type Clock } from "./clock.js";
import { loadTokens } from "./config/protection.js";
import type { Config } from "./config/settings.js";
import { MiB } from "./config/spec.js";
import type { Logger } from "./log.js";
import { mcpMethods } from "./rpc/methods.js";
import { Authenticator } from "./rpc/auth.js";
import { RpcServer } from "./rpc/server.js";
import type { Session } from "./rpc/session.js";
import { createManagers, type Managers } from "./managers.js";
import { loadTls, reloadTls, reloadTokens } from "./reload.js";
import { OpsServer } from "./ops/http.js";
import { DaemonMetrics } from "./ops/metrics.js";
import { StorageRefusals } from "./ops/storage-refusals.js";
import { REFUSED_BECAUSE, storageRefusal } from "./protocol/errors.js";
import { CHECKPOINT_INTERVAL_MS } from "./store/checkpointer.js";
import { DB_FILE_CHECK_MS } from "./store/db-file.js";
import { listBackups } from "./store/backup.js";
import { openStore, type Store } from "./store/db.js";
import { describeSaved } from "./store/orphan.js";
import { allTools } from "./tools/index.js";
import { SwarmGate } from "./tools/gate.js";
import { ToolRegistry } from "./tools/registry.js";
import { stdioConnection } from "./transport/stdio.js";
import { TcpTransport } from "./transport/tcp.js";
import type { LoadedTls } from "./transport/tls-files.js";
import { VERSION } from "./version.js";

export interface DaemonOptions {
  readonly config: Config;
  readonly log: Logger;
  /** Streams for stdio mode; defaults to process.stdin / process.stdout. */
  readonly stdio?: { readonly input: Readable; readonly output: Writable };
  /** Time for the managers (TTL); tests pass a clock they can move. */
  readonly clock?: Clock;
}

/** Composes store, tools, rpc and transports; owns start and the ordered, idempotent close (DESIGN §5). */
export class Daemon {
  readonly startedAt = Date.now();
  /** The TCP address once listening (absent in stdio mode). */
  address: AddressInfo | undefined;
  /** The HTTP side port's address (absent when disabled). */
  httpAddress: AddressInfo | undefined;
  private ops: OpsServer | undefined;
  /** Resolves, saying why, when the daemon must stop of its own accord: its stdio client or its database file is gone. */
  readonly stopRequested: Promise<string>;
  private requestStop!: (why: string) => void;
  /** What the process should exit with once closed: 1 when the database file was lost under it. */
  exitCode: 0 | 1 = 0;
  private store: Store | undefined;
  private rpc: RpcServer | undefined;
  private tcp: TcpTransport | undefined;
  private managers: Managers | undefined;
  private authenticator: Authenticator | undefined;
  /** When the certificate served now expires (ms since the epoch). */
  private tlsExpiresAt: number | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: DaemonOptions) {
    this.stopRequested = new Promise((resolve) => (this.requestStop = resolve));
  }

  get dbPath(): string {
    return this.options.config.db;
  }

  async start(): Promise<void> {
    const { config, log } = this.options;
    const backupDir = config.backupDir ?? join(dirname(config.db), "backups");
    // The side port comes up first, so /ready can say 503 while the database opens.
    const refusals = new StorageRefusals();
    const metrics = new DaemonMetrics({
      connections: () => ({ open: this.rpc?.connectionsOpen ?? 0, total: this.rpc?.connectionsTotal ?? 0 }),
      counts: () => this.managers?.swarms.counts() ?? { swarms: {}, agents: {}, tasks: {} },
      memory: async () =>
        this.managers?.memory.stats() ?? { entries: 0, bytes: 0, expiredAwaitingSweep: 0, lastSweep: null },
      wal: () => {
        const c = this.store?.checkpointer;
        return c ? { ...c.stats, bytes: c.walBytes() } : { checkpoints: 0, bytes: 0, writePauses: 0, writePauseMs: 0 };
      },
      backups: () => listBackups(backupDir),
      storageRefusals: () => refusals.counts,
      tlsCertificateExpiry: () => this.tlsExpiresAt,
    });
    if (config.httpPort > 0 && !config.stdio) {
      this.ops = new OpsServer({ host: config.bind, port: config.httpPort }, metrics);
      this.httpAddress = await this.ops.listen().catch((err: unknown) => {
        throw listenFailure(err, `the HTTP port ${config.bind}:${config.httpPort}`, "--http-port or SWARMD_HTTP_PORT, or 0 to turn it off");
      });
    }
    const storeOptions = { synchronous: config.dbSync, walLimitBytes: config.walLimitMb * MiB, lockWaitMs: config.dbLockWaitMs };
    const store = (this.store = await openStore(config.db, storeOptions, (attempt, why) => {
      if (attempt === 1) log.warn({ db: config.db, waitMs: config.dbLockWaitMs }, `${why}; waiting for it`);
    }));
    if (store.upgraded !== undefined) {
      const { from, ms } = store.upgraded;
      log.info({ db: store.path, from, to: store.schemaVersion, ms }, `database schema upgraded from version ${from} to ${store.schemaVersion} in ${ms} ms`);
    }
    store.checkpointer.start(CHECKPOINT_INTERVAL_MS, (problem) => log.warn(problem));
    store.file.watch(DB_FILE_CHECK_MS, (loss) => {
      log.error({ db: store.path }, `the database file was ${loss} while swarmd had it open: swarmd stops, saving what it holds`);
      this.requestStop(`database file ${loss}`);
    });
    const clock = this.options.clock ?? systemClock;
    const managers = (this.managers = createManagers(store, config, clock, (what, err) => {
      const again = "it is tried again, and this is logged again only after it has succeeded";
      // A full disk or another process's lock is the operator's to see to, not a failure of swarmd: no stack.
      const refusal = storageRefusal(err);
      if (refusal === undefined) log.error({ err }, `${what} failed; ${again}`);
      else log.warn({ reason: refusal }, `${what} failed: ${REFUSED_BECAUSE[refusal]}; ${again}`);
    }));
    const authenticator = (this.authenticator = new Authenticator(loadTokens(config.authTokens, config.authTokensFile)));
    const tools: ToolRegistry = new ToolRegistry(
      allTools({
        server: {
          version: VERSION,
          startedAt: this.startedAt,
          store,
          backupDir,
          connections: () => ({ open: rpc.connectionsOpen, total: rpc.connectionsTotal }),
          requestsServed: () => rpc.requestsServed,
          writesRefused: () => ({ ...refusals.counts, lastAt: refusals.lastAt }),
          security: () => ({
            authentication: authenticator.enabled,
            tls: config.stdio ? "off" : tlsMode(config),
            tlsCertificateExpiresAt: this.tlsExpiresAt ?? null,
          }),
        },
        memory: managers.memory,
        domain: { ...managers, limits: { maxAgents: config.maxAgents, agentTimeoutMs: config.agentTimeoutMs } },
      }),
      {
        pageSize: config.toolsPageSize,
        gate: new SwarmGate(config.swarmConcurrency),
        observe: (tool, outcome, ms) => metrics.observeTool(tool, outcome, ms),
        audit: () => authenticator.enabled,
      },
    );
    const rpc: RpcServer = (this.rpc = new RpcServer({
      methods: mcpMethods({
        tools,
        version: VERSION,
        resultMirror: config.resultMirror,
        batchMaxItems: config.batchMaxItems,
      }),
      maxMessageBytes: config.maxMessageBytes,
      batchMaxItems: config.batchMaxItems,
      maxInflight: config.maxInflight,
      maxConnections: config.maxConnections,
      guard: {
        rateLimit: config.rateLimit,
        rateBurst: config.rateBurst,
        authenticator,
        toolScope: (name) => tools.scopeOf(name),
      },
      observe: (method, outcome, ms) => metrics.observeRequest(method, outcome, ms),
      storageRefused: (reason, log) => refusals.note(reason, log),
      log,
    }));

    managers.engine.recover();
    managers.memory.sweeper.start(config.memorySweepIntervalMs);
    if (config.taskRetentionMs > 0) {
      const olderThanS = config.taskRetentionMs / 1000;
      managers.retention.start(config.taskRetentionMs, (r) =>
        log.info({ ...r, olderThanS }, `deleted ${r.deleted} tasks finished and ${r.swarms} swarms destroyed more than ${olderThanS} s ago`),
      );
    }

    const limits = { maxMessageBytes: config.maxMessageBytes, outputSoftLimit: config.outputSoftLimit, outputHardLimit: config.outputHardLimit };
    if (config.stdio) {
      const { input, output } = this.options.stdio ?? { input: process.stdin, output: process.stdout };
      const session = rpc.attach(stdioConnection(input, output, limits)) as Session;
      void session.closed$.then(() => this.requestStop("stdin closed"));
      log.info({ db: store.path, version: VERSION }, "swarmd serving MCP on stdio");
      tools.warm();
      return;
    }
    let tls: LoadedTls | undefined;
    try {
      tls = loadTls(config);
    } catch (err) {
      throw new StartError((err as Error).message, { cause: err });
    }
    this.tlsExpiresAt = tls?.expiresAt;
    if (tls !== undefined && tls.expiresAt < Date.now()) {
      log.warn({ validTo: new Date(tls.expiresAt).toISOString() }, "the TLS certificate has expired: clients will refuse it");
    }
    const tcpOptions = { host: config.bind, port: config.port, idleTimeoutMs: config.idleTimeoutMs, tls: tls?.files, ...limits };
    const tcp = (this.tcp = new TcpTransport(tcpOptions, (conn) => rpc.attach(conn)));
    this.address = await tcp.listen().catch((err: unknown) => {
      throw listenFailure(err, `${config.bind}:${config.port}`, "--port or MCP_TCP_PORT");
    });
    if (this.ops) this.ops.state = "ready";
    log.info(
      {
        address: this.address.address,
        port: this.address.port,
        db: store.path,
        version: VERSION,
        tls: tlsMode(config),
        auth: authenticator.enabled ? `${authenticator.tokens} tokens` : "off",
        http: this.httpAddress?.port ?? "off",
      },
      "swarmd listening",
    );
    tools.warm();
  }

  /**
   * SIGHUP: reads the tokens file and the TLS files again, when configured — rotate a token or renew a certificate
   * without a restart. Whatever cannot be read or used changes nothing and is logged; the rest still applies.
   */
  reload(): void {
    const { config, log } = this.options;
    if (config.authTokensFile !== undefined && this.authenticator !== undefined) reloadTokens(config, log, this.authenticator);
    if (this.tcp !== undefined && config.tlsCert !== undefined) this.tlsExpiresAt = reloadTls(config, log, this.tcp) ?? this.tlsExpiresAt;
  }

  /** Idempotent: every caller gets the same shutdown. */
  close(): Promise<void> {
    return (this.closing ??= this.shutdown());
  }

  private async shutdown(): Promise<void> {
    const { log, config } = this.options;
    if (this.ops) this.ops.state = "shutting_down";
    await step(log, "stop accepting", () => this.tcp?.stopAccepting());
    await step(log, "drain requests", () => this.rpc?.drain(config.shutdownGraceMs));
    await step(log, "stop task timers", () => {
      this.managers?.engine.stop();
      this.managers?.agents.workers.stop();
    });
    await step(log, "stop memory sweep", () => this.managers?.memory.sweeper.stop());
    await step(log, "stop task retention", () => this.managers?.retention.stop());
    await step(log, "close database", async () => {
      const saved = await this.store?.close();
      if (saved === undefined) return;
      this.exitCode = 1;
      log.error({ db: config.db, savedTo: saved.savedTo ?? null }, describeSaved(config.db, saved));
    });
    await step(log, "close the HTTP port", () => this.ops?.close());
    log.info("swarmd stopped");
  }
}

/** How TCP is served: in the clear, over TLS, or over TLS requiring client certificates. */
function tlsMode(config: Config): "off" | "server" | "mutual" {
  return config.tlsCert === undefined ? "off" : config.tlsCa === undefined ? "server" : "mutual";
}

/** A start that failed for a reason its message explains in full: main logs it as one line, without a stack. */
export class StartError extends Error {
  override readonly name = "StartError";
}

function listenFailure(err: unknown, where: string, setting: string): StartError {
  const e = err as NodeJS.ErrnoException;
  const why =
    e?.code === "EADDRINUSE"
      ? `the address is already in use (choose another with ${setting})`
      : e?.code === "EACCES"
        ? `permission denied (choose another with ${setting})`
        : e?.code === "EADDRNOTAVAIL"
          ? "no such local address (check --bind or SWARMD_BIND)"
          : (e?.message ?? String(err));
  return new StartError(`cannot listen on ${where}: ${why}`, { cause: err });
}

/** Each shutdown step runs even if an earlier one failed. */
async function step(log: Logger, name: string, fn: () => unknown): Promise<void> {
  try {
    await fn();
  } catch (err) {
    log.error({ err, step: name }, "shutdown step failed");
  }
}
