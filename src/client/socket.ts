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
      reject(tlsFailure(err, options) ?? new ClientError("CONNECT_FAILED", `Cannot connect to ${options.host}:${options.port}: ${err.message}`, { cause: err }));
    });
  });
}

const UNTRUSTED = "is not trusted: give the client the CA that signed it (tls.ca; swarmctl --tls-ca)";
const CLIENT_CERTIFICATE = "tls.cert and tls.key; swarmctl --tls-cert and --tls-key";

/** What to do about each TLS failure that no retry can mend, by Node's or OpenSSL's code. */
const TLS_ADVICE: Readonly<Record<string, (name: string) => string>> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: () => `the daemon's self-signed certificate ${UNTRUSTED}`,
  SELF_SIGNED_CERT_IN_CHAIN: () => `the daemon's certificate ${UNTRUSTED}`,
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: () => `the daemon's certificate ${UNTRUSTED}`,
  UNABLE_TO_GET_ISSUER_CERT: () => `the daemon's certificate ${UNTRUSTED}`,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: () => `the daemon's certificate ${UNTRUSTED}`,
  CERT_UNTRUSTED: () => `the daemon's certificate ${UNTRUSTED}`,
  CERT_SIGNATURE_FAILURE: () => `the daemon's certificate ${UNTRUSTED}`,
  CERT_HAS_EXPIRED: () => "the daemon's certificate has expired (renew it on the daemon's host, then SIGHUP)",
  CERT_NOT_YET_VALID: () => "the daemon's certificate is not valid yet (check the clocks)",
  ERR_TLS_CERT_ALTNAME_INVALID: (name) => `the daemon's certificate is not for ${name}: connect by a name it lists, or set tls.servername`,
  ERR_SSL_WRONG_VERSION_NUMBER: () => "the daemon does not speak TLS on this port: connect without TLS",
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: () => `the daemon wants a client certificate (${CLIENT_CERTIFICATE})`,
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: () => `the daemon refused the TLS handshake; it may want a client certificate (${CLIENT_CERTIFICATE})`,
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: () => "the daemon does not trust this client certificate (it is not signed by the daemon's SWARMD_TLS_CA)",
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: () => "the daemon refused this client certificate",
};

/** A connection's TLS failure as a permanent CONNECT_FAILED that says what to change, or undefined for any other. */
export function tlsFailure(err: unknown, at: { readonly host: string; readonly port: number }): ClientError | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const advice = code === undefined ? undefined : TLS_ADVICE[code];
  if (advice === undefined) return undefined;
  // The name checked against the certificate: the servername when one was set.
  const name = (err as { host?: string }).host ?? at.host;
  return new ClientError("CONNECT_FAILED", `Cannot connect to ${at.host}:${at.port}: ${advice(name)}.`, { cause: err, permanent: true });
}
