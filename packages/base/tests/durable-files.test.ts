import * as nodeFs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import {
  DelegatingFileSystem,
  delegatingHandle,
  ensureDir,
  NodeFileSystem,
  type OpenMode,
  type OpenOptions,
  readFileIfExists,
  removeTree,
  SimFileSystem,
  SimulatedCrash,
  seedList,
  withSeed,
  writeFileAtomic,
  writeFileExclusive,
  writeFully,
  writeFullySync,
  writeNewFileSynced,
} from "../src/index.js";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

async function readOrNull(fs: SimFileSystem, p: string): Promise<string | null> {
  const b = await readFileIfExists(fs, p);
  return b === null ? null : dec(b);
}

describe("writeFully / writeFullySync", () => {
  it("completes through short writes", async () => {
    const fs = new SimFileSystem();
    const h = await fs.open("/f", "wx");
    fs.injectFault({ op: "write", nth: 1, kind: "short", sticky: true });
    const data = new Uint8Array(777).map((_, i) => (i * 31) % 256);
    await writeFully(h, data, 3);
    expect([...(await fs.readFile("/f")).subarray(3)]).toEqual([...data]);
    writeFullySync(h, enc("sync-tail"), 780);
    expect(dec((await fs.readFile("/f")).subarray(780))).toBe("sync-tail");
  });

  it("writes nothing for an empty buffer", async () => {
    const fs = new SimFileSystem();
    const h = await fs.open("/f", "wx");
    await writeFully(h, new Uint8Array(0), 10);
    writeFullySync(h, new Uint8Array(0), 10);
    expect(await h.size()).toBe(0);
    expect(fs.opCount("write")).toBe(0);
  });

  it("throws EIO when a write makes no progress instead of looping forever", async () => {
    const stuck = { write: async () => 0, writeSync: () => 0 };
    await expect(writeFully(stuck, enc("abc"), 0)).rejects.toMatchObject({ code: "EIO" });
    expect(() => writeFullySync(stuck, enc("abc"), 0)).toThrow(expect.objectContaining({ code: "EIO" }));
  });

  it("propagates ENOSPC from the file system", async () => {
    const fs = new SimFileSystem();
    const h = await fs.open("/f", "wx");
    fs.injectFault({ op: "write", nth: 2, kind: "ENOSPC" });
    fs.injectFault({ op: "write", nth: 1, kind: "short" });
    await expect(writeFully(h, enc("abcdefgh"), 0)).rejects.toMatchObject({ code: "ENOSPC" });
  });
});

