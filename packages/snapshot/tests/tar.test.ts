// The ustar writer and the strict reader (issue 4 item 1; core.md §11): deterministic
// headers that GNU tar reads, exact round trips, and every header or structure defect
// refused with its own reason.
import { execFileSync } from "node:child_process";
import * as nodeFs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { SimFileSystem } from "@aerodb/base";
import { afterAll, describe, expect, it } from "vitest";
import { ArchiveDefect, TarReader } from "../src/tar/tar-reader.js";
import { TarWriter } from "../src/tar/tar-writer.js";
import { BLOCK, decodeHeader, encodeHeader, HeaderError, type TarEntry } from "../src/tar/ustar.js";
import { concat, END, padded, type RawHeader, rawHeader } from "./support/tar-craft.js";

const hasGnuTar = (() => {
  try {
    return execFileSync("tar", ["--version"], { encoding: "utf8" }).includes("GNU tar");
  } catch {
    return false;
  }
})();

const tempRoots: string[] = [];
afterAll(() => {
  for (const dir of tempRoots) nodeFs.rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = nodeFs.mkdtempSync(path.join(os.tmpdir(), "aerodb-tar-"));
  tempRoots.push(dir);
  return dir;
}

interface Item {
  readonly path: string;
  readonly type: "file" | "dir";
  readonly bytes?: Uint8Array;
}

async function writeArchive(items: readonly Item[]): Promise<Uint8Array> {
  const fs = new SimFileSystem();
  const handle = await fs.open("/a.tar", "wx");
  const writer = new TarWriter(handle);
  for (const item of items) {
    if (item.type === "dir") await writer.addDir(item.path);
    else await writer.addFile(item.path, item.bytes ?? new Uint8Array(0));
  }
  const size = await writer.finish();
  await handle.close();
  const bytes = await fs.readFile("/a.tar");
  expect(bytes.length).toBe(size);
  return bytes;
}

async function readAll(bytes: Uint8Array): Promise<Array<{ entry: TarEntry; content: Buffer }>> {
  const fs = new SimFileSystem();
  const h = await fs.open("/a.tar", "wx");
  if (bytes.length > 0) await h.write(bytes, 0, bytes.length, 0);
  const reader = new TarReader(h, bytes.length);
  const out: Array<{ entry: TarEntry; content: Buffer }> = [];
  for (;;) {
    const entry = await reader.next();
    if (entry === "end") break;
    const chunks: Buffer[] = [];
    await reader.content(entry, (c) => {
      chunks.push(Buffer.from(c));
    });
    out.push({ entry, content: Buffer.concat(chunks) });
  }
  reader.expectEnd();
  return out;
}

async function defectOf(bytes: Uint8Array): Promise<string> {
  try {
    await readAll(bytes);
    return "none";
  } catch (err) {
    if (err instanceof ArchiveDefect) return err.reason;
    throw err;
  }
}

function headerDefect(fields: RawHeader): string {
  try {
    decodeHeader(rawHeader(fields));
    return "none";
  } catch (err) {
    if (err instanceof HeaderError) return err.reason;
    throw err;
  }
}

const text = (s: string) => new TextEncoder().encode(s);
const SAMPLE: Item[] = [
  { path: "backup_manifest.json", type: "file", bytes: text('{"a":1}\n') },
  { path: "MANIFEST", type: "file", bytes: new Uint8Array(0) },
  { path: "snapshot", type: "dir" },
  { path: "snapshot/exact", type: "file", bytes: new Uint8Array(512).fill(7) },
  { path: "snapshot/schemas", type: "dir" },
  { path: "snapshot/schemas/users", type: "dir" },
  { path: "snapshot/schemas/users/v1.json", type: "file", bytes: text("x".repeat(513)) },
  { path: "snapshot/versions", type: "file", bytes: Uint8Array.from({ length: 3000 }, (_, i) => i & 0xff) },
];

describe("ustar headers", () => {
  it("encode -> decode is the identity for files and directories, with and without a prefix", () => {
    const long = `${"d".repeat(60)}/${"e".repeat(60)}/${"f".repeat(90)}`;
    const entries: TarEntry[] = [
      { path: "a", type: "file", size: 0 },
      { path: "a/b.json", type: "file", size: 511 },
      { path: "snapshot/versions", type: "file", size: 0o77777777777 },
      { path: "snapshot", type: "dir", size: 0 },
      { path: long, type: "file", size: 5 },
      { path: long, type: "dir", size: 0 },
    ];
    for (const entry of entries) {
      const h = encodeHeader(entry);
      expect(h.length).toBe(BLOCK);
      expect(decodeHeader(h)).toEqual(entry);
    }
  });

  it("writes the fixed metadata: mode 0644/0755, owner 0, mtime 0, empty names, ustar magic", () => {
    const h = Buffer.from(encodeHeader({ path: "x/y", type: "file", size: 10 }));
    expect(h.toString("latin1", 100, 108)).toBe("0000644\0");
    expect(h.toString("latin1", 108, 124)).toBe("0000000\u00000000000\0");
    expect(h.toString("latin1", 124, 136)).toBe("00000000012\0");
    expect(h.toString("latin1", 136, 148)).toBe("00000000000\0");
    expect(h.toString("latin1", 257, 265)).toBe("ustar\u000000");
    expect(h.subarray(265, 329).every((b) => b === 0)).toBe(true);
    const d = Buffer.from(encodeHeader({ path: "x", type: "dir", size: 0 }));
    expect(d.toString("latin1", 0, 3)).toBe("x/\0");
    expect(d.toString("latin1", 100, 108)).toBe("0000755\0");
    expect(d[156]).toBe(0x35);
  });

  it("refuses to write what it could not read back", () => {
    for (const p of ["/abs", "../x", "a/../b", "a//b", "a b", "", "a/./b", `${"x".repeat(101)}`]) {
      expect(() => encodeHeader({ path: p, type: "file", size: 0 }), p).toThrow();
    }
    expect(() => encodeHeader({ path: "a", type: "file", size: 0o77777777777 + 1 })).toThrow();
    expect(() => encodeHeader({ path: "a", type: "dir", size: 1 })).toThrow();
  });

  const refusals: Array<[string, RawHeader, string]> = [
    ["symlink", { name: "snapshot/versions", type: "2", linkname: "/etc/passwd" }, "symlink"],
    ["hard link", { name: "snapshot/versions", type: "1", linkname: "MANIFEST" }, "hard_link"],
    ["character device", { name: "dev", type: "3" }, "device"],
    ["block device", { name: "dev", type: "4" }, "device"],
    ["FIFO", { name: "fifo", type: "6" }, "fifo"],
    ["pax extended header", { name: "PaxHeaders/x", type: "x", size: 30 }, "unsupported_entry"],
    ["pax global header", { name: "pax_global_header", type: "g", size: 30 }, "unsupported_entry"],
    ["GNU long name", { name: "././@LongLink", type: "L", size: 200 }, "unsupported_entry"],
    ["contiguous file", { name: "a", type: "7" }, "unsupported_entry"],
    ["absolute path", { name: "/etc/passwd" }, "absolute_path"],
    ["absolute path via the prefix", { name: "passwd", prefix: "/etc" }, "absolute_path"],
    ["a .. segment", { name: "../evil" }, "parent_segment"],
    ["a .. segment inside", { name: "snapshot/../../evil" }, "parent_segment"],
    ["a .. directory", { name: "../", type: "5" }, "parent_segment"],
    ["a backslash", { name: "snapshot\\..\\x" }, "bad_path"],
    ["a space", { name: "snap shot" }, "bad_path"],
    ["a '.' segment", { name: "./snapshot" }, "bad_path"],
    ["an empty segment", { name: "snapshot//versions" }, "bad_path"],
    ["an empty name", { name: "" }, "bad_path"],
    ["a directory without its slash", { name: "snapshot", type: "5" }, "bad_path"],
    ["a non-ASCII name", { name: "snapsh\u00f6t" }, "bad_path"],
    ["GNU magic", { name: "a", magic: "ustar ", version: " \0" }, "unsupported_format"],
    ["v7 (no magic)", { name: "a", magic: "\0\0\0\0\0\0", version: "\0\0" }, "unsupported_format"],
    ["a wrong checksum", { name: "a", checksum: "0000000\0" }, "bad_header_checksum"],
    ["a non-octal checksum", { name: "a", checksum: "zzzzzz\0 " }, "bad_header_checksum"],
    ["a base-256 size", { name: "a", size: "\x80\0\0\0\0\0\0\0\0\0\x10\0" }, "bad_size"],
    ["a non-octal size", { name: "a", size: "0000000009\0\0" }, "bad_size"],
    ["a directory with content", { name: "d/", type: "5", size: 12 }, "bad_size"],
    ["mode 0777", { name: "a", mode: "0000777\0" }, "non_canonical_header"],
    ["setuid", { name: "a", mode: "0004755\0" }, "non_canonical_header"],
    ["an owner", { name: "a", uid: "0001750\0" }, "non_canonical_header"],
    ["a group", { name: "a", gid: "0001750\0" }, "non_canonical_header"],
    ["an mtime", { name: "a", mtime: "14533623400\0" }, "non_canonical_header"],
    ["a user name", { name: "a", uname: "root" }, "non_canonical_header"],
    ["a group name", { name: "a", gname: "root" }, "non_canonical_header"],
    ["a link name on a file", { name: "a", linkname: "b" }, "non_canonical_header"],
    ["space-padded numbers", { name: "a", mode: "   644 \0" }, "non_canonical_header"],
    ["type '\\0' (old regular file)", { name: "a", type: "\0" }, "non_canonical_header"],
    ["a needless prefix", { name: "versions", prefix: "snapshot" }, "non_canonical_header"],
  ];
  it.each(refusals)("refuses %s", (_what, fields, reason) => {
    expect(headerDefect(fields)).toBe(reason);
  });

  it("accepts exactly the canonical header (the crafted equivalent of encodeHeader's)", () => {
    expect(headerDefect({ name: "snapshot/versions", size: 3000 })).toBe("none");
    expect(Buffer.from(rawHeader({ name: "snapshot/versions", size: 3000 }))).toEqual(
      Buffer.from(encodeHeader({ path: "snapshot/versions", type: "file", size: 3000 })),
    );
  });

  it("any single bit flip in a header is refused", () => {
    const h = encodeHeader({ path: "snapshot/schemas/users/v1.json", type: "file", size: 169 });
    let refused = 0;
    for (let byte = 0; byte < BLOCK; byte++) {
      for (const bit of [0, 3, 7]) {
        const copy = h.slice();
        copy[byte] = (copy[byte] as number) ^ (1 << bit);
        try {
          decodeHeader(copy);
        } catch (err) {
          if (err instanceof HeaderError) refused++;
          else throw err;
        }
      }
    }
    expect(refused).toBe(BLOCK * 3);
  });
});

describe("TarWriter / TarReader", () => {
  it("round-trips entries exactly, and the same entries give the same bytes", async () => {
    const a = await writeArchive(SAMPLE);
    const b = await writeArchive(SAMPLE);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    // 8 headers + content blocks (8/512 -> 1, 0, 512 -> 1, 513 -> 2, 3000 -> 6) + 2 end blocks
    expect(a.length).toBe(BLOCK * (8 + 1 + 1 + 2 + 6 + 2));
    const back = await readAll(a);
    expect(back.map((e) => e.entry)).toEqual(
      SAMPLE.map((i) => ({ path: i.path, type: i.type, size: i.bytes?.length ?? 0 })),
    );
    for (const [i, item] of SAMPLE.entries()) {
      expect(back[i]?.content.equals(Buffer.from(item.bytes ?? new Uint8Array(0)))).toBe(true);
    }
  });

  it("checks declared sizes while writing", async () => {
    const fs = new SimFileSystem();
    const writer = new TarWriter(await fs.open("/a.tar", "wx"));
    await writer.beginFile("a", 3);
    await expect(writer.write(new Uint8Array(4))).rejects.toThrow(/more bytes/);
    await writer.write(new Uint8Array(2));
    await expect(writer.endFile()).rejects.toThrow(/fewer bytes/);
    await expect(writer.finish()).rejects.toThrow(/still open/);
  });

  it("streams large content through the 1 MiB window", async () => {
    const big = Uint8Array.from({ length: 3 * (1 << 20) + 123 }, (_, i) => (i * 13) & 0xff);
    const back = await readAll(await writeArchive([{ path: "big", type: "file", bytes: big }]));
    expect(back[0]?.content.equals(Buffer.from(big))).toBe(true);
  });

  it("refuses truncation at every block boundary and inside blocks", async () => {
    const a = await writeArchive(SAMPLE);
    const cuts = new Set<number>();
    for (let at = 0; at < a.length; at += BLOCK) {
      cuts.add(at);
      cuts.add(at + 1);
      cuts.add(at + 511);
    }
    for (const cut of cuts) {
      if (cut >= a.length) continue;
      const reason = await defectOf(a.subarray(0, cut));
      expect(["truncated"], `cut at ${cut}`).toContain(reason);
    }
  });

  it("refuses trailing data, a missing or half end marker, and non-zero padding", async () => {
    const a = await writeArchive(SAMPLE);
    expect(await defectOf(concat(a, new Uint8Array(512)))).toBe("trailing_data");
    expect(await defectOf(concat(a, new Uint8Array([0])))).toBe("trailing_data");
    expect(await defectOf(concat(a, text("junk")))).toBe("trailing_data");
    expect(await defectOf(a.subarray(0, a.length - 512))).toBe("truncated");
    const halfEnd = concat(a.subarray(0, a.length - 512), rawHeader({ name: "x" }));
    expect(await defectOf(halfEnd)).toBe("bad_end");
    const header = rawHeader({ name: "a", size: 3 });
    const padding = padded(text("abc"));
    padding[100] = 1;
    expect(await defectOf(concat(header, padding, END))).toBe("non_zero_padding");
  });
});

describe.skipIf(!hasGnuTar)("interoperability with GNU tar", () => {
  it("GNU tar lists our archive with the fixed metadata and extracts the same bytes", async () => {
    const dir = tempDir();
    const file = path.join(dir, "a.tar");
    nodeFs.writeFileSync(file, await writeArchive(SAMPLE));
    const listing = execFileSync("tar", ["--numeric-owner", "--full-time", "-tvf", file], {
      encoding: "utf8",
    })
      .trim()
      .split("\n");
    expect(listing).toHaveLength(SAMPLE.length);
    for (const [i, line] of listing.entries()) {
      const item = SAMPLE[i] as Item;
      expect(line).toMatch(item.type === "dir" ? /^drwxr-xr-x 0\/0 / : /^-rw-r--r-- 0\/0 /);
      expect(line).toContain("1970-01-01 00:00:00");
      expect(line.endsWith(item.type === "dir" ? ` ${item.path}/` : ` ${item.path}`)).toBe(true);
    }
    const out = path.join(dir, "x");
    nodeFs.mkdirSync(out);
    execFileSync("tar", ["-xf", file, "-C", out]);
    for (const item of SAMPLE) {
      if (item.type === "file") {
        expect(nodeFs.readFileSync(path.join(out, item.path)).equals(Buffer.from(item.bytes ?? []))).toBe(
          true,
        );
      }
    }
  });

  it("an archive GNU tar made (real mtimes, owners) is refused as non-canonical", async () => {
    const dir = tempDir();
    nodeFs.writeFileSync(path.join(dir, "f"), "hello");
    const file = path.join(dir, "g.tar");
    execFileSync("tar", ["--format=ustar", "-cf", file, "-C", dir, "f"]);
    expect(await defectOf(nodeFs.readFileSync(file))).toMatch(/non_canonical_header|trailing_data/);
  });
});
