import * as posixPath from "node:path/posix";
import {
  compareCodeUnits,
  type FileHandle,
  type FileStat,
  type FileSystem,
  type FsError,
} from "@aerodb/base";

/** Where an entry's content lies inside the archive file. */
export interface ArchivedFile {
  /** Relative path inside the archive, e.g. `snapshot/versions`. */
  readonly path: string;
  readonly size: number;
  /** Offset of the first content byte in the archive. */
  readonly offset: number;
}

function fsError(code: string, op: string, path: string): FsError {
  const err = new Error(`${code}: ${op} '${path}'`) as FsError;
  err.code = code;
  return err;
}

/**
 * A read-only file system over a verified archive: `/<entry path>` reads the entry's bytes
 * straight from the archive file (tar keeps content contiguous). Verification of a backup
 * runs the snapshot's own checks on this view, so nothing is extracted and nothing is held
 * in memory beyond what the checks read. Every mutating call fails with EROFS.
 */
export class ArchiveFileSystem implements FileSystem {
  private readonly files = new Map<string, ArchivedFile>();
  private readonly dirs = new Map<string, Set<string>>();

  constructor(
    private readonly archive: Pick<FileHandle, "read" | "readSync">,
    entries: readonly ArchivedFile[],
  ) {
    this.dirs.set("/", new Set());
    for (const entry of entries) {
      const abs = `/${entry.path}`;
      this.files.set(abs, entry);
      let child = abs;
      for (let dir = posixPath.dirname(abs); ; dir = posixPath.dirname(dir)) {
        let names = this.dirs.get(dir);
        if (!names) {
          names = new Set();
          this.dirs.set(dir, names);
        }
        names.add(posixPath.basename(child));
        if (dir === "/") break;
        child = dir;
      }
    }
  }

  private norm(path: string): string {
    return posixPath.resolve("/", path);
  }

  async open(path: string, mode: string): Promise<FileHandle> {
    if (mode !== "r") throw fsError("EROFS", "open", path);
    const file = this.files.get(this.norm(path));
    if (!file) throw fsError(this.dirs.has(this.norm(path)) ? "EISDIR" : "ENOENT", "open", path);
    const archive = this.archive;
    const clamp = (length: number, position: number) => Math.max(0, Math.min(length, file.size - position));
    return {
      path,
      read: (b, o, l, p) => {
        const n = clamp(l, p);
        return n === 0 ? Promise.resolve(0) : archive.read(b, o, n, file.offset + p);
      },
      readSync: (b, o, l, p) => {
        const n = clamp(l, p);
        return n === 0 ? 0 : archive.readSync(b, o, n, file.offset + p);
      },
      write: () => Promise.reject(fsError("EROFS", "write", path)),
      writeSync: () => {
        throw fsError("EROFS", "write", path);
      },
      sync: () => Promise.resolve(),
      truncate: () => Promise.reject(fsError("EROFS", "truncate", path)),
      size: () => Promise.resolve(file.size),
      close: () => Promise.resolve(),
    };
  }

  async readFile(path: string): Promise<Uint8Array> {
    const file = this.files.get(this.norm(path));
    if (!file) throw fsError(this.dirs.has(this.norm(path)) ? "EISDIR" : "ENOENT", "read", path);
    const out = new Uint8Array(file.size);
    let done = 0;
    while (done < file.size) {
      const n = await this.archive.read(out, done, file.size - done, file.offset + done);
      if (n <= 0) throw fsError("EIO", "read", path);
      done += n;
    }
    return out;
  }

  async readdir(path: string): Promise<string[]> {
    const names = this.dirs.get(this.norm(path));
    if (!names) throw fsError(this.files.has(this.norm(path)) ? "ENOTDIR" : "ENOENT", "readdir", path);
    return [...names].sort(compareCodeUnits);
  }

  async stat(path: string): Promise<FileStat | null> {
    const norm = this.norm(path);
    const file = this.files.get(norm);
    if (file) return { size: file.size, isFile: true, isDirectory: false };
    if (this.dirs.has(norm)) return { size: 0, isFile: false, isDirectory: true };
    return null;
  }

  async mkdir(path: string): Promise<void> {
    throw fsError("EROFS", "mkdir", path);
  }
  async rename(from: string): Promise<void> {
    throw fsError("EROFS", "rename", from);
  }
  async unlink(path: string): Promise<void> {
    throw fsError("EROFS", "unlink", path);
  }
  async rmdir(path: string): Promise<void> {
    throw fsError("EROFS", "rmdir", path);
  }
  async syncDir(path: string): Promise<void> {
    throw fsError("EROFS", "fsync", path);
  }
}