describe("writeFileAtomic", () => {
  it("creates or replaces a file and leaves no temp file", async () => {
    const fs = new SimFileSystem();
    await writeFileAtomic(fs, "/state.json", enc("v1"));
    expect(await readOrNull(fs, "/state.json")).toBe("v1");
    await writeFileAtomic(fs, "/state.json", enc("v2"));
    expect(await readOrNull(fs, "/state.json")).toBe("v2");
    expect(await fs.readdir("/")).toEqual(["state.json"]);
  });

  it("replaces a stale temp file left by an earlier crash", async () => {
    const fs = new SimFileSystem();
    const stale = await fs.open("/state.json.tmp", "wx");
    await writeFully(stale, enc("garbage"), 0);
    await writeFileAtomic(fs, "/state.json", enc("good"));
    expect(await fs.readdir("/")).toEqual(["state.json"]);
    expect(await readOrNull(fs, "/state.json")).toBe("good");
  });

  it("is durable once it returns, for every seed", async () => {
    for (const seed of seedList("durable-atomic-returns", 100)) {
      await withSeed(seed, async () => {
        const fs = new SimFileSystem();
        await ensureDir(fs, "/db");
        await writeFileAtomic(fs, "/db/m", enc("one"));
        await writeFileAtomic(fs, "/db/m", enc("two"));
        const after = fs.crash(seed);
        expect(await readOrNull(after, "/db/m")).toBe("two");
      });
    }
  });

  it("a crash at any point leaves the old content or the new content, never anything else", async () => {
    const probe = new SimFileSystem();
    await writeFileAtomic(probe, "/m", enc("old"));
    const before = probe.boundaryOpCount;
    await writeFileAtomic(probe, "/m", enc("new content"));
    const steps = probe.boundaryOpCount - before;
    expect(steps).toBeGreaterThanOrEqual(4);
    const seen = new Set<string | null>();
    for (const seed of seedList("durable-atomic-crash", 15)) {
      await withSeed(seed, async () => {
        for (let n = 1; n <= steps; n++) {
          const fs = new SimFileSystem();
          await writeFileAtomic(fs, "/m", enc("old"));
          fs.crashAfter(n);
          await expect(writeFileAtomic(fs, "/m", enc("new content"))).rejects.toBeInstanceOf(SimulatedCrash);
          const got = await readOrNull(fs.crash(seed * 31 + n), "/m");
          expect(["old", "new content"]).toContain(got);
          seen.add(got);
        }
      });
    }
    if (seedList("durable-atomic-crash", 15).length > 1) expect(seen.size).toBe(2);
  });

  it("a crash in the first write of a new file leaves nothing or the whole file", async () => {
    for (const seed of seedList("durable-atomic-first", 40)) {
      await withSeed(seed, async () => {
        for (let n = 1; n <= 5; n++) {
          const fs = new SimFileSystem();
          fs.crashAfter(n);
          await expect(writeFileAtomic(fs, "/m", enc("first"))).rejects.toBeInstanceOf(SimulatedCrash);
          expect([null, "first"]).toContain(await readOrNull(fs.crash(seed + n), "/m"));
        }
      });
    }
  });

  it("a failed fsync of the temp file leaves the target untouched", async () => {
    const fs = new SimFileSystem();
    await writeFileAtomic(fs, "/m", enc("old"));
    fs.injectFault({ op: "sync", nth: 1, kind: "EIO" });
    await expect(writeFileAtomic(fs, "/m", enc("new"))).rejects.toMatchObject({ code: "EIO" });
    expect(await readOrNull(fs, "/m")).toBe("old");
  });

  it("a failed rename leaves the target untouched", async () => {
    const fs = new SimFileSystem();
    await writeFileAtomic(fs, "/m", enc("old"));
    fs.injectFault({ op: "rename", nth: 1, kind: "EIO" });
    await expect(writeFileAtomic(fs, "/m", enc("new"))).rejects.toMatchObject({ code: "EIO" });
    expect(await readOrNull(fs, "/m")).toBe("old");
    // The next attempt cleans up the temp file and succeeds.
    await writeFileAtomic(fs, "/m", enc("new"));
    expect(await fs.readdir("/")).toEqual(["m"]);
    expect(await readOrNull(fs, "/m")).toBe("new");
  });

  it("completes through short writes", async () => {
    const fs = new SimFileSystem();
    fs.injectFault({ op: "write", nth: 1, kind: "short", sticky: true });
    const data = new Uint8Array(300).map((_, i) => i % 256);
    await writeFileAtomic(fs, "/m", data);
    expect([...(await fs.readFile("/m"))]).toEqual([...data]);
  });
});

describe("writeFileExclusive", () => {
  it("creates a new file durably for every seed", async () => {
    for (const seed of seedList("durable-exclusive", 100)) {
      await withSeed(seed, async () => {
        const fs = new SimFileSystem();
        await ensureDir(fs, "/db");
        await writeFileExclusive(fs, "/db/id", enc("database-id"));
        expect(await readOrNull(fs.crash(seed), "/db/id")).toBe("database-id");
      });
    }
  });

  it("refuses an existing file with EEXIST and leaves it unchanged", async () => {
    const fs = new SimFileSystem();
    await writeFileExclusive(fs, "/id", enc("first"));
    await expect(writeFileExclusive(fs, "/id", enc("second"))).rejects.toMatchObject({ code: "EEXIST" });
    expect(await readOrNull(fs, "/id")).toBe("first");
  });
});

describe("readFileIfExists", () => {
  it("returns null for a missing file and the bytes otherwise", async () => {
    const fs = new SimFileSystem();
    expect(await readFileIfExists(fs, "/nope")).toBeNull();
    await writeFileExclusive(fs, "/f", enc("x"));
    expect(dec((await readFileIfExists(fs, "/f")) as Uint8Array)).toBe("x");
  });

  it("rethrows errors other than ENOENT", async () => {
    const fs = new SimFileSystem();
    await fs.mkdir("/d");
    await expect(readFileIfExists(fs, "/d")).rejects.toMatchObject({ code: "EISDIR" });
    await writeFileExclusive(fs, "/f", enc("x"));
    fs.injectFault({ op: "readFile", nth: 1, kind: "EIO" });
    await expect(readFileIfExists(fs, "/f")).rejects.toMatchObject({ code: "EIO" });
  });
});

