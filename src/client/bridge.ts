import type { Readable, Writable } from "node:stream";
import pRetry from "p-retry";
import { LineFramer } from "../transport/framing.js";
import { rpcError, type ErrorData } from "../protocol/errors.js";
import { idText } from "../protocol/raw-id.js";
import { isPermanent } from "./connection.js";
import { ClientError } from "./errors.js";
import type { ResolvedClientOptions } from "./options.js";
import { OWN_ID, openConnection, type DaemonConnection } from "./bridge-connection.js";

export interface BridgeOptions {
  readonly client: Pick<ResolvedClientOptions, "host" | "port" | "tls" | "connectTimeoutMs" | "token" | "keepaliveMs">;
  /** What the MCP host writes (its stdin for us). */
  readonly input: Readable;
  /** Where the host reads (our stdout). */
  readonly output: Writable;
  /** One line for the operator (stderr): a connection lost, and found again. */
  readonly notice?: (text: string) => void;
  /** How long to try to reach the daemon again after it went away while the host stays (default 60 s; 0: give up). */
  readonly reconnectForMs?: number;
}

/** The id of one of swarmd's replies, as JSON text: swarmd writes `jsonrpc` first and `id` second. */
const REPLY_ID = /^\{"jsonrpc":"2\.0","id":("(?:[^"\\]|\\.)*"|[-+.\deE]+)/;

/**
 * Relays an MCP host that launches servers as commands (stdio) to a swarmd daemon over TCP or TLS, so that many hosts
 * share one daemon and its database. The host's lines and the daemon's replies pass through unchanged; the bridge adds
 * only what a pipe cannot: the token (authenticate, before the host's first line, and again when the daemon's tokens
 * changed), a ping every keepalive interval so the daemon's idle timeout does not close a session the host still
 * holds, and a new connection when the daemon goes away (a restart) while the host stays — the host's handshake is
 * replayed on it, and what the old one left unanswered is answered with `-32000 connection_lost`. Replies to the
 * bridge's own requests are not passed on. Resolves when the host has closed its side and the daemon has answered
 * and closed; rejects (ClientError, RpcError) when it cannot connect, the token is refused, or the daemon stays away.
 */
