import { readFileSync } from "node:fs";
import { isIP } from "node:net";
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

/**
 * The tokens the daemon accepts: those of SWARMD_AUTH_TOKENS and, when a tokens file is configured, the file's as it
 * reads now (at start, and again on SIGHUP). Throws with a line naming the file.
 */
export function loadTokens(fromSettings: readonly TokenEntry[], file: string | undefined): TokenEntry[] {
  if (file === undefined) return [...fromSettings];
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new Error(`cannot read SWARMD_AUTH_TOKENS_FILE ${file}: ${(err as Error).message}`);
  }
  try {
    return [...fromSettings, ...parseTokens(text)];
  } catch (err) {
    throw new Error(`SWARMD_AUTH_TOKENS_FILE ${file}: ${(err as Error).message}`);
  }
}

/** Protected mode's refusal, or undefined: listening beyond loopback without a single token. */
export function unprotectedRefusal(
  config: { readonly stdio: boolean; readonly protectedMode: boolean; readonly bind: string },
  tokenCount: number,
): string | undefined {
  if (config.stdio || !config.protectedMode || tokenCount > 0 || isLoopback(config.bind)) return undefined;
  return `refusing to listen on ${config.bind} without authentication: configure tokens (SWARMD_AUTH_TOKENS or SWARMD_AUTH_TOKENS_FILE), or set SWARMD_PROTECTED=0 to accept the risk (e.g. inside a private Docker network)`;
}

function isLoopback(host: string): boolean {
  if (host === "localhost" || host === "::1") return true;
  return isIP(host) === 4 && host.startsWith("127.");
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
    help: "A file of name:scope:secret lines (for secrets kept out of the environment); read again on SIGHUP",
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
