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
  const count = baseRuns * runsMultiplier();
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

/** AERODB_RUNS: how many times the usual amount of randomized work a test does (at least 1). */
export function runsMultiplier(): number {
  return Math.max(1, Number(process.env.AERODB_RUNS ?? "1") || 1);
}

/**
 * One seeded property check: the seed from seedList(name, 1) (AERODB_SEED replays it), `baseRuns`
 * cases scaled by AERODB_RUNS, the seed printed first; `check` runs the property with them (e.g.
 * `fc.assert(property, { seed, numRuns })`), and a failure names the seed and the replay command.
 */
export async function seededProperty(
  name: string,
  baseRuns: number,
  check: (seed: number, numRuns: number) => unknown,
): Promise<void> {
  const numRuns = baseRuns * runsMultiplier();
  for (const seed of seedList(name, 1)) {
    process.stdout.write(`${name}: seed ${seed}, ${numRuns} runs\n`);
    await withSeed(seed, () => check(seed, numRuns));
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
