import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import type { TlsFiles } from "./tcp.js";

export interface TlsPaths {
  readonly cert: string;
  readonly key: string;
  readonly ca?: string | undefined;
}

export interface LoadedTls {
  readonly files: TlsFiles;
  /** The certificate's notAfter, in ms since the epoch. */
  readonly expiresAt: number;
}

/**
 * Reads the TLS files and checks them before they are served: each must be what it is named as, and the key must be
 * the certificate's. OpenSSL's own complaints ("DECODER routines::unsupported") name neither the file nor the setting,
 * and a CA file that holds no certificate would be accepted and then refuse every client.
 */
export function loadTlsFiles(paths: TlsPaths): LoadedTls {
  const cert = read(paths.cert, "certificate (SWARMD_TLS_CERT)");
  const key = read(paths.key, "key (SWARMD_TLS_KEY)");
  const ca = paths.ca === undefined ? undefined : read(paths.ca, "CA (SWARMD_TLS_CA)");
  const certificate = parse(() => new X509Certificate(cert), `the TLS certificate (SWARMD_TLS_CERT) ${paths.cert} is not a PEM certificate`);
  const privateKey = parse(() => createPrivateKey(key), `the TLS key (SWARMD_TLS_KEY) ${paths.key} is not an unencrypted PEM private key`);
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new Error(`the TLS key (SWARMD_TLS_KEY) ${paths.key} is not the key of the certificate ${paths.cert}`);
  }
  if (ca !== undefined) parse(() => new X509Certificate(ca), `the TLS CA (SWARMD_TLS_CA) ${paths.ca} is not a PEM certificate`);
  return { files: { cert, key, ca }, expiresAt: Date.parse(certificate.validTo) };
}

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`cannot read the TLS ${what} ${path}: ${(err as Error).message}`);
  }
}

function parse<T>(fn: () => T, failure: string): T {
  try {
    return fn();
  } catch (err) {
    throw new Error(`${failure} (${(err as Error).message})`);
  }
}
