import { type FileHandle, writeFully } from "@aerodb/base";
import { BLOCK, encodeHeader, paddingOf, type TarEntry } from "./ustar.js";

const BUFFER_BYTES = 1 << 20;

/**
 * Writes a deterministic ustar archive front to back through a file handle: headers from
 * `encodeHeader` (fixed mode, owner, time), zero padding to 512 bytes, and two zero blocks
 * at the end — no record padding beyond them, so the archive's size follows from its
 * entries alone. Writes are batched into 1 MiB calls. The caller fixes the order (AeroDB
 * archives are sorted); the writer checks that each file gets exactly its declared bytes.
 */
export class TarWriter {
  private position = 0;
  private readonly buffer = new Uint8Array(BUFFER_BYTES);
  private fill = 0;
  private open: { path: string; left: number; size: number } | null = null;
  private finished = false;

  constructor(private readonly handle: Pick<FileHandle, "write">) {}

  /** Bytes of archive produced so far (written or buffered). */
  get bytes(): number {
    return this.position + this.fill;
  }

  async addDir(path: string): Promise<void> {
    this.checkIdle();
    await this.put(encodeHeader({ path, type: "dir", size: 0 }));
  }

  /** Starts a file of `size` bytes: its content follows through `write`, then `endFile`. */
  async beginFile(path: string, size: number): Promise<void> {
    this.checkIdle();
    const entry: TarEntry = { path, type: "file", size };
    await this.put(encodeHeader(entry));
    this.open = { path, left: size, size };
  }

  async write(chunk: Uint8Array): Promise<void> {
    const open = this.open;
    if (open === null) throw new Error("no file entry is open");
    if (chunk.length > open.left) throw new Error(`'${open.path}' got more bytes than its declared size`);
    open.left -= chunk.length;
    await this.put(chunk);
  }

  async endFile(): Promise<void> {
    const open = this.open;
    if (open === null) throw new Error("no file entry is open");
    if (open.left !== 0) throw new Error(`'${open.path}' got fewer bytes than its declared size`);
    this.open = null;
    await this.put(new Uint8Array(paddingOf(open.size)));
  }

  async addFile(path: string, bytes: Uint8Array): Promise<void> {
    await this.beginFile(path, bytes.length);
    await this.write(bytes);
    await this.endFile();
  }

  /** Writes the two zero end blocks and flushes; returns the archive's size. */
  async finish(): Promise<number> {
    this.checkIdle();
    await this.put(new Uint8Array(2 * BLOCK));
    await this.flush();
    this.finished = true;
    return this.position;
  }

  private checkIdle(): void {
    if (this.finished) throw new Error("the archive is finished");
    if (this.open !== null) throw new Error(`'${this.open.path}' is still open`);
  }

  private async put(bytes: Uint8Array): Promise<void> {
    let at = 0;
    while (at < bytes.length) {
      const n = Math.min(bytes.length - at, BUFFER_BYTES - this.fill);
      this.buffer.set(bytes.subarray(at, at + n), this.fill);
      this.fill += n;
      at += n;
      if (this.fill === BUFFER_BYTES) await this.flush();
    }
  }

  private async flush(): Promise<void> {
    if (this.fill === 0) return;
    await writeFully(this.handle, this.buffer.subarray(0, this.fill), this.position);
    this.position += this.fill;
    this.fill = 0;
  }
}
