// The benchmark suite: AeroDB side by side with SQLite (better-sqlite3), LMDB (lmdb), LevelDB
// (classic-level) and the disk's own limits, on the same data, in the same run.
//
//   pnpm bench [--quick | --tiny] [--system aerodb,sqlite,...] [--workload 1,4,...] [--runs N]
//              [--out FILE.json] [--markdown FILE.md] [--no-evict] [--aerodb-perf flag,...|all]
//
// Every measurement is a fresh child process (run-one.mjs), one at a time; the runs of one workload
// are interleaved round by round across the systems so that drift of the machine hits all alike.
// Same-run references beside the peers: the disk's limits (workloads 1-3: sync append, sync
// overwrite and the async overwrite ceiling of AeroDB's own commit I/O), the naive parse floor of
// workload 6 (the restart target's yardstick) and AeroDB's reopen after a checkpoint.
// Prints the tables and writes a JSON report (settings, versions, raw figures, ratios) to
// bench/results/bench-<time>.json and bench/results/latest.json (or --out). Needs `pnpm build`.
// Absolute numbers are machine-specific: compare the ratios of one run.
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import {
  benchDir,
  DISK_WORKLOADS,
  FIXTURE_WORKLOADS,
  MODES,
  median,
  NOT_APPLICABLE,
  PEERS,
  POINT_READ_TARGET,
  parseList,
  RESTART_TARGET,
  RUNNABLE_WORKLOADS,
  repoRoot,
  SYSTEMS,
  sig,
  WORKLOADS,
} from "./lib/common.mjs";

const USAGE = `usage: pnpm bench [--quick | --tiny] [--system ${SYSTEMS.join(",")}] [--workload 1,...,7]
                  [--runs N] [--out FILE.json] [--markdown FILE.md] [--no-evict]
                  [--aerodb-perf flag,...|all] [--keep-scratch]`;
const PERF_FLAGS = [
  "group_commit",
  "wal_batching",
  "read_cache",
  "index_acceleration",
  "checkpoint_pipelining",
  "replica_fast_read",
  "memory_layout",
];

// ---- arguments ----------------------------------------------------------------------------------

let opts;
try {
  opts = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== "--"),
    options: {
      quick: { type: "boolean", default: false },
      tiny: { type: "boolean", default: false },
      system: { type: "string" },
      workload: { type: "string" },
      runs: { type: "string" },
      out: { type: "string" },
      markdown: { type: "string" },
      "no-evict": { type: "boolean", default: false },
      "aerodb-perf": { type: "string" },
      "keep-scratch": { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  }).values;
} catch (err) {
  console.error(`${err.message}\n${USAGE}`);
  process.exit(2);
}
if (opts.help) {
  console.log(USAGE);
  process.exit(0);
}
const die = (message) => {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
};
if (opts.quick && opts.tiny) die("--quick and --tiny exclude each other");
const mode = opts.tiny ? "tiny" : opts.quick ? "quick" : "full";
const P = MODES[mode];
let systems;
let workloads;
try {
  systems = parseList(opts.system, SYSTEMS, "system") ?? SYSTEMS;
  workloads = (
    parseList(opts.workload, [...RUNNABLE_WORKLOADS, 7], "workload") ?? [...RUNNABLE_WORKLOADS, 7]
  ).map(Number);
} catch (err) {
  die(err.message);
}
systems = SYSTEMS.filter((s) => systems.includes(s));
workloads = [...new Set(workloads)].sort((a, b) => a - b);
const runs = opts.runs === undefined ? P.runs : Number(opts.runs);
if (!Number.isSafeInteger(runs) || runs < 1) die("--runs must be a positive integer");
const evict = !opts["no-evict"] && mode !== "tiny";
let perf;
if (opts["aerodb-perf"]) {
  const names = opts["aerodb-perf"] === "all" ? PERF_FLAGS : opts["aerodb-perf"].split(",");
  for (const n of names) if (!PERF_FLAGS.includes(n)) die(`unknown perf flag "${n}"`);
  perf = Object.fromEntries(names.map((n) => [n, true]));
}

// ---- scratch space: on the repository's file system ---------------------------------------------

