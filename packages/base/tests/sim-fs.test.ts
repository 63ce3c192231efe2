import { describe, expect, it } from "vitest";
import {
  CRASH_BOUNDARY_OPS,
  type FileHandle,
  isFsError,
  SimFileSystem,
  type SimOp,
  writeFully,
} from "../src/index.js";

// Live (no crash) semantics of the simulated file system: it must behave like a POSIX file
// system, or code tested on it will break on the real disk.

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

async function writeStr(h: FileHandle, s: string, pos: number): Promise<number> {
  const b = enc(s);
  return h.write(b, 0, b.length, pos);
}

async function readAll(h: FileHandle): Promise<Uint8Array> {
  const size = await h.size();
  const buf = new Uint8Array(size);
  const n = await h.read(buf, 0, size, 0);
  return buf.subarray(0, n);
}

async function newFile(fs: SimFileSystem, path: string, content: string): Promise<FileHandle> {
  const h = await fs.open(path, "wx");
  await writeFully(h, enc(content), 0);
  return h;
}

describe("SimFileSystem: open modes", () => {
  it("wx creates an empty file and refuses an existing one with EEXIST", async () => {
    const fs = new SimFileSystem();
    const h = await fs.open("/a", "wx");
    expect(await h.size()).toBe(0);
    expect(await fs.stat("/a")).toEqual({ size: 0, isFile: true, isDirectory: false });
    await expect(fs.open("/a", "wx")).rejects.toMatchObject({ code: "EEXIST" });
    await fs.mkdir("/d");
    await expect(fs.open("/d", "wx")).rejects.toMatchObject({ code: "EEXIST" });
  });

  it("r and r+ need an existing file (ENOENT) that is not a directory (EISDIR)", async () => {
    const fs = new SimFileSystem();
    await expect(fs.open("/missing", "r")).rejects.toMatchObject({ code: "ENOENT" });
    await expect(fs.open("/missing", "r+")).rejects.toMatchObject({ code: "ENOENT" });
    await fs.mkdir("/d");
    await expect(fs.open("/d", "r")).rejects.toMatchObject({ code: "EISDIR" });
    await expect(fs.open("/d", "r+")).rejects.toMatchObject({ code: "EISDIR" });
  });

  it("wx in a missing directory fails with ENOENT and creates nothing", async () => {
    const fs = new SimFileSystem();
    await expect(fs.open("/nope/a", "wx")).rejects.toMatchObject({ code: "ENOENT" });
    expect(await fs.readdir("/")).toEqual([]);
  });

  it("r+ sees and modifies the content written through another handle", async () => {
    const fs = new SimFileSystem();
    const w = await newFile(fs, "/a", "hello world");
    const rw = await fs.open("/a", "r+");
    expect(dec(await readAll(rw))).toBe("hello world");
    await writeStr(rw, "HELLO", 0);
    expect(dec(await readAll(w))).toBe("HELLO world");
    expect(dec(await fs.readFile("/a"))).toBe("HELLO world");
  });

  it("a read-only handle refuses writes (EBADF) and truncation (EINVAL), as Linux does", async () => {
    const fs = new SimFileSystem();
    await (await newFile(fs, "/a", "data")).close();
    const r = await fs.open("/a", "r");
    await expect(writeStr(r, "x", 0)).rejects.toMatchObject({ code: "EBADF" });
    await expect(r.truncate(0)).rejects.toMatchObject({ code: "EINVAL" });
    expect(dec(await fs.readFile("/a"))).toBe("data");
    expect(dec(await readAll(r))).toBe("data");
  });

  it("a closed handle refuses every operation with EBADF", async () => {
    const fs = new SimFileSystem();
    const h = await newFile(fs, "/a", "data");
    await h.close();
    const buf = new Uint8Array(4);
    await expect(h.read(buf, 0, 4, 0)).rejects.toMatchObject({ code: "EBADF" });
    expect(() => h.readSync(buf, 0, 4, 0)).toThrow(expect.objectContaining({ code: "EBADF" }));
    await expect(writeStr(h, "x", 0)).rejects.toMatchObject({ code: "EBADF" });
    await expect(h.sync()).rejects.toMatchObject({ code: "EBADF" });
    await expect(h.truncate(0)).rejects.toMatchObject({ code: "EBADF" });
    await expect(h.size()).rejects.toMatchObject({ code: "EBADF" });
  });
});

