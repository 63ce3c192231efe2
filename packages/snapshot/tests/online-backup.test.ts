// Online backups (core.md §11 "online-safe", §10 steps 1-2): the pipeline pauses only while a
// backup picks B and makes its snapshot ready; the archive is written after that turn, with
// commits flowing, while the maintenance lock keeps every other checkpoint and backup waiting
// (FIFO) and close() waits for it. Most tests hold a backup inside its archive phase at the
// creation of `<path>.tmp` (a file-system hook, no timers) and order the rest around it.
import { isAeroError, type SimFileSystem } from "@aerodb/base";
import { type BackupArchivePhase, type Database, snapshotId } from "@aerodb/core";
import { describe, expect, it } from "vitest";
import { open, snapshotMaintenance } from "../src/provider.js";
import { restoreBackup } from "../src/restore.js";
import { verifyBackup } from "../src/verify.js";
import {
  bytesOf,
  config,
  DEAD,
  diskWith,
  idBytes,
  openDb,
  type Shape,
  stateOf,
} from "./support/backup-fixtures.js";
import { HookedFileSystem } from "./support/hooked-fs.js";

const DB = "/data/db";
const OUT = "/out/backup.tar";
const TMP = `${OUT}.tmp`;
const SNAPSHOTS = `${DB}/snapshots`;
const LOCK = `${DB}/LOCK`;
/** Without a checkpoint: every backup writes (and must remove) a private snapshot. */
const SHAPE: Shape = { docs: 12, churn: true, moreSchemas: true };
/** A test that breaks the behaviour would wait forever on the held archive: fail it early. */
const HOLD_TIMEOUT = 15_000;

/** The template disk (with /out) and the same disk behind a hook for the database. */
async function setup(shape: Shape = SHAPE): Promise<{ sim: SimFileSystem; fs: HookedFileSystem }> {
  const sim = await diskWith(DB, shape);
  await sim.mkdir("/out");
  await sim.syncDir("/");
  return { sim, fs: new HookedFileSystem(sim) };
}

const late = (id: string, n: number) =>
  ({ schema_id: "users", schema_version: "v1", document: { _id: id, n } }) as const;

/** Restores `archive` to `target` and returns what the restored database serves. */
async function restoredState(sim: SimFileSystem, archive: string, target: string) {
  expect((await verifyBackup(sim, archive)).problems).toEqual([]);
  await restoreBackup(config(target), archive, { fs: sim, processProbe: DEAD });
  const db = await open(config(target), { fs: sim, processProbe: DEAD });
  try {
    return { state: stateOf(db), next: await db.insert(late("after-restore", 1)) };
  } finally {
    await db.close();
  }
}

async function privateSnapshots(sim: SimFileSystem): Promise<string[]> {
  if (!(await sim.stat(SNAPSHOTS))) return [];
  return (await sim.readdir(SNAPSHOTS)).filter((n) => n.endsWith(".backup.tmp"));
}

/**
 * Starts a backup and waits until it is held inside its archive phase (its pipeline turn over,
 * `<path>.tmp` about to be created); `observe` wraps its promise (a recorder's `track`, say).
 * The caller releases it with `gate.open()`.
 */
async function backupHeldInArchive(
  fs: HookedFileSystem,
  db: Database,
  observe: <T>(p: Promise<T>) => Promise<T> = (p) => p,
) {
  const gate = fs.holdAt("create", TMP);
  const backup = observe(db.backup(OUT));
  await gate.reached;
  return { gate, backup };
}

/** Records the order in which promises settle. */
function recorder() {
  const events: string[] = [];
  const track = <T>(name: string, p: Promise<T>): Promise<T> =>
    p.then(
      (v) => {
        events.push(name);
        return v;
      },
      (err: unknown) => {
        events.push(`${name} failed`);
        throw err;
      },
    );
  return { events, track };
}