const started = Date.now();
const loadAtStart = os.loadavg().map((x) => Number(x.toFixed(2)));
const stamp = new Date(started).toISOString().replace(/[:.]/g, "-");
const scratchRoot = path.join(repoRoot, ".bench-tmp");
fs.mkdirSync(scratchRoot, { recursive: true });
const scratch = fs.mkdtempSync(path.join(scratchRoot, "suite-"));
let dirCounter = 0;
const freshDir = (label) => path.join(scratch, `${String(++dirCounter).padStart(4, "0")}-${label}`);
const fixtureDir = (system) => path.join(scratch, `fixture-${system}`);
const cleanup = () => {
  if (opts["keep-scratch"]) {
    console.log(`scratch kept: ${path.relative(process.cwd(), scratch)}`);
    return;
  }
  fs.rmSync(scratch, { recursive: true, force: true });
  try {
    fs.rmdirSync(scratchRoot); // only when no other run is using it
  } catch {}
};
process.on("SIGINT", () => {
  cleanup();
  process.exit(130);
});

// ---- the plan -----------------------------------------------------------------------------------

const naReason = (w, s) =>
  NOT_APPLICABLE[w] ?? (s === "disk" && !DISK_WORKLOADS.has(w) ? NOT_APPLICABLE[`disk:${w}`] : null);
const runnable = workloads.filter((w) => RUNNABLE_WORKLOADS.includes(w));
const needsFixture = new Set(
  systems.filter((s) => s !== "disk" && runnable.some((w) => FIXTURE_WORKLOADS.has(w))),
);
const log = (line) => process.stdout.write(`${line}\n`);

log(
  `bench (${mode}): systems ${systems.join(", ")}; workloads ${workloads.join(", ")}; ${runs} run(s) each, ` +
    `one fresh process per run; scratch ${path.relative(repoRoot, scratch)}`,
);

const raw = []; // every child's report (or failure)
const failures = [];

function runChild(system, workload, dir, run, extra = []) {
  const args = [
    "--expose-gc",
    path.join(benchDir, "run-one.mjs"),
    "--system",
    system,
    "--workload",
    String(workload),
    "--mode",
    mode,
    "--dir",
    dir,
    "--run",
    String(run),
    ...(perf && system === "aerodb" ? ["--aerodb-perf", JSON.stringify(perf)] : []),
    ...extra,
  ];
  const t0 = Date.now();
  const child = spawnSync(process.execPath, args, {
    cwd: repoRoot,
    encoding: "utf8",
    maxBuffer: 64 * 2 ** 20,
    timeout: 20 * 60 * 1000,
  });
  const wall = (Date.now() - t0) / 1000;
  const line = child.stdout
    ?.trim()
    .split("\n")
    .reverse()
    .find((l) => l.startsWith("{"));
  let report;
  try {
    report = line ? JSON.parse(line) : null;
  } catch {
    report = null;
  }
  if (!report?.ok) {
    const error =
      report?.error ??
      `exit ${child.status ?? child.signal}${child.error ? ` (${child.error.message})` : ""}: ${(child.stderr ?? "").trim().slice(-2000)}`;
    failures.push({ system, workload, run, error });
    // A failed load that was to become the fixture must not serve workloads 4-6 half-built.
    if (extra.includes("--keep") || workload === "prepare") fs.rmSync(dir, { recursive: true, force: true });
    log(`  FAILED ${system} workload ${workload} run ${run + 1}: ${error.split("\n")[0]}`);
    return null;
  }
  report.wall_seconds = wall;
  return report;
}

function prepareFixture(system) {
  const dir = fixtureDir(system);
  fs.rmSync(dir, { recursive: true, force: true });
  log(`  preparing the ${P.docs.toLocaleString("en-US")}-document store of ${system}`);
  return runChild(system, "prepare", dir, 0) !== null;
}

