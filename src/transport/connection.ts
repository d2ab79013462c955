import { performance } from "node:perf_hooks";
import type { Readable, Writable } from "node:stream";
import { LineFramer } from "./framing.js";

/**
 * Lines are handed to the rpc layer in slices of about this many milliseconds, yielding to the event loop between
 * slices, so a client that pipelines expensive requests cannot hold the daemon for the length of its chunk.
 */
const SLICE_MS = 4;

/**
 * One client connection as the rpc layer sees it: lines in, lines out. In the spirit of the MCP SDK's Transport,
 * but line-oriented so that serialisation happens once, in the rpc layer.
 */
export interface Connection {
  readonly id: number;
  readonly kind: "tcp" | "stdio";
  /** `address:port`, or `stdio`. */
  readonly remote: string;
  /**
   * Queue one line (without its newline): text, or pieces of text and UTF-8 bytes that make it up (written as they
   * are, without joining them into one copy first). Lines queued by one synchronous run of code are written together.
   */
  send(line: string | ReadonlyArray<string | Uint8Array>): void;
  /** Write what is queued, then close our sending side. Idempotent. */
  end(): void;
  /** Drop the connection at once. */
  destroy(): void;
  /** More output waits for the peer than the soft limit: what can be dropped (monitor events) should be. */
  readonly backedUp: boolean;
  /** Runs `fn` once the peer has read what waits for it, or soon when nothing waits in the socket; look again then. */
  whenDrained(fn: () => void): void;
  /** Stop reading the peer's input until every reason given has been resumed. */
  pauseInput(reason: string): void;
  resumeInput(reason: string): void;
  /**
   * A received line. `startedAt` is when its turn came (`performance.now()`): the reading the slice's clock took after
   * the line before, passed on so that timing a request costs no reading of its own to start.
   */
  onmessage: (line: string, startedAt: number) => void;
  /** A line passed the size limit; its remainder is being discarded and later lines are served as usual. */
  onoversize: (bytes: number) => void;
  /** The peer will send nothing more (TCP FIN, stdin EOF). Replies can still be written. */
  oninputend: () => void;
  /** Nothing was read or written for the idle timeout. Return true to close, false to keep the connection. */
  onidle: () => boolean;
  onclose: () => void;
  onerror: (err: Error) => void;
  /** The peer left more than the hard output limit unread; the connection is being dropped. */
  onoverflow: (bufferedBytes: number) => void;
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
  /** Unread output above which reading stops until the peer catches up. */
  readonly outputSoftLimit: number;
  /** Unread output above which the connection is dropped. */
  readonly outputHardLimit: number;
  /** Close our sending side once everything queued is written (socket.end() for TCP). */
  readonly finish: () => void;
  /** Tear the connection down now. */
  readonly kill: () => void;
}

/**
 * A Connection over a readable/writable pair (a TCP socket is both; stdio is stdin + stdout). Replies are coalesced
 * into one write per received chunk or per wave of settled promises, so a pipelining client costs one syscall per
 * batch of replies, not per reply.
 * Received lines are delivered in short slices; delivery and reading stop while the peer is not draining our replies
 * (past the soft output limit) or while the rpc layer asks (too much in flight), and a peer that leaves more than the
 * hard limit unread is dropped.
 */
export class StreamConnection implements Connection {
  readonly id = nextConnectionId();
  readonly kind: Connection["kind"];
  readonly remote: string;
  onmessage: (line: string, startedAt: number) => void = noop;
  onoversize: (bytes: number) => void = noop;
  oninputend: () => void = noop;
  onidle: () => boolean = () => true;
  onclose: () => void = noop;
  onerror: (err: Error) => void = noop;
  onoverflow: (bufferedBytes: number) => void = noop;

  /** Text queued since the last bytes (or flush). */
  private queued = "";
  /** Earlier queued text and the bytes given among a line's pieces, in order, when any line had bytes. */
  private chunks: Array<string | Uint8Array> = [];
  private chunkBytes = 0;
  private flushScheduled = false;
  private ending = false;
  private closed = false;
  /** Our sending side is closed: nothing more can be written. */
  private finished = false;
  private awaitingDrain = false;
  private readonly pausedFor = new Set<string>();
  private readonly framer: LineFramer;
  /** Received and not yet delivered: lines, and (as numbers) oversized lines, in arrival order. */
  private received: Array<string | number> = [];
  private next = 0;
  private deliveryScheduled = false;
  private inputEnded = false;

  constructor(private readonly options: StreamConnectionOptions) {
    this.kind = options.kind;
    this.remote = options.remote;
    this.framer = new LineFramer(options.maxMessageBytes, {
      line: (text) => this.received.push(text),
      oversize: (bytes) => this.received.push(bytes),
    });
    options.input.on("data", (chunk: Buffer) => {
      this.framer.push(chunk);
      this.deliver();
    });
    options.input.on("end", () => {
      this.framer.end();
      this.inputEnded = true;
      this.deliver();
    });
  }

