import { z } from "zod";

/**
 * Client settings. Defaults come from the protocol document's environment names, so a backend configured for the old
 * servers (MCP_HOST, MCP_TCP_PORT, MCP_POOL_SIZE, …) configures this client too; options passed in code win.
 */
export const clientOptionsSchema = z.object({
  host: z.string().min(1).default("127.0.0.1"),
  port: z.number().int().min(1).max(65535).default(9500),
  /** Most connections (MCP_POOL_SIZE). */
  poolSize: z.number().int().min(1).default(10),
  /** Connections kept open even when idle (MCP_POOL_MIN). */
  poolMin: z.number().int().min(0).default(2),
  /** Further tries after a failed connect or a safely retryable call (MCP_RETRY_ATTEMPTS). */
  retryAttempts: z.number().int().min(0).default(3),
  /** First backoff in ms, doubling with jitter (MCP_RETRY_DELAY). */
  retryDelayMs: z.number().min(0).default(100),
  /** Ping idle connections this often, in ms; no reply in time replaces the connection (MCP_KEEPALIVE, seconds). 0 disables. */
  keepaliveMs: z.number().min(0).default(30_000),
  /** A call without a reply after this many ms fails with TIMEOUT (and is cancelled on the server). 0: no limit. */
  requestTimeoutMs: z.number().min(0).default(30_000),
  connectTimeoutMs: z.number().min(1).default(5_000),
  /** Longest wait for a pooled connection before POOL_TIMEOUT (or CONNECT_FAILED with the cause). */
  acquireTimeoutMs: z.number().min(1).default(10_000),
  /** Connections above poolMin idle this long (ms) are closed. */
  idleTimeoutMs: z.number().min(1).default(30_000),
  /** A connection with this many calls in flight is not lent out again until some finish; the pool grows instead. */
  maxInFlightPerConnection: z.number().int().min(1).default(256),
  clientInfo: z.object({ name: z.string(), version: z.string() }).default({ name: "swarmd-client", version: "1" }),
  /** Sent with the handshake when the daemon requires tokens (SWARMD_TOKEN). */
  token: z.string().optional(),
  /** TLS: true for the system's trust store, or the CA, client certificate and key (PEM text or Buffers). */
  tls: z
    .union([
      z.boolean(),
      z.object({
        ca: z.union([z.string(), z.instanceof(Buffer)]).optional(),
        cert: z.union([z.string(), z.instanceof(Buffer)]).optional(),
        key: z.union([z.string(), z.instanceof(Buffer)]).optional(),
        servername: z.string().optional(),
        rejectUnauthorized: z.boolean().optional(),
      }),
    ])
    .default(false),
});

export type ClientOptions = z.input<typeof clientOptionsSchema>;
export type ResolvedClientOptions = z.output<typeof clientOptionsSchema>;

const number = (text: string | undefined): number | undefined => {
  if (text === undefined || text === "") return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
};

/** Options in code over environment variables over defaults. */
export function resolveClientOptions(options: ClientOptions = {}, env: Readonly<Record<string, string | undefined>> = process.env): ResolvedClientOptions {
  const keepaliveSeconds = number(env.MCP_KEEPALIVE);
  const fromEnv = {
    host: env.MCP_HOST || undefined,
    port: number(env.MCP_TCP_PORT),
    poolSize: number(env.MCP_POOL_SIZE),
    poolMin: number(env.MCP_POOL_MIN),
    retryAttempts: number(env.MCP_RETRY_ATTEMPTS),
    retryDelayMs: number(env.MCP_RETRY_DELAY),
    keepaliveMs: keepaliveSeconds === undefined ? undefined : keepaliveSeconds * 1000,
    token: env.SWARMD_TOKEN || undefined,
  };
  const merged = Object.fromEntries(Object.entries({ ...fromEnv, ...options }).filter(([, v]) => v !== undefined));
  const resolved = clientOptionsSchema.parse(merged);
  return { ...resolved, poolMin: Math.min(resolved.poolMin, resolved.poolSize) };
}