describe("writeNewFileSynced", () => {
  it("creates a file whose content survives a crash once its directory is synced, and refuses an existing one", async () => {
    for (const seed of seedList("durable-new-file-synced", 20)) {
      await withSeed(seed, async () => {
        const fs = new SimFileSystem();
        await writeNewFileSynced(fs, "/f", enc("payload"));
        await fs.syncDir("/");
        await expect(writeNewFileSynced(fs, "/f", enc("other"))).rejects.toMatchObject({ code: "EEXIST" });
        const after = fs.crash(seed);
        expect(new TextDecoder().decode(await after.readFile("/f"))).toBe("payload");
      });
    }
  });

  it("reports the failed write or fsync, not the failure to close after it", async () => {
    for (const op of ["write", "sync"] as const) {
      const sim = new SimFileSystem();
      sim.injectFault({ op, nth: 1, kind: "EIO" });
      let closed = 0;
      const closeFails = new (class extends DelegatingFileSystem {
        override async open(path: string, mode: OpenMode, options?: OpenOptions) {
          const handle = await super.open(path, mode, options);
          return delegatingHandle(handle, {
            close: async () => {
              await handle.close();
              closed++;
              throw Object.assign(new Error("close failed"), { code: "EBADF" });
            },
          });
        }
      })(sim);
      await expect(writeNewFileSynced(closeFails, `/${op}`, enc("x"))).rejects.toMatchObject({ code: "EIO" });
      expect(closed).toBe(1);
    }
  });
});

describe("ensureDir", () => {
  it("creates a directory durably and tolerates an existing one", async () => {
    for (const seed of seedList("durable-ensure-dir", 50)) {
      await withSeed(seed, async () => {
        const fs = new SimFileSystem();
        await ensureDir(fs, "/a");
        await ensureDir(fs, "/a");
        await ensureDir(fs, "/a/b");
        const after = fs.crash(seed);
        expect(await after.stat("/a/b")).toMatchObject({ isDirectory: true });
      });
    }
  });

  it("two callers racing for one directory both succeed, and it survives a crash", async () => {
    for (const seed of seedList("durable-ensure-dir-race", 20)) {
      await withSeed(seed, async () => {
        const fs = new SimFileSystem();
        // Both stat before either mkdirs: the second one's mkdir meets EEXIST.
        await Promise.all([ensureDir(fs, "/a"), ensureDir(fs, "/a")]);
        const after = fs.crash(seed);
        expect(await after.stat("/a")).toMatchObject({ isDirectory: true });
      });
    }
  });

  it("fails with EEXIST when a file has the name, and ENOENT without a parent", async () => {
    const fs = new SimFileSystem();
    await writeFileExclusive(fs, "/f", enc(""));
    await expect(ensureDir(fs, "/f")).rejects.toMatchObject({ code: "EEXIST" });
    await expect(ensureDir(fs, "/x/y")).rejects.toMatchObject({ code: "ENOENT" });
  });
});

describe("removeTree", () => {
  it("removes a nested tree and leaves siblings alone", async () => {
    const fs = new SimFileSystem();
    await fs.mkdir("/t");
    await fs.mkdir("/t/a");
    await fs.mkdir("/t/a/b");
    await writeFileExclusive(fs, "/t/f", enc("1"));
    await writeFileExclusive(fs, "/t/a/b/g", enc("2"));
    await writeFileExclusive(fs, "/keep", enc("3"));
    await removeTree(fs, "/t");
    expect(await fs.readdir("/")).toEqual(["keep"]);
  });

  it("removes a single file and ignores a missing path", async () => {
    const fs = new SimFileSystem();
    await writeFileExclusive(fs, "/f", enc("1"));
    await removeTree(fs, "/f");
    await removeTree(fs, "/missing");
    expect(await fs.readdir("/")).toEqual([]);
  });
});

describe("durable helpers on the real file system", () => {
  it("writeFileAtomic, writeFileExclusive, ensureDir and removeTree work on disk", async () => {
    const dir = nodeFs.mkdtempSync(path.join(os.tmpdir(), "aerodb-base-durable-"));
    try {
      const fs = new NodeFileSystem();
      const db = path.join(dir, "db");
      await ensureDir(fs, db);
      await ensureDir(fs, db);
      await writeFileAtomic(fs, path.join(db, "m"), enc("v1"));
      await writeFileAtomic(fs, path.join(db, "m"), enc("v2"));
      await writeFileExclusive(fs, path.join(db, "id"), enc("x"));
      await expect(writeFileExclusive(fs, path.join(db, "id"), enc("y"))).rejects.toMatchObject({
        code: "EEXIST",
      });
      expect(nodeFs.readdirSync(db).sort()).toEqual(["id", "m"]);
      expect(nodeFs.readFileSync(path.join(db, "m"), "utf8")).toBe("v2");
      expect(await readFileIfExists(fs, path.join(db, "nope"))).toBeNull();
      nodeFs.mkdirSync(path.join(db, "sub"));
      nodeFs.writeFileSync(path.join(db, "sub", "f"), "z");
      await removeTree(fs, db);
      expect(nodeFs.existsSync(db)).toBe(false);
    } finally {
      nodeFs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