for (const w of runnable) {
  const title = `${w}. ${WORKLOADS[w].title}`;
  const active = systems.filter((s) => naReason(w, s) === null);
  if (active.length === 0) continue;
  log(`workload ${title}`);
  if (FIXTURE_WORKLOADS.has(w)) {
    for (const s of active) {
      if (s !== "disk" && !fs.existsSync(fixtureDir(s)) && !prepareFixture(s)) needsFixture.delete(s);
    }
  }
  for (let r = 0; r < runs; r++) {
    for (const s of active) {
      let dir;
      const extra = [];
      if (FIXTURE_WORKLOADS.has(w) && s !== "disk") {
        if (!needsFixture.has(s)) continue;
        dir = fixtureDir(s);
        if (w === 6 && evict) extra.push("--evict");
      } else if (w === 3 && r === 0 && needsFixture.has(s)) {
        dir = fixtureDir(s); // the first bulk load is kept as the store of workloads 4-6
        extra.push("--keep");
      } else {
        dir = freshDir(`${s}-w${w}-r${r}`);
      }
      const report = runChild(s, w, dir, r, extra);
      if (report) {
        raw.push(report);
        log(`  run ${r + 1}/${runs} ${s.padEnd(7)} ${fmt(report.value).padStart(10)} ${report.unit}`);
      }
    }
  }
}
cleanup();

// ---- aggregation --------------------------------------------------------------------------------

function fmt(x) {
  if (x === null || x === undefined || Number.isNaN(x)) return "-";
  if (Math.abs(x) >= 100) return Math.round(x).toLocaleString("en-US");
  return String(sig(x, 3));
}
const stats = (xs) => {
  const v = xs.filter((x) => typeof x === "number" && Number.isFinite(x));
  return v.length === 0 ? null : { median: median(v), min: Math.min(...v), max: Math.max(...v), n: v.length };
};
/** Medians of every numeric field of a list of flat objects. */
const medians = (objs) => {
  const keys = new Set(objs.flatMap((o) => Object.keys(o ?? {})));
  const out = {};
  for (const k of keys) {
    const v = objs.map((o) => o?.[k]).filter((x) => typeof x === "number" && Number.isFinite(x));
    if (v.length > 0) out[k] = median(v);
  }
  return out;
};

const results = {};
for (const w of workloads) {
  results[w] = {};
  for (const s of systems) {
    const reason = naReason(w, s);
    if (reason) {
      results[w][s] = { status: "not applicable", reason };
      continue;
    }
    const mine = raw.filter((r) => Number(r.workload) === w && r.system === s);
    if (mine.length === 0) {
      const failure =
        failures.find((f) => f.system === s && Number(f.workload) === w) ??
        (FIXTURE_WORKLOADS.has(w)
          ? failures.find((f) => f.system === s && (f.workload === "prepare" || Number(f.workload) === 3))
          : undefined);
      results[w][s] = { status: "failed", reason: failure?.error ?? "no run succeeded" };
      continue;
    }
    const entry = {
      status: "measured",
      unit: mine[0].unit,
      ...stats(mine.map((r) => r.value)),
      values: mine.map((r) => r.value),
      rss_mib: stats(mine.map((r) => r.rss_mib)),
      extra: medians(mine.map((r) => r.extra)),
      ...(mine[0].io ? { io: medians(mine.map((r) => r.io)) } : {}),
      ...(mine[0].aerodb_wal ? { aerodb_wal: medians(mine.map((r) => r.aerodb_wal)) } : {}),
      runs: mine.map(({ versions, settings, native_binaries, ...rest }) => rest),
    };
    if (w === 6) {
      // For the disk, workload 6 is the naive parse floor (warm only): see run-one.mjs.
      entry.cold = stats(mine.map((r) => r.extra.cold_ms));
      entry.cold_note = mine.find((r) => r.extra.cold_note)?.extra.cold_note ?? null;
    }
    results[w][s] = entry;
  }
}

const med = (w, s) => (results[w]?.[s]?.status === "measured" ? results[w][s].median : null);
const ratio = (a, b) => (a && b ? a / b : null);
const ratios = {};
for (const w of workloads) {
  if (results[w].aerodb?.status !== "measured") continue;
  const a = med(w, "aerodb");
  const row = {};
  for (const s of [...PEERS, "disk"]) if (systems.includes(s)) row[s] = ratio(a, med(w, s));
  if (w === 1 && results[1].disk?.extra?.overwrite_per_s) {
    row.disk_overwrite = ratio(a, results[1].disk.extra.overwrite_per_s);
  }
  if (w === 1 && results[1].disk?.extra?.async_overwrite_per_s) {
    row.disk_async = ratio(a, results[1].disk.extra.async_overwrite_per_s);
    row.sqlite_over_disk_async = ratio(med(1, "sqlite"), results[1].disk.extra.async_overwrite_per_s);
  }
  if (w === 6 && results[6].aerodb.extra?.after_checkpoint_median_ms) {
    row.disk_after_checkpoint = ratio(results[6].aerodb.extra.after_checkpoint_median_ms, med(6, "disk"));
  }
  if (w === 6 && results[6].disk?.extra?.verify_floor_ms) {
    row.disk_verify = ratio(a, results[6].disk.extra.verify_floor_ms);
    row.verify_floor_over_naive = ratio(results[6].disk.extra.verify_floor_ms, med(6, "disk"));
  }
  ratios[w] = row;
  if (w === 6 && results[6].aerodb.cold) {
    const cold = {};
    for (const s of PEERS)
      if (results[6][s]?.cold) cold[s] = ratio(results[6].aerodb.cold.median, results[6][s].cold.median);
    ratios["6-cold"] = cold;
  }
}

