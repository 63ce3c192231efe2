import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type CrashFate,
  type FileHandle,
  SeededRandom,
  SimFileSystem,
  SimulatedCrash,
  seedList,
  withSeed,
  writeFully,
} from "../src/index.js";

// What survives SimFileSystem.crash(seed): the durability contract of fs/types.ts, checked
// for every seed. "Always" claims loop over seedList (replay one with AERODB_SEED=<n>);
// "sometimes" claims (an unsynced change can be lost) scan a fixed range of seeds, since they
// are statements about the simulator's choices, not about one run.

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const FIXED_SEEDS = Array.from({ length: 128 }, (_, i) => i * 7 + 1);

/** Every path with its kind and full content: two equal dumps are byte-identical trees. */
async function dump(
  fs: SimFileSystem,
  dir = "/",
  out: Record<string, string> = {},
): Promise<Record<string, string>> {
  for (const name of await fs.readdir(dir)) {
    const path = dir === "/" ? `/${name}` : `${dir}/${name}`;
    const st = await fs.stat(path);
    if (st?.isDirectory) {
      out[`${path}/`] = "<dir>";
      await dump(fs, path, out);
    } else {
      out[path] = hex(await fs.readFile(path));
    }
  }
  return out;
}

async function readOrNull(fs: SimFileSystem, path: string): Promise<string | null> {
  return (await fs.stat(path)) ? dec(await fs.readFile(path)) : null;
}

async function writeStr(h: FileHandle, s: string, pos: number): Promise<void> {
  await writeFully(h, enc(s), pos);
}

/** A file whose content and directory entry are durable. */
async function durableFile(fs: SimFileSystem, path: string, content: string): Promise<FileHandle> {
  const h = await fs.open(path, "wx");
  await writeStr(h, content, 0);
  await h.sync();
  await fs.syncDir(path.slice(0, path.lastIndexOf("/")) || "/");
  return h;
}

// ---- a byte-level model of one file's unsynced history --------------------------------------

type Mut = { kind: "write"; pos: number; bytes: Uint8Array } | { kind: "truncate"; length: number };

function applyMut(content: Uint8Array, m: Mut): Uint8Array {
  if (m.kind === "truncate") {
    const out = new Uint8Array(m.length);
    out.set(content.subarray(0, Math.min(m.length, content.length)));
    return out;
  }
  if (m.bytes.length === 0) return content; // POSIX: a zero-length write changes nothing
  const out = new Uint8Array(Math.max(content.length, m.pos + m.bytes.length));
  out.set(content);
  out.set(m.bytes, m.pos);
  return out;
}

const applyAll = (content: Uint8Array, ms: readonly Mut[]): Uint8Array => ms.reduce(applyMut, content);

/**
 * The contents a crash may leave without corrupting bytes: the durable content with a prefix
 * of the pending mutations applied, the last possibly cut short (a torn write).
 */
function prefixConsistent(durable: Uint8Array, pending: readonly Mut[]): Set<string> {
  const ok = new Set<string>();
  let cur = durable;
  for (let k = 0; k <= pending.length; k++) {
    ok.add(hex(cur));
    const m = pending[k];
    if (m === undefined) break;
    if (m.kind === "write") {
      for (let j = 0; j <= m.bytes.length; j++) {
        ok.add(hex(applyMut(cur, { kind: "write", pos: m.pos, bytes: m.bytes.subarray(0, j) })));
      }
    }
    cur = applyMut(cur, m);
  }
  return ok;
}

function bitDistance(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let bits = 0;
  for (let i = 0; i < a.length; i++) {
    let x = (a[i] as number) ^ (b[i] as number);
    while (x) {
      bits += x & 1;
      x >>= 1;
    }
  }
  return bits;
}

