// Micro-benchmark of durable WAL appends on the real disk (not a test: it asserts nothing).
//
//   node tools/bench-wal/bench-wal.mjs [--quick] [--ops N] [--runs N]      (pnpm bench:wal)
//
// In one process, with the runs of the four workloads interleaved round by round so that drift of
// the machine hits all of them alike:
//   (a) raw-sync    fs.writeSync(128 B, append) + fs.fdatasyncSync per record
//   (b) raw-async   fs.write + fs.fdatasync callbacks, one awaited pair per record
//   (c) wal-seq     @aerodb/wal WalWriter (NodeFileSystem, openWal): one durable unit at a time,
//                   each unit = BEGIN + 1 VERSION record (a ~170 B JSON document) + COMMIT
//   (d) wal-64      the same with 64 concurrent appenders, baseline flush policy (one fsync per unit)
// Prints a table and writes bench/results/wal-latest.json. Needs `pnpm build` (it imports dist/).
// Absolute numbers are machine-specific; compare the ratios measured in one run.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { NodeFileSystem } from "@aerodb/base";
import { FrameKind, openWal } from "@aerodb/wal";

const USAGE = "usage: node tools/bench-wal/bench-wal.mjs [--quick] [--ops N] [--runs N]";
const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    ops: { type: "string" },
    runs: { type: "string" },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const positiveInt = (text, name) => {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) {
    console.error(`--${name} must be a positive integer\n${USAGE}`);
    process.exit(2);
  }
  return n;
};
const OPS = values.ops ? positiveInt(values.ops, "ops") : values.quick ? 300 : 4000;
const RUNS = values.runs ? positiveInt(values.runs, "runs") : values.quick ? 3 : 5;
const WARMUP_OPS = Math.min(200, OPS);
const CONCURRENCY = 64;
const RAW_RECORD_BYTES = 128;
const SEGMENT_BYTES = 64 * 1024 * 1024; // core.wal_segment_bytes default: no roll inside a run
const DATABASE_ID = "bec4a1000000000000000000000000a1";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const resultsDir = path.join(repoRoot, "bench", "results");
const resultFile = path.join(resultsDir, "wal-latest.json");

// ---- where the files go: the repository's own file system -----------------------------------

const scratchRoot = path.join(repoRoot, ".bench-tmp"); // in .gitignore
const repoDev = fs.statSync(repoRoot).dev;
const tmpdirSameDevice = fs.statSync(os.tmpdir()).dev === repoDev;
fs.mkdirSync(scratchRoot, { recursive: true });
const scratch = fs.mkdtempSync(path.join(scratchRoot, "wal-"));
if (fs.statSync(scratch).dev !== repoDev) throw new Error(`${scratch} is not on the repository's device`);
let scratchCounter = 0;
const freshDir = (label) => {
  const dir = path.join(scratch, `${String(++scratchCounter).padStart(3, "0")}-${label}`);
  fs.mkdirSync(dir);
  return dir;
};
const cleanup = () => {
  fs.rmSync(scratch, { recursive: true, force: true });
  try {
    fs.rmdirSync(scratchRoot); // only if no other run is using it
  } catch {}
};

// ---- the workloads ---------------------------------------------------------------------------

const enc = new TextEncoder();
/** A ~170-byte JSON document, different for every op (encoding is part of the measured cost). */
function docBytes(i) {
  const n = String(i).padStart(6, "0");
  return enc.encode(
    JSON.stringify({
      _id: `user-${n}`,
      v: 1,
      name: `User Number ${n}`,
      email: `user.${n}@example.com`,
      age: 18 + (i % 60),
      city: ["Lisbon", "Osaka", "Nairobi", "Quito"][i % 4],
      active: i % 3 !== 0,
      tags: ["alpha", "beta", `t${i % 10}`],
      score: (i * 7919) % 1000,
    }),
  );
}
const SAMPLE_DOC_BYTES = docBytes(123456).length;

const callback = (fn) => new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));

/** (a) raw append + fdatasyncSync: the floor of one durable append, no thread-pool hop. */
async function rawSync(ops) {
  const file = path.join(freshDir("raw-sync"), "log.bin");
  const fd = fs.openSync(file, "a");
  const record = Buffer.alloc(RAW_RECORD_BYTES, 0x61);
  const start = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) {
    fs.writeSync(fd, record);
    fs.fdatasyncSync(fd);
  }
  const ns = process.hrtime.bigint() - start;
  fs.closeSync(fd);
  return { ns, bytes: ops * RAW_RECORD_BYTES, fsyncs: ops };
}