describe("SimFileSystem: reads and writes", () => {
  it("read and readSync return the bytes at a position into the buffer at an offset", async () => {
    const fs = new SimFileSystem();
    const h = await newFile(fs, "/a", "0123456789");
    const buf = new Uint8Array(8).fill(0xee);
    expect(await h.read(buf, 2, 4, 3)).toBe(4);
    expect([...buf]).toEqual([0xee, 0xee, ...enc("3456"), 0xee, 0xee]);
    const buf2 = new Uint8Array(3);
    expect(h.readSync(buf2, 0, 3, 7)).toBe(3);
    expect(dec(buf2)).toBe("789");
  });

  it("reads at or past end of file return 0, and reads across the end are short", async () => {
    const fs = new SimFileSystem();
    const h = await newFile(fs, "/a", "abc");
    const buf = new Uint8Array(10);
    expect(await h.read(buf, 0, 10, 1)).toBe(2);
    expect(dec(buf.subarray(0, 2))).toBe("bc");
    expect(await h.read(buf, 0, 10, 3)).toBe(0);
    expect(h.readSync(buf, 0, 10, 100)).toBe(0);
  });

  it("write honours the buffer offset and length", async () => {
    const fs = new SimFileSystem();
    const h = await fs.open("/a", "wx");
    const src = enc("xxABCDxx");
    expect(await h.write(src, 2, 4, 0)).toBe(4);
    expect(dec(await fs.readFile("/a"))).toBe("ABCD");
  });

  it("a write past end of file fills the gap with zeros", async () => {
    const fs = new SimFileSystem();
    const h = await newFile(fs, "/a", "ab");
    await writeStr(h, "z", 5);
    expect([...(await fs.readFile("/a"))]).toEqual([97, 98, 0, 0, 0, 122]);
    expect(await h.size()).toBe(6);
  });

  it("a zero-length write changes nothing, even past end of file", async () => {
    const fs = new SimFileSystem();
    const h = await newFile(fs, "/a", "ab");
    expect(await h.write(new Uint8Array(0), 0, 0, 100)).toBe(0);
    expect(await h.size()).toBe(2);
    expect(dec(await fs.readFile("/a"))).toBe("ab");
  });

  it("writeSync writes like write, synchronously, and refuses read-only handles", async () => {
    const fs = new SimFileSystem();
    const h = await fs.open("/a", "wx");
    expect(h.writeSync(enc("xxABCx"), 2, 3, 1)).toBe(3);
    expect([...(await fs.readFile("/a"))]).toEqual([0, ...enc("ABC")]);
    const r = await fs.open("/a", "r");
    expect(() => r.writeSync(enc("z"), 0, 1, 0)).toThrow(expect.objectContaining({ code: "EBADF" }));
    fs.injectFault({ op: "write", nth: 1, kind: "ENOSPC" });
    expect(() => h.writeSync(enc("z"), 0, 1, 0)).toThrow(expect.objectContaining({ code: "ENOSPC" }));
    fs.injectFault({ op: "write", nth: 1, kind: "short" });
    expect(h.writeSync(enc("12345678"), 0, 8, 0)).toBeLessThan(8);
  });

  it("readFile returns a copy that later writes do not change", async () => {
    const fs = new SimFileSystem();
    const h = await newFile(fs, "/a", "abc");
    const snapshot = await fs.readFile("/a");
    await writeStr(h, "XYZ", 0);
    expect(dec(snapshot)).toBe("abc");
    snapshot[0] = 0;
    expect(dec(await fs.readFile("/a"))).toBe("XYZ");
  });

  it("the caller's buffer can be reused after write returns", async () => {
    const fs = new SimFileSystem();
    const h = await fs.open("/a", "wx");
    const buf = enc("abc");
    await h.write(buf, 0, 3, 0);
    buf.fill(0);
    expect(dec(await fs.readFile("/a"))).toBe("abc");
  });
});

