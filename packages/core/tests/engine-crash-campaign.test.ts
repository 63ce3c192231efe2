// The engine's seeded crash campaign (core §1, §2, §9; ARCHITECTURE §5; CORE-R-1, CORE-R-3,
// WAL-1): a seeded workload of registrations, inserts, updates and deletes (refused ones
// included) runs on the simulated file system once to count its boundary operations B; then,
// for every crash point k in 1..B (or a seeded sample when B is large), it runs again with a
// power loss armed at the kth boundary operation, while several requests are in flight so
// that commits queue behind an fsync. The crashed disk keeps a seeded choice of what was not
// yet synced, and a new process (the LOCK's owner is dead) opens it. Recovery must either
// complete with exactly the model state after some commit c, acknowledged <= c <= attempted,
// and a report that agrees with it, or fail FATAL, and only when the crash flipped a bit.
//
// Replay one seed: AERODB_SEED=<n> npx vitest run tests/engine-crash-campaign.test.ts
// Longer campaigns: AERODB_RUNS=<k> multiplies the number of seeds.
import { type AeroError, isAeroError, SeededRandom, SimFileSystem, seedList, withSeed } from "@aerodb/base";
import { afterAll, describe, expect, it } from "vitest";
import { canonicalJson } from "../src/canonical-json.js";
import { type Database, open } from "../src/engine/database.js";
import { initDataDir } from "../src/engine/init-data-dir.js";
import type { RecoveryReport } from "../src/engine/recovery.js";
import {
  dumpTree,
  generateWorkload,
  isSimulatedCrash,
  type ModelState,
  modelIndexStats,
  modelView,
  type RunRecord,
  readDbState,
  runWorkload,
  type Workload,
  workloadCoreConfig,
} from "./support/workload.js";

const DATA_DIR = "/db";
const CONFIG = workloadCoreConfig(DATA_DIR);
const DB_ID_BYTES = Uint8Array.from({ length: 16 }, (_, i) => (i * 37 + 11) & 0xff);
const DB_ID = Buffer.from(DB_ID_BYTES).toString("hex");
const DEAD_OWNER = () => false;
const BASE_SEEDS = 40;
/** Crash points per seed above which a seeded sample of this size is taken. */
const MAX_POINTS_PER_SEED = 150;
const MIN_POINTS_DEFAULT_RUN = 2000;

/** A registration no workload makes: the first write after recovery. */
const PROBE_SCHEMA = {
  format_version: 1,
  schema_id: "probe",
  schema_version: "v1",
  fields: { _id: { type: "int", required: true } },
  indexes: [],
};

let template: SimFileSystem | null = null;

/** A freshly initialized data directory, everything durable (a copy of one template). */
async function freshDisk(): Promise<SimFileSystem> {
  if (template === null) {
    const disk = new SimFileSystem();
    await initDataDir(CONFIG, { fs: disk, randomBytes: () => DB_ID_BYTES });
    const before = await dumpTree(disk, "/");
    // init leaves nothing unsynced: a power loss right after it changes nothing.
    expect(await dumpTree(disk.crash(0), "/")).toEqual(before);
    template = disk;
  }
  const disk = template.crash(0);
  expect(disk.crashFates).toEqual([]);
  return disk;
}

function openDb(fs: SimFileSystem): Promise<Database> {
  return open(CONFIG, { fs, processProbe: DEAD_OWNER });
}

const stats = {
  seeds: 0,
  sampledSeeds: 0,
  points: 0,
  recovered: 0,
  crashedDuringOpen: 0,
  fatalAfterFlip: 0,
  tornTails: 0,
  unacknowledgedSurvived: 0,
  unacknowledgedLost: 0,
  schemaFilesWritten: 0,
  multiSegment: 0,
  startedAt: 0,
  fatalCodes: new Map<string, number>(),
};

function crashPoints(seed: number, total: number): number[] {
  const all = Array.from({ length: total }, (_, i) => i + 1);
  if (total <= MAX_POINTS_PER_SEED) return all;
  // A seeded sample that always keeps the first and the last point.
  const rnd = new SeededRandom(seed ^ 0x2545f491);
  const middle = all.slice(1, -1);
  for (let i = middle.length - 1; i > 0; i--) {
    const j = rnd.int(0, i);
    [middle[i], middle[j]] = [middle[j] as number, middle[i] as number];
  }
  return [1, total, ...middle.slice(0, MAX_POINTS_PER_SEED - 2)].sort((a, b) => a - b);
}

