import { loadTokens, unprotectedRefusal } from "./config/protection.js";
import type { Config } from "./config/settings.js";
import type { Logger } from "./log.js";
import type { Authenticator } from "./rpc/auth.js";
import { loadTlsFiles, type LoadedTls } from "./transport/tls-files.js";
import type { TcpTransport } from "./transport/tcp.js";

// SIGHUP reads the tokens file and the TLS files again (Daemon.reload): rotate a token or renew a certificate without
// a restart. Whatever cannot be read or used changes nothing and is logged.

/** The TLS files the configuration names, read and checked; undefined when TLS is off. */
export function loadTls(config: Config): LoadedTls | undefined {
  if (config.tlsCert === undefined || config.tlsKey === undefined) return undefined;
  return loadTlsFiles({ cert: config.tlsCert, key: config.tlsKey, ca: config.tlsCa });
}

/**
 * A file that cannot be read or parsed, or one that would leave a daemon listening beyond loopback with no token in
 * protected mode, changes nothing. Connections authenticated with a token that is gone must authenticate again.
 */
export function reloadTokens(config: Config, log: Logger, authenticator: Authenticator): void {
  try {
    const tokens = loadTokens(config.authTokens, config.authTokensFile);
    if (unprotectedRefusal(config, tokens.length) !== undefined) {
      throw new Error(`no token would be left, and protected mode refuses that on ${config.bind} (see SWARMD_PROTECTED)`);
    }
    const wasOn = authenticator.enabled;
    const change = authenticator.replace(tokens);
    if (wasOn && !authenticator.enabled) log.warn(change, "access tokens reloaded (SIGHUP): none left, so authentication is off");
    else log.info(change, "access tokens reloaded (SIGHUP)");
  } catch (err) {
    log.error(`access tokens not reloaded, the previous ones stay: ${(err as Error).message}`);
  }
}

/** New handshakes use the files as they are now; open connections keep theirs. Returns the new certificate's expiry. */
export function reloadTls(config: Config, log: Logger, tcp: TcpTransport): number | undefined {
  try {
    const loaded = loadTls(config);
    if (loaded === undefined) return undefined;
    tcp.replaceTls(loaded.files);
    log.info({ validTo: new Date(loaded.expiresAt).toISOString() }, "TLS certificate reloaded (SIGHUP)");
    return loaded.expiresAt;
  } catch (err) {
    log.error(`TLS certificate not reloaded, the previous one stays: ${(err as Error).message}`);
    return undefined;
  }
}
