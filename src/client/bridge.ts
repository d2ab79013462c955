import type { Readable, Writable } from "node:stream";
import { LineFramer } from "../transport/framing.js";
import type { ErrorData } from "../protocol/errors.js";
import { ClientError, RpcError } from "./errors.js";
import type { ResolvedClientOptions } from "./options.js";
import { openSocket } from "./socket.js";

/** Requests the bridge makes itself carry ids with this prefix; their replies are not passed on. */
const OWN_ID = "swarmctl-bridge-";
const OWN_REPLY = `{"jsonrpc":"2.0","id":"${OWN_ID}`;
const AUTH_ID = `${OWN_ID}auth`;

export interface BridgeOptions {
  readonly client: Pick<ResolvedClientOptions, "host" | "port" | "tls" | "connectTimeoutMs" | "token" | "keepaliveMs">;
  /** What the MCP host writes (its stdin for us). */
  readonly input: Readable;
  /** Where the host reads (our stdout). */
  readonly output: Writable;
}

/**
 * Relays an MCP host that launches servers as commands (stdio) to a swarmd daemon over TCP or TLS, so that many hosts
 * share one daemon and its database. Bytes pass through as they are, both ways; the bridge adds only what a raw pipe
 * cannot: the token (authenticate, before the host's first line) and a ping every keepalive interval, so the daemon's
 * idle timeout does not close a session the host still holds. Replies to those are not passed on. Resolves when the
 * daemon has answered everything the host sent and closed; rejects (ClientError, RpcError) when it cannot connect,
 * the token is refused, or the connection breaks.
 */
export async function runBridge(options: BridgeOptions): Promise<void> {
  const { client, input, output } = options;
  const socket = await openSocket(client);
  let authenticated: (() => void) | undefined;
  let failed: ((err: Error) => void) | undefined;
  const outcome = new Promise<void>((resolve, reject) => {
    failed = reject;
    socket.on("close", () => resolve());
  });
  const framer = new LineFramer(Number.MAX_SAFE_INTEGER, {
    line(text) {
      if (!text.startsWith(OWN_REPLY)) {
        output.write(text + "\n");
        return;
      }
      const reply = JSON.parse(text) as { id: string; error?: { code: number; message: string; data?: ErrorData } };
      if (reply.id !== AUTH_ID) return;
      if (reply.error) failed?.(new RpcError(reply.error.code, reply.error.message, reply.error.data));
      else authenticated?.();
    },
    oversize: () => {},
  });
  socket.on("data", (chunk: Buffer) => framer.push(chunk));
  socket.on("end", () => framer.end());
  socket.on("error", (err) => failed?.(new ClientError("CONNECTION_CLOSED", `The connection to ${client.host}:${client.port} broke: ${err.message}`, { cause: err })));

  let keepalive: NodeJS.Timeout | undefined;
  try {
    if (client.token !== undefined) {
      await Promise.race([
        new Promise<void>((resolve) => {
          authenticated = resolve;
          socket.write(JSON.stringify({ jsonrpc: "2.0", id: AUTH_ID, method: "authenticate", params: { token: client.token } }) + "\n");
        }),
        outcome.then(() => {
          throw new ClientError("CONNECTION_CLOSED", "The daemon closed the connection before answering authenticate.");
        }),
      ]);
    }
    // A ping may go only between the host's lines, never into the middle of one.
    let atLineStart = true;
    input.on("data", (chunk: Buffer) => {
      if (chunk.length > 0) atLineStart = chunk[chunk.length - 1] === 10;
      socket.write(chunk);
    });
    input.on("end", () => socket.end());
    let pings = 0;
    if (client.keepaliveMs > 0) {
      keepalive = setInterval(() => {
        if (atLineStart && socket.writable) socket.write(`{"jsonrpc":"2.0","id":"${OWN_ID}${++pings}","method":"ping"}\n`);
      }, client.keepaliveMs);
    }
    await outcome;
  } finally {
    clearInterval(keepalive);
    input.pause();
    socket.destroy();
  }
}
