/**
 * The file-system seam. Every persistent byte AeroDB writes or reads goes through this
 * interface, so that tests can swap the real disk for the simulated one (sim-fs.ts) and
 * decide, seeded and replayable, what survives a crash.
 *
 * Durability contract (what the simulated FS enforces and the real one provides):
 * - bytes written through a handle are durable only after `sync()` on that handle returns,
 *   or, for a handle opened with `dsync: true`, when `write()` returns;
 * - a directory entry (create, rename, unlink) is durable only after `syncDir()` on its
 *   directory returns.
 */
export type OpenMode =
  /** read only; the file must exist */
  | "r"
  /** read and write; the file must exist */
  | "r+"
  /** read and write; the file must not exist (exclusive create) */
  | "wx";

export interface OpenOptions {
  /** Every write is durable when it returns (O_DSYNC): one system call per durable write. */
  readonly dsync?: boolean;
}

export interface FileStat {
  readonly size: number;
  readonly isFile: boolean;
  readonly isDirectory: boolean;
}

export interface FileHandle {
  readonly path: string;
  /** Reads up to `length` bytes at `position` into `buffer` at `offset`; returns the count read. */
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  /** Synchronous read for hot read paths that must not pay a thread-pool hop. */
  readSync(buffer: Uint8Array, offset: number, length: number, position: number): number;
  /** Writes at `position`; may write fewer bytes than asked (returns the count written). */
  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  /**
   * Synchronous write into the page cache: no thread-pool hop. The commit path writes
   * frames this way and awaits only the fsync, so the event loop never blocks on the disk.
   */
  writeSync(buffer: Uint8Array, offset: number, length: number, position: number): number;
  /** fdatasync: everything written through this file is durable when it resolves. */
  sync(): Promise<void>;
  truncate(length: number): Promise<void>;
  size(): Promise<number>;
  close(): Promise<void>;
}

export interface FileSystem {
  open(path: string, mode: OpenMode, options?: OpenOptions): Promise<FileHandle>;
  readFile(path: string): Promise<Uint8Array>;
  /** Sorted names (UTF-16 code unit order) in a directory. */
  readdir(path: string): Promise<string[]>;
  stat(path: string): Promise<FileStat | null>;
  mkdir(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  rmdir(path: string): Promise<void>;
  /** fsync of a directory: its entries (creates, renames, unlinks) become durable. */
  syncDir(path: string): Promise<void>;
}

/** Errors from the seam carry a POSIX-style code (ENOENT, EEXIST, EIO, ENOSPC, ...). */
export interface FsError extends Error {
  code: string;
}

export function isFsError(value: unknown, code?: string): value is FsError {
  return (
    value instanceof Error &&
    typeof (value as { code?: unknown }).code === "string" &&
    (code === undefined || (value as unknown as { code: string }).code === code)
  );
}
