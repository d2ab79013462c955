import type { Readable, Writable } from "node:stream";
import { LineFramer } from "./framing.js";

/**
 * One client connection as the rpc layer sees it: lines in, lines out. In the spirit of the MCP SDK's Transport,
 * but line-oriented so that serialisation happens once, in the rpc layer.
 */
export interface Connection {
  readonly id: number;
  readonly kind: "tcp" | "stdio";
  /** `address:port`, or `stdio`. */
  readonly remote: string;
  /** Queue one line (without its newline). Lines queued in one event-loop turn are written with one call. */
  send(line: string): void;
  /** Write what is queued, then close our sending side. Idempotent. */
  end(): void;
  /** Drop the connection at once. */
  destroy(): void;
  onmessage: (line: string) => void;
  /** A line passed the size limit; its remainder is being discarded and later lines are served as usual. */
  onoversize: (bytes: number) => void;
  /** The peer will send nothing more (TCP FIN, stdin EOF). Replies can still be written. */
  oninputend: () => void;
  /** Nothing was read or written for the idle timeout. Return true to close, false to keep the connection. */
  onidle: () => boolean;
  onclose: () => void;
  onerror: (err: Error) => void;
}

let lastConnectionId = 0;
export function nextConnectionId(): number {
  return ++lastConnectionId;
}

const noop = (): void => {};

export interface StreamConnectionOptions {
  readonly kind: Connection["kind"];
  readonly remote: string;
  readonly input: Readable;
  readonly output: Writable;
  readonly maxMessageBytes: number;
  /** Close our sending side once everything queued is written (socket.end() for TCP). */
  readonly finish: () => void;
  /** Tear the connection down now. */
  readonly kill: () => void;
}

/**
 * A Connection over a readable/writable pair (a TCP socket is both; stdio is stdin + stdout). Replies are coalesced
 * into one write per event-loop turn (a pipelining client costs one syscall per batch of replies, not per reply), and
 * reading stops while the peer is not draining what we wrote (backpressure).
 */
export class StreamConnection implements Connection {
  readonly id = nextConnectionId();
  readonly kind: Connection["kind"];
  readonly remote: string;
  onmessage: (line: string) => void = noop;
  onoversize: (bytes: number) => void = noop;
  oninputend: () => void = noop;
  onidle: () => boolean = () => true;
  onclose: () => void = noop;
  onerror: (err: Error) => void = noop;

  private queued = "";
  private flushScheduled = false;
  private ending = false;
  private closed = false;
  /** Our sending side is closed: nothing more can be written. */
  private finished = false;
  private awaitingDrain = false;
  private readonly framer: LineFramer;

  constructor(private readonly options: StreamConnectionOptions) {
    this.kind = options.kind;
    this.remote = options.remote;
    this.framer = new LineFramer(options.maxMessageBytes, {
      line: (text) => this.onmessage(text),
      oversize: (bytes) => this.onoversize(bytes),
    });
    options.input.on("data", (chunk: Buffer) => this.framer.push(chunk));
    options.input.on("end", () => {
      this.framer.end();
      this.oninputend();
    });
  }

  send(line: string): void {
    if (this.closed || this.finished) return;
    this.queued += line;
    this.queued += "\n";
    this.scheduleFlush();
  }

  end(): void {
    if (this.ending || this.closed) return;
    this.ending = true;
    this.scheduleFlush();
  }

  destroy(): void {
    if (!this.closed) this.options.kill();
  }

  /** Called by the owner when the underlying stream closed. */
  handleClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.queued = "";
    this.onclose();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.closed || this.finished) return;
    if (this.queued.length > 0) {
      const data = this.queued;
      this.queued = "";
      if (!this.options.output.write(data)) this.waitForDrain();
    }
    if (this.ending) {
      this.finished = true;
      this.options.finish();
    }
  };

  private waitForDrain(): void {
    if (this.awaitingDrain) return;
    this.awaitingDrain = true;
    this.options.input.pause();
    this.options.output.once("drain", () => {
      this.awaitingDrain = false;
      if (!this.closed) this.options.input.resume();
    });
  }
}
