import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { StreamConnection, type Connection } from "./connection.js";

export interface TcpOptions {
  readonly host: string;
  readonly port: number;
  readonly maxMessageBytes: number;
  /** 0 disables the idle timeout. */
  readonly idleTimeoutMs: number;
}

/**
 * Accepts TCP connections and hands each to `accept` as a line Connection. `allowHalfOpen` keeps our side writable
 * after a client's FIN (`nc -N`, `ncat`, `socat` send, half-close, then wait for replies).
 */
export class TcpTransport {
  private readonly server: Server;
  private readonly open = new Set<Socket>();

  constructor(
    private readonly options: TcpOptions,
    private readonly accept: (conn: Connection) => void,
  ) {
    this.server = createServer(
      { allowHalfOpen: true, noDelay: true, keepAlive: true, keepAliveInitialDelay: 60_000 },
      (socket) => this.onSocket(socket),
    );
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

  /** Stop accepting; open connections are left to their sessions. */
  stopAccepting(): void {
    if (this.server.listening) this.server.close();
  }

  get openSockets(): number {
    return this.open.size;
  }

  private onSocket(socket: Socket): void {
    this.open.add(socket);
    const conn = new StreamConnection({
      kind: "tcp",
      remote: `${socket.remoteAddress}:${socket.remotePort}`,
      input: socket,
      output: socket,
      maxMessageBytes: this.options.maxMessageBytes,
      finish: () => socket.end(),
      kill: () => socket.destroy(),
    });
    socket.on("error", (err) => conn.onerror(err));
    socket.on("close", () => {
      this.open.delete(socket);
      conn.handleClose();
    });
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