// Every system must return the same rows for the same range queries (a harness self-check).
const checks = {};
if (workloads.includes(5)) {
  const seen = systems
    .map((s) => results[5][s])
    .filter((r) => r?.status === "measured")
    .map((r) => `${r.runs[0].extra.result_digest}/${r.runs[0].extra.rows_per_query}`);
  checks.range_results_agree = new Set(seen).size <= 1;
}

// ---- context: versions, settings, machine -------------------------------------------------------

const versions = { node: process.version };
const settings = {};
const nativeBinaries = {};
for (const s of systems) {
  const first = raw.find((r) => r.system === s);
  if (first) versions[s] = first.versions;
  const withSettings = raw.find((r) => r.system === s && r.settings);
  if (withSettings) settings[s] = withSettings.settings;
  if (first?.native_binaries?.length) nativeBinaries[s] = first.native_binaries;
}
if (versions.aerodb) {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], {
      cwd: repoRoot,
      encoding: "utf8",
    }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "packages"], {
      cwd: repoRoot,
      encoding: "utf8",
    }).trim();
    versions.aerodb.git = `${head}${dirty ? " + uncommitted changes under packages/" : ""}`;
  } catch {}
}

function fileSystemOf(dir) {
  try {
    const mounts = fs
      .readFileSync("/proc/mounts", "utf8")
      .split("\n")
      .map((l) => l.split(" "))
      .filter((f) => f.length > 2 && (dir === f[1] || dir.startsWith(f[1].endsWith("/") ? f[1] : `${f[1]}/`)))
      .sort((x, y) => y[1].length - x[1].length);
    return mounts[0] ? `${mounts[0][2]} on ${mounts[0][0]} (${mounts[0][1]})` : "unknown";
  } catch {
    return "unknown";
  }
}
const cpus = os.cpus();
const machine = {
  cpus: cpus.length,
  cpu_model: cpus[0]?.model ?? "unknown",
  memory_gib: Number((os.totalmem() / 2 ** 30).toFixed(1)),
  kernel: `${os.type()} ${os.release()}`,
  node: process.version,
  file_system: fileSystemOf(repoRoot),
  load_average_at_start: loadAtStart,
  load_average_at_end: os.loadavg().map((x) => Number(x.toFixed(2))),
};

const notApplicable = [];
const notMeasured = [];
if (workloads.includes(7)) notApplicable.push({ workload: 7, systems: "all", reason: NOT_APPLICABLE[7] });
for (const w of workloads.filter((x) => x !== 7)) {
  for (const s of systems) {
    const r = results[w][s];
    if (r.status === "not applicable") notApplicable.push({ workload: w, systems: s, reason: r.reason });
    else if (r.status !== "measured")
      notMeasured.push({ workload: w, systems: s, reason: r.reason ?? r.status });
  }
}
if (workloads.includes(6)) {
  const cold = systems.filter((s) => results[6][s]?.status === "measured" && !results[6][s].cold);
  const reasons = new Set(cold.map((s) => results[6][s].cold_note));
  for (const reason of reasons) {
    const who = cold.filter((s) => results[6][s].cold_note === reason);
    notMeasured.push({ workload: "6 (page cache evicted)", systems: who.join(", "), reason });
  }
}
if (perf && systems.includes("aerodb")) {
  notMeasured.push({
    workload: "all",
    systems: "AeroDB baseline",
    reason: `this run passed perf flags (${Object.keys(perf).join(", ")}) to every AeroDB open; at this commit no flag has an implementation yet`,
  });
} else if (systems.includes("aerodb")) {
  notMeasured.push({
    workload: "all",
    systems: "AeroDB with perf flags on",
    reason:
      "not run: no perf flag has an implementation yet (@aerodb/perf exports nothing); --aerodb-perf runs it",
  });
}

