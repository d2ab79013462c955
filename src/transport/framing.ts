/**
 * Newline framing on bytes. Chunks are split at `\n` (0x0A never occurs inside a multi-byte UTF-8 sequence), so a
 * character straddling two chunks is decoded whole. `\r\n` and blank lines are tolerated. A line longer than
 * `maxBytes` is reported once, as soon as it passes the limit, and the rest of it is discarded up to the next `\n`,
 * after which framing resumes.
 */
export interface FrameSink {
  line(text: string): void;
  /** A line passed `maxBytes`; `bytes` is how much of it had arrived when that was noticed. */
  oversize(bytes: number): void;
}

export class LineFramer {
  private parts: Buffer[] = [];
  private partsBytes = 0;
  private discarding = false;

  constructor(
    private readonly maxBytes: number,
    private readonly sink: FrameSink,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    if (this.partsBytes === 0 && !this.discarding) {
      // The common case: whole lines, none of which can be over the limit. One decode for all of them, then string
      // slices, is cheaper than a decode per line.
      const last = chunk.lastIndexOf(10);
      if (last !== -1 && last <= this.maxBytes) {
        const text = chunk.toString("utf8", 0, last);
        let from = 0;
        for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", from)) {
          this.emit(text.slice(from, nl));
          from = nl + 1;
        }
        this.emit(from === 0 ? text : text.slice(from));
        start = last + 1;
      }
    }
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl === -1) break;
      this.completeLine(chunk, start, nl);
      start = nl + 1;
    }
    if (start < chunk.length) this.keep(chunk, start);
  }

  /** The peer finished sending: a last line without a trailing newline still counts. */
  end(): void {
    if (this.partsBytes > 0 && !this.discarding) this.emit(Buffer.concat(this.parts, this.partsBytes).toString("utf8"));
    this.reset();
  }

  private keep(chunk: Buffer, start: number): void {
    if (this.discarding) return;
    const bytes = this.partsBytes + chunk.length - start;
    if (bytes > this.maxBytes) {
      this.reset();
      this.discarding = true;
      this.sink.oversize(bytes);
      return;
    }
    this.parts.push(start === 0 ? chunk : chunk.subarray(start));
    this.partsBytes = bytes;
  }

  private completeLine(chunk: Buffer, start: number, end: number): void {
    if (this.discarding) {
      // The tail of a line already reported as oversized.
      this.discarding = false;
      return;
    }
    const bytes = this.partsBytes + end - start;
    if (bytes > this.maxBytes) {
      this.reset();
      this.sink.oversize(bytes);
      return;
    }
    if (this.partsBytes === 0) {
      this.emit(chunk.toString("utf8", start, end));
    } else {
      this.parts.push(chunk.subarray(start, end));
      const text = Buffer.concat(this.parts, bytes).toString("utf8");
      this.reset();
      this.emit(text);
    }
  }

  private emit(text: string): void {
    let end = text.length;
    if (end > 0 && text.charCodeAt(end - 1) === 13) end--;
    if (end === 0) return;
    const line = end === text.length ? text : text.slice(0, end);
    // Lines of JSON whitespace only (space, tab, CR) are blank lines too; checked only when one starts that way.
    if (line.charCodeAt(0) <= 32 && isBlank(line)) return;
    this.sink.line(line);
  }

  private reset(): void {
    this.parts = [];
    this.partsBytes = 0;
  }
}

function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}
