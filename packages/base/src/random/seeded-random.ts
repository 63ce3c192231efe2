import { type RandomGenerator, unsafeUniformIntDistribution, xoroshiro128plus } from "pure-rand";

/**
 * The only source of randomness AeroDB's code may use: seeded, so every run can be
 * replayed from its seed. Decisions never read Math.random or the clock.
 */
export class SeededRandom {
  private readonly rng: RandomGenerator;

  constructor(readonly seed: number) {
    this.rng = xoroshiro128plus(seed | 0);
  }

  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return unsafeUniformIntDistribution(min, max, this.rng);
  }

  /** An index into a collection of `length` items. */
  index(length: number): number {
    if (length <= 0) throw new RangeError("index() needs a non-empty collection");
    return this.int(0, length - 1);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.index(items.length)] as T;
  }

  bool(probabilityTrue = 0.5): boolean {
    return this.int(0, 999_999) < probabilityTrue * 1_000_000;
  }

  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.int(0, 255);
    return out;
  }

  /** Lower-case hex of `byteCount` random bytes (database ids and the like). */
  hex(byteCount: number): string {
    return Buffer.from(this.bytes(byteCount)).toString("hex");
  }

  /** A new independent generator, derived deterministically from this one. */
  fork(): SeededRandom {
    return new SeededRandom(this.int(-0x80000000, 0x7fffffff));
  }
}