describe("a backup's archive phase does not hold up the pipeline", () => {
  const snapshots: Array<[string, Shape, boolean]> = [
    ["a private snapshot", SHAPE, false],
    ["the checkpoint's snapshot", { docs: 8, checkpointAfter: 8 }, true],
  ];
  it.each(snapshots)(
    "archiving %s: a commit issued meanwhile is acknowledged first, and the archive restores to B",
    async (_name, shape, reused) => {
      const { sim, fs } = await setup(shape);
      const db = await openDb(fs, DB);
      const atB = stateOf(db);
      const b = db.stats().commit_high_water;
      const { events, track } = recorder();
      // The turn is over: phase 1 handed its archive phase back.
      const { gate, backup } = await backupHeldInArchive(fs, db, (p) => track("backup", p));
      expect(await privateSnapshots(sim)).toEqual(reused ? [] : [`${snapshotId(b)}.backup.tmp`]);
      const write = await track("commit", db.insert(late("late", 5)));
      expect(write.commit_id).toBe(b + 1);
      const query = { schema_id: "users", schema_version: "v1", filter: { _id: "late" }, limit: 1 };
      expect(db.query(query).data).toHaveLength(1);
      gate.open();
      const result = await backup;
      expect(events).toEqual(["commit", "backup"]);
      expect(result.commit_boundary).toBe(b);
      expect(result.snapshot_id).toBe(snapshotId(b));
      expect(await privateSnapshots(sim)).toEqual([]);
      expect(await sim.readdir("/out")).toEqual(["backup.tar"]);
      await db.close();

      // The later commit is not in the archive; commit ids continue at B + 1 after a restore.
      const restored = await restoredState(sim, OUT, "/restored");
      expect(restored.state).toEqual(atB);
      expect(restored.next.commit_id).toBe(b + 1);
    },
    HOLD_TIMEOUT,
  );

  it(
    "gives the bytes a backup at B gives when nothing else runs",
    async () => {
      const reference = await setup();
      const refDb = await openDb(reference.sim, DB);
      await refDb.backup(OUT);
      await refDb.close();
      const expected = await bytesOf(reference.sim, OUT);

      const { sim, fs } = await setup();
      const db = await openDb(fs, DB);
      const { gate, backup } = await backupHeldInArchive(fs, db);
      await db.insert(late("late", 5));
      await db.update({ schema_id: "users", schema_version: "v1", document: { _id: "u1", n: -1 } });
      await db.delete({ schema_id: "users", schema_version: "v1", _id: "u2" });
      gate.open();
      await backup;
      await db.close();
      expect((await bytesOf(sim, OUT)).equals(expected)).toBe(true);
    },
    HOLD_TIMEOUT,
  );
});

describe("maintenance is serialized", () => {
  it(
    "a checkpoint asked for during the archive phase waits for it; commits do not",
    async () => {
      const { sim, fs } = await setup();
      const db = await openDb(fs, DB);
      const atB = stateOf(db);
      const b = db.stats().commit_high_water;
      const { events, track } = recorder();
      const { gate, backup } = await backupHeldInArchive(fs, db, (p) => track("backup", p));
      const checkpoint = track("checkpoint", db.checkpoint());
      // Had the checkpoint taken its turn, it would have settled before this commit queued
      // behind it (and deleted the private snapshot being archived).
      await track("commit", db.insert(late("late", 5)));
      expect(events).toEqual(["commit"]);
      expect(await privateSnapshots(sim)).toEqual([`${snapshotId(b)}.backup.tmp`]);
      gate.open();
      const [backedUp, checkpointed] = await Promise.all([backup, checkpoint]);
      expect(events).toEqual(["commit", "backup", "checkpoint"]);
      expect(backedUp.commit_boundary).toBe(b);
      // The checkpoint ran after the commit: it is at B + 1, and it is the only snapshot left.
      expect(checkpointed).toMatchObject({
        snapshot_id: snapshotId(b + 1),
        commit_boundary: b + 1,
        lsn_boundary: db.stats().last_lsn,
      });
      expect(await sim.readdir(SNAPSHOTS)).toEqual([snapshotId(b + 1)]);
      const served = stateOf(db);
      await db.close();

      const reopened = await openDb(sim, DB);
      expect(reopened.recoveryReport().checkpoint).toEqual({
        snapshot_id: snapshotId(b + 1),
        commit_boundary: b + 1,
        lsn_boundary: checkpointed.lsn_boundary,
      });
      expect(stateOf(reopened)).toEqual(served);
      await reopened.close();
      expect((await restoredState(sim, OUT, "/restored")).state).toEqual(atB);
    },
    HOLD_TIMEOUT,
  );

  it("two backups at the same boundary, asked for at once, both succeed with the same bytes", async () => {
    // Both need snapshots/snap-<B>.backup.tmp: the second may only write it once the first
    // has archived and removed it.
    const { sim, fs } = await setup();
    const db = await openDb(fs, DB);
    const atB = stateOf(db);
    const [one, two] = await Promise.all([db.backup("/out/one.tar"), db.backup("/out/two.tar")]);
    await db.close();
    expect(one).toEqual(two);
    expect((await bytesOf(sim, "/out/one.tar")).equals(await bytesOf(sim, "/out/two.tar"))).toBe(true);
    expect(fs.indexOf("rename /out/one.tar.tmp -> /out/one.tar")).toBeLessThan(
      fs.indexOf("create /out/two.tar.tmp"),
    );
    expect(await privateSnapshots(sim)).toEqual([]);
    expect((await restoredState(sim, "/out/two.tar", "/restored")).state).toEqual(atB);
  });

  it("backups in a row with a commit between: each archives its own B, in order", async () => {
    const { sim, fs } = await setup();
    const db = await openDb(fs, DB);
    const atB = stateOf(db);
    const b = db.stats().commit_high_water;
    const { events, track } = recorder();
    // Called in this order in one tick: the first backup's turn comes before the write, the
    // second backup waits for the first and so sees the write.
    const first = track("first", db.backup("/out/first.tar"));
    const write = track("commit", db.insert(late("late", 5)));
    const second = track("second", db.backup("/out/second.tar"));
    const [a, w, c] = await Promise.all([first, write, second]);
    expect(a.commit_boundary).toBe(b);
    expect(w.commit_id).toBe(b + 1);
    expect(c.commit_boundary).toBe(b + 1);
    expect(events.indexOf("first")).toBeLessThan(events.indexOf("second"));
    const atB1 = stateOf(db);
    // Same state, same bytes: a backup of B + 1 taken alone now equals the second one.
    await db.backup("/out/again.tar");
    await db.close();
    expect((await bytesOf(sim, "/out/again.tar")).equals(await bytesOf(sim, "/out/second.tar"))).toBe(true);
    expect((await restoredState(sim, "/out/first.tar", "/r1")).state).toEqual(atB);
    expect((await restoredState(sim, "/out/second.tar", "/r2")).state).toEqual(atB1);
  });
});