/** Checks a crashed file against the model for the fate the simulator reports. */
function checkFate(
  fate: CrashFate | undefined,
  got: Uint8Array,
  durable: Uint8Array,
  pending: readonly Mut[],
) {
  const full = applyAll(durable, pending);
  const prefixes = prefixConsistent(durable, pending);
  if (pending.length === 0) {
    expect(fate).toBeUndefined();
    expect(hex(got)).toBe(hex(durable));
    return;
  }
  switch (fate) {
    case "all":
      expect(hex(got)).toBe(hex(full));
      break;
    case "none":
      expect(hex(got)).toBe(hex(durable));
      break;
    case "prefix":
    case "torn":
      expect(
        prefixes.has(hex(got)),
        `${fate}: ${hex(got)} is not durable + a prefix of the pending writes`,
      ).toBe(true);
      break;
    case "flip":
      // Everything applied, then at most one bit flipped in bytes a pending write touched.
      expect(bitDistance(got, full)).toBeLessThanOrEqual(1);
      break;
    default:
      throw new Error(`a file with pending writes got no fate (${String(fate)})`);
  }
}

/** Runs random write/truncate/sync ops on one file and returns the model's view. */
async function randomHistory(
  fs: SimFileSystem,
  rnd: SeededRandom,
  path: string,
  steps: number,
): Promise<{ durable: Uint8Array; pending: Mut[]; handle: FileHandle }> {
  const h = await fs.open(path, "wx");
  const initial = rnd.bytes(rnd.int(0, 40));
  await writeFully(h, initial, 0);
  await h.sync();
  await fs.syncDir("/");
  let durable = initial;
  let pending: Mut[] = [];
  for (let i = 0; i < steps; i++) {
    const size = await h.size();
    const r = rnd.int(0, 9);
    if (r < 6) {
      const bytes = rnd.bytes(rnd.int(1, 16));
      const pos = rnd.int(0, size + 8);
      await writeFully(h, bytes, pos);
      pending.push({ kind: "write", pos, bytes });
    } else if (r < 8) {
      const length = rnd.int(0, size + 8);
      await h.truncate(length);
      pending.push({ kind: "truncate", length });
    } else {
      await h.sync();
      durable = applyAll(durable, pending);
      pending = [];
    }
  }
  // The live file system shows everything written.
  expect(hex(await fs.readFile(path))).toBe(hex(applyAll(durable, pending)));
  return { durable, pending, handle: h };
}

