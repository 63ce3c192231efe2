import * as nodeFs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { compareCodeUnits, isFsError, NodeFileSystem, writeFully, writeFullySync } from "../src/index.js";

// The real file system behind the seam, in a private temp directory.

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

let dir: string;
const fs = new NodeFileSystem();
const p = (name: string): string => path.join(dir, name);

beforeEach(() => {
  dir = nodeFs.mkdtempSync(path.join(os.tmpdir(), "aerodb-base-nodefs-"));
});

afterEach(() => {
  nodeFs.rmSync(dir, { recursive: true, force: true });
});

describe("NodeFileSystem: open modes", () => {
  it("wx creates a new empty file and is exclusive (EEXIST)", async () => {
    const h = await fs.open(p("a"), "wx");
    expect(await h.size()).toBe(0);
    await h.close();
    expect(nodeFs.existsSync(p("a"))).toBe(true);
    const err = await fs.open(p("a"), "wx").catch((e: unknown) => e);
    expect(isFsError(err, "EEXIST")).toBe(true);
  });

  it("r and r+ fail with ENOENT on a missing file and create nothing", async () => {
    await expect(fs.open(p("missing"), "r")).rejects.toMatchObject({ code: "ENOENT" });
    await expect(fs.open(p("missing"), "r+")).rejects.toMatchObject({ code: "ENOENT" });
    expect(nodeFs.readdirSync(dir)).toEqual([]);
  });

  it("r+ reads and overwrites in place without truncating", async () => {
    nodeFs.writeFileSync(p("a"), "hello world");
    const h = await fs.open(p("a"), "r+");
    await writeFully(h, enc("HELLO"), 0);
    await h.close();
    expect(nodeFs.readFileSync(p("a"), "utf8")).toBe("HELLO world");
  });

  it("an r handle reads but refuses writes", async () => {
    nodeFs.writeFileSync(p("a"), "data");
    const h = await fs.open(p("a"), "r");
    const buf = new Uint8Array(4);
    expect(await h.read(buf, 0, 4, 0)).toBe(4);
    expect(dec(buf)).toBe("data");
    await expect(h.write(enc("x"), 0, 1, 0)).rejects.toMatchObject({ code: "EBADF" });
    expect(() => h.writeSync(enc("x"), 0, 1, 0)).toThrow(expect.objectContaining({ code: "EBADF" }));
    await h.close();
    expect(nodeFs.readFileSync(p("a"), "utf8")).toBe("data");
  });

  it("a dsync handle writes through and can be read back", async () => {
    const h = await fs.open(p("a"), "wx", { dsync: true });
    await writeFully(h, enc("durable"), 0);
    await writeFully(h, enc("!"), 7);
    await h.close();
    expect(nodeFs.readFileSync(p("a"), "utf8")).toBe("durable!");
  });
});

describe("NodeFileSystem: handles", () => {
  it("write honours buffer offset, length and file position, and sync/size work", async () => {
    const h = await fs.open(p("a"), "wx");
    const src = enc("__abc__");
    expect(await h.write(src, 2, 3, 4)).toBe(3);
    await h.sync();
    expect(await h.size()).toBe(7);
    await h.close();
    expect([...nodeFs.readFileSync(p("a"))]).toEqual([0, 0, 0, 0, 97, 98, 99]);
  });

  it("writeSync and writeFullySync write at a position", async () => {
    const h = await fs.open(p("a"), "wx");
    expect(h.writeSync(enc("xyz"), 1, 2, 0)).toBe(2);
    writeFullySync(h, enc("-tail"), 2);
    await h.sync();
    await h.close();
    expect(nodeFs.readFileSync(p("a"), "utf8")).toBe("yz-tail");
  });

  it("read and readSync read at a position into a buffer offset; reads past EOF return 0", async () => {
    nodeFs.writeFileSync(p("a"), "0123456789");
    const h = await fs.open(p("a"), "r");
    const buf = new Uint8Array(6).fill(0xff);
    expect(await h.read(buf, 1, 3, 5)).toBe(3);
    expect([...buf]).toEqual([0xff, ...enc("567"), 0xff, 0xff]);
    const buf2 = new Uint8Array(5);
    expect(h.readSync(buf2, 0, 5, 8)).toBe(2);
    expect(dec(buf2.subarray(0, 2))).toBe("89");
    expect(h.readSync(buf2, 0, 5, 10)).toBe(0);
    expect(await h.read(buf2, 0, 5, 100)).toBe(0);
    await h.close();
  });

  it("truncate shrinks and extends with zeros", async () => {
    nodeFs.writeFileSync(p("a"), "abcdef");
    const h = await fs.open(p("a"), "r+");
    await h.truncate(2);
    expect(await h.size()).toBe(2);
    await h.truncate(4);
    await h.close();
    expect([...nodeFs.readFileSync(p("a"))]).toEqual([97, 98, 0, 0]);
  });

  it("a handle keeps working on an unlinked file", async () => {
    const h = await fs.open(p("a"), "wx");
    await writeFully(h, enc("abc"), 0);
    await fs.unlink(p("a"));
    expect(await fs.stat(p("a"))).toBeNull();
    await writeFully(h, enc("d"), 3);
    const buf = new Uint8Array(4);
    expect(await h.read(buf, 0, 4, 0)).toBe(4);
    expect(dec(buf)).toBe("abcd");
    await h.close();
  });

  it("a closed handle fails with EBADF", async () => {
    const h = await fs.open(p("a"), "wx");
    await h.close();
    await expect(h.sync()).rejects.toMatchObject({ code: "EBADF" });
  });
});

