import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { createServer as createTlsServer, Server as TlsServer, type SecureContextOptions, type TLSSocket } from "node:tls";
import { StreamConnection, type Connection } from "./connection.js";

export interface TlsFiles {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** Require client certificates signed by this CA. */
  readonly ca?: Buffer | undefined;
}

export interface TcpOptions {
  readonly host: string;
  readonly port: number;
  readonly maxMessageBytes: number;
  readonly outputSoftLimit: number;
  readonly outputHardLimit: number;
  /** 0 disables the idle timeout. */
  readonly idleTimeoutMs: number;
  /** Serve TLS instead of plain TCP. */
  readonly tls?: TlsFiles | undefined;
}

/**
 * Accepts TCP (or TLS) connections and hands each to `accept` as a line Connection. `allowHalfOpen` keeps our side
 * writable after a client's FIN (`nc -N`, `ncat`, `socat` send, half-close, then wait for replies).
 */
export class TcpTransport {
  private readonly server: Server;

  constructor(
    private readonly options: TcpOptions,
    private readonly accept: (conn: Connection) => void,
  ) {
    const tls = options.tls;
    this.server = tls
      ? createTlsServer(
          { allowHalfOpen: true, ...secureContextOf(tls), ...(tls.ca ? { requestCert: true, rejectUnauthorized: true } : {}) },
          (socket: TLSSocket) => this.onSocket(socket),
        )
      : createServer({ allowHalfOpen: true, noDelay: true, keepAlive: true, keepAliveInitialDelay: 60_000 }, (socket) => this.onSocket(socket));
    // A failed TLS handshake is the client's problem, not a reason to stop serving.
    this.server.on("tlsClientError", (_err: Error, socket: Socket) => socket.destroy());
  }

  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once("error", onError);
      this.server.listen({ host: this.options.host, port: this.options.port }, () => {
        this.server.off("error", onError);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /**
   * New handshakes use these files (a renewed certificate); open connections keep the session they have. Throws,
   * changing nothing, when they do not make a usable pair (unreadable PEM, a key that is not the certificate's).
   */
  replaceTls(files: TlsFiles): void {
    if (!(this.server instanceof TlsServer)) throw new Error("this daemon does not serve TLS");
    this.server.setSecureContext(secureContextOf(files));
  }

  /** Stop accepting; open connections are left to their sessions. */
  stopAccepting(): void {
    if (this.server.listening) this.server.close();
  }

  private onSocket(socket: Socket): void {
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    const conn = new StreamConnection({
      kind: "tcp",
      remote: `${socket.remoteAddress}:${socket.remotePort}`,
      input: socket,
      output: socket,
      maxMessageBytes: this.options.maxMessageBytes,
      outputSoftLimit: this.options.outputSoftLimit,
      outputHardLimit: this.options.outputHardLimit,
      finish: () => socket.end(),
      kill: () => socket.destroy(),
    });
    socket.on("error", (err) => conn.onerror(err));
    socket.on("close", () => conn.handleClose());
    const idleMs = this.options.idleTimeoutMs;
    if (idleMs > 0) {
      socket.setTimeout(idleMs);
      socket.on("timeout", () => {
        if (conn.onidle()) conn.end();
        else socket.setTimeout(idleMs);
      });
    }
    this.accept(conn);
  }
}

function secureContextOf(files: TlsFiles): SecureContextOptions {
  return { cert: files.cert, key: files.key, ...(files.ca ? { ca: files.ca } : {}) };
}
