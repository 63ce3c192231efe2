// Shared by the orchestrator (bench.mjs) and the child (run-one.mjs): the data set, the sizes of
// each mode, the workload catalogue and small helpers. Nothing here measures anything.
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

export const benchDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const repoRoot = path.resolve(benchDir, "../..");

export const SYSTEMS = ["aerodb", "sqlite", "lmdb", "leveldb", "disk"];
export const PEERS = ["sqlite", "lmdb", "leveldb"];

/**
 * The workloads. `unit` is what `value` counts; `better` says which way is good. Ratios are always
 * AeroDB ÷ other of `value`: above 1 means AeroDB is faster for "higher", slower for "lower".
 */
export const WORKLOADS = {
  1: { title: "durable sequential commits", unit: "commits/s", better: "higher" },
  2: { title: "durable concurrent commits, 64 writers", unit: "commits/s", better: "higher" },
  3: { title: "bulk load, 1,000 docs per durable batch", unit: "docs/s", better: "higher" },
  4: { title: "point reads by primary key, warm store", unit: "reads/s", better: "higher" },
  5: { title: "secondary range query, limit 100", unit: "queries/s", better: "higher" },
  6: { title: "reopen + first read", unit: "ms", better: "lower" },
  7: { title: "replication apply rate and lag", unit: "-", better: "higher" },
};
export const RUNNABLE_WORKLOADS = [1, 2, 3, 4, 5, 6];
/** Workloads whose store is the shared fixture of `docs` documents (built once per system). */
export const FIXTURE_WORKLOADS = new Set([4, 5, 6]);
/**
 * What the disk measures: the machine's limits for 1-3, and for 6 the naive parse floor the restart
 * target is defined against (read every document of the store as JSON lines, parse, key by _id,
 * sort an (age, _id) index). Warm reads (4, 5) come from memory: no disk counterpart.
 */
export const DISK_WORKLOADS = new Set([1, 2, 3, 4, 6]);
export const NOT_APPLICABLE = {
  7: "replication does not exist yet (@aerodb/replication has no implementation)",
  "disk:5": "no disk counterpart: warm reads are served from memory",
};
/** The restart target: reopen <= this times the naive parse floor (AeroDB / disk of workload 6). */
export const RESTART_TARGET = 0.2;
/** The core issue's point-read target: AeroDB point reads >= this many times SQLite's. */
export const POINT_READ_TARGET = 2;

/**
 * Sizes per mode. full = the figures; quick = a reduced set (< 3 min); tiny = the smoke
 * test (seconds, proves the harness works, says nothing about speed).
 */
export const MODES = {
  full: {
    runs: 3,
    seqCommits: 10000,
    seqWarm: 2000,
    writers: 64,
    commitsPerWriter: 200,
    docs: 200_000,
    batch: 1000,
    reads: 200_000,
    queries: 20_000,
    rangeLimit: 100,
    reopenRepeats: 3,
    seqBytes: 256 * 2 ** 20,
    diskRecord: 128,
  },
  quick: {
    runs: 3,
    seqCommits: 600,
    seqWarm: 120,
    writers: 64,
    commitsPerWriter: 40,
    docs: 20_000,
    batch: 1000,
    reads: 50_000,
    queries: 2_000,
    rangeLimit: 100,
    reopenRepeats: 2,
    seqBytes: 64 * 2 ** 20,
    diskRecord: 128,
  },
  tiny: {
    runs: 1,
    seqCommits: 30,
    seqWarm: 6,
    writers: 64,
    commitsPerWriter: 2,
    docs: 600,
    batch: 100,
    reads: 600,
    queries: 50,
    rangeLimit: 100,
    reopenRepeats: 1,
    seqBytes: 2 ** 20,
    diskRecord: 128,
  },
};

// ---- the documents ----------------------------------------------------------------------------

const FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken"];
const LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson"];
const TAGS = ["alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa", "theta"];
const CITIES = ["Lisbon", "Osaka", "Nairobi", "Quito", "Oslo", "Lima", "Accra", "Perth"];

/** A 32-bit integer hash (splitmix-like): ages and names scatter over the ids. */
export function mix(i) {
  let x = (i + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

export const idOf = (i) => `user-${String(i).padStart(8, "0")}`;
export const ageOf = (i) => 18 + (mix(i) % 60);
export const MIN_AGE = 18;
export const MAX_AGE = 77;

/** Document i: ~170 bytes of JSON with an id, an email, an integer age, a name and tags. */
export function docOf(i) {
  const h = mix(i);
  const first = FIRST[h % 8];
  const last = LAST[(h >>> 3) % 8];
  return {
    _id: idOf(i),
    email: `${first.toLowerCase()}.${last.toLowerCase()}.${String(i).padStart(8, "0")}@mailbox.example.org`,
    age: ageOf(i),
    name: `${first} ${FIRST[(h >>> 21) % 8]} ${last} of ${CITIES[(h >>> 12) % 8]}`,
    tags: [
      TAGS[(h >>> 6) % 8],
      TAGS[(h >>> 9) % 8],
      TAGS[(h >>> 18) % 8],
      CITIES[(h >>> 15) % 8].toLowerCase(),
      i % 2 ? "odd" : "even",
    ],
  };
}

/** Deterministic PRNG (mulberry32): every system reads the same keys in the same order. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- small helpers ---------------------------------------------------------------------------

export const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length === 0 ? Number.NaN : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export const round = (x, digits = 0) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : x);

/** Significant-digit rounding for ratios and figures of any magnitude. */
export const sig = (x, digits = 3) => (Number.isFinite(x) && x !== 0 ? Number(x.toPrecision(digits)) : x);

export function readJson(file) {
  return JSON.parse(fs.readFileSync(file, "utf8"));
}

/** /proc/self/io counters (Linux): bytes handed to write(2)-like calls and their number. */
export function procIo() {
  try {
    const text = fs.readFileSync("/proc/self/io", "utf8");
    const get = (k) => Number(new RegExp(`^${k}: (\\d+)`, "m").exec(text)?.[1] ?? Number.NaN);
    return { wchar: get("wchar"), syscw: get("syscw") };
  } catch {
    return null;
  }
}

export function parseList(text, allowed, what) {
  if (text === undefined) return null;
  const items = text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const item of items) {
    if (!allowed.map(String).includes(item)) {
      throw new Error(`unknown ${what} "${item}" (one of: ${allowed.join(", ")})`);
    }
  }
  return items;
}