describe("crash(): file contents", () => {
  it("synced bytes always survive, for every seed", async () => {
    for (const seed of seedList("sim-crash-synced-survive", 200)) {
      await withSeed(seed, async () => {
        const rnd = new SeededRandom(seed);
        const fs = new SimFileSystem();
        const { handle } = await randomHistory(fs, rnd, "/f", rnd.int(0, 20));
        await handle.sync();
        const expected = await fs.readFile("/f");
        const after = fs.crash(seed);
        expect(hex(await after.readFile("/f"))).toBe(hex(expected));
        expect(after.crashFates).toEqual([]);
      });
    }
  });

  it("unsynced changes survive as one of the allowed fates, never below the durable content", async () => {
    for (const seed of seedList("sim-crash-fates", 300)) {
      await withSeed(seed, async () => {
        const rnd = new SeededRandom(seed);
        const fs = new SimFileSystem();
        const { durable, pending } = await randomHistory(fs, rnd, "/f", rnd.int(1, 20));
        const after = fs.crash(seed);
        const fate = after.crashFates.find((f) => f.path === "/f")?.fate;
        checkFate(fate, await after.readFile("/f"), durable, pending);
      });
    }
  });

  it("every fate (all, none, prefix, torn, flip) happens for some seed", async () => {
    const seen = new Set<CrashFate>();
    for (const seed of FIXED_SEEDS) {
      const fs = new SimFileSystem();
      const h = await durableFile(fs, "/f", "durable!");
      for (let i = 0; i < 4; i++) await writeStr(h, `pending-${i}`, 8 + i * 9);
      const after = fs.crash(seed);
      for (const f of after.crashFates) seen.add(f.fate);
    }
    expect(seen).toEqual(new Set(["all", "none", "prefix", "torn", "flip"]));
  });

  it("an unsynced write can be lost entirely and can survive entirely", async () => {
    const outcomes = new Set<string | null>();
    for (const seed of FIXED_SEEDS) {
      const fs = new SimFileSystem();
      const h = await durableFile(fs, "/f", "old");
      await writeStr(h, "NEW", 0);
      outcomes.add(await readOrNull(fs.crash(seed), "/f"));
    }
    expect(outcomes.has("old")).toBe(true);
    expect(outcomes.has("NEW")).toBe(true);
  });

  it("a write whose sync failed with EIO is not durable", async () => {
    const outcomes = new Set<string | null>();
    for (const seed of FIXED_SEEDS) {
      const fs = new SimFileSystem();
      const h = await durableFile(fs, "/f", "old");
      await writeStr(h, "NEW", 0);
      fs.injectFault({ op: "sync", nth: 1, kind: "EIO" });
      await expect(h.sync()).rejects.toMatchObject({ code: "EIO" });
      outcomes.add(await readOrNull(fs.crash(seed), "/f"));
    }
    expect(outcomes.has("old")).toBe(true);
  });

  it("sync on any handle of a file makes the file durable", async () => {
    for (const seed of seedList("sim-crash-sync-other-handle", 50)) {
      await withSeed(seed, async () => {
        const fs = new SimFileSystem();
        const a = await durableFile(fs, "/f", "aaaa");
        await writeStr(a, "bb", 1);
        const b = await fs.open("/f", "r+");
        await b.sync();
        expect(await readOrNull(fs.crash(seed), "/f")).toBe("abba");
      });
    }
  });

  it("dsync handles make each write durable when it returns", async () => {
    for (const seed of seedList("sim-crash-dsync", 100)) {
      await withSeed(seed, async () => {
        const fs = new SimFileSystem();
        await durableFile(fs, "/f", "");
        const h = await fs.open("/f", "r+", { dsync: true });
        await writeStr(h, "one,", 0);
        await writeStr(h, "two,", 4);
        await writeStr(h, "three", 8);
        const after = fs.crash(seed);
        expect(await readOrNull(after, "/f")).toBe("one,two,three");
        expect(after.crashFates).toEqual([]);
      });
    }
  });

  it("a dsync file created with wx still needs syncDir for its name", async () => {
    const outcomes = new Set<string | null>();
    for (const seed of FIXED_SEEDS) {
      const fs = new SimFileSystem();
      const h = await fs.open("/f", "wx", { dsync: true });
      await writeStr(h, "data", 0);
      outcomes.add(await readOrNull(fs.crash(seed), "/f"));
    }
    expect(outcomes).toEqual(new Set(["data", null]));
  });

  it("a synced truncate survives every seed; an unsynced one may or may not", async () => {
    for (const seed of seedList("sim-crash-truncate-synced", 50)) {
      await withSeed(seed, async () => {
        const fs = new SimFileSystem();
        const h = await durableFile(fs, "/f", "abcdef");
        await h.truncate(2);
        await h.sync();
        expect(await readOrNull(fs.crash(seed), "/f")).toBe("ab");
      });
    }
    const outcomes = new Set<string | null>();
    for (const seed of FIXED_SEEDS) {
      const fs = new SimFileSystem();
      const h = await durableFile(fs, "/f", "abcdef");
      await h.truncate(2);
      const got = await readOrNull(fs.crash(seed), "/f");
      expect(["abcdef", "ab"]).toContain(got);
      outcomes.add(got);
    }
    expect(outcomes.size).toBe(2);
  });

  it("property: after random write/truncate/sync ops, crash(seed) leaves durable + a prefix of the rest", async () => {
    type Op =
      | { t: "write"; pos: number; bytes: Uint8Array }
      | { t: "truncate"; length: number }
      | { t: "sync" };
    const op: fc.Arbitrary<Op> = fc.oneof(
      {
        weight: 5,
        arbitrary: fc.record({
          t: fc.constant("write" as const),
          pos: fc.nat(80),
          bytes: fc.uint8Array({ minLength: 0, maxLength: 24 }),
        }),
      },
      { weight: 2, arbitrary: fc.record({ t: fc.constant("truncate" as const), length: fc.nat(90) }) },
      { weight: 1, arbitrary: fc.record({ t: fc.constant("sync" as const) }) },
    );
    const property = fc.asyncProperty(
      fc.uint8Array({ maxLength: 32 }),
      fc.array(op, { maxLength: 25 }),
      fc.integer(),
      async (initial, ops, crashSeed) => {
        const fs = new SimFileSystem();
        const h = await fs.open("/f", "wx");
        await writeFully(h, initial, 0);
        await h.sync();
        await fs.syncDir("/");
        let durable: Uint8Array = initial;
        let pending: Mut[] = [];
        for (const o of ops) {
          if (o.t === "write") {
            expect(await h.write(o.bytes, 0, o.bytes.length, o.pos)).toBe(o.bytes.length);
            pending.push({ kind: "write", pos: o.pos, bytes: o.bytes });
          } else if (o.t === "truncate") {
            await h.truncate(o.length);
            pending.push({ kind: "truncate", length: o.length });
          } else {
            await h.sync();
            durable = applyAll(durable, pending);
            pending = [];
          }
        }
        const full = applyAll(durable, pending);
        expect(hex(await fs.readFile("/f"))).toBe(hex(full));
        const after = fs.crash(crashSeed);
        const got = await after.readFile("/f");
        const fate = after.crashFates.find((f) => f.path === "/f")?.fate;
        checkFate(fate, got, durable, pending);
        if (fate !== "flip") expect(prefixConsistent(durable, pending).has(hex(got))).toBe(true);
      },
    );
    for (const seed of seedList("sim-crash-property", 1)) {
      await withSeed(seed, () => fc.assert(property, { seed, numRuns: 400 }));
    }
  });
});

