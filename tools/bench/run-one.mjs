// One measurement in a fresh process: one system, one workload, one run. Prints one JSON line.
//
//   node tools/bench/run-one.mjs --system aerodb|sqlite|lmdb|leveldb|disk --workload 1..6|prepare
//        --dir DIR [--mode full|quick|tiny] [--keep] [--evict] [--aerodb-perf JSON] [--run N]
//
// --dir is a fresh directory for workloads 1-3 and "prepare" (which loads the store and keeps it:
// the fixture of 4-6), and the fixture itself for 4-6 (for the disk, a fresh directory for 1-4 and
// 6). --keep leaves the store of workload 3 in place. --evict lets workload 6 write
// /proc/sys/vm/drop_caches for its cold open.
// bench.mjs spawns this; it is usable by hand to look at one figure.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import {
  DISK_WORKLOADS,
  docOf,
  idOf,
  MAX_AGE,
  MIN_AGE,
  MODES,
  median,
  prng,
  procIo,
  repoRoot,
  SYSTEMS,
  WORKLOADS,
} from "./lib/common.mjs";

const { values: args } = parseArgs({
  options: {
    system: { type: "string" },
    workload: { type: "string" },
    dir: { type: "string" },
    mode: { type: "string", default: "full" },
    run: { type: "string", default: "0" },
    keep: { type: "boolean", default: false },
    evict: { type: "boolean", default: false },
    "aerodb-perf": { type: "string" },
  },
});

const fail = (message) => {
  process.stdout.write(`${JSON.stringify({ ok: false, error: message })}\n`);
  process.exit(1);
};
if (!SYSTEMS.includes(args.system)) fail(`--system must be one of ${SYSTEMS.join(", ")}`);
if (!["1", "2", "3", "4", "5", "6", "prepare"].includes(args.workload))
  fail("--workload must be 1..6 or prepare");
if (!args.dir) fail("--dir is required");
const P = MODES[args.mode];
if (!P) fail(`--mode must be one of ${Object.keys(MODES).join(", ")}`);
const dir = path.resolve(args.dir);
const perf = args["aerodb-perf"] ? JSON.parse(args["aerodb-perf"]) : undefined;

const now = () => process.hrtime.bigint();
const secsSince = (t0) => Number(now() - t0) / 1e9;
const msSince = (t0) => Number(now() - t0) / 1e6;
const maybeAwait = async (x) => (x instanceof Promise ? await x : x);
/** bench.mjs starts children with --expose-gc: collect before a timed section, for every system alike. */
const collect = () => globalThis.gc?.();

/** The native modules this process has mapped, relative to the repository (which binary ran). */
function nativeBinaries() {
  try {
    const maps = fs.readFileSync("/proc/self/maps", "utf8");
    const files = new Set();
    for (const line of maps.split("\n")) {
      const m = /\s(\/\S+\.node)$/.exec(line);
      if (m) files.add(path.relative(repoRoot, fs.realpathSync(m[1])));
    }
    return [...files].sort();
  } catch {
    return [];
  }
}

/** Bytes of the files under `dir` (apparent size). */
function duBytes(dir) {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) n += duBytes(p);
    else if (e.isFile()) n += fs.statSync(p).size;
  }
  return n;
}

const fnv = (h, text) => {
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return h;
};

// ---- the database workloads ------------------------------------------------------------------

async function loadSystem() {
  return import(`./lib/systems/${args.system}.mjs`);
}

/** Measures `body` with /proc/self/io and (AeroDB) WAL counters around it. */
async function measured(store, ops, body) {
  collect();
  const io0 = procIo();
  const wal0 = store.walStats?.();
  const t0 = now();
  const extra = (await body()) ?? {};
  const seconds = secsSince(t0);
  const io1 = procIo();
  const wal1 = store.walStats?.();
  const out = { seconds, ops, extra };
  if (io0 && io1) {
    out.io = {
      wchar_per_op: (io1.wchar - io0.wchar) / ops,
      write_syscalls_per_op: (io1.syscw - io0.syscw) / ops,
    };
  }
  if (wal0 && wal1) {
    const units = wal1.units_appended - wal0.units_appended;
    out.aerodb_wal = {
      units,
      bytes_per_commit: (wal1.bytes_written - wal0.bytes_written) / units,
      fsyncs_per_commit: (wal1.fsyncs - wal0.fsyncs) / units,
      write_calls_per_commit: (wal1.write_calls - wal0.write_calls) / units,
    };
  }
  return out;
}