describe("SimFileSystem: truncate", () => {
  it("shrinks the file and drops the tail", async () => {
    const fs = new SimFileSystem();
    const h = await newFile(fs, "/a", "abcdef");
    await h.truncate(2);
    expect(await h.size()).toBe(2);
    expect(dec(await fs.readFile("/a"))).toBe("ab");
    expect((await fs.stat("/a"))?.size).toBe(2);
  });

  it("extends the file with zeros", async () => {
    const fs = new SimFileSystem();
    const h = await newFile(fs, "/a", "ab");
    await h.truncate(5);
    expect([...(await fs.readFile("/a"))]).toEqual([97, 98, 0, 0, 0]);
  });

  it("shrink then extend reads zeros, never the old bytes", async () => {
    const fs = new SimFileSystem();
    const h = await newFile(fs, "/a", "abcdef");
    await h.truncate(1);
    await h.truncate(6);
    expect([...(await fs.readFile("/a"))]).toEqual([97, 0, 0, 0, 0, 0]);
    await h.truncate(1);
    await writeStr(h, "z", 4);
    expect([...(await fs.readFile("/a"))]).toEqual([97, 0, 0, 0, 122]);
  });

  it("truncate to 0 empties the file", async () => {
    const fs = new SimFileSystem();
    const h = await newFile(fs, "/a", "abc");
    await h.truncate(0);
    expect((await fs.readFile("/a")).length).toBe(0);
  });
});

