/**
 * Seeded test runs. Every randomized test draws its seeds here so that:
 * - AERODB_SEED=<n> replays exactly one run with that seed;
 * - AERODB_RUNS=<k> multiplies the number of runs (long campaigns);
 * - a failing run names its seed and how to replay it.
 */
export function seedList(name: string, baseRuns: number): number[] {
  const fixed = process.env.AERODB_SEED;
  if (fixed !== undefined && fixed !== "") {
    const seed = Number(fixed);
    if (!Number.isSafeInteger(seed)) throw new Error(`AERODB_SEED must be an integer, got '${fixed}'`);
    return [seed];
  }
  const multiplier = Math.max(1, Number(process.env.AERODB_RUNS ?? "1") || 1);
  const count = baseRuns * multiplier;
  const start = stableHash(name);
  return Array.from({ length: count }, (_, i) => (start + i * 7919) | 0);
}

/** Runs `body` for one seed; on failure the error names the seed and the replay command. */
export async function withSeed<T>(seed: number, body: (seed: number) => Promise<T> | T): Promise<T> {
  try {
    return await body(seed);
  } catch (err) {
    const message = `seed ${seed} failed (replay: AERODB_SEED=${seed})`;
    process.stderr.write(`${message}\n`);
    if (err instanceof Error) {
      err.message = `${message}: ${err.message}`;
      throw err;
    }
    throw new Error(`${message}: ${String(err)}`);
  }
}

function stableHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 1;
}