async function freshStore(sys) {
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) fail(`${dir} is not empty`);
  return sys.openStore(dir, { create: true, perf });
}

/** Commit latencies (call to durable acknowledgement), in µs: p50 and p99. */
function latencyStats(ns) {
  const sorted = Float64Array.from(ns).sort();
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] / 1000;
  return { latency_p50_us: at(0.5), latency_p99_us: at(0.99) };
}

async function sequentialCommits(sys) {
  const store = await freshStore(sys);
  let next = 0;
  // Untimed warm-up long enough for every system to reach its steady state: a JIT-compiled
  // engine optimizes its commit path over its first ~1-2 thousand commits, and measuring that
  // as throughput would compare compile time, not commits (SQLite is compiled ahead of time).
  for (let k = 0; k < P.seqWarm; k++) await store.insert(docOf(next++));
  const n = P.seqCommits;
  const lat = new Float64Array(n);
  const r = await measured(store, n, async () => {
    for (let k = 0; k < n; k++) {
      const t = now();
      await store.insert(docOf(next++));
      lat[k] = Number(now() - t);
    }
  });
  Object.assign(r.extra, latencyStats(lat));
  return { r, store };
}

async function concurrentCommits(sys) {
  const store = await freshStore(sys);
  let next = 0;
  await Promise.all(Array.from({ length: P.writers }, () => store.insert(docOf(next++))));
  const n = P.writers * P.commitsPerWriter;
  const lat = new Float64Array(n);
  let done = 0;
  const writer = async () => {
    for (let k = 0; k < P.commitsPerWriter; k++) {
      const t = now();
      await store.insert(docOf(next++));
      lat[done++] = Number(now() - t);
    }
  };
  const r = await measured(store, n, async () => {
    await Promise.all(Array.from({ length: P.writers }, writer));
  });
  Object.assign(r.extra, latencyStats(lat));
  return { r, store };
}

async function bulkLoad(sys) {
  const store = await freshStore(sys);
  const r = await measured(store, P.docs, async () => {
    for (let start = 0; start < P.docs; start += P.batch) {
      const end = Math.min(P.docs, start + P.batch);
      const batch = new Array(end - start);
      for (let i = start; i < end; i++) batch[i - start] = docOf(i);
      await store.insertBatch(batch);
    }
    return { batches: Math.ceil(P.docs / P.batch), batch_docs: P.batch };
  });
  return { r, store };
}

async function openFixture(sys) {
  const t0 = now();
  const store = await sys.openStore(dir, { create: false, perf });
  return { store, openMs: msSince(t0) };
}

async function pointReads(sys) {
  const { store, openMs } = await openFixture(sys);
  // Warm: every document read once, in key order (the page cache and the process both warm).
  for (let i = 0; i < P.docs; i++) {
    const doc = await maybeAwait(store.get(idOf(i)));
    if (doc?._id !== idOf(i)) throw new Error(`warm-up: ${idOf(i)} missing from the fixture`);
  }
  const rand = prng(42);
  const n = P.reads;
  const r = await measured(store, n, async () => {
    let missing = 0;
    for (let k = 0; k < n; k++) {
      const id = idOf(Math.floor(rand() * P.docs));
      let doc = store.get(id);
      if (doc instanceof Promise) doc = await doc;
      if (doc === undefined || doc._id !== id) missing++;
    }
    if (missing > 0) throw new Error(`${missing} point reads found nothing`);
    return { open_ms: openMs, store_docs: P.docs };
  });
  return { r, store };
}

async function rangeQueries(sys) {
  const { store, openMs } = await openFixture(sys);
  const span = 2; // age between a and a + 2: three of the 60 ages, ~5% of the store
  const pick = (rand) => MIN_AGE + Math.floor(rand() * (MAX_AGE - MIN_AGE - span + 1));
  const warmRand = prng(7);
  for (let k = 0; k < Math.min(1000, P.queries); k++) {
    const lo = pick(warmRand);
    await maybeAwait(store.range(lo, lo + span, P.rangeLimit));
  }
  const rand = prng(99);
  const n = P.queries;
  const r = await measured(store, n, async () => {
    let rows = 0;
    let digest = 2166136261;
    for (let k = 0; k < n; k++) {
      const lo = pick(rand);
      let res = store.range(lo, lo + span, P.rangeLimit);
      if (res instanceof Promise) res = await res;
      rows += res.length;
      if (k % 64 === 0) for (const doc of res) digest = fnv(digest, doc._id);
    }
    // Every system must return the same rows in the same (age, _id) order: bench.mjs compares.
    return { rows_per_query: rows / n, result_digest: digest.toString(16), open_ms: openMs };
  });
  return { r, store };
}