describe("crash(): directory entries", () => {
  it("a created file whose directory was never synced may vanish; with syncDir it always survives", async () => {
    const outcomes = new Set<string | null>();
    for (const seed of FIXED_SEEDS) {
      const fs = new SimFileSystem();
      const h = await fs.open("/f", "wx");
      await writeStr(h, "content", 0);
      await h.sync();
      const got = await readOrNull(fs.crash(seed), "/f");
      expect([null, "content"]).toContain(got);
      outcomes.add(got);
    }
    expect(outcomes.size).toBe(2);
    for (const seed of seedList("sim-crash-create-syncdir", 100)) {
      await withSeed(seed, async () => {
        const fs = new SimFileSystem();
        await fs.mkdir("/d");
        await fs.syncDir("/");
        const h = await fs.open("/d/f", "wx");
        await writeStr(h, "content", 0);
        await h.sync();
        await fs.syncDir("/d");
        expect(await readOrNull(fs.crash(seed), "/d/f")).toBe("content");
      });
    }
  });

  it("a created directory whose parent was never synced may vanish", async () => {
    const outcomes = new Set<boolean>();
    for (const seed of FIXED_SEEDS) {
      const fs = new SimFileSystem();
      await fs.mkdir("/d");
      outcomes.add((await fs.crash(seed).stat("/d")) !== null);
    }
    expect(outcomes).toEqual(new Set([false, true]));
  });

  it("syncing a file's directory does not make a missing parent entry durable", async () => {
    const outcomes = new Set<boolean>();
    for (const seed of FIXED_SEEDS) {
      const fs = new SimFileSystem();
      await fs.mkdir("/d");
      await durableFile(fs, "/d/f", "x"); // syncs /d, not /
      outcomes.add((await fs.crash(seed).stat("/d/f")) !== null);
    }
    expect(outcomes).toEqual(new Set([false, true]));
  });

  it("a rename without syncDir may or may not survive; with syncDir it always does", async () => {
    const outcomes = new Set<string>();
    for (const seed of FIXED_SEEDS) {
      const fs = new SimFileSystem();
      await durableFile(fs, "/a", "A");
      await fs.rename("/a", "/b");
      const after = fs.crash(seed);
      outcomes.add(JSON.stringify(await after.readdir("/")));
    }
    expect(outcomes).toEqual(new Set(['["a"]', '["b"]']));
    for (const seed of seedList("sim-crash-rename-synced", 100)) {
      await withSeed(seed, async () => {
        const fs = new SimFileSystem();
        await durableFile(fs, "/a", "A");
        await fs.rename("/a", "/b");
        await fs.syncDir("/");
        const after = fs.crash(seed);
        expect(await after.readdir("/")).toEqual(["b"]);
        expect(await readOrNull(after, "/b")).toBe("A");
      });
    }
  });

  it("a durable file renamed within its directory is never lost: old name or new name", async () => {
    for (const seed of seedList("sim-crash-rename-atomic", 200)) {
      await withSeed(seed, async () => {
        const fs = new SimFileSystem();
        await durableFile(fs, "/seg.tmp", "segment");
        await fs.rename("/seg.tmp", "/seg-1");
        const names = await fs.crash(seed).readdir("/");
        expect([["seg-1"], ["seg.tmp"]]).toContainEqual(names);
      });
    }
  });

  it("a rename over an existing file leaves the old or the new content, never neither", async () => {
    const outcomes = new Set<string | null>();
    for (const seed of seedList("sim-crash-rename-over", 200)) {
      await withSeed(seed, async () => {
        const fs = new SimFileSystem();
        await durableFile(fs, "/target", "old");
        const h = await fs.open("/tmp", "wx");
        await writeStr(h, "new", 0);
        await h.sync();
        await fs.rename("/tmp", "/target");
        const got = await readOrNull(fs.crash(seed), "/target");
        expect(["old", "new"]).toContain(got);
        outcomes.add(got);
      });
    }
    if (seedList("sim-crash-rename-over", 200).length > 1) expect(outcomes.size).toBe(2);
  });

  it("a rename into another directory survives once both directories are synced", async () => {
    for (const seed of seedList("sim-crash-rename-cross-dir", 100)) {
      await withSeed(seed, async () => {
        const fs = new SimFileSystem();
        await fs.mkdir("/x");
        await fs.mkdir("/y");
        await fs.syncDir("/");
        await durableFile(fs, "/x/f", "F");
        await fs.rename("/x/f", "/y/f");
        await fs.syncDir("/y");
        await fs.syncDir("/x");
        const after = fs.crash(seed);
        expect(await after.readdir("/x")).toEqual([]);
        expect(await readOrNull(after, "/y/f")).toBe("F");
      });
    }
  });

  it("an unlink without syncDir may be undone; with syncDir it is final", async () => {
    const outcomes = new Set<string | null>();
    for (const seed of FIXED_SEEDS) {
      const fs = new SimFileSystem();
      await durableFile(fs, "/f", "x");
      await fs.unlink("/f");
      outcomes.add(await readOrNull(fs.crash(seed), "/f"));
    }
    expect(outcomes).toEqual(new Set(["x", null]));
    for (const seed of seedList("sim-crash-unlink-synced", 100)) {
      await withSeed(seed, async () => {
        const fs = new SimFileSystem();
        const h = await durableFile(fs, "/f", "x");
        await fs.unlink("/f");
        await fs.syncDir("/");
        // Writes through a handle on the unlinked inode do not bring the name back.
        await writeStr(h, "more", 1);
        await h.sync();
        expect(await fs.crash(seed).readdir("/")).toEqual([]);
      });
    }
  });

  it("directory renames carry their contents across a crash", async () => {
    for (const seed of seedList("sim-crash-dir-rename", 100)) {
      await withSeed(seed, async () => {
        const fs = new SimFileSystem();
        await fs.mkdir("/d");
        await fs.syncDir("/");
        await fs.mkdir("/d/sub");
        await durableFile(fs, "/d/a", "A");
        await durableFile(fs, "/d/sub/b", "B");
        await fs.rename("/d", "/e");
        await fs.syncDir("/");
        const after = fs.crash(seed);
        expect(await dump(after)).toEqual({
          "/e/": "<dir>",
          "/e/a": hex(enc("A")),
          "/e/sub/": "<dir>",
          "/e/sub/b": hex(enc("B")),
        });
      });
    }
  });

  it("a renamed file with unsynced writes gets one fate, whichever names survive", async () => {
    for (const seed of seedList("sim-crash-shared-inode", 100)) {
      await withSeed(seed, async () => {
        const fs = new SimFileSystem();
        const h = await durableFile(fs, "/a", "1111");
        await writeStr(h, "22", 0);
        await fs.rename("/a", "/b");
        const after = fs.crash(seed);
        const names = await after.readdir("/");
        expect(names.length).toBe(1);
        const got = await after.readFile(`/${names[0]}`);
        const fate = after.crashFates[0]?.fate;
        expect(after.crashFates.length).toBe(1);
        checkFate(fate, got, enc("1111"), [{ kind: "write", pos: 0, bytes: enc("22") }]);
      });
    }
  });
});

