import type { FileHandle, FileSystem, OpenMode, OpenOptions } from "@aerodb/base";

/**
 * Progress of a long offline operation (backup, restore, verify), in bytes. The library
 * only reports; the CLI decides whether to draw a bar (stderr is a TTY) or nothing. A
 * sink never influences the operation: its calls return nothing the caller uses, and a
 * throwing sink is ignored (see `guardProgress`).
 */
export interface ProgressSink {
  /** A phase starts ("verify", "extract", "archive", ...) with `totalBytes` to go. */
  start(phase: string, totalBytes: number): void;
  /** `bytes` more of the current phase are done. */
  advance(bytes: number): void;
  /** The operation ended (successfully or not); nothing more is reported. */
  stop(): void;
}

export const NO_PROGRESS: ProgressSink = {
  start: () => undefined,
  advance: () => undefined,
  stop: () => undefined,
};

/** Wraps a sink so that its failures cannot change the operation's result. */
export function guardProgress(sink: ProgressSink | undefined): ProgressSink {
  if (sink === undefined) return NO_PROGRESS;
  const safely =
    <A extends unknown[]>(fn: (...args: A) => void) =>
    (...args: A) => {
      try {
        fn(...args);
      } catch {
        // a progress display is never allowed to fail the work it displays
      }
    };
  return {
    start: safely((phase: string, total: number) => sink.start(phase, total)),
    advance: safely((bytes: number) => sink.advance(bytes)),
    stop: safely(() => sink.stop()),
  };
}

/**
 * A read-only pass-through file system that reports every byte read to a sink: verify
 * measures its progress by what it reads, whichever reader (WAL scan, snapshot check)
 * does the reading. Writes are not expected through it and are passed on unchanged.
 */
export class CountingFileSystem implements FileSystem {
  constructor(
    private readonly inner: FileSystem,
    private readonly onRead: (bytes: number) => void,
  ) {}

  async open(path: string, mode: OpenMode, options?: OpenOptions): Promise<FileHandle> {
    const handle = await this.inner.open(path, mode, options);
    const onRead = this.onRead;
    return {
      path: handle.path,
      read: async (b, o, l, p) => {
        const n = await handle.read(b, o, l, p);
        onRead(n);
        return n;
      },
      readSync: (b, o, l, p) => {
        const n = handle.readSync(b, o, l, p);
        onRead(n);
        return n;
      },
      write: (b, o, l, p) => handle.write(b, o, l, p),
      writeSync: (b, o, l, p) => handle.writeSync(b, o, l, p),
      sync: () => handle.sync(),
      truncate: (len) => handle.truncate(len),
      size: () => handle.size(),
      close: () => handle.close(),
    };
  }
  async readFile(path: string): Promise<Uint8Array> {
    const bytes = await this.inner.readFile(path);
    this.onRead(bytes.length);
    return bytes;
  }
  readdir(path: string) {
    return this.inner.readdir(path);
  }
  stat(path: string) {
    return this.inner.stat(path);
  }
  mkdir(path: string) {
    return this.inner.mkdir(path);
  }
  rename(from: string, to: string) {
    return this.inner.rename(from, to);
  }
  unlink(path: string) {
    return this.inner.unlink(path);
  }
  rmdir(path: string) {
    return this.inner.rmdir(path);
  }
  syncDir(path: string) {
    return this.inner.syncDir(path);
  }
}
