import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { SeededRandom, seedList, withSeed } from "../src/index.js";

const draw = (r: SeededRandom, n: number): number[] => Array.from({ length: n }, () => r.int(0, 1_000_000));

describe("SeededRandom", () => {
  it("the same seed gives the same sequence across every method", () => {
    const run = (seed: number) => {
      const r = new SeededRandom(seed);
      return [
        draw(r, 20),
        r.index(7),
        r.pick(["a", "b", "c"]),
        r.bool(),
        [...r.bytes(16)],
        r.hex(8),
        r.fork().int(0, 99),
      ];
    };
    for (const seed of [0, 1, -1, 42, 0x7fffffff, -0x80000000]) expect(run(seed)).toEqual(run(seed));
  });

  it("different seeds give different sequences", () => {
    const seqs = new Set([0, 1, 2, 3, 4, 5, 6, 7].map((s) => draw(new SeededRandom(s), 8).join(",")));
    expect(seqs.size).toBe(8);
  });

  it("remembers its seed", () => {
    expect(new SeededRandom(1234).seed).toBe(1234);
  });

  it("int(min, max) stays within both inclusive bounds and reaches both", () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: -1000, max: 1000 }), fc.nat(50), (seed, min, span) => {
        const r = new SeededRandom(seed);
        for (let i = 0; i < 20; i++) {
          const v = r.int(min, min + span);
          expect(Number.isInteger(v)).toBe(true);
          expect(v).toBeGreaterThanOrEqual(min);
          expect(v).toBeLessThanOrEqual(min + span);
        }
      }),
      { numRuns: 200 },
    );
    const r = new SeededRandom(7);
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) seen.add(r.int(-2, 2));
    expect([...seen].sort((a, b) => a - b)).toEqual([-2, -1, 0, 1, 2]);
    expect(r.int(5, 5)).toBe(5);
  });

  it("index(n) is in [0, n) and pick returns an element; both refuse an empty collection", () => {
    const r = new SeededRandom(3);
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const idx = r.index(4);
      expect(idx).toBeGreaterThanOrEqual(0);
      expect(idx).toBeLessThan(4);
      seen.add(idx);
    }
    expect(seen.size).toBe(4);
    expect(r.index(1)).toBe(0);
    expect(["only"]).toContain(r.pick(["only"]));
    expect(() => r.index(0)).toThrow(RangeError);
    expect(() => r.index(-1)).toThrow(RangeError);
    expect(() => r.pick([])).toThrow(RangeError);
  });

  it("bool honours its probability at the extremes and roughly in between", () => {
    const r = new SeededRandom(11);
    for (let i = 0; i < 200; i++) {
      expect(r.bool(0)).toBe(false);
      expect(r.bool(1)).toBe(true);
    }
    let trues = 0;
    for (let i = 0; i < 4000; i++) if (r.bool(0.25)) trues++;
    expect(trues).toBeGreaterThan(800);
    expect(trues).toBeLessThan(1200);
  });

  it("bytes and hex have the requested length and vary", () => {
    const r = new SeededRandom(5);
    const b = r.bytes(64);
    expect(b).toBeInstanceOf(Uint8Array);
    expect(b.length).toBe(64);
    expect(new Set(b).size).toBeGreaterThan(10);
    expect(r.bytes(0).length).toBe(0);
    const h = r.hex(16);
    expect(h).toMatch(/^[0-9a-f]{32}$/);
  });

  it("fork gives a deterministic child whose stream differs from the parent's", () => {
    const a = new SeededRandom(99);
    const b = new SeededRandom(99);
    const fa = a.fork();
    const fb = b.fork();
    expect(draw(fa, 10)).toEqual(draw(fb, 10));
    expect(draw(a, 10)).toEqual(draw(b, 10));
    const c = new SeededRandom(99);
    const parentNext = (() => {
      c.fork();
      return draw(c, 10);
    })();
    expect(draw(new SeededRandom(99).fork(), 10)).not.toEqual(parentNext);
  });
});

describe("seedList / withSeed", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("gives a stable list of distinct 32-bit seeds per name", () => {
    vi.stubEnv("AERODB_SEED", "");
    vi.stubEnv("AERODB_RUNS", "");
    const a = seedList("some-test", 10);
    expect(a).toEqual(seedList("some-test", 10));
    expect(a.length).toBe(10);
    expect(new Set(a).size).toBe(10);
    for (const s of a) expect(s).toBe(s | 0);
    expect(seedList("other-test", 10)).not.toEqual(a);
  });

  it("AERODB_SEED replays exactly one seed", () => {
    vi.stubEnv("AERODB_SEED", "-12345");
    expect(seedList("some-test", 10)).toEqual([-12345]);
    vi.stubEnv("AERODB_SEED", "abc");
    expect(() => seedList("some-test", 10)).toThrow(/AERODB_SEED/);
  });

  it("AERODB_RUNS multiplies the number of runs and keeps the first ones", () => {
    vi.stubEnv("AERODB_SEED", "");
    vi.stubEnv("AERODB_RUNS", "3");
    const many = seedList("some-test", 4);
    expect(many.length).toBe(12);
    vi.stubEnv("AERODB_RUNS", "");
    expect(many.slice(0, 4)).toEqual(seedList("some-test", 4));
    vi.stubEnv("AERODB_RUNS", "nonsense");
    expect(seedList("some-test", 4).length).toBe(4);
  });

  it("withSeed returns the body's value and passes the seed", async () => {
    expect(await withSeed(17, (s) => s * 2)).toBe(34);
    expect(await withSeed(18, async (s) => `seed ${s}`)).toBe("seed 18");
  });

  it("withSeed names the seed and the replay command when the body fails", async () => {
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      const err = await withSeed(-77, () => {
        throw new Error("boom");
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toContain("AERODB_SEED=-77");
      expect((err as Error).message).toContain("boom");
      const thrownValue = await withSeed(5, async () => {
        throw "not an error";
      }).catch((e: unknown) => e);
      expect(String((thrownValue as Error).message)).toContain("AERODB_SEED=5");
      expect(String((thrownValue as Error).message)).toContain("not an error");
      expect(stderr).toHaveBeenCalledWith(expect.stringContaining("AERODB_SEED=-77"));
    } finally {
      stderr.mockRestore();
    }
  });
});