describe("shutdown and failures during the archive phase", () => {
  it(
    "close() waits for the archive, and for a checkpoint accepted before it, then unlocks",
    async () => {
      const { sim, fs } = await setup();
      const db = await openDb(fs, DB);
      const atB = stateOf(db);
      const b = db.stats().commit_high_water;
      const { gate, backup } = await backupHeldInArchive(fs, db);
      const checkpoint = db.checkpoint(); // accepted before close(): finished by it
      const closing = db.close();
      expect(db.lifecycleState).toBe("SHUTTING_DOWN");
      await expect(db.insert(late("late", 5))).rejects.toMatchObject({ code: "AERO_WAL_CLOSED" });
      await expect(db.backup("/out/other.tar")).rejects.toMatchObject({ code: "AERO_WAL_CLOSED" });
      gate.open();
      await closing;
      expect(db.lifecycleState).toBe("TERMINATED");
      const [backedUp, checkpointed] = await Promise.all([backup, checkpoint]);
      expect(backedUp.commit_boundary).toBe(b);
      expect(checkpointed.commit_boundary).toBe(b);
      // The archive was in place before the lock went.
      const renamed = fs.indexOf(`rename ${TMP} -> ${OUT}`);
      expect(renamed).toBeGreaterThanOrEqual(0);
      expect(renamed).toBeLessThan(fs.indexOf(`unlink ${LOCK}`));
      expect(await sim.stat(LOCK)).toBeNull();
      expect(await sim.readdir("/out")).toEqual(["backup.tar"]);
      expect(await privateSnapshots(sim)).toEqual([]);

      const reopened = await openDb(sim, DB);
      expect(reopened.recoveryReport().clean_shutdown_flag).toBe(true);
      expect(reopened.recoveryReport().checkpoint?.snapshot_id).toBe(snapshotId(b));
      await reopened.close();
      expect((await restoredState(sim, OUT, "/restored")).state).toEqual(atB);
    },
    HOLD_TIMEOUT,
  );

  it(
    "an I/O error writing the archive is AERO_BACKUP_FAILED with nothing left, and the database serves on",
    async () => {
      const { sim, fs } = await setup();
      const db = await openDb(fs, DB);
      const b = db.stats().commit_high_water;
      expect(await sim.stat(SNAPSHOTS)).toBeNull();
      sim.injectFault({ op: "write", nth: 1, kind: "EIO", pathIncludes: TMP });
      const { gate, backup } = await backupHeldInArchive(fs, db);
      expect((await db.insert(late("late", 5))).commit_id).toBe(b + 1);
      gate.open();
      await expect(backup).rejects.toMatchObject({
        code: "AERO_BACKUP_FAILED",
        severity: "ERROR",
        details: { reason: "io", errno: "EIO" },
      });
      sim.clearFaults();
      expect(await sim.readdir("/out")).toEqual([]);
      // The private snapshot is gone, and so is the snapshots/ directory the backup created.
      expect(await sim.stat(SNAPSHOTS)).toBeNull();
      expect(db.lifecycleState).toBe("SERVING");

      expect((await db.insert(late("later", 6))).commit_id).toBe(b + 2);
      const again = await db.backup(OUT);
      expect(again.commit_boundary).toBe(b + 2);
      const served = stateOf(db);
      await db.close();
      expect((await restoredState(sim, OUT, "/restored")).state).toEqual(served);
    },
    HOLD_TIMEOUT,
  );

  it(
    "a FATAL stop during the archive phase: the backup gives up, cleans up, and the lock goes last",
    async () => {
      const { sim, fs } = await setup();
      const db = await openDb(fs, DB);
      const atB = stateOf(db);
      const { gate, backup } = await backupHeldInArchive(fs, db);
      sim.injectFault({ op: "sync", nth: 1, kind: "EIO", pathIncludes: "/wal/" });
      await expect(db.insert(late("late", 5))).rejects.toMatchObject({
        code: "AERO_WAL_FSYNC_FAILED",
        severity: "FATAL",
      });
      sim.clearFaults();
      expect(db.lifecycleState).toBe("TERMINATED");
      const closing = db.close();
      gate.open();
      await expect(backup).rejects.toMatchObject({
        code: "AERO_BACKUP_FAILED",
        details: { reason: "stopped" },
      });
      await closing;
      expect(await sim.readdir("/out")).toEqual([]);
      expect(await sim.stat(SNAPSHOTS)).toBeNull();
      // The archive's cleanup ran while the data directory was still locked.
      expect(fs.indexOf(`unlink ${TMP}`)).toBeGreaterThanOrEqual(0);
      expect(fs.indexOf(`unlink ${TMP}`)).toBeLessThan(fs.indexOf(`unlink ${LOCK}`));
      expect(fs.indexOf(`rmdir ${SNAPSHOTS}`)).toBeLessThan(fs.indexOf(`unlink ${LOCK}`));

      // Every acknowledged commit is there after a restart, and backups work again.
      const reopened = await openDb(sim, DB);
      const rows = stateOf(reopened).rows as Record<string, unknown[]>;
      for (const [schema, acknowledged] of Object.entries(atB.rows as Record<string, unknown[]>)) {
        expect(rows[schema], schema).toEqual(expect.arrayContaining(acknowledged));
      }
      const next = await reopened.backup(OUT);
      await reopened.close();
      expect((await verifyBackup(sim, OUT)).problems).toEqual([]);
      expect(next.commit_boundary).toBeGreaterThanOrEqual(atB.commit_high_water as number);
    },
    HOLD_TIMEOUT,
  );

  it("an archive phase that reaches back into its turn's context fails with AERO_INTERNAL_INVARIANT", async () => {
    const { sim } = await setup();
    const real = snapshotMaintenance();
    const db: Database = await open(config(DB), {
      fs: sim,
      processProbe: DEAD,
      randomBytes: idBytes(1),
      maintenance: {
        checkpoint: real.checkpoint,
        // Phase 1 does nothing; phase 2 wrongly writes through the turn's context.
        backup:
          async (ctx): Promise<BackupArchivePhase> =>
          async () => {
            await ctx.writeSnapshot(`${SNAPSHOTS}/late`);
            throw new Error("unreachable: the context outlived its turn");
          },
      },
    });
    const failure = await db.backup(OUT).catch((err: unknown) => err);
    expect(isAeroError(failure) && failure.code).toBe("AERO_INTERNAL_INVARIANT");
    expect(await sim.stat(`${SNAPSHOTS}/late`)).toBeNull();
    // A broken invariant is FATAL: the instance stops.
    expect(db.lifecycleState).toBe("TERMINATED");
    await db.close();
  });
});