async function reopen(sys) {
  const id = idOf(Math.floor(P.docs / 2));
  const openAndRead = async () => {
    collect();
    const t0 = now();
    const store = await sys.openStore(dir, { create: false, perf });
    const doc = await maybeAwait(store.get(id));
    const ms = msSince(t0);
    if (doc?._id !== id) throw new Error(`first read after reopen: ${id} missing`);
    return { store, ms };
  };
  // The first open of this process warms the code paths and the page cache; not recorded.
  const first = await openAndRead();
  const settings = first.store.settings();
  await first.store.close();
  const warm = [];
  for (let k = 0; k < P.reopenRepeats; k++) {
    const x = await openAndRead();
    warm.push(x.ms);
    await x.store.close();
  }
  let cold = null;
  let coldNote = null;
  if (args.evict) {
    try {
      execFileSync("sync");
      fs.writeFileSync("/proc/sys/vm/drop_caches", "3");
    } catch (err) {
      coldNote = `not measured: could not write /proc/sys/vm/drop_caches (${err.code ?? err.message})`;
    }
    if (coldNote === null) {
      const x = await openAndRead();
      cold = x.ms;
      await x.store.close();
    }
  } else {
    coldNote = "not measured: page-cache eviction not requested (--no-evict or --tiny)";
  }
  const seconds = median(warm) / 1000;
  const storeBytes = duBytes(dir);
  const walDir = path.join(dir, "wal");
  const walMib = args.system === "aerodb" && fs.existsSync(walDir) ? duBytes(walDir) / 2 ** 20 : null;
  const afterCheckpoint = args.system === "aerodb" ? await reopenAfterCheckpoint(sys, openAndRead) : {};
  return {
    r: {
      seconds,
      ops: 1,
      extra: {
        warm_ms: warm,
        cold_ms: cold,
        cold_note: coldNote,
        store_mib: storeBytes / 2 ** 20,
        ...(walMib ? { wal_mib: walMib, reopen_ms_per_wal_mib: median(warm) / walMib } : {}),
        ...afterCheckpoint,
      },
    },
    store: null,
    settings,
  };
}

/**
 * AeroDB only, after the warm and cold reopens: the same store reopened after a checkpoint. A
 * database records its data_dir and refuses to open elsewhere, so the copy takes the fixture's
 * place: the fixture is renamed aside and copied back to its path (untimed), the copy is opened,
 * checkpointed (snapshot written, WAL truncated) and closed, then opened + first read like above
 * (one untimed warm-up, then P.reopenRepeats timed). The copy is removed afterwards and the
 * untouched fixture renamed back.
 */
