import type { Readable, Writable } from "node:stream";
import { LineFramer } from "../transport/framing.js";
import type { ErrorData } from "../protocol/errors.js";
import { ClientError, RpcError } from "./errors.js";
import type { ResolvedClientOptions } from "./options.js";
import { openSocket, tlsFailure } from "./socket.js";

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

/** The id of one of swarmd's replies, as JSON text: swarmd writes `jsonrpc` first and `id` second. */
const REPLY_ID = /^\{"jsonrpc":"2\.0","id":("(?:[^"\\]|\\.)*"|[-+.\deE]+)/;

/**
 * Relays an MCP host that launches servers as commands (stdio) to a swarmd daemon over TCP or TLS, so that many hosts
 * share one daemon and its database. Bytes pass through as they are, both ways; the bridge adds only what a raw pipe
 * cannot: the token (authenticate, before the host's first line, and again when the daemon's tokens changed), and a
 * ping every keepalive interval, so the daemon's idle timeout does not close a session the host still holds. Replies
 * to those are not passed on. Resolves when the daemon has answered everything the host sent and closed; rejects
 * (ClientError, RpcError) when it cannot connect, the token is refused, or the connection breaks.
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
  const authenticate = JSON.stringify({ jsonrpc: "2.0", id: AUTH_ID, method: "authenticate", params: { token: client.token } }) + "\n";
  // With a token: the host's requests not yet answered (by the JSON of their id), and those waiting for the bridge to
  // authenticate anew. A request refused because the daemon's tokens changed (SIGHUP) did nothing; once the token is
  // accepted again (its scope may have changed) it is sent once more, and the host sees only that answer.
  const unanswered = new Map<string, { readonly line: string; resent: boolean }>();
  let awaitingToken: string[] = [];
  // A line of the bridge's own may go only between the host's lines, never into the middle of one.
  let atLineStart = true;
  let ownLines = "";
  const writeOwn = (line: string): void => {
    ownLines += line;
    if (atLineStart) flushOwn();
  };
  const flushOwn = (): void => {
    if (ownLines !== "" && socket.writable) socket.write(ownLines);
    ownLines = "";
  };

  const framer = new LineFramer(Number.MAX_SAFE_INTEGER, {
    line(text) {
      if (text.startsWith(OWN_REPLY)) return ownReply(text);
      if (unanswered.size > 0 && resentAfterRefusal(text)) return;
      output.write(text + "\n");
    },
    oversize: () => {},
  });
  const ownReply = (text: string): void => {
    const reply = JSON.parse(text) as { id: string; error?: { code: number; message: string; data?: ErrorData } };
    if (reply.id !== AUTH_ID) return;
    if (reply.error) failed?.(new RpcError(reply.error.code, reply.error.message, reply.error.data));
    else if (authenticated !== undefined) authenticated();
    else {
      for (const line of awaitingToken) writeOwn(line + "\n");
      awaitingToken = [];
    }
  };
  const resentAfterRefusal = (text: string): boolean => {
    const id = REPLY_ID.exec(text)?.[1];
    const sent = id === undefined ? undefined : unanswered.get(id);
    if (id === undefined || sent === undefined) return false;
    // Once the host has closed its side nothing more can be sent: the refusal is the answer.
    const refused = !sent.resent && socket.writable && text.includes('"unauthenticated"') && (JSON.parse(text) as { error?: { data?: ErrorData } }).error?.data?.reason === "unauthenticated";
    if (!refused) {
      unanswered.delete(id);
      return false;
    }
    sent.resent = true;
    if (awaitingToken.push(sent.line) === 1) writeOwn(authenticate);
    return true;
  };
  const hostLines = new LineFramer(Number.MAX_SAFE_INTEGER, {
    line(text) {
      let message: { id?: unknown; method?: unknown; params?: { requestId?: unknown } };
      try {
        message = JSON.parse(text);
      } catch {
        return; // the daemon answers it with a parse error
      }
      if (typeof message !== "object" || message === null) return;
      // A cancelled request gets no reply.
      if (message.method === "notifications/cancelled") unanswered.delete(JSON.stringify(message.params?.requestId));
      else if (typeof message.method === "string" && (typeof message.id === "string" || typeof message.id === "number")) {
        unanswered.set(JSON.stringify(message.id), { line: text, resent: false });
      }
    },
    oversize: () => {},
  });

  socket.on("data", (chunk: Buffer) => framer.push(chunk));
  socket.on("end", () => framer.end());
  socket.on("error", (err) => {
    // With TLS 1.3 a daemon that wants a client certificate says so only after the handshake, here.
    failed?.(tlsFailure(err, client) ?? new ClientError("CONNECTION_CLOSED", `The connection to ${client.host}:${client.port} broke: ${err.message}`, { cause: err }));
  });

  let keepalive: NodeJS.Timeout | undefined;
  try {
    if (client.token !== undefined) {
      await Promise.race([
        new Promise<void>((resolve) => {
          authenticated = resolve;
          socket.write(authenticate);
        }),
        outcome.then(() => {
          throw new ClientError("CONNECTION_CLOSED", "The daemon closed the connection before answering authenticate.");
        }),
      ]);
      authenticated = undefined;
    }
    input.on("data", (chunk: Buffer) => {
      if (chunk.length > 0) atLineStart = chunk[chunk.length - 1] === 10;
      socket.write(chunk);
      if (client.token !== undefined) hostLines.push(chunk);
      if (atLineStart) flushOwn();
    });
    input.on("end", () => {
      flushOwn();
      socket.end();
    });
    let pings = 0;
    if (client.keepaliveMs > 0) {
      keepalive = setInterval(() => writeOwn(`{"jsonrpc":"2.0","id":"${OWN_ID}${++pings}","method":"ping"}\n`), client.keepaliveMs);
    }
    await outcome;
  } finally {
    clearInterval(keepalive);
    input.pause();
    socket.destroy();
  }
}
