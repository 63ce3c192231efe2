import type { FileHandle, FileStat, FileSystem, OpenMode, OpenOptions } from "./types.js";

/**
 * A FileSystem that forwards every call to `inner`. The wrappers that observe a file system
 * (crash points, verify's byte counter, test hooks) extend it and override only the calls
 * they watch, so that a method added to the seam is forwarded by all of them at once.
 */
export class DelegatingFileSystem implements FileSystem {
  constructor(protected readonly inner: FileSystem) {}

  open(path: string, mode: OpenMode, options?: OpenOptions): Promise<FileHandle> {
    return this.inner.open(path, mode, options);
  }
  readFile(path: string): Promise<Uint8Array> {
    return this.inner.readFile(path);
  }
  readdir(path: string): Promise<string[]> {
    return this.inner.readdir(path);
  }
  stat(path: string): Promise<FileStat | null> {
    return this.inner.stat(path);
  }
  mkdir(path: string): Promise<void> {
    return this.inner.mkdir(path);
  }
  rename(from: string, to: string): Promise<void> {
    return this.inner.rename(from, to);
  }
  unlink(path: string): Promise<void> {
    return this.inner.unlink(path);
  }
  rmdir(path: string): Promise<void> {
    return this.inner.rmdir(path);
  }
  syncDir(path: string): Promise<void> {
    return this.inner.syncDir(path);
  }
}

/** A handle forwarding every call to `handle`, except the ones `overrides` replaces. */
export function delegatingHandle(
  handle: FileHandle,
  overrides: Partial<Omit<FileHandle, "path">>,
): FileHandle {
  return {
    path: handle.path,
    read: (b, o, l, p) => handle.read(b, o, l, p),
    readSync: (b, o, l, p) => handle.readSync(b, o, l, p),
    write: (b, o, l, p) => handle.write(b, o, l, p),
    writeSync: (b, o, l, p) => handle.writeSync(b, o, l, p),
    sync: () => handle.sync(),
    truncate: (length) => handle.truncate(length),
    size: () => handle.size(),
    close: () => handle.close(),
    ...overrides,
  };
}