/** (b) raw append with the callback API: two thread-pool hops (write, fdatasync) per record. */
async function rawAsync(ops) {
  const file = path.join(freshDir("raw-async"), "log.bin");
  const fd = fs.openSync(file, "a");
  const record = Buffer.alloc(RAW_RECORD_BYTES, 0x62);
  const start = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) {
    await callback((cb) => fs.write(fd, record, 0, record.length, null, cb));
    await callback((cb) => fs.fdatasync(fd, cb));
  }
  const ns = process.hrtime.bigint() - start;
  fs.closeSync(fd);
  return { ns, bytes: ops * RAW_RECORD_BYTES, fsyncs: ops };
}

async function openBenchWal(label) {
  const dataDir = freshDir(label);
  const walDir = path.join(dataDir, "wal");
  fs.mkdirSync(walDir);
  const { writer } = await openWal(new NodeFileSystem(), walDir, {
    databaseId: DATABASE_ID,
    segmentBytes: SEGMENT_BYTES,
  });
  return writer;
}

const unitOf = (commitId, i) => ({
  commitId,
  records: [{ kind: FrameKind.VERSION, payload: docBytes(i) }],
});

/** What the writer did since `before` (its first unit, which also created the segment, excluded). */
function walOutcome(writer, before, ns) {
  const s = writer.stats();
  return {
    ns,
    bytes: s.bytesWritten - before.bytesWritten,
    fsyncs: s.fsyncs - before.fsyncs,
    writeCalls: s.writeCalls - before.writeCalls,
    units: s.unitsAppended - before.unitsAppended,
  };
}

/** (c) WalWriter, one durable unit at a time. */
async function walSequential(ops) {
  const writer = await openBenchWal("wal-seq");
  // The segment is created by the first append; do it before the clock starts.
  await writer.appendUnit(unitOf(writer.expectedCommitId, 0));
  const before = writer.stats();
  const start = process.hrtime.bigint();
  for (let i = 1; i <= ops; i++) await writer.appendUnit(unitOf(writer.expectedCommitId, i));
  const ns = process.hrtime.bigint() - start;
  const out = walOutcome(writer, before, ns);
  await writer.close();
  return out;
}

/** (d) WalWriter with 64 appenders, each awaiting its own units; baseline policy. */
async function walConcurrent(ops) {
  const writer = await openBenchWal("wal-64");
  await writer.appendUnit(unitOf(writer.expectedCommitId, 0));
  const before = writer.stats();
  let next = 1;
  const appender = async () => {
    while (next <= ops) {
      const i = next++;
      // appendUnit fixes the commit id and LSNs synchronously, in call order.
      await writer.appendUnit(unitOf(writer.expectedCommitId, i));
    }
  };
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: CONCURRENCY }, appender));
  const ns = process.hrtime.bigint() - start;
  const out = walOutcome(writer, before, ns);
  await writer.close();
  return out;
}

const WORKLOADS = [
  { id: "a", name: "raw-sync", what: "writeSync 128 B + fdatasyncSync", run: rawSync },
  { id: "b", name: "raw-async", what: "fs.write + fs.fdatasync callbacks, awaited", run: rawAsync },
  { id: "c", name: "wal-seq", what: "WalWriter, 1 unit at a time (1 VERSION ~170 B)", run: walSequential },
  {
    id: "d",
    name: "wal-64",
    what: `WalWriter, ${CONCURRENCY} concurrent appenders, baseline`,
    run: walConcurrent,
  },
];

// ---- run ---------------------------------------------------------------------------------------

const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const round = (x, digits = 0) => Number(x.toFixed(digits));

const samples = Object.fromEntries(WORKLOADS.map((w) => [w.name, []]));
try {
  console.log(
    `bench:wal  ${OPS} ops x ${RUNS} runs per workload${values.quick ? " (--quick)" : ""}, ` +
      `scratch ${path.relative(repoRoot, scratch)} (os.tmpdir() same device: ${tmpdirSameDevice})`,
  );
  for (const w of WORKLOADS) await w.run(WARMUP_OPS); // warm-up, not recorded
  for (let r = 0; r < RUNS; r++) {
    for (const w of WORKLOADS) {
      const out = await w.run(OPS);
      samples[w.name].push({ ...out, ns: Number(out.ns), opsPerSec: OPS / (Number(out.ns) / 1e9) });
    }
    process.stdout.write(`  round ${r + 1}/${RUNS} done\n`);
  }
} finally {
  cleanup();
}

