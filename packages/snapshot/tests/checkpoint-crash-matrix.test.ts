// The checkpoint crash matrix (core §10, §9.2; CORE-P-1, CORE-P-2, CORE-R-3; ARCHITECTURE §5).
//
// Per seed: a data directory with a seeded history (sometimes an older checkpoint in it), all
// durable. The window under test, from just after open(): a checkpoint with writes issued
// behind it (they queue while the pipeline is paused), a second checkpoint, more writes. A
// reference run counts the window's boundary operations B (every create, write, fsync,
// rename, unlink, mkdir, rmdir and directory fsync). Then for every k in 1..B (a seeded sample
// when B is large) the window runs again with a power loss at its kth boundary operation; the
// disk keeps a seeded choice of what was not synced, and a new process opens it. Recovery
// must give exactly the model state after some commit c with acknowledged <= c <= attempted,
// start only from a checkpoint whose marker was written (and from the acknowledged one when a
// checkpoint was acknowledged), and then accept a write and a checkpoint that leaves one
// snapshot. A FATAL start is allowed only after a flipped bit in unsynced WAL bytes.
// Every few points, the recovery that follows is crashed too, at each of its boundary
// operations, and must still lead to the same state.
//
// Replay one seed: AERODB_SEED=<n> npx vitest run tests/checkpoint-crash-matrix.test.ts
import { type AeroError, isAeroError, SeededRandom, SimFileSystem, seedList, withSeed } from "@aerodb/base";
import { afterAll, describe, expect, it } from "vitest";
import { type CheckpointResult, type Database, initDataDir, open } from "../src/index.js";
import {
  CONFIG,
  DATA_DIR,
  DB_ID_BYTES,
  DEAD_OWNER,
  isSimulatedCrash,
  Model,
  type Op,
  runOps,
  viewText,
} from "./support/workload.js";

const BASE_SEEDS = 24;
const MAX_POINTS_PER_SEED = 140;
const RECOVERY_CRASH_EVERY = 6;
const MIN_POINTS_DEFAULT_RUN = 2000;

interface Plan {
  readonly model: Model;
  /** Durable history: opened, these ops run, checkpointed if `checkpointFirst`, more ops, closed. */
  readonly history: readonly Op[];
  readonly checkpointFirst: boolean;
  readonly historyTail: readonly Op[];
  readonly behindFirst: readonly Op[];
  readonly afterSecond: readonly Op[];
  /** Commit boundaries: of the history's checkpoint (if any), and of the window's two. */
  readonly boundaries: { readonly old: number | null; readonly first: number; readonly second: number };
}

function makePlan(seed: number): Plan {
  const rnd = new SeededRandom(seed);
  const model = new Model();
  const bulk = rnd.pick([0.1, 0.3, 0.6]);
  const history = model.generate(rnd, rnd.int(15, 40), bulk);
  const checkpointFirst = rnd.bool(0.5);
  const old = checkpointFirst ? model.commit : null;
  const historyTail = checkpointFirst ? model.generate(rnd, rnd.int(3, 12), bulk) : [];
  const first = model.commit;
  const behindFirst = model.generate(rnd, rnd.int(2, 5), bulk);
  const second = model.commit;
  const afterSecond = model.generate(rnd, rnd.int(2, 6), bulk);
  return {
    model,
    history,
    checkpointFirst,
    historyTail,
    behindFirst,
    afterSecond,
    boundaries: { old, first, second },
  };
}

const templates = new Map<number, SimFileSystem>();

async function historyDisk(seed: number, plan: Plan): Promise<SimFileSystem> {
  let template = templates.get(seed);
  if (!template) {
    template = new SimFileSystem();
    await initDataDir(CONFIG, { fs: template, randomBytes: () => DB_ID_BYTES });
    const db = await openDb(template);
    await runOps(db, plan.history);
    if (plan.checkpointFirst) await db.checkpoint();
    await runOps(db, plan.historyTail);
    await db.close();
    templates.clear();
    templates.set(seed, template);
  }
  const disk = template.crash(0);
  expect(disk.crashFates).toEqual([]);
  return disk;
}

function openDb(fs: SimFileSystem): Promise<Database> {
  return open(CONFIG, { fs, processProbe: DEAD_OWNER });
}

interface WindowRecord {
  readonly acknowledged: number[];
  readonly attempted: number;
  /** Checkpoints that resolved, and the boundaries of those that were called. */
  readonly checkpointsAcknowledged: CheckpointResult[];
  readonly checkpointsAttempted: number[];
  readonly crashed: boolean;
}

