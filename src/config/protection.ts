import { z } from "zod";
import { MiB, flag, integer, type SettingSpec } from "./spec.js";

export const SCOPES = ["read", "write", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

export interface TokenEntry {
  readonly name: string;
  readonly scope: Scope;
  readonly secret: string;
}

/** `name:scope:secret` entries, comma- or newline-separated; `#` starts a comment line (the file form). */
export function parseTokens(text: string): TokenEntry[] {
  return text
    .split(/[,\n]/)
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "" && !entry.startsWith("#"))
    .map((entry) => {
      const [name, scope, ...rest] = entry.split(":");
      const secret = rest.join(":");
      if (!name || !(SCOPES as readonly string[]).includes(scope ?? "") || secret.length < 8) {
        throw new Error(`bad token entry "${entry.replace(/:[^:]*$/, ":…")}"`);
      }
      return { name, scope: scope as Scope, secret };
    });
}

const tokens = z
  .string()
  .default("")
  .transform((text, ctx) => {
    try {
      return parseTokens(text);
    } catch (err) {
      ctx.addIssue({ code: "custom", message: (err as Error).message });
      return z.NEVER;
    }
  });

/** Limits, authentication and TLS (issue "Protection"): defaults from the protocol document. */
export const protectionSettings = {
  rateLimit: {
    env: "SWARMD_RATE_LIMIT",
    flag: "--rate-limit",
    metavar: "<n>",
    schema: integer(0, 1_000_000).default(100),
    help: "Requests per second per connection, a token bucket (batch items count one each; 0 disables)",
    shownDefault: "100",
    expect: "an integer from 0 to 1000000",
  },
  rateBurst: {
    env: "SWARMD_RATE_BURST",
    flag: "--rate-burst",
    metavar: "<n>",
    schema: integer(1, 10_000_000).default(200),
    help: "Requests a connection may send at once before the rate applies",
    shownDefault: "200",
    expect: "an integer from 1 to 10000000",
  },
  maxConnections: {
    env: "SWARMD_MAX_CONNECTIONS",
    flag: "--max-connections",
    metavar: "<n>",
    schema: integer(1, 1_000_000).default(1024),
    help: "Open connections; one more gets a too_many_connections error and is closed",
    shownDefault: "1024",
    expect: "an integer from 1 to 1000000",
  },
  maxInflight: {
    env: "SWARMD_MAX_INFLIGHT",
    flag: "--max-inflight",
    metavar: "<n>",
    schema: integer(1, 1_000_000).default(1024),
    help: "Unanswered requests per connection before swarmd stops reading it",
    shownDefault: "1024",
    expect: "an integer from 1 to 1000000",
  },
  swarmConcurrency: {
    env: "SWARMD_SWARM_CONCURRENCY",
    flag: "--swarm-concurrency",
    metavar: "<n>",
    schema: integer(1, 1_000_000).default(1000),
    help: "Tool calls in flight per swarm; more are swarm_busy",
    shownDefault: "1000",
    expect: "an integer from 1 to 1000000",
  },
  outputSoftLimit: {
    env: "SWARMD_OUTPUT_SOFT_LIMIT",
    flag: "--output-soft-limit",
    metavar: "<bytes>",
    schema: integer(16 * 1024, 1024 * MiB).default(MiB),
    help: "Replies buffered for a client that is not reading, in bytes, before swarmd stops reading its requests",
    shownDefault: "1048576 (1 MiB)",
    expect: "an integer from 16384 to 1073741824",
  },
  outputHardLimit: {
    env: "SWARMD_OUTPUT_HARD_LIMIT",
    flag: "--output-hard-limit",
    metavar: "<bytes>",
    schema: integer(64 * 1024, 4096 * MiB).default(64 * MiB),
    help: "Replies buffered for a client that is not reading, in bytes, before it is disconnected",
    shownDefault: "67108864 (64 MiB)",
    expect: "an integer from 65536 to 4294967296",
  },
  authTokens: {
    env: "SWARMD_AUTH_TOKENS",
    flag: "--auth-tokens",
    metavar: "<name:scope:secret,…>",
    schema: tokens,
    help: "Access tokens; scope is read, write or admin; none configured: no authentication",
    shownDefault: "none",
    expect: "name:scope:secret entries (scope read, write or admin; secrets of 8+ characters)",
    secret: true,
  },
  authTokensFile: {
    env: "SWARMD_AUTH_TOKENS_FILE",
    flag: "--auth-tokens-file",
    metavar: "<path>",
    schema: z.string().min(1).optional(),
    help: "A file of name:scope:secret lines (for secrets kept out of the environment)",
    shownDefault: "none",
    expect: "a file path",
  },
  protectedMode: {
    env: "SWARMD_PROTECTED",
    flag: "--protected",
    schema: flag().default(true),
    help: "Refuse to listen beyond loopback without tokens (set false only inside a private network)",
    shownDefault: "true",
    expect: "true or false",
    boolean: true,
  },
  tlsCert: {
    env: "SWARMD_TLS_CERT",
    flag: "--tls-cert",
    metavar: "<path>",
    schema: z.string().min(1).optional(),
    help: "Serve TLS with this certificate (PEM); needs --tls-key",
    shownDefault: "none",
    expect: "a file path",
  },
  tlsKey: {
    env: "SWARMD_TLS_KEY",
    flag: "--tls-key",
    metavar: "<path>",
    schema: z.string().min(1).optional(),
    help: "The certificate's private key (PEM)",
    shownDefault: "none",
    expect: "a file path",
  },
  tlsCa: {
    env: "SWARMD_TLS_CA",
    flag: "--tls-ca",
    metavar: "<path>",
    schema: z.string().min(1).optional(),
    help: "Require client certificates signed by this CA (PEM)",
    shownDefault: "none",
    expect: "a file path",
  },
} as const satisfies Record<string, SettingSpec>;