const summary = {};
for (const w of WORKLOADS) {
  const runs = samples[w.name];
  const rates = runs.map((s) => s.opsPerSec);
  const totalOps = OPS * runs.length;
  const sum = (k) => runs.reduce((n, s) => n + (s[k] ?? 0), 0);
  summary[w.name] = {
    id: w.id,
    what: w.what,
    median_ops_per_sec: round(median(rates)),
    min_ops_per_sec: round(Math.min(...rates)),
    max_ops_per_sec: round(Math.max(...rates)),
    median_us_per_op: round(1e6 / median(rates), 1),
    bytes_per_op: round(sum("bytes") / totalOps, 1),
    fsyncs_per_op: round(sum("fsyncs") / totalOps, 3),
    ...(w.name.startsWith("wal")
      ? { write_calls_per_unit: round(sum("writeCalls") / totalOps, 2), units: sum("units") }
      : {}),
    runs_ops_per_sec: rates.map((x) => round(x)),
  };
}
const med = (name) => summary[name].median_ops_per_sec;
const ratios = {
  "c/a": round(med("wal-seq") / med("raw-sync"), 3),
  "c/b": round(med("wal-seq") / med("raw-async"), 3),
  "d/a": round(med("wal-64") / med("raw-sync"), 3),
  "d/c": round(med("wal-64") / med("wal-seq"), 3),
};

const cpus = os.cpus();
const machine = {
  node: process.version,
  platform: `${os.platform()} ${os.release()}`,
  cpus: cpus.length,
  cpu_model: cpus[0]?.model ?? "unknown",
  total_mem_gib: round(os.totalmem() / 2 ** 30, 1),
};
const result = {
  bench: "wal",
  measured_at: new Date().toISOString(),
  machine,
  config: {
    quick: values.quick,
    ops_per_run: OPS,
    runs: RUNS,
    warmup_ops: WARMUP_OPS,
    concurrency: CONCURRENCY,
    raw_record_bytes: RAW_RECORD_BYTES,
    version_payload_bytes: SAMPLE_DOC_BYTES,
    segment_bytes: SEGMENT_BYTES,
    scratch_dir: path.relative(repoRoot, scratchRoot),
    tmpdir_same_device: tmpdirSameDevice,
  },
  workloads: summary,
  ratios,
  note: "Machine-specific absolute numbers; compare the ratios of one run.",
};
fs.mkdirSync(resultsDir, { recursive: true });
fs.writeFileSync(resultFile, `${JSON.stringify(result, null, 2)}\n`);

// ---- table ---------------------------------------------------------------------------------------

const rows = [
  ["", "workload", "median ops/s", "min", "max", "µs/op", "bytes/op", "fsyncs/op"],
  ...WORKLOADS.map((w) => {
    const s = summary[w.name];
    return [
      `(${w.id})`,
      w.what,
      String(s.median_ops_per_sec),
      String(s.min_ops_per_sec),
      String(s.max_ops_per_sec),
      String(s.median_us_per_op),
      String(s.bytes_per_op),
      String(s.fsyncs_per_op),
    ];
  }),
];
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
const line = (r) =>
  r.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  ");
console.log();
console.log(line(rows[0]));
console.log(widths.map((n) => "-".repeat(n)).join("  "));
for (const r of rows.slice(1)) console.log(line(r));
console.log();
console.log(
  `ratios (medians): c/a ${ratios["c/a"]}  c/b ${ratios["c/b"]}  d/a ${ratios["d/a"]}  d/c ${ratios["d/c"]}`,
);
console.log(
  `WalWriter.stats(): ${summary["wal-seq"].bytes_per_op} bytes, ${summary["wal-seq"].fsyncs_per_op} fsyncs, ` +
    `${summary["wal-seq"].write_calls_per_unit} write calls per unit (c); ` +
    `${summary["wal-64"].fsyncs_per_op} fsyncs per unit (d)`,
);
console.log(
  `machine: ${machine.cpus} vCPU ${machine.cpu_model}, ${machine.platform}, Node ${machine.node}; ` +
    `${path.relative(process.cwd(), resultFile) || resultFile}`,
);