describe("crash(): the file systems before and after", () => {
  it("the crashed instance is dead: every call and every old handle throws SimulatedCrash", async () => {
    const fs = new SimFileSystem();
    const h = await durableFile(fs, "/f", "x");
    fs.crash(1);
    expect(fs.isDead).toBe(true);
    await expect(fs.stat("/f")).rejects.toBeInstanceOf(SimulatedCrash);
    await expect(fs.readFile("/f")).rejects.toBeInstanceOf(SimulatedCrash);
    await expect(fs.open("/g", "wx")).rejects.toBeInstanceOf(SimulatedCrash);
    await expect(writeStr(h, "y", 0)).rejects.toBeInstanceOf(SimulatedCrash);
    await expect(h.sync()).rejects.toBeInstanceOf(SimulatedCrash);
  });

  it("the file system after a crash is fully durable: crashing it again changes nothing", async () => {
    for (const seed of seedList("sim-crash-twice", 50)) {
      await withSeed(seed, async () => {
        const fs = new SimFileSystem();
        await runScript(fs, new SeededRandom(seed));
        const after = fs.crash(seed);
        const first = await dump(after);
        for (const again of [seed, seed + 1, seed + 2]) {
          const twice = after.crash(again);
          expect(await dump(twice)).toEqual(first);
          expect(twice.crashFates).toEqual([]);
        }
      });
    }
  });

  it("the file system after a crash is live and writable", async () => {
    const fs = new SimFileSystem();
    await durableFile(fs, "/f", "x");
    const after = fs.crash(3);
    expect(after.isDead).toBe(false);
    const h = await after.open("/f", "r+");
    await writeStr(h, "y", 1);
    expect(await readOrNull(after, "/f")).toBe("xy");
    await after.mkdir("/d");
    expect(await after.readdir("/")).toEqual(["d", "f"]);
  });
});