/** The window: checkpoint with writes queued behind it, a second checkpoint, more writes. */
async function runWindow(db: Database, plan: Plan): Promise<WindowRecord> {
  const acknowledged: number[] = [];
  const checkpointsAcknowledged: CheckpointResult[] = [];
  const checkpointsAttempted: number[] = [];
  let attempted = 0;
  let crashed = false;
  const note = (r: PromiseSettledResult<unknown>) => {
    if (r.status === "rejected") {
      if (!isSimulatedCrash(r.reason)) throw r.reason;
      crashed = true;
    }
  };
  const checkpoint = (boundary: number) => {
    checkpointsAttempted.push(boundary);
    return db.checkpoint().then((r) => {
      checkpointsAcknowledged.push(r);
      return r;
    });
  };
  const writes = async (ops: readonly Op[]) => {
    const r = await runOps(db, ops, 2);
    acknowledged.push(...r.acknowledged);
    attempted = Math.max(attempted, r.highestAttempted);
    if (r.crashed) crashed = true;
  };
  const [a, b] = await Promise.allSettled([checkpoint(plan.boundaries.first), writes(plan.behindFirst)]);
  note(a as PromiseSettledResult<unknown>);
  note(b as PromiseSettledResult<unknown>);
  if (!crashed)
    note(
      (await Promise.allSettled([checkpoint(plan.boundaries.second)]))[0] as PromiseSettledResult<unknown>,
    );
  if (!crashed) await writes(plan.afterSecond);
  return { acknowledged, attempted, checkpointsAcknowledged, checkpointsAttempted, crashed };
}

const stats = {
  seeds: 0,
  sampled: 0,
  points: 0,
  recoveryPoints: 0,
  recovered: 0,
  fromOld: 0,
  fromFirst: 0,
  fromSecond: 0,
  fromNone: 0,
  fatalAfterFlip: 0,
  unacknowledgedSurvived: 0,
  startedAt: 0,
};

function samplePoints(seed: number, total: number): number[] {
  const all = Array.from({ length: total }, (_, i) => i + 1);
  if (total <= MAX_POINTS_PER_SEED) return all;
  const rnd = new SeededRandom(seed ^ 0x5bd1e995);
  const middle = all.slice(1, -1);
  for (let i = middle.length - 1; i > 0; i--) {
    const j = rnd.int(0, i);
    [middle[i], middle[j]] = [middle[j] as number, middle[i] as number];
  }
  return [1, total, ...middle.slice(0, MAX_POINTS_PER_SEED - 2)].sort((x, y) => x - y);
}

async function referenceRun(seed: number, plan: Plan): Promise<number> {
  const disk = await historyDisk(seed, plan);
  const db = await openDb(disk);
  const start = disk.boundaryOpCount;
  const record = await runWindow(db, plan);
  const total = disk.boundaryOpCount - start;
  expect(record.crashed).toBe(false);
  expect(record.checkpointsAcknowledged.map((c) => c.commit_boundary)).toEqual([
    plan.boundaries.first,
    plan.boundaries.second,
  ]);
  expect(viewText(db)).toBe(plan.model.views.get(plan.model.commit));
  await db.close();
  return total;
}

async function crashAt(seed: number, plan: Plan, k: number): Promise<void> {
  const disk = await historyDisk(seed, plan);
  const db = await openDb(disk);
  disk.crashAfter(k);
  const record = await runWindow(db, plan);
  expect(record.crashed, `crash point ${k} was never reached`).toBe(true);
  const acked = record.acknowledged.reduce((x, y) => Math.max(x, y), 0);
  // Ids acknowledged are the next ones in order: every write before the crash was acknowledged.
  expect(record.acknowledged).toEqual(record.acknowledged.map((_, i) => plan.boundaries.first + i + 1));
  const attempted = Math.max(record.attempted, plan.boundaries.first);
  const crashSeed = (Math.imul(seed, 31) + k * 7919) | 0;
  const crashed = disk.crash(crashSeed);
  const flipped = crashed.crashFates.some((f) => f.fate === "flip");
  const where = `seed ${seed}, crash point ${k}, crash seed ${crashSeed}, acknowledged ${acked}, attempted ${attempted}, checkpoints ${JSON.stringify(record.checkpointsAttempted)} acknowledged ${JSON.stringify(record.checkpointsAcknowledged.map((c) => c.commit_boundary))}, fates ${JSON.stringify(crashed.crashFates)}`;

  let db1: Database;
  try {
    db1 = await openDb(crashed);
  } catch (err) {
    expect(isAeroError(err), `${where}: ${String(err)}`).toBe(true);
    const e = err as AeroError;
    expect(flipped, `${where}: ${e.code} ${JSON.stringify(e.details)} without a flip`).toBe(true);
    expect(["AERO_WAL_CORRUPTION", "AERO_WAL_UNIT_INCOMPLETE"], where).toContain(e.code);
    stats.fatalAfterFlip++;
    return;
  }
  const report = db1.recoveryReport();
  const c = report.commit_high_water;
  expect(c, where).toBeGreaterThanOrEqual(Math.max(acked, plan.boundaries.first));
  expect(c, where).toBeLessThanOrEqual(attempted);
  const view = viewText(db1);
  expect(view, where).toBe(plan.model.views.get(c));
  if (c > acked && c > plan.boundaries.first) stats.unacknowledgedSurvived++;

  // Recovery starts only from a checkpoint that was written, and never from an older one
  // than an acknowledged checkpoint.
  const from = report.checkpoint?.commit_boundary ?? null;
  const allowed = [plan.boundaries.old, ...record.checkpointsAttempted];
  expect(allowed, where).toContain(from);
  const lastAcked = record.checkpointsAcknowledged.at(-1)?.commit_boundary;
  if (lastAcked !== undefined) expect(from, where).toBeGreaterThanOrEqual(lastAcked);
  if (from === null) stats.fromNone++;
  else if (from === plan.boundaries.old && from !== plan.boundaries.first) stats.fromOld++;
  else if (from === plan.boundaries.first) stats.fromFirst++;
  else stats.fromSecond++;

  // The same bytes recover to the same report and state in another process.
  const twin = await openDb(disk.crash(crashSeed));
  expect(JSON.stringify(twin.recoveryReport()), where).toBe(JSON.stringify(report));
  await twin.close();

  if (k % RECOVERY_CRASH_EVERY === 0) await crashRecovery(disk, crashSeed, view, c, where);

  // Writes continue the ids; a checkpoint completes and leaves exactly one snapshot.
  const next = await db1
    .insert({ schema_id: "users", schema_version: "v1", document: { _id: "probe", name: "p" } })
    .catch(() =>
      db1.update({ schema_id: "users", schema_version: "v1", document: { _id: "probe", name: "p" } }),
    );
  expect(next.commit_id, where).toBe(c + 1);
  const cp = await db1.checkpoint();
  expect(cp.commit_boundary, where).toBe(c + 1);
  expect(await crashed.readdir(`${DATA_DIR}/snapshots`), where).toEqual([cp.snapshot_id]);
  const before = viewText(db1);
  await db1.close();
  const db2 = await openDb(crashed);
  expect(viewText(db2), where).toBe(before);
  expect(db2.recoveryReport().checkpoint?.commit_boundary, where).toBe(c + 1);
  await db2.close();
  stats.recovered++;
}