export async function runBridge(options: BridgeOptions): Promise<void> {
  const { client, input, output } = options;
  const notice = options.notice ?? (() => {});
  const reconnectForMs = options.reconnectForMs ?? 60_000;
  const where = `${client.host}:${client.port}`;

  // The host's requests not yet answered (by the JSON of their id). One refused because the daemon's tokens changed
  // (SIGHUP) did nothing; once the token is accepted again (its scope may have changed) it is sent once more, and the
  // host sees only that answer.
  const unanswered = new Map<string, { readonly line: string; resent: boolean }>();
  /** The host's handshake as the bridge replays it on a new connection: initialize (with an id of ours), initialized. */
  const handshake: string[] = [];
  /** Host lines that came while no connection was ready. */
  let queued: string[] = [];
  let hostDone = false;
  let conn: DaemonConnection | undefined;

  const toDaemon = (line: string): void => {
    if (conn !== undefined) conn.send(line);
    else queued.push(line);
  };
  const hostLines = new LineFramer(Number.MAX_SAFE_INTEGER, {
    line(text) {
      remember(text);
      toDaemon(text + "\n");
    },
    oversize: () => {},
  });
  const remember = (text: string): void => {
    let message: { id?: unknown; method?: unknown; params?: { requestId?: unknown } };
    try {
      message = JSON.parse(text);
    } catch {
      return; // the daemon answers it with a parse error
    }
    if (typeof message !== "object" || message === null) return;
    if (message.method === "initialize" && message.id !== undefined) {
      handshake[0] = JSON.stringify({ jsonrpc: "2.0", id: `${OWN_ID}initialize`, method: "initialize", params: message.params });
    } else if (message.method === "notifications/initialized") handshake[1] = text;
    // A cancelled request gets no reply.
    if (message.method === "notifications/cancelled") unanswered.delete(JSON.stringify(message.params?.requestId));
    else if (typeof message.method === "string" && (typeof message.id === "string" || typeof message.id === "number")) {
      // Keyed by the id's text as the reply will carry it: exact for u64 ids that JSON.parse rounds.
      unanswered.set(idText(message.id, text), { line: text, resent: false });
    }
  };

  /** A reply of the daemon's to the host: passed on, unless it refused a request the bridge sends again. */
  const fromDaemon = (text: string): void => {
    const id = REPLY_ID.exec(text)?.[1];
    const sent = id === undefined ? undefined : unanswered.get(id);
    if (id !== undefined && sent !== undefined) {
      // Only with a token of the bridge's own can it authenticate again; and once the host has closed its side nothing
      // more can be sent: the refusal is the answer.
      const refused = client.token !== undefined && !sent.resent && !hostDone && text.includes('"unauthenticated"') && (JSON.parse(text) as { error?: { data?: ErrorData } }).error?.data?.reason === "unauthenticated";
      if (refused && conn !== undefined) {
        sent.resent = true;
        conn.resendAfterAuthenticating(sent.line + "\n");
        return;
      }
      unanswered.delete(id);
    }
    output.write(text + "\n");
  };

  /** Answers what the daemon will no longer answer: it may or may not have acted on it. */
  const answerLost = (): void => {
    for (const id of unanswered.keys()) {
      const error = rpcError("SERVER_ERROR", `The connection to swarmd at ${where} was lost before it answered; the request may or may not have taken effect.`, { reason: "connection_lost" });
      output.write(`{"jsonrpc":"2.0","id":${id},"error":${JSON.stringify(error)}}\n`);
    }
    unanswered.clear();
  };

  const open = (replay: readonly string[]): Promise<DaemonConnection> => openConnection({ client, replay, onReply: fromDaemon });

  /** A new connection after the daemon went away: retried with backoff (as the pool connects) for reconnectForMs. */
  const reopen = async (): Promise<DaemonConnection> => {
    try {
      return await pRetry(() => open(handshake.filter((line) => line !== undefined)), {
        retries: Number.POSITIVE_INFINITY,
        minTimeout: 100,
        maxTimeout: 2000,
        factor: 2,
        randomize: true,
        maxRetryTime: reconnectForMs,
        shouldRetry: ({ error }) => !isPermanent(error),
      });
    } catch (err) {
      if (isPermanent(err)) throw err;
      throw new ClientError("CONNECT_FAILED", `swarmd at ${where} did not come back within ${reconnectForMs / 1000} s (${(err as Error).message}).`, { cause: err });
    }
  };

  input.on("data", (chunk: Buffer) => hostLines.push(chunk));
  input.on("end", () => {
    hostLines.end();
    hostDone = true;
    conn?.end();
  });
  const keepalive = client.keepaliveMs > 0 ? setInterval(() => conn?.ping(), client.keepaliveMs) : undefined;
  try {
    conn = await open([]);
    for (;;) {
      for (const line of queued) conn.send(line);
      queued = [];
      if (hostDone) conn.end();
      const broke = await conn.closed;
      conn = undefined;
      if (isPermanent(broke)) throw broke;
      answerLost();
      if (hostDone) {
        if (broke !== undefined) throw broke;
        return;
      }
      if (reconnectForMs <= 0) throw broke ?? new ClientError("CONNECTION_CLOSED", `swarmd at ${where} closed the connection.`);
      notice(`the connection to ${where} was lost (${broke?.message ?? "closed by the daemon"}); connecting again`);
      conn = await reopen();
      notice(`connected to ${where} again; the host's session goes on`);
    }
  } finally {
    clearInterval(keepalive);
    input.pause();
    conn?.destroy();
  }
}
