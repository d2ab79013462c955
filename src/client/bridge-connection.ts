import { LineFramer } from "../transport/framing.js";
import type { ErrorData } from "../protocol/errors.js";
import { ClientError, RpcError } from "./errors.js";
import type { ResolvedClientOptions } from "./options.js";
import { openSocket, tlsFailure } from "./socket.js";

/** Requests the bridge makes itself carry ids with this prefix; their replies are not passed on. */
export const OWN_ID = "swarmctl-bridge-";
const OWN_REPLY = `{"jsonrpc":"2.0","id":"${OWN_ID}`;
const AUTH_ID = `${OWN_ID}auth`;

/** One connection of the bridge to the daemon, authenticated and ready for the host's lines. */
export interface DaemonConnection {
  /** Resolves when the connection has closed: with why it broke, or undefined when the daemon closed it. */
  readonly closed: Promise<Error | undefined>;
  send(line: string): void;
  ping(): void;
  /** Authenticates again (the daemon's tokens changed), then sends `line` — a request that was refused for it. */
  resendAfterAuthenticating(line: string): void;
  /** The host is done: half-close, so the daemon answers what it has and closes. */
  end(): void;
  destroy(): void;
}

export interface ConnectionOptions {
  readonly client: Pick<ResolvedClientOptions, "host" | "port" | "tls" | "connectTimeoutMs" | "token">;
  /** Lines sent right after authenticating, before any of the host's: its handshake, on a connection made anew. */
  readonly replay: readonly string[];
  /** Each line from the daemon that does not answer one of the bridge's own requests. */
  readonly onReply: (text: string) => void;
}

/**
 * Opens a connection and, with a token, authenticates before anything else is sent. Rejects with the RpcError when
 * the token is refused, and with ClientError when no connection is made.
 */
export async function openConnection(options: ConnectionOptions): Promise<DaemonConnection> {
  const { client, onReply } = options;
  const socket = await openSocket(client);
  let broke: Error | undefined;
  let firstAnswer: { resolve: () => void; reject: (err: Error) => void } | undefined;
  let awaitingToken: string[] = [];
  let pings = 0;
  const authenticate = JSON.stringify({ jsonrpc: "2.0", id: AUTH_ID, method: "authenticate", params: { token: client.token } }) + "\n";
  const closed = new Promise<Error | undefined>((resolve) => socket.on("close", () => resolve(broke)));

  const framer = new LineFramer(Number.MAX_SAFE_INTEGER, {
    line(text) {
      if (!text.startsWith(OWN_REPLY)) return onReply(text);
      const reply = JSON.parse(text) as { id: string; error?: { code: number; message: string; data?: ErrorData } };
      if (reply.id !== AUTH_ID) return; // pings and a replayed initialize
      if (reply.error) {
        broke = new RpcError(reply.error.code, reply.error.message, reply.error.data);
        firstAnswer?.reject(broke);
        socket.destroy();
      } else if (firstAnswer !== undefined) {
        firstAnswer.resolve();
        firstAnswer = undefined;
      } else {
        for (const line of awaitingToken) socket.write(line);
        awaitingToken = [];
      }
    },
    oversize: () => {},
  });
  socket.on("data", (chunk: Buffer) => framer.push(chunk));
  socket.on("end", () => framer.end());
  socket.on("error", (err) => {
    // With TLS 1.3 a daemon that wants a client certificate says so only after the handshake, here.
    broke ??= tlsFailure(err, client) ?? new ClientError("CONNECTION_CLOSED", `The connection to ${client.host}:${client.port} broke: ${err.message}`, { cause: err });
  });

  if (client.token !== undefined) {
    try {
      await Promise.race([
        new Promise<void>((resolve, reject) => {
          firstAnswer = { resolve, reject };
          socket.write(authenticate);
        }),
        closed.then((err) => {
          throw err ?? new ClientError("CONNECTION_CLOSED", "The daemon closed the connection before answering authenticate.");
        }),
      ]);
    } catch (err) {
      socket.destroy();
      throw err;
    }
  }
  for (const line of options.replay) socket.write(line + "\n");
  return {
    closed,
    send: (line) => void (socket.writable && socket.write(line)),
    ping: () => void (socket.writable && socket.write(`{"jsonrpc":"2.0","id":"${OWN_ID}${++pings}","method":"ping"}\n`)),
    resendAfterAuthenticating(line) {
      if (awaitingToken.push(line) === 1) socket.write(authenticate);
    },
    end: () => void socket.end(),
    destroy: () => void socket.destroy(),
  };
}