/** Power loss at every boundary operation of the recovery of `disk.crash(seed)`: same state after. */
async function crashRecovery(disk: SimFileSystem, crashSeed: number, view: string, c: number, where: string) {
  const probe = disk.crash(crashSeed);
  const start = probe.boundaryOpCount;
  const d = await openDb(probe);
  const ops = probe.boundaryOpCount - start;
  await d.close();
  for (let j = 1; j <= ops; j++) {
    const again = disk.crash(crashSeed);
    again.crashAfter(j);
    await openDb(again).then(
      () => {
        throw new Error(`${where}: recovery crash point ${j} was not reached`);
      },
      (err: unknown) => {
        if (!isSimulatedCrash(err)) throw err;
      },
    );
    const after = again.crash(crashSeed + j);
    const db = await openDb(after);
    expect(db.recoveryReport().commit_high_water, `${where}, recovery crash ${j}`).toBe(c);
    expect(viewText(db), `${where}, recovery crash ${j}`).toBe(view);
    await db.close();
    stats.recoveryPoints++;
  }
}

const seeds = seedList("checkpoint-crash-matrix", BASE_SEEDS);

describe("checkpoint crash matrix", () => {
  afterAll(() => {
    const seconds = ((performance.now() - stats.startedAt) / 1000).toFixed(1);
    console.log(
      `checkpoint crash matrix: ${stats.points + stats.recoveryPoints} crash points ` +
        `(${stats.points} in checkpoint windows over ${stats.seeds} seeds, ${stats.sampled} sampled; ` +
        `${stats.recoveryPoints} in the recoveries after them) in ${seconds} s: ${stats.recovered} recovered ` +
        `(from no checkpoint ${stats.fromNone}, the older one ${stats.fromOld}, the first ${stats.fromFirst}, ` +
        `the second ${stats.fromSecond}; ${stats.unacknowledgedSurvived} kept an unacknowledged commit), ` +
        `${stats.fatalAfterFlip} FATAL after a bit flip in unsynced WAL bytes`,
    );
  });

  it.each(seeds)("seed %i: every crash point of a checkpoint window recovers a model state", async (seed) => {
    if (stats.startedAt === 0) stats.startedAt = performance.now();
    await withSeed(seed, async () => {
      const plan = makePlan(seed);
      const total = await referenceRun(seed, plan);
      const points = samplePoints(seed, total);
      stats.seeds++;
      if (points.length < total) stats.sampled++;
      for (const k of points) {
        await crashAt(seed, plan, k);
        stats.points++;
      }
    });
  });

  it("ran enough crash points", () => {
    const replaying = (process.env.AERODB_SEED ?? "") !== "";
    if (!replaying)
      expect(stats.points + stats.recoveryPoints).toBeGreaterThanOrEqual(MIN_POINTS_DEFAULT_RUN);
  });
});