/** A random mix of files, directories, writes, syncs, renames and unlinks. */
async function runScript(fs: SimFileSystem, rnd: SeededRandom): Promise<void> {
  await fs.mkdir("/d");
  const handles: FileHandle[] = [];
  const names: string[] = [];
  for (let i = 0; i < 30; i++) {
    const r = rnd.int(0, 9);
    if (r <= 1 || handles.length === 0) {
      const name = `${rnd.bool() ? "/d/" : "/"}f${i}`;
      handles.push(await fs.open(name, "wx", { dsync: rnd.bool(0.2) }));
      names.push(name);
    } else if (r <= 5) {
      const h = rnd.pick(handles);
      await writeFully(h, rnd.bytes(rnd.int(1, 20)), rnd.int(0, (await h.size()) + 4));
    } else if (r === 6) {
      await rnd.pick(handles).sync();
    } else if (r === 7) {
      await rnd.pick(handles).truncate(rnd.int(0, 10));
    } else if (r === 8) {
      await fs.syncDir(rnd.bool() ? "/" : "/d");
    } else {
      const idx = rnd.index(names.length);
      const from = names[idx] as string;
      if ((await fs.stat(from)) !== null) {
        const to = `${from}-r${i}`;
        await fs.rename(from, to);
        names[idx] = to;
      }
    }
  }
}

