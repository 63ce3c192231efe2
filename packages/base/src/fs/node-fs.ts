import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import type { FileHandle, FileStat, FileSystem, OpenMode, OpenOptions } from "./types.js";

const MODE_FLAGS: Record<OpenMode, number> = {
  r: fs.constants.O_RDONLY,
  "r+": fs.constants.O_RDWR,
  wx: fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL,
};

function promisified<T>(fn: (cb: (err: NodeJS.ErrnoException | null, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));
}

/**
 * The real file system. Callback-style `fs` calls are used instead of `fs/promises`
 * FileHandles because they cost one thread-pool hop each and no extra allocation: the
 * commit path's throughput is bounded by those hops (see perf-notes.md).
 */
class NodeFileHandle implements FileHandle {
  constructor(
    readonly path: string,
    private readonly fd: number,
  ) {}

  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return promisified((cb) => fs.read(this.fd, buffer, offset, length, position, cb));
  }

  readSync(buffer: Uint8Array, offset: number, length: number, position: number): number {
    return fs.readSync(this.fd, buffer, offset, length, position);
  }

  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return promisified((cb) => fs.write(this.fd, buffer, offset, length, position, cb));
  }

  writeSync(buffer: Uint8Array, offset: number, length: number, position: number): number {
    return fs.writeSync(this.fd, buffer, offset, length, position);
  }

  sync(): Promise<void> {
    return promisified<void>((cb) => fs.fdatasync(this.fd, (err) => cb(err, undefined)));
  }

  truncate(length: number): Promise<void> {
    return promisified<void>((cb) => fs.ftruncate(this.fd, length, (err) => cb(err, undefined)));
  }

  async size(): Promise<number> {
    return (await promisified<fs.Stats>((cb) => fs.fstat(this.fd, cb))).size;
  }

  close(): Promise<void> {
    return promisified<void>((cb) => fs.close(this.fd, (err) => cb(err, undefined)));
  }
}

export class NodeFileSystem implements FileSystem {
  async open(path: string, mode: OpenMode, options?: OpenOptions): Promise<FileHandle> {
    const flags = MODE_FLAGS[mode] | (options?.dsync ? fs.constants.O_DSYNC : 0);
    const fd = await promisified<number>((cb) => fs.open(path, flags, 0o644, cb));
    return new NodeFileHandle(path, fd);
  }

  async readFile(path: string): Promise<Uint8Array> {
    return fsp.readFile(path);
  }

  async readdir(path: string): Promise<string[]> {
    const names = await fsp.readdir(path);
    return names.sort(compareCodeUnits);
  }

  async stat(path: string): Promise<FileStat | null> {
    try {
      const st = await fsp.stat(path);
      return { size: st.size, isFile: st.isFile(), isDirectory: st.isDirectory() };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw err;
    }
  }

  async mkdir(path: string): Promise<void> {
    await fsp.mkdir(path);
  }

  async rename(from: string, to: string): Promise<void> {
    await fsp.rename(from, to);
  }

  async unlink(path: string): Promise<void> {
    await fsp.unlink(path);
  }

  async rmdir(path: string): Promise<void> {
    await fsp.rmdir(path);
  }

  async syncDir(path: string): Promise<void> {
    const fd = await promisified<number>((cb) => fs.open(path, fs.constants.O_RDONLY, cb));
    try {
      await promisified<void>((cb) => fs.fsync(fd, (err) => cb(err, undefined)));
    } finally {
      fs.closeSync(fd);
    }
  }
}

export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
