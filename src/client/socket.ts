import { connect, isIP, type Socket } from "node:net";
import { connect as connectTls } from "node:tls";
import { ClientError } from "./errors.js";
import type { ResolvedClientOptions } from "./options.js";

/** A TCP (or TLS) connection to the daemon, ready to write; CONNECT_FAILED when none is made in time. */
export function openSocket(options: Pick<ResolvedClientOptions, "host" | "port" | "tls" | "connectTimeoutMs">): Promise<Socket> {
  const tls = options.tls === true ? {} : options.tls === false ? undefined : options.tls;
  return new Promise<Socket>((resolve, reject) => {
    // SNI carries host names only (RFC 6066): for an address, the certificate is checked against the address itself.
    const servername = tls?.servername ?? (isIP(options.host) ? undefined : options.host);
    const s = tls
      ? connectTls({ ...tls, host: options.host, port: options.port, ...(servername === undefined ? {} : { servername }) })
      : connect({ host: options.host, port: options.port, noDelay: true });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new ClientError("CONNECT_FAILED", `No connection to ${options.host}:${options.port} within ${options.connectTimeoutMs} ms.`));
    }, options.connectTimeoutMs);
    s.once(tls ? "secureConnect" : "connect", () => {
      clearTimeout(timer);
      s.setNoDelay(true);
      resolve(s);
    });
    s.once("error", (err) => {
      clearTimeout(timer);
      reject(new ClientError("CONNECT_FAILED", `Cannot connect to ${options.host}:${options.port}: ${err.message}`, { cause: err }));
    });
  });
}
