import { readFileSync } from "node:fs";
import type { ClientOptions } from "../client/index.js";
import { VERSION } from "../version.js";
import type { OptionSpec } from "./args.js";

/** Options of every command: where the daemon is and how to talk to it, and how to print. */
export const GLOBAL: Readonly<Record<string, OptionSpec>> = {
  host: { value: "host", help: "Daemon host (MCP_HOST, default 127.0.0.1)" },
  port: { value: "port", help: "Daemon port (MCP_TCP_PORT, default 9500)" },
  timeout: { value: "seconds", help: "Give up on a reply after this long (default 30)" },
  token: { value: "token", help: "Access token when the daemon requires one (SWARMD_TOKEN)" },
  tls: { help: "Connect with TLS (the system's trusted CAs)" },
  "tls-ca": { value: "file", help: "Trust this CA (PEM); implies --tls" },
  "tls-cert": { value: "file", help: "Client certificate (PEM) for daemons that require one" },
  "tls-key": { value: "file", help: "The client certificate's key (PEM)" },
  "tls-insecure": { help: "Do not verify the daemon's certificate (testing only)" },
  json: { help: "Print the raw payload as JSON (for scripts)" },
  help: { help: "Show help" },
};

/** The global options a line of a session may give: the rest say how to reach the daemon, fixed for the session. */
export const PER_LINE: Readonly<Record<string, OptionSpec>> = { json: GLOBAL.json as OptionSpec, help: GLOBAL.help as OptionSpec };

/**
 * The client swarmctl talks through, from the global options: one connection. A session keeps it open between lines,
 * so what the connection holds on the daemon — its current swarm — lasts the session. Pinged while quiet (`keepalive`)
 * when it is held open for long: in a session and by commands that wait on the daemon with nothing to send, so a
 * daemon gone without closing the connection is noticed; a one-shot command sends no pings.
 * Throws on a TLS file that cannot be read (a usage error).
 */
export function clientOptionsOf(options: ReadonlyMap<string, string | true>, session: boolean, keepalive = session): ClientOptions {
  const text = (name: string): string | undefined => {
    const v = options.get(name);
    return typeof v === "string" ? v : undefined;
  };
  const port = text("port");
  const timeout = text("timeout");
  return {
    ...(text("host") ? { host: text("host") } : {}),
    ...(text("token") ? { token: text("token") } : {}),
    tls: tlsOptions(options),
    ...(port ? { port: Number(port) } : {}),
    ...(timeout ? { requestTimeoutMs: Number(timeout) * 1000 } : {}),
    poolMin: session ? 1 : 0,
    poolSize: 1,
    ...(keepalive ? {} : { keepaliveMs: 0 }),
    retryAttempts: 0,
    acquireTimeoutMs: 2000,
    clientInfo: { name: "swarmctl", version: VERSION },
  };
}

/** TLS settings from the --tls* options; files are read here so a wrong path is a usage error. */
function tlsOptions(options: ReadonlyMap<string, string | true>) {
  const file = (name: string): Buffer | undefined => {
    const path = options.get(name);
    if (typeof path !== "string") return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`cannot read --${name} ${path}: ${(err as Error).message}`);
    }
  };
  const ca = file("tls-ca");
  const cert = file("tls-cert");
  const key = file("tls-key");
  const insecure = options.has("tls-insecure");
  if (!options.has("tls") && !ca && !cert && !insecure) return false;
  return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}), ...(insecure ? { rejectUnauthorized: false } : {}) };
}
