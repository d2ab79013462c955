import { connect, type Socket } from "node:net";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Message = Record<string, any>;

/**
 * A raw NDJSON client over a real TCP socket, for the tests, the fuzz and crash drivers and the benchmark: send lines
 * or objects, read reply lines. Reply lines are kept as text too, so tests can check exact bytes (id echo, key order).
 */
export class LineClient {
  readonly texts: string[] = [];
  /** Each line parsed once, as it arrives. */
  readonly messages: Message[] = [];
  /** The first reply seen for each id. */
  private readonly replies = new Map<unknown, Message>();
  private buffer = "";
  private waiters: Array<() => void> = [];
  private ended = false;
  chunks = 0;

  private constructor(readonly socket: Socket) {
    socket.setEncoding("utf8");
    socket.on("data", (data: string) => {
      this.chunks++;
      this.buffer += data;
      let nl: number;
      while ((nl = this.buffer.indexOf("\n")) !== -1) {
        const text = this.buffer.slice(0, nl);
        this.texts.push(text);
        const message = parse(text);
        this.messages.push(message);
        if (("result" in message || "error" in message) && !this.replies.has(message.id)) this.replies.set(message.id, message);
        this.buffer = this.buffer.slice(nl + 1);
      }
      this.wake();
    });
    socket.on("end", () => {
      this.ended = true;
      this.wake();
    });
    socket.on("close", () => {
      this.ended = true;
      this.wake();
    });
    socket.on("error", () => {});
  }

  static connect(port: number, host = "127.0.0.1"): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host });
      socket.once("connect", () => resolve(new LineClient(socket)));
      socket.once("error", reject);
    });
  }

  /** True once the server closed its side. */
  get closedByServer(): boolean {
    return this.ended;
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  send(message: unknown): void {
    this.socket.write(JSON.stringify(message) + "\n");
  }

  /** Half-close: we send nothing more; replies still arrive. */
  endInput(): void {
    this.socket.end();
  }

  close(): void {
    this.socket.destroy();
  }

  /** Resolves when at least `count` lines have arrived in total. */
  async waitForLines(count: number, timeoutMs = 5000): Promise<string[]> {
    await this.waitFor(() => this.texts.length >= count, timeoutMs, `${count} lines (have ${this.texts.length})`);
    return this.texts;
  }

  /** Resolves when the server has closed the connection. */
  async waitForEnd(timeoutMs = 5000): Promise<void> {
    await this.waitFor(() => this.ended, timeoutMs, "the server to close the connection");
  }

  /** Sends a request and resolves with the reply whose id matches (rejects after `timeoutMs` without it). */
  async request(method: string, params: unknown = {}, id: string | number = nextId(), timeoutMs?: number): Promise<Message> {
    this.send({ jsonrpc: "2.0", id, method, params });
    return this.reply(id, timeoutMs);
  }

  async reply(id: string | number, timeoutMs = 5000): Promise<Message> {
    let found: Message | undefined;
    await this.waitFor(
      () => (found = this.replies.get(id)) !== undefined,
      timeoutMs,
      `a reply with id ${JSON.stringify(id)}`,
    );
    return found as Message;
  }

  /** tools/call; resolves with the whole JSON-RPC reply. */
  call(name: string, args: unknown = {}, id?: string | number, timeoutMs?: number): Promise<Message> {
    return this.request("tools/call", { name, arguments: args }, id, timeoutMs);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private waitFor(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
      const check = (): void => {
        if (done()) {
          clearTimeout(timer);
          resolve();
        } else if (this.ended && !done()) {
          clearTimeout(timer);
          reject(new Error(`connection closed while waiting for ${what}`));
        } else this.waiters.push(check);
      };
      check();
    });
  }
}

function parse(text: string): Message {
  try {
    return JSON.parse(text) as Message;
  } catch {
    return { unparsable: text };
  }
}

let lastId = 0;
/** String ids, so they never collide with the numeric ids tests pipeline by hand. */
function nextId(): string {
  return `req-${++lastId}`;
}