/** The crash-free run: the model is right, and B is counted from open() on. */
async function referenceRun(workload: Workload): Promise<number> {
  const disk = await freshDisk();
  const start = disk.boundaryOpCount;
  const db = await openDb(disk);
  const record = await runWorkload(db, workload);
  const boundaryOps = disk.boundaryOpCount - start;
  expect(record.crashed).toBe(false);
  expect(record.mismatches).toEqual([]);
  expect(record.highestAcknowledged).toBe(workload.lastCommit);
  expect(readDbState(db)).toEqual(modelView(workload.states.get(workload.lastCommit) as ModelState));
  if (db.stats().wal.segments > 1) stats.multiSegment++;
  await db.close();
  return boundaryOps;
}

/** Everything but what a clean restart of recovered bytes legitimately changes. */
function stableReport(report: RecoveryReport) {
  const { stale_lock: _s, clean_shutdown_flag: _c, torn_tail: _t, schemas, ...rest } = report;
  return { ...rest, schemas_registered: schemas.registered };
}

async function crashAt(seed: number, workload: Workload, k: number): Promise<void> {
  const disk = await freshDisk();
  disk.crashAfter(k);
  let db: Database | null = null;
  try {
    db = await openDb(disk);
  } catch (err) {
    if (!isSimulatedCrash(err)) throw err;
  }
  let record: RunRecord | null = null;
  if (db === null) {
    stats.crashedDuringOpen++;
  } else {
    record = await runWorkload(db, workload);
    expect(record.crashed, `crash point ${k} was never reached`).toBe(true);
    expect(record.mismatches).toEqual([]);
    // Acknowledgements come in commit order, each after its own fsync.
    expect(record.acknowledged).toEqual(record.acknowledged.map((_, i) => i + 1));
  }
  expect(disk.isDead).toBe(true);
  const acknowledged = record?.highestAcknowledged ?? 0;
  const attempted = record?.highestAttempted ?? 0;

  const crashSeed = (Math.imul(seed, 31) + k * 7919) | 0;
  const crashed = disk.crash(crashSeed);
  const flipped = crashed.crashFates.some((f) => f.fate === "flip");
  const where =
    `seed ${seed}, crash point ${k}, crash seed ${crashSeed}, acknowledged ${acknowledged}, ` +
    `attempted ${attempted}, fates ${JSON.stringify(crashed.crashFates)}`;
  const lockLeft = (await crashed.stat(`${DATA_DIR}/LOCK`)) !== null;

  let db1: Database;
  try {
    db1 = await openDb(crashed);
  } catch (err) {
    // Only a flipped bit in unsynced bytes may stop recovery, and only FATAL, never silently.
    expect(isAeroError(err), `${where}: ${String(err)}`).toBe(true);
    const e = err as AeroError;
    expect(e.severity, where).toBe("FATAL");
    expect(flipped, `${where}: ${e.code} without a flip`).toBe(true);
    // ... and a flip can only reach unsynced WAL bytes: every other file is synced before it
    // is renamed into place.
    expect(["AERO_WAL_CORRUPTION", "AERO_WAL_UNIT_INCOMPLETE"], where).toContain(e.code);
    // The same bytes fail the same way again.
    const again = await openDb(disk.crash(crashSeed)).then(
      async (d) => {
        await d.close();
        return null;
      },
      (x: unknown) => x,
    );
    expect((again as AeroError | null)?.code, where).toBe(e.code);
    stats.fatalAfterFlip++;
    stats.fatalCodes.set(e.code, (stats.fatalCodes.get(e.code) ?? 0) + 1);
    return;
  }

  // The recovered state is the model state after one commit c, acknowledged <= c <= attempted.
  const report = db1.recoveryReport();
  const c = report.commit_high_water;
  expect(c, where).toBeGreaterThanOrEqual(acknowledged);
  expect(c, where).toBeLessThanOrEqual(attempted);
  const model = workload.states.get(c) as ModelState;
  const view = readDbState(db1);
  expect(view, where).toEqual(modelView(model));

  // The report agrees with itself and with the model.
  expect(report.outcome, where).toBe("RECOVERY_COMPLETE");
  expect(report.database_id, where).toBe(DB_ID);
  expect(report.stale_lock, where).toBe(lockLeft);
  expect(report.checkpoint, where).toBeNull();
  expect(report.wal.units_replayed, where).toBe(c);
  expect(report.schemas.registered, where).toBe(model.registrations);
  expect(report.schemas.registered, where).toBe(model.schemas.length);
  expect(report.versions_verified, where).toBe(model.versionRecords);
  // Every unit is BEGIN + its records + COMMIT.
  expect(report.wal.records_verified, where).toBe(2 * c + model.registrations + model.versionRecords);
  expect(report.wal.last_lsn, where).toBe(report.wal.records_verified);
  expect(report.indexes, where).toEqual(modelIndexStats(model));
  expect(report.schemas.files_written, where).toBeLessThanOrEqual(1);
  expect(db1.stats().commit_high_water, where).toBe(c);
  if (report.torn_tail) stats.tornTails++;
  if (report.schemas.files_written > 0) stats.schemaFilesWritten++;
  if (c > acknowledged) stats.unacknowledgedSurvived++;
  if (c < attempted) stats.unacknowledgedLost++;

  // CORE-R-1: the same bytes, recovered again in another process, give the same report and state.
  const twin = await openDb(disk.crash(crashSeed));
  expect(canonicalJson(twin.recoveryReport()), where).toBe(canonicalJson(report));
  expect(readDbState(twin), where).toEqual(view);
  await twin.close();

  // A clean restart of the recovered directory: the same report except the lock, the
  // clean-shutdown flag and what recovery itself wrote (the tail cut and a schema file are
  // durable now), and the same state.
  await db1.close();
  const db2 = await openDb(crashed);
  const again = db2.recoveryReport();
  expect(again.stale_lock, where).toBe(false);
  expect(again.clean_shutdown_flag, where).toBe(true);
  expect(again.torn_tail, where).toBeNull();
  expect(again.schemas.files_written, where).toBe(0);
  expect(stableReport(again), where).toEqual(stableReport(report));
  expect(readDbState(db2), where).toEqual(view);

  // The next write continues at c + 1.
  const next = await db2.registerSchema(PROBE_SCHEMA);
  expect(next.commit_id, where).toBe(c + 1);
  await db2.close();
  stats.recovered++;
}

