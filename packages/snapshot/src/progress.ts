import type { FileHandle, FileSystem, OpenMode, OpenOptions } from "@aerodb/base";

// The sink and its guard live in @aerodb/base (recovery in core reports through them too);
// re-exported here, where backup, restore and verify have always imported them from.
export { guardProgress, NO_PROGRESS, type ProgressSink } from "@aerodb/base";

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