async function reopenAfterCheckpoint(sys, openAndRead) {
  const saved = `${dir}.fixture-${process.pid}`;
  fs.renameSync(dir, saved);
  try {
    fs.cpSync(saved, dir, { recursive: true });
    const store = await sys.openStore(dir, { create: false, perf });
    if (typeof store.checkpoint !== "function") throw new Error(`${args.system} has no checkpoint()`);
    const t0 = now();
    await store.checkpoint();
    const checkpointMs = msSince(t0);
    await store.close();
    const first = await openAndRead();
    await first.store.close();
    const times = [];
    for (let k = 0; k < P.reopenRepeats; k++) {
      const x = await openAndRead();
      times.push(x.ms);
      await x.store.close();
    }
    const walDir = path.join(dir, "wal");
    return {
      after_checkpoint_ms: times,
      after_checkpoint_median_ms: median(times),
      checkpoint_ms: checkpointMs,
      after_checkpoint_store_mib: duBytes(dir) / 2 ** 20,
      after_checkpoint_wal_mib: fs.existsSync(walDir) ? duBytes(walDir) / 2 ** 20 : 0,
      after_checkpoint_what:
        "a copy of the store, checkpointed (db.checkpoint()) and closed, then open + first read: " +
        `1 untimed, ${P.reopenRepeats} timed (median)`,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(saved, dir);
  }
}

// ---- the disk ---------------------------------------------------------------------------------

const byAgeThenId = (x, y) => x[0] - y[0] || (x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0);

/**
 * Workload 6's floor: the restart target is "reopen <= 0.2x the time of naively parsing every
 * document of the same data". The same P.docs documents as JSON lines (written untimed), then,
 * timed: readFileSync, split into lines, JSON.parse each, a Map by _id, an (age, _id) index built
 * by pushing the pairs and sorting them, and the first read (the Map). One untimed warm-up like
 * AeroDB's reopen, then P.reopenRepeats timed; the median is the figure. Beside it, in `extra`,
 * the verify floor (disk.verifyFloor): what checking the CRC of every frame of AeroDB's log alone
 * costs for the same documents, the least any restart that verifies that log can cost.
 */
function naiveParse(disk) {
  const file = path.join(dir, "docs.jsonl");
  const fd = fs.openSync(file, "w");
  for (let start = 0; start < P.docs; start += 1000) {
    const lines = [];
    for (let i = start; i < Math.min(P.docs, start + 1000); i++) lines.push(JSON.stringify(docOf(i)));
    fs.writeSync(fd, `${lines.join("\n")}\n`);
  }
  fs.closeSync(fd);
  const id = idOf(Math.floor(P.docs / 2));
  const parseAll = () => {
    collect();
    const t0 = now();
    const text = fs.readFileSync(file, "utf8");
    const lines = text.split("\n");
    const byId = new Map();
    const byAge = [];
    for (const line of lines) {
      if (line.length === 0) continue;
      const doc = JSON.parse(line);
      byId.set(doc._id, doc);
      byAge.push([doc.age, doc._id]);
    }
    byAge.sort(byAgeThenId);
    const doc = byId.get(id);
    const ms = msSince(t0);
    if (byId.size !== P.docs || byAge.length !== P.docs) throw new Error(`parsed ${byId.size} documents`);
    if (doc?._id !== id) throw new Error(`first read after the parse: ${id} missing`);
    return ms;
  };
  parseAll(); // warm-up, not recorded
  const warm = [];
  for (let k = 0; k < P.reopenRepeats; k++) warm.push(parseAll());
  const verify = disk.verifyFloor(dir, P.docs, P.reopenRepeats);
  return {
    seconds: median(warm) / 1000,
    ops: 1,
    extra: {
      what:
        `naive parse floor: readFileSync of ${P.docs} documents as JSON lines (utf8), split into lines, ` +
        "JSON.parse each, a Map by _id, [age, _id] pairs pushed and sorted (numbers, then code units), " +
        `one Map lookup; 1 untimed, ${P.reopenRepeats} timed (median)`,
      warm_ms: warm,
      file_mib: fs.statSync(file).size / 2 ** 20,
      cold_note: "not measured: the naive parse floor is timed with its file in the page cache only",
      verify_floor_ms: verify.ms,
      verify_floor_warm_ms: verify.warm_ms,
      verify_floor_file_mib: verify.file_mib,
      verify_floor_what:
        `verify floor: the same ${P.docs} documents as AeroDB's WAL frames (BEGIN, VERSION, COMMIT each), ` +
        "readFileSync and the CRC-32 of every frame checked (@aerodb/wal's crc32, as AeroDB's reader), " +
        "no id decoded, no map or index; " +
        `1 untimed, ${P.reopenRepeats} timed (median)`,
    },
  };
}

async function diskWorkload(n) {
  const disk = await import("./lib/systems/disk.mjs");
  fs.mkdirSync(dir, { recursive: true });
  if (n === 1) {
    const a = disk.appendSync(dir, P.seqCommits, P.diskRecord);
    const o = disk.overwriteSync(dir, P.seqCommits, P.diskRecord);
    const c = await disk.overwriteAsync(dir, P.seqCommits);
    return {
      seconds: a.seconds,
      ops: a.ops,
      extra: {
        what: `append ${P.diskRecord} B + fdatasyncSync`,
        fsyncs_per_op: a.fsyncs / a.ops,
        overwrite_per_s: o.ops / o.seconds,
        overwrite_what: `overwrite ${P.diskRecord} B of a preallocated fsynced file + fdatasyncSync`,
        async_overwrite_per_s: c.ops / c.seconds,
        async_overwrite_what:
          `AeroDB's baseline commit I/O without the database: ${c.writes_per_op} writeSync ` +
          `(${disk.AERODB_COMMIT_FRAMES.join(" + ")} = ${c.bytes_per_op} B, its WAL frames) in place on a ` +
          "preallocated, zero-filled, fsynced file + fs.fdatasync awaited through its callback (the loop not blocked)",
      },
    };
  }
  if (n === 6) return naiveParse(disk);
  if (n === 4) {
    // The documents the databases' workload 4 reads, in the same order (prng(42)).
    const rand = prng(42);
    const f = disk.readFloor(dir, P.docs, P.reads, () => Math.floor(rand() * P.docs));
    return {
      seconds: f.seconds,
      ops: f.ops,
      extra: {
        what:
          `the floor of a point read from the file: ${P.docs} documents as frames (u32 length | JSON | ` +
          "CRC-32) in one file; per read readSync of the frame, zlib.crc32, toString, JSON.parse; offsets " +
          "in an array by document number (no lookup); warmed by reading every frame once",
        file_mib: f.file_mib,
      },
    };
  }
  if (n === 2) {
    const g = await disk.groupCommit(dir, P.writers, P.commitsPerWriter, P.diskRecord);
    return {
      seconds: g.seconds,
      ops: g.ops,
      extra: {
        what: `group commit, ${P.writers} writers x ${P.commitsPerWriter}, ${P.diskRecord} B records`,
        fsyncs: g.fsyncs,
        commits_per_fsync: g.ops / g.fsyncs,
      },
    };
  }
  const b = disk.sequentialBandwidth(dir, P.seqBytes);
  const bytesPerSec = b.bytes / b.seconds;
  // Expressed as documents: how fast the disk absorbs the documents' bytes, written sequentially.
  return {
    seconds: b.seconds,
    ops: b.bytes / disk.MEAN_DOC_BYTES,
    extra: {
      what: `sequential write ${b.bytes / 2 ** 20} MiB in 1 MiB writes + one fdatasync`,
      mib_per_s: bytesPerSec / 2 ** 20,
      mean_doc_bytes: disk.MEAN_DOC_BYTES,
    },
  };
}

// ---- main -------------------------------------------------------------------------------------

const DB_WORKLOADS = {
  1: sequentialCommits,
  2: concurrentCommits,
  3: bulkLoad,
  4: pointReads,
  5: rangeQueries,
  6: reopen,
  prepare: bulkLoad,
};

try {
  let result;
  let settings = null;
  let versions;
  if (args.system === "disk") {
    const n = Number(args.workload);
    if (!DISK_WORKLOADS.has(n)) fail(`the disk has workloads ${[...DISK_WORKLOADS].join(", ")} only`);
    result = await diskWorkload(n);
    versions = (await import("./lib/systems/disk.mjs")).versions();
    fs.rmSync(dir, { recursive: true, force: true });
  } else {
    const sys = await loadSystem();
    versions = sys.versions();
    const out = await DB_WORKLOADS[args.workload](sys);
    result = out.r;
    settings = out.settings ?? out.store?.settings() ?? null;
    if (out.store) await out.store.close();
    const scratch = ["1", "2"].includes(args.workload) || (args.workload === "3" && !args.keep);
    if (scratch) fs.rmSync(dir, { recursive: true, force: true });
  }
  const w = WORKLOADS[args.workload] ?? { unit: "docs/s" };
  const value = args.workload === "6" ? result.seconds * 1000 : result.ops / result.seconds;
  const report = {
    ok: true,
    system: args.system,
    workload: args.workload,
    mode: args.mode,
    run: Number(args.run),
    value,
    unit: w.unit,
    seconds: result.seconds,
    ops: result.ops,
    rss_mib: process.resourceUsage().maxRSS / 1024,
    extra: result.extra,
    ...(result.io ? { io: result.io } : {}),
    ...(result.aerodb_wal ? { aerodb_wal: result.aerodb_wal } : {}),
    versions,
    settings,
    native_binaries: nativeBinaries(),
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
} catch (err) {
  fail(err?.stack ?? String(err));
}