describe("SimFileSystem: directories", () => {
  it("readdir lists names sorted by UTF-16 code units", async () => {
    const fs = new SimFileSystem();
    const names = ["b", "B", "a", "_x", "Z", "é", "10", "9", "a.tmp", "😀", "\uffff"];
    for (const n of names) await fs.open(`/${n}`, "wx");
    await fs.mkdir("/dir");
    const expected = [...names, "dir"].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    expect(await fs.readdir("/")).toEqual(expected);
    expect(expected.slice(0, 4)).toEqual(["10", "9", "B", "Z"]);
    expect(await fs.readdir("/dir")).toEqual([]);
  });

  it("readdir fails with ENOENT for a missing path and ENOTDIR for a file", async () => {
    const fs = new SimFileSystem();
    await fs.open("/f", "wx");
    await expect(fs.readdir("/missing")).rejects.toMatchObject({ code: "ENOENT" });
    await expect(fs.readdir("/f")).rejects.toMatchObject({ code: "ENOTDIR" });
  });

  it("stat returns null for missing paths, sizes for files and isDirectory for directories", async () => {
    const fs = new SimFileSystem();
    expect(await fs.stat("/nothing")).toBeNull();
    expect(await fs.stat("/nothing/deeper")).toBeNull();
    await newFile(fs, "/f", "12345");
    await fs.mkdir("/d");
    expect(await fs.stat("/f")).toEqual({ size: 5, isFile: true, isDirectory: false });
    expect(await fs.stat("/d")).toMatchObject({ isFile: false, isDirectory: true });
    expect(await fs.stat("/")).toMatchObject({ isDirectory: true });
    expect(await fs.stat("/f/x")).toBeNull();
  });

  it("paths are normalized (relative, trailing slash, dot segments)", async () => {
    const fs = new SimFileSystem();
    await fs.mkdir("/d");
    await newFile(fs, "d/./x", "1");
    expect(await fs.readdir("/d/")).toEqual(["x"]);
    expect(dec(await fs.readFile("/d/../d/x"))).toBe("1");
  });

  it("mkdir fails with EEXIST on an existing name and ENOENT without a parent", async () => {
    const fs = new SimFileSystem();
    await fs.mkdir("/d");
    await expect(fs.mkdir("/d")).rejects.toMatchObject({ code: "EEXIST" });
    await fs.open("/f", "wx");
    await expect(fs.mkdir("/f")).rejects.toMatchObject({ code: "EEXIST" });
    await expect(fs.mkdir("/x/y")).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("rmdir removes empty directories only", async () => {
    const fs = new SimFileSystem();
    await fs.mkdir("/d");
    await fs.open("/d/f", "wx");
    await expect(fs.rmdir("/d")).rejects.toMatchObject({ code: "ENOTEMPTY" });
    await expect(fs.rmdir("/d/f")).rejects.toMatchObject({ code: "ENOTDIR" });
    await expect(fs.rmdir("/nope")).rejects.toMatchObject({ code: "ENOENT" });
    await fs.unlink("/d/f");
    await fs.rmdir("/d");
    expect(await fs.stat("/d")).toBeNull();
  });

  it("unlink removes files, refuses directories with EISDIR and missing names with ENOENT", async () => {
    const fs = new SimFileSystem();
    await fs.mkdir("/d");
    await fs.open("/f", "wx");
    await expect(fs.unlink("/d")).rejects.toMatchObject({ code: "EISDIR" });
    await expect(fs.unlink("/nope")).rejects.toMatchObject({ code: "ENOENT" });
    await fs.unlink("/f");
    expect(await fs.stat("/f")).toBeNull();
    await expect(fs.readFile("/f")).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("readFile of a directory fails with EISDIR", async () => {
    const fs = new SimFileSystem();
    await fs.mkdir("/d");
    await expect(fs.readFile("/d")).rejects.toMatchObject({ code: "EISDIR" });
  });

  it("syncDir of a missing path fails with ENOENT and of a file with ENOTDIR", async () => {
    const fs = new SimFileSystem();
    await fs.open("/f", "wx");
    await expect(fs.syncDir("/nope")).rejects.toMatchObject({ code: "ENOENT" });
    await expect(fs.syncDir("/f")).rejects.toMatchObject({ code: "ENOTDIR" });
  });
});

describe("SimFileSystem: rename", () => {
  it("moves a file to a new name", async () => {
    const fs = new SimFileSystem();
    await newFile(fs, "/a", "A");
    await fs.rename("/a", "/b");
    expect(await fs.stat("/a")).toBeNull();
    expect(dec(await fs.readFile("/b"))).toBe("A");
  });

  it("replaces an existing file atomically", async () => {
    const fs = new SimFileSystem();
    await newFile(fs, "/a", "new");
    await newFile(fs, "/b", "old content");
    await fs.rename("/a", "/b");
    expect(await fs.readdir("/")).toEqual(["b"]);
    expect(dec(await fs.readFile("/b"))).toBe("new");
  });

  it("moves a file between directories", async () => {
    const fs = new SimFileSystem();
    await fs.mkdir("/x");
    await fs.mkdir("/y");
    await newFile(fs, "/x/f", "F");
    await fs.rename("/x/f", "/y/g");
    expect(await fs.readdir("/x")).toEqual([]);
    expect(dec(await fs.readFile("/y/g"))).toBe("F");
  });

  it("renaming a directory carries its whole subtree", async () => {
    const fs = new SimFileSystem();
    await fs.mkdir("/d");
    await fs.mkdir("/d/sub");
    await newFile(fs, "/d/a", "A");
    await newFile(fs, "/d/sub/b", "B");
    await fs.rename("/d", "/e");
    expect(await fs.stat("/d")).toBeNull();
    expect(await fs.readdir("/e")).toEqual(["a", "sub"]);
    expect(dec(await fs.readFile("/e/a"))).toBe("A");
    expect(dec(await fs.readFile("/e/sub/b"))).toBe("B");
  });

  it("a directory may replace an empty directory but not a non-empty one", async () => {
    const fs = new SimFileSystem();
    await fs.mkdir("/src");
    await newFile(fs, "/src/f", "1");
    await fs.mkdir("/empty");
    await fs.mkdir("/full");
    await fs.open("/full/x", "wx");
    await expect(fs.rename("/src", "/full")).rejects.toMatchObject({ code: "ENOTEMPTY" });
    await fs.rename("/src", "/empty");
    expect(await fs.readdir("/empty")).toEqual(["f"]);
  });

  it("refuses file-over-directory (EISDIR), directory-over-file (ENOTDIR) and missing sources (ENOENT)", async () => {
    const fs = new SimFileSystem();
    await fs.mkdir("/d");
    await fs.open("/f", "wx");
    await expect(fs.rename("/f", "/d")).rejects.toMatchObject({ code: "EISDIR" });
    await expect(fs.rename("/d", "/f")).rejects.toMatchObject({ code: "ENOTDIR" });
    await expect(fs.rename("/nope", "/x")).rejects.toMatchObject({ code: "ENOENT" });
    await expect(fs.rename("/f", "/nodir/x")).rejects.toMatchObject({ code: "ENOENT" });
    expect(await fs.readdir("/")).toEqual(["d", "f"]);
  });

  it("an open handle follows its file through a rename", async () => {
    const fs = new SimFileSystem();
    const h = await newFile(fs, "/a", "one");
    await fs.rename("/a", "/b");
    await writeStr(h, "ONE", 0);
    expect(dec(await fs.readFile("/b"))).toBe("ONE");
  });
});

describe("SimFileSystem: unlinked inodes", () => {
  it("handles keep reading and writing a file after it is unlinked", async () => {
    const fs = new SimFileSystem();
    const h = await newFile(fs, "/a", "hello");
    await fs.unlink("/a");
    expect(await fs.stat("/a")).toBeNull();
    expect(dec(await readAll(h))).toBe("hello");
    await writeStr(h, " world", 5);
    await h.sync();
    expect(dec(await readAll(h))).toBe("hello world");
    expect(await h.size()).toBe(11);
  });

  it("a new file under the same name is a different file", async () => {
    const fs = new SimFileSystem();
    const old = await newFile(fs, "/a", "old");
    await fs.unlink("/a");
    await newFile(fs, "/a", "new!");
    await writeStr(old, "OLD", 0);
    expect(dec(await fs.readFile("/a"))).toBe("new!");
    expect(dec(await readAll(old))).toBe("OLD");
  });
});

describe("SimFileSystem: injected faults", () => {
  it("EIO on write throws a seam error with code EIO and writes nothing", async () => {
    const fs = new SimFileSystem();
    const h = await newFile(fs, "/a", "abc");
    fs.injectFault({ op: "write", nth: 1, kind: "EIO" });
    const err = await writeStr(h, "XYZ", 0).catch((e: unknown) => e);
    expect(isFsError(err, "EIO")).toBe(true);
    expect(dec(await fs.readFile("/a"))).toBe("abc");
    // Not sticky: the next write succeeds.
    await writeStr(h, "XYZ", 0);
    expect(dec(await fs.readFile("/a"))).toBe("XYZ");
  });

  it("ENOSPC on write throws with code ENOSPC", async () => {
    const fs = new SimFileSystem();
    const h = await fs.open("/a", "wx");
    fs.injectFault({ op: "write", nth: 1, kind: "ENOSPC" });
    await expect(writeStr(h, "abc", 0)).rejects.toMatchObject({ code: "ENOSPC" });
    expect(await h.size()).toBe(0);
  });

  it("EIO on sync, rename, syncDir, create and readFile throws with that code", async () => {
    const fs = new SimFileSystem();
    const h = await newFile(fs, "/a", "abc");
    fs.injectFault({ op: "sync", nth: 1, kind: "EIO" });
    await expect(h.sync()).rejects.toMatchObject({ code: "EIO" });
    fs.injectFault({ op: "rename", nth: 1, kind: "ENOSPC" });
    await expect(fs.rename("/a", "/b")).rejects.toMatchObject({ code: "ENOSPC" });
    expect(await fs.readdir("/")).toEqual(["a"]);
    fs.injectFault({ op: "syncDir", nth: 1, kind: "EIO" });
    await expect(fs.syncDir("/")).rejects.toMatchObject({ code: "EIO" });
    fs.injectFault({ op: "create", nth: 1, kind: "ENOSPC" });
    await expect(fs.open("/c", "wx")).rejects.toMatchObject({ code: "ENOSPC" });
    expect(await fs.stat("/c")).toBeNull();
    fs.injectFault({ op: "readFile", nth: 1, kind: "EIO" });
    await expect(fs.readFile("/a")).rejects.toMatchObject({ code: "EIO" });
    fs.injectFault({ op: "read", nth: 1, kind: "EIO" });
    expect(() => h.readSync(new Uint8Array(1), 0, 1, 0)).toThrow(expect.objectContaining({ code: "EIO" }));
  });

  it("fires on exactly the nth matching operation, then stops unless sticky", async () => {
    const fs = new SimFileSystem();
    const h = await fs.open("/a", "wx");
    fs.injectFault({ op: "write", nth: 3, kind: "EIO" });
    const outcomes: string[] = [];
    for (let i = 0; i < 6; i++) {
      outcomes.push(
        await writeStr(h, "x", i).then(
          () => "ok",
          (e: unknown) => (isFsError(e) ? e.code : "other"),
        ),
      );
    }
    expect(outcomes).toEqual(["ok", "ok", "EIO", "ok", "ok", "ok"]);
  });

  it("counts nth from the injection, not from the start", async () => {
    const fs = new SimFileSystem();
    const h = await fs.open("/a", "wx");
    for (let i = 0; i < 5; i++) await writeStr(h, "x", i);
    fs.injectFault({ op: "write", nth: 2, kind: "EIO" });
    await writeStr(h, "y", 0);
    await expect(writeStr(h, "y", 1)).rejects.toMatchObject({ code: "EIO" });
  });

  it("a sticky fault keeps failing every later matching operation", async () => {
    const fs = new SimFileSystem();
    const h = await fs.open("/a", "wx");
    fs.injectFault({ op: "sync", nth: 2, kind: "EIO", sticky: true });
    await h.sync();
    for (let i = 0; i < 4; i++) await expect(h.sync()).rejects.toMatchObject({ code: "EIO" });
    fs.clearFaults();
    await h.sync();
  });

  it("pathIncludes restricts which operations match and are counted", async () => {
    const fs = new SimFileSystem();
    const wal = await fs.open("/wal-1", "wx");
    const other = await fs.open("/data", "wx");
    fs.injectFault({ op: "write", nth: 2, kind: "EIO", pathIncludes: "wal" });
    await writeStr(wal, "a", 0);
    for (let i = 0; i < 3; i++) await writeStr(other, "b", i);
    await expect(writeStr(wal, "a", 1)).rejects.toMatchObject({ code: "EIO" });
  });

  it("rules on the same operation are counted independently", async () => {
    const fs = new SimFileSystem();
    const h = await fs.open("/a", "wx");
    fs.injectFault({ op: "write", nth: 1, kind: "ENOSPC" });
    fs.injectFault({ op: "write", nth: 2, kind: "EIO" });
    await expect(writeStr(h, "x", 0)).rejects.toMatchObject({ code: "ENOSPC" });
    await expect(writeStr(h, "x", 0)).rejects.toMatchObject({ code: "EIO" });
    await writeStr(h, "x", 0);
  });

  it("faults on other operations do not fire on writes", async () => {
    const fs = new SimFileSystem();
    const h = await fs.open("/a", "wx");
    fs.injectFault({ op: "sync", nth: 1, kind: "EIO" });
    await writeStr(h, "abc", 0);
    await expect(h.sync()).rejects.toMatchObject({ code: "EIO" });
  });

  it("a short write writes and reports fewer bytes, at least one", async () => {
    const fs = new SimFileSystem();
    const h = await fs.open("/a", "wx");
    fs.injectFault({ op: "write", nth: 1, kind: "short" });
    const n = await writeStr(h, "abcdefgh", 0);
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(8);
    expect(dec(await fs.readFile("/a"))).toBe("abcdefgh".slice(0, n));
  });

  it("a short write never reports more bytes than asked", async () => {
    const fs = new SimFileSystem();
    const h = await fs.open("/a", "wx");
    fs.injectFault({ op: "write", nth: 1, kind: "short", sticky: true });
    expect(await h.write(new Uint8Array(0), 0, 0, 0)).toBe(0);
    expect(await h.write(new Uint8Array([7]), 0, 1, 0)).toBe(1);
  });

  it("writeFully completes through sticky short writes", async () => {
    const fs = new SimFileSystem();
    const h = await fs.open("/a", "wx");
    fs.injectFault({ op: "write", nth: 1, kind: "short", sticky: true });
    const data = new Uint8Array(1000).map((_, i) => i % 251);
    await writeFully(h, data, 10);
    const content = await fs.readFile("/a");
    expect(content.length).toBe(1010);
    expect([...content.subarray(10)]).toEqual([...data]);
    expect(fs.opCount("write")).toBeGreaterThan(5);
  });
});

describe("SimFileSystem: operation counters", () => {
  it("counts operations by kind and boundary operations overall", async () => {
    const fs = new SimFileSystem();
    const h = await fs.open("/a", "wx"); // create (boundary)
    await writeStr(h, "x", 0); // write (boundary)
    await h.sync(); // sync (boundary)
    await fs.stat("/a"); // stat
    await fs.readFile("/a"); // readFile
    await fs.readdir("/"); // readdir
    await fs.syncDir("/"); // syncDir (boundary)
    expect(fs.opCount("create")).toBe(1);
    expect(fs.opCount("write")).toBe(1);
    expect(fs.opCount("stat")).toBe(1);
    expect(fs.opCount("rename")).toBe(0);
    expect(fs.boundaryOpCount).toBe(4);
    const boundary: SimOp[] = [
      "create",
      "write",
      "sync",
      "truncate",
      "rename",
      "unlink",
      "mkdir",
      "rmdir",
      "syncDir",
    ];
    const nonBoundary: SimOp[] = ["open", "read", "readFile", "readdir", "stat"];
    for (const op of boundary) expect(CRASH_BOUNDARY_OPS.has(op)).toBe(true);
    for (const op of nonBoundary) expect(CRASH_BOUNDARY_OPS.has(op)).toBe(false);
  });
});
