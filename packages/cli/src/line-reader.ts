import type { Readable } from "node:stream";

/** One unit of input: a request line's bytes, or the size of a line that was too long. */
export type InputItem =
  | { readonly kind: "line"; readonly bytes: Buffer }
  | { readonly kind: "too_large"; readonly bytes: number };

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * Splits a byte stream on `\n` without decoding it, so a request's bytes reach the
 * envelope parser as they were sent (invalid UTF-8 is its typed error, not a silent
 * replacement character). A trailing `\r` is dropped; empty lines are skipped.
 *
 * A line longer than `maxLineBytes` is never held in memory: once it passes the cap its
 * bytes are dropped up to its newline and it is reported as `too_large` with its length.
 * A final line without a newline is delivered at `end()`.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private partBytes = 0;
  /** Bytes of the current over-long line dropped so far; -1 while the line is within the cap. */
  private discarded = -1;

  constructor(
    private readonly maxLineBytes: number,
    private readonly emit: (item: InputItem) => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(NEWLINE, start);
      const end = nl === -1 ? chunk.length : nl;
      this.take(chunk, start, end);
      if (nl === -1) return;
      this.finishLine();
      start = nl + 1;
    }
  }

  end(): void {
    if (this.partBytes > 0 || this.discarded >= 0) this.finishLine();
  }

  private take(chunk: Buffer, start: number, end: number): void {
    const length = end - start;
    if (length === 0) return;
    if (this.discarded >= 0) {
      this.discarded += length;
      return;
    }
    // The cap is checked on the line without its possible trailing `\r`: allow one byte.
    if (this.partBytes + length > this.maxLineBytes + 1) {
      this.discarded = this.partBytes + length;
      this.parts = [];
      this.partBytes = 0;
      return;
    }
    // Copy: the stream may reuse its chunk buffers, and a subarray would pin a large chunk.
    this.parts.push(Buffer.from(chunk.subarray(start, end)));
    this.partBytes += length;
  }

  private finishLine(): void {
    if (this.discarded >= 0) {
      const bytes = this.discarded;
      this.discarded = -1;
      this.emit({ kind: "too_large", bytes });
      return;
    }
    let line =
      this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.partBytes);
    this.parts = [];
    this.partBytes = 0;
    if (line.length > 0 && line[line.length - 1] === CARRIAGE_RETURN)
      line = line.subarray(0, line.length - 1);
    if (line.length === 0) return;
    if (line.length > this.maxLineBytes) {
      this.emit({ kind: "too_large", bytes: line.length });
      return;
    }
    this.emit({ kind: "line", bytes: line });
  }
}

export interface LineQueueOptions {
  readonly maxLineBytes: number;
  /** Pause the input while this many bytes of complete lines wait to be processed. */
  readonly highWaterBytes: number;
  /** ... or while this many lines wait. */
  readonly highWaterLines: number;
}

/**
 * A pull queue of input lines over a Readable, with backpressure: the input is paused
 * while the lines already read but not yet taken exceed a high-water mark, and resumed
 * when the consumer has drained them, so the server never reads unboundedly ahead of the
 * requests it is processing.
 */
export class LineQueue {
  private readonly splitter: LineSplitter;
  private readonly items: InputItem[] = [];
  private queuedBytes = 0;
  private ended = false;
  private closed = false;
  private paused = false;
  private waiter: ((item: InputItem | null) => void) | null = null;
  private readonly onData = (chunk: Buffer | string) => {
    this.splitter.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
    this.applyBackpressure();
  };
  private readonly onError = () => {
    if (!this.ended) this.onEnd();
  };
  private readonly onEnd = () => {
    if (this.ended) return;
    this.splitter.end();
    this.ended = true;
    this.wake();
  };

  constructor(
    private readonly input: Readable,
    private readonly options: LineQueueOptions,
  ) {
    this.splitter = new LineSplitter(options.maxLineBytes, (item) => {
      this.items.push(item);
      this.queuedBytes += item.kind === "line" ? item.bytes.length : 0;
      this.wake();
    });
    input.on("data", this.onData);
    input.once("end", this.onEnd);
    // An input error (the pipe broke) ends the input like EOF. The listener stays attached
    // for the life of the stream, so a later error is never an unhandled 'error' event.
    input.on("error", this.onError);
    input.resume();
  }

  /** The next line, or null at the end of the input or after close(). */
  next(): Promise<InputItem | null> {
    const item = this.shift();
    if (item !== undefined) return Promise.resolve(item);
    if (this.ended || this.closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  /** Stops reading: pending and future next() calls return null; queued lines are dropped. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.items.length = 0;
    this.queuedBytes = 0;
    this.input.off("data", this.onData);
    this.input.off("end", this.onEnd);
    this.input.pause();
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.(null);
  }

  private shift(): InputItem | undefined {
    if (this.closed) return undefined;
    const item = this.items.shift();
    if (item !== undefined) {
      this.queuedBytes -= item.kind === "line" ? item.bytes.length : 0;
      this.applyBackpressure();
    }
    return item;
  }

  private wake(): void {
    if (!this.waiter) return;
    const item = this.shift();
    if (item === undefined && !this.ended && !this.closed) return;
    const waiter = this.waiter;
    this.waiter = null;
    waiter(item ?? null);
  }

  private applyBackpressure(): void {
    if (this.closed || this.ended) return;
    const full =
      this.queuedBytes >= this.options.highWaterBytes || this.items.length >= this.options.highWaterLines;
    if (full && !this.paused) {
      this.paused = true;
      this.input.pause();
    } else if (!full && this.paused && this.items.length <= this.options.highWaterLines / 2) {
      this.paused = false;
      this.input.resume();
    }
  }
}