  get backedUp(): boolean {
    return this.queuedSize + this.options.output.writableLength > this.options.outputSoftLimit;
  }

  whenDrained(fn: () => void): void {
    // The socket says "drain" only after a write it could not take at once; with nothing in its buffer yet, look
    // again once the queued text has been written (in a later turn, so a caller that looks again never spins).
    if (this.options.output.writableLength === 0) setImmediate(fn);
    else this.options.output.once("drain", fn);
  }

  send(line: string | ReadonlyArray<string | Uint8Array>): void {
    if (this.closed || this.finished) return;
    if (typeof line === "string") {
      this.queued += line;
      this.queued += "\n";
    } else {
      // Text pieces join the queued text (one buffer for the whole flush); only bytes are written as they are.
      for (const piece of line) {
        if (typeof piece === "string") {
          this.queued += piece;
          continue;
        }
        if (this.queued.length > 0) this.chunks.push(this.queued);
        this.chunkBytes += this.queued.length + piece.length;
        this.chunks.push(piece);
        this.queued = "";
      }
      this.queued += "\n";
    }
    this.scheduleFlush();
  }

  /** About how much is queued (text counted in characters). */
  private get queuedSize(): number {
    return this.chunkBytes + this.queued.length;
  }

  end(): void {
    if (this.ending || this.closed) return;
    this.ending = true;
    this.scheduleFlush();
  }

  destroy(): void {
    if (this.closed) return;
    this.pausedFor.add("destroyed"); // its close event comes later; deliver nothing more meanwhile
    this.options.kill();
  }

  pauseInput(reason: string): void {
    if (this.pausedFor.size === 0) this.options.input.pause();
    this.pausedFor.add(reason);
  }

  resumeInput(reason: string): void {
    if (!this.pausedFor.delete(reason) || this.pausedFor.size > 0 || this.closed) return;
    this.options.input.resume();
    this.scheduleDelivery();
  }

  /** Called by the owner when the underlying stream closed. */
  handleClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.queued = "";
    this.chunks = [];
    this.chunkBytes = 0;
    this.onclose();
  }

  /** Hands received lines over, in order, for one slice; stops when paused or when replies pile up unread. */
  private readonly deliver = (): void => {
    this.deliveryScheduled = false;
    let now = performance.now();
    const until = now + SLICE_MS;
    while (this.next < this.received.length && this.pausedFor.size === 0 && !this.closed) {
      const item = this.received[this.next++] as string | number;
      if (typeof item === "number") this.onoversize(item);
      else this.onmessage(item, now);
      // Replies piling up in one slice are written now, so the soft limit can stop the slice.
      if (this.queuedSize > this.options.outputSoftLimit) this.flush();
      now = performance.now();
      if (now > until) {
        this.scheduleDelivery();
        break;
      }
    }
    if (this.next === this.received.length) {
      this.received = [];
      this.next = 0;
      if (this.inputEnded && !this.closed) {
        this.inputEnded = false;
        this.oninputend();
      }
    } else if (this.next > 1024) {
      this.received = this.received.slice(this.next);
      this.next = 0;
    }
  };

  private scheduleDelivery(): void {
    if (this.deliveryScheduled) return;
    this.deliveryScheduled = true;
    setImmediate(this.deliver);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // A microtask, not setImmediate: replies leave as soon as the lines that produced them (or the promise wave that
    // settled them) are done, instead of one event-loop phase later; lines of one chunk still share one write.
    queueMicrotask(this.flush);
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.closed || this.finished) return;
    if (this.queuedSize > 0) {
      const { output } = this.options;
      let below: boolean;
      if (this.chunks.length === 0) {
        below = output.write(this.queued);
      } else {
        if (this.queued.length > 0) this.chunks.push(this.queued);
        output.cork();
        below = true;
        for (const chunk of this.chunks) below = output.write(chunk);
        output.uncork();
        this.chunks = [];
        this.chunkBytes = 0;
      }
      this.queued = "";
      const buffered = this.options.output.writableLength;
      if (buffered > this.options.outputHardLimit) {
        this.onoverflow(buffered);
        this.destroy();
        return;
      }
      if (!below || buffered > this.options.outputSoftLimit) this.waitForDrain();
    }
    if (this.ending) {
      this.finished = true;
      this.options.finish();
    }
  };

  /** Backpressure: no more requests are read from a peer that is not reading our replies. */
  private waitForDrain(): void {
    if (this.awaitingDrain) return;
    this.awaitingDrain = true;
    this.pauseInput("output");
    this.options.output.once("drain", () => {
      this.awaitingDrain = false;
      this.resumeInput("output");
    });
  }
}