const seeds = seedList("engine-crash", BASE_SEEDS);

describe("engine crash campaign", () => {
  afterAll(() => {
    const seconds = ((performance.now() - stats.startedAt) / 1000).toFixed(1);
    console.log(
      `engine crash campaign: ${stats.points} crash points over ${stats.seeds} seeds ` +
        `(${stats.sampledSeeds} sampled) in ${seconds} s: ${stats.recovered} recovered ` +
        `(${stats.tornTails} with a torn tail cut, ${stats.schemaFilesWritten} rewrote a schema file, ` +
        `${stats.unacknowledgedSurvived} kept an unacknowledged commit, ${stats.unacknowledgedLost} lost ` +
        `attempted commits), ${stats.crashedDuringOpen} crashed inside open(), ` +
        `${stats.fatalAfterFlip} FATAL after a bit flip ${JSON.stringify(Object.fromEntries(stats.fatalCodes))}; ` +
        `${stats.multiSegment} workloads rolled a WAL segment`,
    );
  });

  it.each(seeds)(
    "seed %i: every crash point recovers a model state holding every acknowledged commit",
    async (seed) => {
      if (stats.startedAt === 0) stats.startedAt = performance.now();
      await withSeed(seed, async () => {
        const workload = generateWorkload(seed);
        const total = await referenceRun(workload);
        const points = crashPoints(seed, total);
        stats.seeds++;
        if (points.length < total) stats.sampledSeeds++;
        for (const k of points) {
          await crashAt(seed, workload, k);
          stats.points++;
        }
      });
    },
  );

  it("ran enough crash points", () => {
    const replaying = (process.env.AERODB_SEED ?? "") !== "";
    if (!replaying) expect(stats.points).toBeGreaterThanOrEqual(MIN_POINTS_DEFAULT_RUN);
  });
});