const durationSeconds = (Date.now() - started) / 1000;
const report = {
  bench: "aerodb-suite",
  measured_at: new Date(started).toISOString(),
  duration_seconds: Number(durationSeconds.toFixed(1)),
  mode,
  argv: process.argv.slice(2),
  machine,
  versions,
  native_binaries: nativeBinaries,
  settings: {
    parameters: { ...P, runs },
    evict_page_cache: evict,
    aerodb_perf: perf ?? null,
    systems: settings,
  },
  workloads: Object.fromEntries(workloads.map((w) => [w, WORKLOADS[w]])),
  results,
  ratios,
  ratio_meaning:
    "AeroDB median / other median of the figure shown: above 1 = AeroDB faster for workloads 1-5, slower for 6 (ms). " +
    "Beside them: 1.disk_overwrite and 1.disk_async = AeroDB / the disk's sync overwrite and async overwrite " +
    "ceiling (AeroDB's own commit I/O: 3 writeSync + fs.fdatasync callback); 1.sqlite_over_disk_async = " +
    "SQLite / that ceiling; 4.disk = AeroDB point reads / the floor of a read from the file (readSync + CRC + " +
    "JSON.parse, no lookup); 6.disk = AeroDB reopen / the naive parse floor (the restart target: <= " +
    `${RESTART_TARGET}); 6.disk_after_checkpoint = AeroDB reopen after a checkpoint / the naive parse floor; ` +
    "6.disk_verify = AeroDB reopen / the verify floor (readFileSync + the CRC of every frame of AeroDB's log for " +
    "the same documents, nothing else); 6.verify_floor_over_naive = the verify floor / the naive parse floor " +
    "(the least a restart that verifies AeroDB's log can reach against the restart target).",
  restart_target: {
    ratio: "ratios[6].disk (AeroDB reopen + first read / naive parse of every document of the same data)",
    at_most: RESTART_TARGET,
  },
  checks,
  not_applicable: notApplicable,
  not_measured: notMeasured,
  failures,
  note: "Absolute numbers are machine-specific; compare the ratios of one run.",
};

const outFile = opts.out
  ? path.resolve(opts.out)
  : path.join(repoRoot, "bench", "results", `bench-${stamp}.json`);
fs.mkdirSync(path.dirname(outFile), { recursive: true });
fs.writeFileSync(outFile, `${JSON.stringify(report, null, 2)}\n`);
if (!opts.out) fs.copyFileSync(outFile, path.join(repoRoot, "bench", "results", "latest.json"));

// ---- tables -------------------------------------------------------------------------------------

const NAMES = {
  aerodb: perf ? `AeroDB (perf: ${opts["aerodb-perf"]})` : "AeroDB",
  sqlite: "SQLite",
  lmdb: "LMDB",
  leveldb: "LevelDB",
  disk: "disk",
};
const rowLabel = (w) => `${w}. ${WORKLOADS[w].title} (${WORKLOADS[w].unit})`;
const shortLabel = (w) => `${w}. ${WORKLOADS[w].title}`;
const cell = (r) => {
  if (!r) return "";
  if (r.status === "not applicable") return "n/a";
  if (r.status !== "measured") return r.status;
  return r.n > 1 ? `${fmt(r.median)} (${fmt(r.min)}–${fmt(r.max)})` : fmt(r.median);
};