describe("NodeFileSystem: paths and directories", () => {
  it("readFile returns the bytes, or ENOENT", async () => {
    nodeFs.writeFileSync(p("a"), Buffer.from([0, 1, 255]));
    expect([...(await fs.readFile(p("a")))]).toEqual([0, 1, 255]);
    await expect(fs.readFile(p("missing"))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("readFile returns every byte of empty, small and large (17 MiB) files, each in a buffer of its own", async () => {
    const big = Buffer.alloc(17 * 1024 * 1024 + 123);
    for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE(i, i);
    big[big.length - 1] = 0xab;
    nodeFs.writeFileSync(p("big"), big);
    nodeFs.writeFileSync(p("empty"), "");
    nodeFs.writeFileSync(p("small"), "tiny");
    const read = await fs.readFile(p("big"));
    expect(read.length).toBe(big.length);
    expect(Buffer.compare(Buffer.from(read.buffer, read.byteOffset, read.length), big)).toBe(0);
    expect((await fs.readFile(p("empty"))).length).toBe(0);
    const small = await fs.readFile(p("small"));
    expect(dec(small)).toBe("tiny");
    // Callers view `.buffer`: it must hold this file's bytes only, not a shared pool's.
    expect([small.byteOffset, small.buffer.byteLength]).toEqual([0, 4]);
    await expect(fs.readFile(dir)).rejects.toMatchObject({ code: "EISDIR" });
  });

  it("readdir returns names sorted by UTF-16 code units", async () => {
    const names = ["b", "B", "a", "_x", "Z", "é", "10", "9", "a.tmp", "😀"];
    for (const n of names) nodeFs.writeFileSync(p(n), "");
    nodeFs.mkdirSync(p("sub"));
    const expected = [...names, "sub"].sort(compareCodeUnits);
    expect(await fs.readdir(dir)).toEqual(expected);
    expect(expected.slice(0, 4)).toEqual(["10", "9", "B", "Z"]);
    await expect(fs.readdir(p("missing"))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("compareCodeUnits orders by UTF-16 code units, not by locale", () => {
    expect(["b", "a", "B", "é", "e"].sort(compareCodeUnits)).toEqual(["B", "a", "b", "e", "é"]);
    // U+FFFF sorts after a surrogate pair in code-unit order (0xFFFF > 0xD83D).
    expect(["\uffff", "😀"].sort(compareCodeUnits)).toEqual(["😀", "\uffff"]);
    expect(compareCodeUnits("x", "x")).toBe(0);
  });

  it("stat returns null for missing paths and kind and size otherwise", async () => {
    expect(await fs.stat(p("missing"))).toBeNull();
    nodeFs.writeFileSync(p("f"), "12345");
    nodeFs.mkdirSync(p("d"));
    expect(await fs.stat(p("f"))).toEqual({ size: 5, isFile: true, isDirectory: false });
    expect(await fs.stat(p("d"))).toMatchObject({ isFile: false, isDirectory: true });
  });

  it("stat reports errors other than ENOENT", async () => {
    nodeFs.writeFileSync(p("f"), "x");
    await expect(fs.stat(p("f/child"))).rejects.toMatchObject({ code: "ENOTDIR" });
  });

  it("mkdir, rmdir and their errors", async () => {
    await fs.mkdir(p("d"));
    expect(nodeFs.statSync(p("d")).isDirectory()).toBe(true);
    await expect(fs.mkdir(p("d"))).rejects.toMatchObject({ code: "EEXIST" });
    await expect(fs.mkdir(p("x/y"))).rejects.toMatchObject({ code: "ENOENT" });
    nodeFs.writeFileSync(p("d/f"), "");
    await expect(fs.rmdir(p("d"))).rejects.toMatchObject({ code: "ENOTEMPTY" });
    await fs.unlink(p("d/f"));
    await fs.rmdir(p("d"));
    expect(nodeFs.existsSync(p("d"))).toBe(false);
  });

  it("rename moves and replaces files; unlink removes them", async () => {
    nodeFs.writeFileSync(p("a"), "new");
    nodeFs.writeFileSync(p("b"), "old");
    await fs.rename(p("a"), p("b"));
    expect(nodeFs.readdirSync(dir)).toEqual(["b"]);
    expect(nodeFs.readFileSync(p("b"), "utf8")).toBe("new");
    await expect(fs.rename(p("a"), p("c"))).rejects.toMatchObject({ code: "ENOENT" });
    await fs.unlink(p("b"));
    expect(nodeFs.readdirSync(dir)).toEqual([]);
    await expect(fs.unlink(p("b"))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("renaming a directory carries its contents", async () => {
    nodeFs.mkdirSync(p("d"));
    nodeFs.writeFileSync(p("d/f"), "F");
    await fs.rename(p("d"), p("e"));
    expect(nodeFs.readFileSync(p("e/f"), "utf8")).toBe("F");
    expect(nodeFs.existsSync(p("d"))).toBe(false);
  });

  it("syncDir fsyncs a directory and reports a missing one", async () => {
    nodeFs.writeFileSync(p("f"), "x");
    await fs.syncDir(dir);
    await expect(fs.syncDir(p("missing"))).rejects.toMatchObject({ code: "ENOENT" });
  });
});
