import {
  DelegatingFileSystem,
  delegatingHandle,
  type FileHandle,
  type FileSystem,
  type OpenMode,
  type OpenOptions,
} from "@aerodb/base";

// The sink and its guard live in @aerodb/base (recovery in core reports through them too);
// re-exported here, where backup, restore and verify have always imported them from.
export { guardProgress, NO_PROGRESS, type ProgressSink } from "@aerodb/base";

/**
 * A read-only pass-through file system that reports every byte read to a sink: verify
 * measures its progress by what it reads, whichever reader (WAL scan, snapshot check)
 * does the reading. Writes are not expected through it and are passed on unchanged.
 */
export class CountingFileSystem extends DelegatingFileSystem {
  constructor(
    inner: FileSystem,
    private readonly onRead: (bytes: number) => void,
  ) {
    super(inner);
  }

  override async open(path: string, mode: OpenMode, options?: OpenOptions): Promise<FileHandle> {
    const handle = await this.inner.open(path, mode, options);
    const onRead = this.onRead;
    return delegatingHandle(handle, {
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
    });
  }
  override async readFile(path: string): Promise<Uint8Array> {
    const bytes = await this.inner.readFile(path);
    this.onRead(bytes.length);
    return bytes;
  }
}