/** The same-run references beside the peers, for the table and the log lines. */
function references() {
  const refs = [];
  const d1 = results[1]?.disk?.extra;
  const sqlite1 = med(1, "sqlite");
  if (d1?.overwrite_per_s) {
    refs.push({
      label: "1. disk: overwrite in place + fdatasyncSync (sync)",
      value: d1.overwrite_per_s,
      unit: "ops/s",
      aerodb: ratios[1]?.disk_overwrite ?? null,
      sqlite: ratio(sqlite1, d1.overwrite_per_s),
    });
  }
  if (d1?.async_overwrite_per_s) {
    refs.push({
      label: "1. disk: AeroDB's commit I/O, 3 writeSync + fs.fdatasync callback (async)",
      value: d1.async_overwrite_per_s,
      unit: "ops/s",
      aerodb: ratios[1]?.disk_async ?? null,
      sqlite: ratios[1]?.sqlite_over_disk_async ?? ratio(sqlite1, d1.async_overwrite_per_s),
    });
  }
  if (results[4]?.disk?.status === "measured") {
    refs.push({
      label: "4. disk: a point read from the file, no database (readSync + CRC + JSON.parse, no lookup)",
      value: results[4].disk.median,
      unit: "reads/s",
      aerodb: ratios[4]?.disk ?? null,
      sqlite: ratio(med(4, "sqlite"), results[4].disk.median),
    });
  }
  if (results[6]?.disk?.status === "measured") {
    refs.push({
      label: `6. disk: naive parse floor (AeroDB / that: target ≤ ${RESTART_TARGET})`,
      value: results[6].disk.median,
      unit: "ms",
      aerodb: ratios[6]?.disk ?? null,
      sqlite: ratio(med(6, "sqlite"), results[6].disk.median),
    });
  }
  const vf = results[6]?.disk?.extra?.verify_floor_ms;
  if (vf && results[6]?.disk?.status === "measured") {
    refs.push({
      label:
        "6. disk: verifying every frame of AeroDB's log, nothing built (readFileSync + CRC-32 per frame)",
      value: vf,
      unit: "ms",
      aerodb: ratios[6]?.disk_verify ?? null,
      sqlite: null,
    });
  }
  const ac = results[6]?.aerodb?.extra?.after_checkpoint_median_ms;
  if (ac && results[6]?.disk?.status === "measured") {
    refs.push({
      label: "6. disk: naive parse floor, AeroDB reopening after a checkpoint",
      value: results[6].disk.median,
      unit: "ms",
      aerodb: ratios[6]?.disk_after_checkpoint ?? null,
      sqlite: null,
    });
  }
  return refs;
}

