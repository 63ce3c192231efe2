import type { FileHandle } from "@aerodb/base";
import { BLOCK, decodeHeader, HeaderError, isZeroBlock, paddingOf, type TarEntry } from "./ustar.js";

const WINDOW_BYTES = 1 << 20;

/** Why an archive was refused, beyond a bad header (see ustar.ts `HeaderDefect`). */
export type ArchiveDefectReason =
  | HeaderError["reason"]
  | "truncated"
  | "trailing_data"
  | "non_zero_padding"
  | "bad_end";

/** A defect of the archive's structure, with the archive offset where it was found. */
export class ArchiveDefect extends Error {
  constructor(
    readonly reason: ArchiveDefectReason,
    message: string,
    readonly offset: number,
    readonly entry: string | null = null,
  ) {
    super(message);
    this.name = "ArchiveDefect";
  }
}

/**
 * Reads an AeroDB ustar archive front to back, strictly: every header through
 * `decodeHeader` (checksum, ustar magic, type, safe path, canonical bytes), content padding
 * must be zeros, the end is exactly two zero blocks, and nothing may follow them. It reads
 * only — the caller decides what to do with each entry (count, checksum, extract), so a
 * first pass can verify the whole archive before anything is written anywhere.
 */
export class TarReader {
  private position = 0;
  private readonly window = new Uint8Array(WINDOW_BYTES);
  private windowStart = 0;
  private windowFill = 0;

  constructor(
    private readonly handle: Pick<FileHandle, "read">,
    /** The archive file's size. */
    readonly size: number,
  ) {}

  get offset(): number {
    return this.position;
  }

  /** The next entry's header, or "end" after the two zero end blocks. */
  async next(): Promise<TarEntry | "end"> {
    const at = this.position;
    const block = await this.take(BLOCK, null);
    if (isZeroBlock(block)) {
      const second = await this.take(BLOCK, null);
      if (!isZeroBlock(second)) {
        throw new ArchiveDefect("bad_end", "The archive's end marker is not two zero blocks.", at);
      }
      return "end";
    }
    try {
      return decodeHeader(block);
    } catch (err) {
      if (err instanceof HeaderError) throw new ArchiveDefect(err.reason, err.message, at, err.path);
      throw err;
    }
  }

  /**
   * Reads the content of the entry just returned by `next` (`size` bytes, then its zero
   * padding), handing it over in chunks that are valid only during the call.
   */
  async content(
    entry: TarEntry,
    onChunk: (chunk: Uint8Array) => void | Promise<void>,
    chunkBytes = WINDOW_BYTES,
  ): Promise<void> {
    let left = entry.size;
    while (left > 0) {
      const n = Math.min(left, chunkBytes);
      await onChunk(await this.take(n, entry.path));
      left -= n;
    }
    const pad = paddingOf(entry.size);
    if (pad > 0) {
      const at = this.position;
      if (!isZeroBlock(await this.take(pad, entry.path))) {
        throw new ArchiveDefect("non_zero_padding", "An entry's padding is not zeros.", at, entry.path);
      }
    }
  }

  /** After "end": the archive must end here. */
  expectEnd(): void {
    if (this.position !== this.size) {
      throw new ArchiveDefect(
        "trailing_data",
        `The archive has ${this.size - this.position} bytes after its end marker.`,
        this.position,
      );
    }
  }

  /** The next `n` bytes (a view valid until the next call); "truncated" if the file ends first. */
  private async take(n: number, entry: string | null): Promise<Uint8Array> {
    if (this.position + n > this.size) {
      throw new ArchiveDefect("truncated", "The archive ends in the middle of an entry.", this.size, entry);
    }
    if (n > WINDOW_BYTES) throw new Error("read larger than the window");
    const rel = this.position - this.windowStart;
    if (rel + n > this.windowFill) await this.refill(n);
    const start = this.position - this.windowStart;
    this.position += n;
    return this.window.subarray(start, start + n);
  }

  private async refill(need: number): Promise<void> {
    const keep = this.windowFill - (this.position - this.windowStart);
    if (keep > 0) this.window.copyWithin(0, this.position - this.windowStart, this.windowFill);
    this.windowStart = this.position;
    this.windowFill = Math.max(0, keep);
    const want = Math.min(WINDOW_BYTES, this.size - this.windowStart);
    while (this.windowFill < want) {
      const got = await this.handle.read(
        this.window,
        this.windowFill,
        want - this.windowFill,
        this.windowStart + this.windowFill,
      );
      if (got <= 0) break;
      this.windowFill += got;
    }
    if (this.windowFill < need) {
      throw new ArchiveDefect(
        "truncated",
        "The archive file ended while it was read.",
        this.windowStart + this.windowFill,
      );
    }
  }
}