describe("crash(): determinism", () => {
  it("same seed and same operations give a byte-identical file system and the same fates", async () => {
    for (const seed of seedList("sim-crash-determinism", 40)) {
      await withSeed(seed, async () => {
        const a = new SimFileSystem();
        const b = new SimFileSystem();
        await runScript(a, new SeededRandom(seed));
        await runScript(b, new SeededRandom(seed));
        expect(await dump(a)).toEqual(await dump(b));
        const ca = a.crash(seed);
        const cb = b.crash(seed);
        expect(await dump(ca)).toEqual(await dump(cb));
        expect(ca.crashFates).toEqual(cb.crashFates);
      });
    }
  });

  it("different crash seeds give different outcomes for the same operations", async () => {
    const dumps = new Set<string>();
    for (const seed of FIXED_SEEDS.slice(0, 32)) {
      const fs = new SimFileSystem();
      await runScript(fs, new SeededRandom(42));
      dumps.add(JSON.stringify(await dump(fs.crash(seed))));
    }
    expect(dumps.size).toBeGreaterThan(5);
  });
});

describe("crashAfter(n) and crashAtBoundary", () => {
  it("throws SimulatedCrash at the nth boundary operation, counting only boundary operations", async () => {
    const fs = new SimFileSystem();
    await durableFile(fs, "/f", "abc"); // create, write, sync, syncDir
    const before = fs.boundaryOpCount;
    expect(before).toBe(4);
    fs.crashAfter(3);
    const h = await fs.open("/f", "r+"); // not a boundary op
    await writeStr(h, "X", 0); // 1
    await fs.stat("/f");
    await fs.readFile("/f");
    await fs.readdir("/");
    h.readSync(new Uint8Array(1), 0, 1, 0);
    await h.truncate(2); // 2
    const err = await h.sync().catch((e: unknown) => e); // 3
    expect(err).toBeInstanceOf(SimulatedCrash);
    expect((err as SimulatedCrash).opNumber).toBe(before + 3);
    expect(fs.isDead).toBe(true);
  });

  it("every later call throws SimulatedCrash too", async () => {
    const fs = new SimFileSystem();
    const h = await durableFile(fs, "/f", "abc");
    await fs.mkdir("/d");
    fs.crashAfter(1);
    await expect(fs.syncDir("/")).rejects.toBeInstanceOf(SimulatedCrash);
    const buf = new Uint8Array(1);
    const calls: Array<() => Promise<unknown>> = [
      () => fs.open("/f", "r"),
      () => fs.open("/g", "wx"),
      () => fs.readFile("/f"),
      () => fs.readdir("/"),
      () => fs.stat("/f"),
      () => fs.mkdir("/e"),
      () => fs.rename("/f", "/g"),
      () => fs.unlink("/f"),
      () => fs.rmdir("/d"),
      () => fs.syncDir("/"),
      () => h.read(buf, 0, 1, 0),
      async () => h.readSync(buf, 0, 1, 0),
      () => h.write(buf, 0, 1, 0),
      async () => h.writeSync(buf, 0, 1, 0),
      () => h.sync(),
      () => h.truncate(0),
      () => h.size(),
    ];
    for (const call of calls) await expect(call()).rejects.toBeInstanceOf(SimulatedCrash);
  });

  it("crashAtBoundary in the constructor counts from the first operation", async () => {
    const fs = new SimFileSystem({ crashAtBoundary: 2 });
    const h = await fs.open("/f", "wx"); // 1
    await expect(writeStr(h, "x", 0)).rejects.toBeInstanceOf(SimulatedCrash); // 2
    expect(fs.boundaryOpCount).toBe(2);
  });

  it("the operation that crashes has no effect unless it is a write", async () => {
    for (const seed of seedList("sim-crash-at-rename", 100)) {
      await withSeed(seed, async () => {
        const fs = new SimFileSystem();
        await durableFile(fs, "/a", "A");
        fs.crashAfter(1);
        await expect(fs.rename("/a", "/b")).rejects.toBeInstanceOf(SimulatedCrash);
        expect(await fs.crash(seed).readdir("/")).toEqual(["a"]);
      });
    }
    const outcomes = new Set<string | null>();
    for (const seed of FIXED_SEEDS) {
      const fs = new SimFileSystem();
      const h = await durableFile(fs, "/f", "old");
      await writeStr(h, "new", 0);
      fs.crashAfter(1);
      await expect(h.sync()).rejects.toBeInstanceOf(SimulatedCrash);
      outcomes.add(await readOrNull(fs.crash(seed), "/f"));
    }
    expect(outcomes.has("old")).toBe(true); // the crashed sync made nothing durable
  });

  it("a write interrupted by the crash can survive whole, not at all, or torn", async () => {
    const payload = new Uint8Array(100).map((_, i) => 1 + (i % 200));
    const lengths = new Set<number>();
    for (const seed of FIXED_SEEDS) {
      const fs = new SimFileSystem();
      const h = await durableFile(fs, "/f", "");
      fs.crashAfter(1);
      await expect(h.write(payload, 0, payload.length, 0)).rejects.toBeInstanceOf(SimulatedCrash);
      const after = fs.crash(seed);
      const got = await after.readFile("/f");
      const fate = after.crashFates[0]?.fate;
      checkFate(fate, got, new Uint8Array(0), [{ kind: "write", pos: 0, bytes: payload }]);
      if (fate !== "flip") lengths.add(got.length);
    }
    expect(lengths.has(0)).toBe(true);
    expect(lengths.has(100)).toBe(true);
    expect([...lengths].some((n) => n > 0 && n < 100)).toBe(true);
  });

  it("a write interrupted by the crash is not durable even on a dsync handle", async () => {
    const outcomes = new Set<string>();
    for (const seed of FIXED_SEEDS) {
      const fs = new SimFileSystem();
      await durableFile(fs, "/f", "");
      const h = await fs.open("/f", "r+", { dsync: true });
      await writeStr(h, "kept", 0);
      fs.crashAfter(1);
      await expect(writeStr(h, "maybe", 4)).rejects.toBeInstanceOf(SimulatedCrash);
      const got = (await readOrNull(fs.crash(seed), "/f")) ?? "";
      expect(got.startsWith("kept")).toBe(true);
      outcomes.add(got);
    }
    expect(outcomes.has("kept")).toBe(true);
  });

  it("crashing at every boundary operation of a script leaves a readable, durable-consistent tree", async () => {
    for (const seed of seedList("sim-crash-every-point", 4)) {
      await withSeed(seed, async () => {
        const probe = new SimFileSystem();
        await runScript(probe, new SeededRandom(seed));
        const total = probe.boundaryOpCount;
        for (let n = 1; n <= total; n++) {
          const fs = new SimFileSystem({ crashAtBoundary: n });
          await expect(runScript(fs, new SeededRandom(seed))).rejects.toBeInstanceOf(SimulatedCrash);
          const after = fs.crash(seed + n);
          // Whatever survived is a consistent, fully readable tree.
          await dump(after);
          expect(await after.stat("/")).toMatchObject({ isDirectory: true });
        }
      });
    }
  });
});