function tables() {
  const out = [];
  const figures = [["Workload", ...systems.map((s) => NAMES[s])]];
  // The disk's workload 6 is not a reopen but the naive parse floor of the restart target.
  const figure = (w, s) =>
    w === 6 && s === "disk" && results[w][s]?.status === "measured"
      ? `naive parse ${cell(results[w][s])}`
      : cell(results[w][s]);
  for (const w of workloads) {
    figures.push([rowLabel(w), ...systems.map((s) => figure(w, s))]);
    if (w === 6) {
      figures.push([
        "6. reopen + first read, page cache evicted (ms)",
        ...systems.map((s) => {
          const r = results[6][s];
          if (r.status !== "measured") return cell(r);
          return r.cold ? cell({ status: "measured", ...r.cold }) : "not measured";
        }),
      ]);
    }
  }
  out.push({ title: "Figures: median (min–max) of the runs", rows: figures });

  const peers = [...PEERS, "disk"].filter((s) => systems.includes(s));
  if (systems.includes("aerodb") && peers.length > 0) {
    const rows = [["Workload", ...peers.map((s) => `AeroDB / ${NAMES[s]}`)]];
    for (const w of workloads) {
      const r = ratios[w];
      rows.push([
        rowLabel(w),
        ...peers.map((s) => {
          if (!r || r[s] == null) return "n/a";
          return w === 6 && s === "disk" ? `${fmt(r[s])} (target ≤ ${RESTART_TARGET})` : fmt(r[s]);
        }),
      ]);
      if (w === 6 && ratios["6-cold"]) {
        rows.push([
          "6. reopen, page cache evicted (ms)",
          ...peers.map((s) => (ratios["6-cold"][s] != null ? fmt(ratios["6-cold"][s]) : "n/a")),
        ]);
      }
    }
    out.push({
      title:
        "Ratios: AeroDB median / other median (workloads 1-5: above 1 = AeroDB faster; 6: above 1 = AeroDB slower; " +
        "disk of 6: the naive parse floor)",
      rows,
    });
  }

  const refs = references();
  if (refs.length > 0) {
    out.push({
      title: "Same-run references (medians): AeroDB / that, SQLite / that",
      rows: [
        ["Reference", "Figure", "AeroDB / that", "SQLite / that"],
        ...refs.map((x) => [x.label, `${fmt(x.value)} ${x.unit}`, fmt(x.aerodb), fmt(x.sqlite)]),
      ],
    });
  }

  const walRows = [
    ["Workload", "WAL bytes/commit", "fsyncs/commit", "write calls/commit", "write() bytes/commit (/proc)"],
  ];
  for (const w of workloads) {
    const r = results[w].aerodb;
    if (r?.aerodb_wal?.units > 0) {
      walRows.push([
        shortLabel(w),
        fmt(r.aerodb_wal.bytes_per_commit),
        fmt(r.aerodb_wal.fsyncs_per_commit),
        fmt(r.aerodb_wal.write_calls_per_commit),
        fmt(r.io?.wchar_per_op),
      ]);
    }
  }
  if (walRows.length > 1) out.push({ title: "AeroDB write path (db.stats().wal, medians)", rows: walRows });

  const ioRows = [["Workload", ...systems.map((s) => NAMES[s])]];
  for (const w of workloads.filter((x) => x <= 3)) {
    ioRows.push([shortLabel(w), ...systems.map((s) => fmt(results[w][s]?.io?.wchar_per_op))]);
  }
  if (ioRows.length > 1)
    out.push({ title: "Bytes handed to write() per commit or document (/proc/self/io wchar)", rows: ioRows });

  const latRows = [["Workload", ...systems.map((s) => NAMES[s])]];
  for (const w of workloads.filter((x) => x === 1 || x === 2)) {
    latRows.push([
      shortLabel(w),
      ...systems.map((s) => {
        const e = results[w][s]?.extra;
        return e?.latency_p50_us ? `${fmt(e.latency_p50_us)} / ${fmt(e.latency_p99_us)}` : "-";
      }),
    ]);
  }
  if (latRows.length > 1)
    out.push({
      title: "Commit latency, call to durable acknowledgement: p50 / p99 µs (medians of the runs)",
      rows: latRows,
    });

  if (workloads.includes(6)) {
    out.push({
      title: `Store size after loading ${P.docs.toLocaleString("en-US")} documents, MiB (workload 6)`,
      rows: [
        ["", ...systems.filter((s) => s !== "disk").map((s) => NAMES[s])],
        [
          "files on disk",
          ...systems.filter((s) => s !== "disk").map((s) => fmt(results[6][s]?.extra?.store_mib)),
        ],
      ],
    });
  }

  const rssRows = [["Workload", ...systems.map((s) => NAMES[s])]];
  for (const w of workloads.filter((x) => x <= 6)) {
    rssRows.push([shortLabel(w), ...systems.map((s) => fmt(results[w][s]?.rss_mib?.max))]);
  }
  out.push({ title: "Peak RSS of the run's process, MiB (max over the runs)", rows: rssRows });
  return out;
}

function printTable({ title, rows }) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  const line = (r) =>
    r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join("  ");
  log("");
  log(title);
  log(line(rows[0]));
  log(widths.map((n) => "-".repeat(n)).join("  "));
  for (const r of rows.slice(1)) log(line(r));
}

function markdownTable({ title, rows }) {
  const esc = (c) => String(c).replace(/\|/g, "\\|");
  return [
    `**${title}**`,
    "",
    `| ${rows[0].map(esc).join(" | ")} |`,
    `|${rows[0].map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`,
    ...rows.slice(1).map((r) => `| ${r.map(esc).join(" | ")} |`),
    "",
  ].join("\n");
}

const all = tables();
for (const t of all) printTable(t);
log("");
for (const n of notApplicable) log(`not applicable: workload ${n.workload}, ${n.systems}: ${n.reason}`);
for (const n of notMeasured) {
  log(`not measured: workload ${n.workload}, ${n.systems}: ${String(n.reason).split("\n")[0]}`);
}
if (checks.range_results_agree === false)
  log("CHECK FAILED: the systems returned different rows for workload 5");
