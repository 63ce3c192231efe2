import * as posixPath from "node:path/posix";
import type { FileSystem } from "./types.js";
import { isFsError } from "./types.js";

/** Synchronous form of writeFully, for the commit path (page-cache writes, no hop). */
export function writeFullySync(
  handle: { writeSync(b: Uint8Array, o: number, l: number, p: number): number },
  bytes: Uint8Array,
  position: number,
): void {
  let done = 0;
  while (done < bytes.length) {
    const n = handle.writeSync(bytes, done, bytes.length - done, position + done);
    if (n <= 0) throw Object.assign(new Error("write made no progress"), { code: "EIO" });
    done += n;
  }
}

/** Writes all of `bytes` at `position`, continuing after short writes. */
export async function writeFully(
  handle: { write(b: Uint8Array, o: number, l: number, p: number): Promise<number> },
  bytes: Uint8Array,
  position: number,
): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const n = await handle.write(bytes, done, bytes.length - done, position + done);
    if (n <= 0) throw Object.assign(new Error("write made no progress"), { code: "EIO" });
    done += n;
  }
}

/**
 * Creates a new file (exclusive: EEXIST if it is there) and fsyncs its content. Making its
 * directory entry durable is the caller's: one directory fsync after many files. A failed write
 * or fsync is the error reported, not a failure to close after it.
 */
export async function writeNewFileSynced(fs: FileSystem, path: string, bytes: Uint8Array): Promise<void> {
  const handle = await fs.open(path, "wx");
  try {
    await writeFully(handle, bytes, 0);
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw err;
  }
  await handle.close();
}

/**
 * Replaces `path` atomically and durably: write a temp file, fsync it, rename it over the
 * target, fsync the directory. After a crash the reader sees the old file or the new one.
 */
export async function writeFileAtomic(fs: FileSystem, path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp`;
  if (await fs.stat(tmp)) await fs.unlink(tmp);
  await writeNewFileSynced(fs, tmp, bytes);
  await fs.rename(tmp, path);
  await fs.syncDir(posixPath.dirname(path));
}

/** Creates a new file durably (exclusive), fsyncing its content and its directory entry. */
export async function writeFileExclusive(fs: FileSystem, path: string, bytes: Uint8Array): Promise<void> {
  await writeNewFileSynced(fs, path, bytes);
  await fs.syncDir(posixPath.dirname(path));
}

export async function readFileIfExists(fs: FileSystem, path: string): Promise<Uint8Array | null> {
  try {
    return await fs.readFile(path);
  } catch (err) {
    if (isFsError(err, "ENOENT")) return null;
    throw err;
  }
}

/** mkdir that tolerates an existing directory; the parent's entry is made durable. */
export async function ensureDir(fs: FileSystem, path: string): Promise<void> {
  const st = await fs.stat(path);
  if (st?.isDirectory) return;
  try {
    await fs.mkdir(path);
  } catch (err) {
    // Made by someone else since the stat (two inits of one directory, say): it is there, which
    // is all this promises; its entry is made durable below all the same.
    if (!isFsError(err, "EEXIST") || !(await fs.stat(path))?.isDirectory) throw err;
  }
  await fs.syncDir(posixPath.dirname(path));
}

/** Removes a directory tree (files first, deepest first). */
export async function removeTree(fs: FileSystem, path: string): Promise<void> {
  const st = await fs.stat(path);
  if (!st) return;
  if (st.isFile) {
    await fs.unlink(path);
    return;
  }
  for (const name of await fs.readdir(path)) await removeTree(fs, posixPath.join(path, name));
  await fs.rmdir(path);
}