if (results[1]?.disk?.extra?.overwrite_per_s) {
  log(
    `disk, workload 1 beside the append: overwrite in place ${fmt(results[1].disk.extra.overwrite_per_s)} ops/s` +
      (ratios[1]?.disk_overwrite ? ` (AeroDB / that ${fmt(ratios[1].disk_overwrite)})` : ""),
  );
}
if (results[1]?.disk?.extra?.async_overwrite_per_s) {
  const sqliteOverAsync = ratios[1]?.sqlite_over_disk_async ?? null;
  const parts = [
    ...(ratios[1]?.disk_async ? [`AeroDB / that ${fmt(ratios[1].disk_async)}`] : []),
    ...(sqliteOverAsync ? [`SQLite / that ${fmt(sqliteOverAsync)}`] : []),
  ];
  log(
    "disk, workload 1, the baseline's own I/O without blocking the loop (3 writeSync + fs.fdatasync callback, " +
      `preallocated): ${fmt(results[1].disk.extra.async_overwrite_per_s)} ops/s` +
      (parts.length > 0 ? ` (${parts.join("; ")})` : ""),
  );
}
if (results[2]?.disk?.extra?.commits_per_fsync) {
  log(`disk, workload 2: ${fmt(results[2].disk.extra.commits_per_fsync)} commits per fdatasync`);
}
if (results[3]?.disk?.extra?.mib_per_s) {
  log(
    `disk, workload 3: sequential write ${fmt(results[3].disk.extra.mib_per_s)} MiB/s, shown as documents of ` +
      `${fmt(results[3].disk.extra.mean_doc_bytes)} B per second`,
  );
}
if (results[4]?.disk?.status === "measured") {
  const sqliteOverFloor = ratio(med(4, "sqlite"), results[4].disk.median);
  log(
    `disk, workload 4: a read from the file without a database (readSync + CRC + JSON.parse, no lookup) ` +
      `${fmt(results[4].disk.median)} reads/s` +
      (ratios[4]?.disk ? ` (AeroDB / that ${fmt(ratios[4].disk)}` : " (") +
      (sqliteOverFloor
        ? `; SQLite / that ${fmt(sqliteOverFloor)}, so ${POINT_READ_TARGET}x SQLite = ` +
          `${fmt(POINT_READ_TARGET * sqliteOverFloor)}x that)`
        : ")"),
  );
}
if (results[6]?.disk?.status === "measured") {
  log(
    `disk, workload 6: naive parse floor ${fmt(results[6].disk.median)} ms` +
      (ratios[6]?.disk ? ` (AeroDB reopen / that ${fmt(ratios[6].disk)}; target <= ${RESTART_TARGET})` : ""),
  );
}
if (results[6]?.disk?.extra?.verify_floor_ms) {
  const floor = results[6].disk.extra.verify_floor_ms;
  log(
    `disk, workload 6: verifying every frame of AeroDB's log for the same documents, nothing built, ` +
      `${fmt(floor)} ms = ${fmt(ratio(floor, results[6].disk.median))}x the naive parse floor ` +
      `(target <= ${RESTART_TARGET})` +
      (ratios[6]?.disk_verify ? `; AeroDB reopen / that ${fmt(ratios[6].disk_verify)}` : ""),
  );
}
if (results[6]?.aerodb?.extra?.after_checkpoint_median_ms) {
  log(
    `AeroDB, workload 6 after a checkpoint: ${fmt(results[6].aerodb.extra.after_checkpoint_median_ms)} ms` +
      (ratios[6]?.disk_after_checkpoint ? ` (/ naive parse ${fmt(ratios[6].disk_after_checkpoint)})` : ""),
  );
}
if (results[6]?.aerodb?.extra?.reopen_ms_per_wal_mib) {
  const e = results[6].aerodb.extra;
  log(
    `AeroDB, workload 6: reopen replays the whole WAL (${fmt(e.wal_mib)} MiB): ${fmt(e.reopen_ms_per_wal_mib)} ms per WAL MiB`,
  );
}
log(
  `machine: ${machine.cpus} vCPU ${machine.cpu_model}, ${machine.memory_gib} GiB, ${machine.kernel}, ` +
    `Node ${machine.node}, ${machine.file_system}; load average ${machine.load_average_at_start.join(" ")} at the start, ` +
    `${machine.load_average_at_end.join(" ")} at the end`,
);
log(
  `versions: ${systems
    .map((s) => versions[s] && `${versions[s].package} (${versions[s].engine})`)
    .filter(Boolean)
    .join("; ")}`,
);
log(`report: ${path.relative(process.cwd(), outFile) || outFile}; ${durationSeconds.toFixed(0)} s`);
if (opts.markdown) {
  fs.writeFileSync(path.resolve(opts.markdown), `${all.map(markdownTable).join("\n")}`);
  log(`markdown: ${opts.markdown}`);
}
process.exitCode = failures.length > 0 || checks.range_results_agree === false ? 1 : 0;
