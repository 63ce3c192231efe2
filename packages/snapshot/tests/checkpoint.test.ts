// Checkpoints (core §10), recovery from a checkpoint (core §9.2) and the snapshot format
// (docs/formats/snapshot.md), on the simulated file system: scenarios 29–32 of core §13 and
// the rules around them.
import * as posixPath from "node:path/posix";
import { type AeroError, isAeroError, SimFileSystem } from "@aerodb/base";
import { open as coreOpen } from "@aerodb/core";
import { describe, expect, it } from "vitest";
import {
  canonicalJson,
  checkpointMarkerBytes,
  type Database,
  handleRequest,
  initDataDir,
  open,
  readSnapshot,
  SNAPSHOT_FRAME_OVERHEAD,
  snapshotId,
} from "../src/index.js";
import {
  CONFIG,
  DATA_DIR,
  DB_ID_BYTES,
  DEAD_OWNER,
  dumpTree,
  Model,
  runOps,
  SCHEMAS,
  SeededRandom,
  viewText,
} from "./support/workload.js";

const SNAPSHOTS = `${DATA_DIR}/snapshots`;
const WAL = `${DATA_DIR}/wal`;

async function freshDisk(): Promise<SimFileSystem> {
  const fs = new SimFileSystem();
  await initDataDir(CONFIG, { fs, randomBytes: () => DB_ID_BYTES });
  return fs;
}

function openDb(fs: SimFileSystem): Promise<Database> {
  return open(CONFIG, { fs, processProbe: DEAD_OWNER });
}

/** A database with `count` seeded operations committed; returns it open with its model. */
async function populated(seed: number, count: number, fs?: SimFileSystem) {
  const disk = fs ?? (await freshDisk());
  const db = await openDb(disk);
  const model = new Model();
  const rnd = new SeededRandom(seed);
  await runOps(db, model.generate(rnd, count));
  return { fs: disk, db, model, rnd };
}

async function expectFatal(promise: Promise<unknown>, code: string): Promise<AeroError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isAeroError(err), String(err)).toBe(true);
  expect((err as AeroError).code, JSON.stringify((err as AeroError).toJSON?.())).toBe(code);
  return err as AeroError;
}

async function snapshotBytes(fs: SimFileSystem, id: string) {
  return dumpTree(fs, posixPath.join(SNAPSHOTS, id));
}

async function flipByte(fs: SimFileSystem, path: string, at: number): Promise<void> {
  const handle = await fs.open(path, "r+");
  const one = new Uint8Array(1);
  handle.readSync(one, 0, 1, at);
  one[0] = (one[0] as number) ^ 0x10;
  await handle.write(one, 0, 1, at);
  await handle.sync();
  await handle.close();
}

describe("§13.29 determinism: two checkpoints of one state give the same snapshot bytes", () => {
  it("the same history checkpointed in two directories", async () => {
    const a = await populated(29, 60);
    const b = await populated(29, 60);
    const ra = await a.db.checkpoint();
    const rb = await b.db.checkpoint();
    expect(ra).toEqual(rb);
    expect(await snapshotBytes(a.fs, ra.snapshot_id)).toEqual(await snapshotBytes(b.fs, rb.snapshot_id));
    expect(await a.fs.readFile(`${DATA_DIR}/checkpoint.json`)).toEqual(
      await b.fs.readFile(`${DATA_DIR}/checkpoint.json`),
    );
    await a.db.close();
    await b.db.close();
  });

  it("the same state reached through earlier checkpoints and restarts, or without them", async () => {
    const rnd = new SeededRandom(2929);
    const model = new Model();
    const phases = [model.generate(rnd, 30), model.generate(rnd, 30), model.generate(rnd, 30)];
    // A: checkpoint after each phase, restart in between.
    const fsA = await freshDisk();
    for (const ops of phases) {
      const db = await openDb(fsA);
      await runOps(db, ops);
      await db.checkpoint();
      await db.close();
    }
    // B: no checkpoint until the end.
    const fsB = await freshDisk();
    const db = await openDb(fsB);
    for (const ops of phases) await runOps(db, ops);
    const last = await db.checkpoint();
    await db.close();
    expect(await fsA.readdir(SNAPSHOTS)).toEqual([last.snapshot_id]);
    expect(await snapshotBytes(fsA, last.snapshot_id)).toEqual(await snapshotBytes(fsB, last.snapshot_id));
  });

  it("a second checkpoint with no commit in between reuses the snapshot and writes nothing", async () => {
    const { fs, db } = await populated(7, 40);
    const first = await db.checkpoint();
    const before = await dumpTree(fs, DATA_DIR);
    const ops = fs.boundaryOpCount;
    const second = await db.checkpoint();
    expect(second).toEqual({ ...first, segments_removed: 0 });
    expect(fs.boundaryOpCount).toBe(ops);
    expect(await dumpTree(fs, DATA_DIR)).toEqual(before);
    await db.close();
  });

  it("a complete snapshot left by a checkpoint that stopped before its marker is reused", async () => {
    const { fs, db, model } = await populated(8, 40);
    await db.close();
    // Write the snapshot at C without a marker (as a crash after step 2 leaves it).
    const crashed = await checkpointUntil(fs, "checkpoint.json.tmp");
    const dbAgain = await openDb(crashed);
    expect(dbAgain.recoveryReport().checkpoint).toBeNull();
    const id = snapshotId(model.commit);
    const bytes = await snapshotBytes(crashed, id);
    const result = await dbAgain.checkpoint();
    expect(result.snapshot_id).toBe(id);
    expect(await snapshotBytes(crashed, id)).toEqual(bytes);
    await dbAgain.close();
  });
});

/** Runs a checkpoint and power-fails at the first create of `name`; returns the disk after. */
async function checkpointUntil(fs: SimFileSystem, name: string): Promise<SimFileSystem> {
  fs.injectFault({ op: "create", nth: 1, kind: "EIO", pathIncludes: name });
  const db = await openDb(fs);
  await expect(db.checkpoint()).rejects.toMatchObject({ code: "AERO_CHECKPOINT_FAILED" });
  return fs.crash(1);
}

describe("§13.30 checkpoint + restart: same results, LSNs and commit ids continue", () => {
  it("restarts from the snapshot, replays only what follows, and continues the ids", async () => {
    const { fs, db, model, rnd } = await populated(30, 80);
    const before = viewText(db);
    const lsnBefore = db.stats().last_lsn;
    const result = await db.checkpoint();
    expect(result).toMatchObject({
      snapshot_id: snapshotId(model.commit),
      commit_boundary: model.commit,
      lsn_boundary: lsnBefore,
    });
    expect(result.segments_removed).toBeGreaterThan(0);
    // Reads after truncation come from the snapshot file.
    expect(viewText(db)).toBe(before);
    const later = model.generate(rnd, 10);
    await runOps(db, later);
    const after = viewText(db);
    await db.close();

    const db2 = await openDb(fs);
    const report = db2.recoveryReport();
    expect(report.checkpoint).toEqual({
      snapshot_id: result.snapshot_id,
      commit_boundary: result.commit_boundary,
      lsn_boundary: result.lsn_boundary,
    });
    expect(report.wal.units_replayed).toBe(model.commit - result.commit_boundary);
    expect(report.commit_high_water).toBe(model.commit);
    expect(report.versions_verified).toBe(model.versions);
    expect(viewText(db2)).toBe(after);
    expect(viewText(db2)).toBe(model.views.get(model.commit));
    // The next commit continues both sequences.
    const lsn = db2.stats().last_lsn;
    const next = await db2.insert({
      schema_id: "users",
      schema_version: "v1",
      document: { _id: "zz-next", name: "n" },
    });
    expect(next.commit_id).toBe(model.commit + 1);
    expect(db2.stats().last_lsn).toBe(lsn + 3);
    await db2.close();
  });

  it("restarts are byte-stable: a recovery from a checkpoint rewrites nothing", async () => {
    const { fs, db } = await populated(31, 50);
    await db.checkpoint();
    await db.close();
    const skipState = (t: Array<[string, string]>) => t.filter(([p]) => p !== "metadata/state.json");
    const before = skipState(await dumpTree(fs, DATA_DIR));
    for (let i = 0; i < 3; i++) {
      const d = await openDb(fs);
      await d.close();
    }
    expect(skipState(await dumpTree(fs, DATA_DIR))).toEqual(before);
  });

  it("a checkpoint of the empty database is a snapshot at 0", async () => {
    const fs = await freshDisk();
    const db = await openDb(fs);
    expect(await db.checkpoint()).toEqual({
      snapshot_id: "snap-00000000000000000000",
      commit_boundary: 0,
      lsn_boundary: 0,
      segments_removed: 0,
    });
    await db.close();
    const db2 = await openDb(fs);
    expect(db2.recoveryReport().checkpoint).toEqual({
      snapshot_id: "snap-00000000000000000000",
      commit_boundary: 0,
      lsn_boundary: 0,
    });
    expect((await db2.registerSchema(SCHEMAS.users_v1)).commit_id).toBe(1);
    await db2.close();
  });

  it("an empty wal/ after the snapshot (as a restore lays it out) continues at lsn_boundary + 1", async () => {
    const { fs, db, model } = await populated(32, 60);
    const result = await db.checkpoint();
    await db.close();
    for (const name of await fs.readdir(WAL)) await fs.unlink(`${WAL}/${name}`);
    await fs.syncDir(WAL);
    const db2 = await openDb(fs);
    expect(db2.recoveryReport()).toMatchObject({
      checkpoint: { commit_boundary: model.commit, lsn_boundary: result.lsn_boundary },
      wal: { segments: 0, first_lsn: null, last_lsn: result.lsn_boundary, units_replayed: 0 },
      commit_high_water: model.commit,
    });
    expect(viewText(db2)).toBe(model.views.get(model.commit));
    const next = await db2.delete({ schema_id: "users", schema_version: "v1", _id: "nobody" });
    expect(next.commit_id).toBeNull();
    const put = await db2.insert({
      schema_id: "users",
      schema_version: "v1",
      document: { _id: "new", name: "x" },
    });
    expect(put.commit_id).toBe(model.commit + 1);
    await db2.close();
    expect(await fs.readdir(WAL)).toEqual([`${String(result.lsn_boundary + 1).padStart(20, "0")}.wal`]);
    const db3 = await openDb(fs);
    expect(db3.recoveryReport().wal).toMatchObject({ first_lsn: result.lsn_boundary + 1, units_replayed: 1 });
    await db3.close();
  });

  it("several checkpoints in a row with writes and restarts between keep one snapshot and all data", async () => {
    const fs = await freshDisk();
    const model = new Model();
    const rnd = new SeededRandom(33);
    for (let round = 0; round < 5; round++) {
      const db = await openDb(fs);
      expect(viewText(db)).toBe(model.views.get(model.commit));
      await runOps(db, model.generate(rnd, 25));
      const r = await db.checkpoint();
      expect(r.commit_boundary).toBe(model.commit);
      expect(await fs.readdir(SNAPSHOTS)).toEqual([r.snapshot_id]);
      await runOps(db, model.generate(rnd, 5));
      await db.close();
    }
    const db = await openDb(fs);
    expect(viewText(db)).toBe(model.views.get(model.commit));
    await db.close();
  });
});

describe("§13.31 a crash before the marker, before truncation, after it: the same state", () => {
  // Each crash is a power loss at the first boundary operation of a step of the procedure.
  const stops = [
    { name: "before the snapshot is renamed", path: ".tmp", op: "rename" as const, checkpoint: false },
    { name: "before the marker", path: "checkpoint.json.tmp", op: "create" as const, checkpoint: false },
    { name: "before truncation", path: ".wal", op: "unlink" as const, checkpoint: true },
    {
      name: "after truncation, before old snapshots go",
      path: "snapshots/snap",
      op: "unlink" as const,
      checkpoint: true,
    },
  ];
  for (const stop of stops) {
    it(stop.name, async () => {
      const { fs, db, model } = await populated(310, 70);
      const first = await db.checkpoint(); // an older checkpoint, so deleting it is a step
      const rnd = new SeededRandom(311);
      await runOps(db, model.generate(rnd, 30));
      const want = model.views.get(model.commit);
      const skip = stop.path === "snapshots/snap" ? `snapshots/${first.snapshot_id}` : stop.path;
      // Crash at the first matching operation of the checkpoint.
      let n = 0;
      const start = fs.boundaryOpCount;
      const probe = await populatedTwin(310, 70, 311, 30);
      probe.fs.injectFault({ op: stop.op, nth: 1, kind: "EIO", pathIncludes: skip });
      await probe.db.checkpoint().catch(() => undefined);
      n = probe.fs.boundaryOpCount - probe.start;
      await probe.db.close().catch(() => undefined);
      fs.crashAfter(n);
      await expect(db.checkpoint()).rejects.toThrow(/simulated crash/);
      expect(fs.boundaryOpCount - start).toBe(n);
      for (const seed of [1, 2, 3]) {
        const after = fs.crash(seed);
        const db2 = await openDb(after);
        expect(viewText(db2)).toBe(want);
        const cp = db2.recoveryReport().checkpoint;
        expect(cp?.commit_boundary === model.commit || cp?.commit_boundary === first.commit_boundary).toBe(
          true,
        );
        if (stop.checkpoint) expect(cp?.commit_boundary).toBe(model.commit);
        // A further checkpoint completes and cleans up.
        const again = await db2.checkpoint();
        expect(await after.readdir(SNAPSHOTS)).toEqual([again.snapshot_id]);
        await db2.close();
        const db3 = await openDb(after);
        expect(viewText(db3)).toBe(want);
        await db3.close();
      }
    });
  }
});

/** The same database as populated(seed, count) plus `more` operations of `moreSeed`, fresh. */
async function populatedTwin(seed: number, count: number, moreSeed: number, more: number) {
  const p = await populated(seed, count);
  await p.db.checkpoint();
  await runOps(p.db, p.model.generate(new SeededRandom(moreSeed), more));
  return { ...p, start: p.fs.boundaryOpCount };
}

describe("§13.32 a marker without its snapshot, a bad CRC, a snapshot without a manifest", () => {
  it("a marker naming a missing snapshot is AERO_RECOVERY_SNAPSHOT_MISSING", async () => {
    const { fs, db } = await populated(320, 30);
    const r = await db.checkpoint();
    await db.close();
    for (const [rel] of (await dumpTree(fs, `${SNAPSHOTS}/${r.snapshot_id}`)).reverse()) {
      const path = `${SNAPSHOTS}/${r.snapshot_id}/${rel.replace(/\/$/, "")}`;
      if (rel.endsWith("/")) await fs.rmdir(path);
      else await fs.unlink(path);
    }
    await fs.rmdir(`${SNAPSHOTS}/${r.snapshot_id}`);
    const err = await expectFatal(openDb(fs), "AERO_RECOVERY_SNAPSHOT_MISSING");
    expect(err.details).toMatchObject({ snapshot_id: r.snapshot_id, phase: "snapshot" });
    // The lock was released: a second attempt fails the same way.
    await expectFatal(openDb(fs), "AERO_RECOVERY_SNAPSHOT_MISSING");
  });

  it("a marker naming a snapshot without a manifest is AERO_RECOVERY_SNAPSHOT_MISSING", async () => {
    const { fs, db } = await populated(321, 30);
    const r = await db.checkpoint();
    await db.close();
    await fs.unlink(`${SNAPSHOTS}/${r.snapshot_id}/manifest.json`);
    await expectFatal(openDb(fs), "AERO_RECOVERY_SNAPSHOT_MISSING");
  });

  it("a flipped bit in versions is AERO_SNAPSHOT_CORRUPTION naming the file and the frame's offset", async () => {
    const { fs, db } = await populated(322, 40);
    const r = await db.checkpoint();
    await db.close();
    const versions = `${SNAPSHOTS}/${r.snapshot_id}/versions`;
    const size = (await fs.stat(versions))?.size as number;
    await flipByte(fs, versions, Math.floor(size / 2));
    const err = await expectFatal(openDb(fs), "AERO_SNAPSHOT_CORRUPTION");
    expect(err.details).toMatchObject({ snapshot_id: r.snapshot_id, file: "versions", phase: "snapshot" });
    expect(typeof err.details?.offset).toBe("number");
    expect(err.details?.offset as number).toBeLessThanOrEqual(Math.floor(size / 2));
  });

  it("damage to the manifest, a schema file, a truncated or padded versions file: AERO_SNAPSHOT_CORRUPTION", async () => {
    const cases: Array<[string, (fs: SimFileSystem, dir: string) => Promise<void>, string]> = [
      ["manifest bit", (fs, dir) => flipByte(fs, `${dir}/manifest.json`, 20), "manifest.json"],
      ["schema bit", (fs, dir) => flipByte(fs, `${dir}/schemas/users/v1.json`, 5), "schemas/users/v1.json"],
      [
        "versions truncated",
        async (fs, dir) => {
          const h = await fs.open(`${dir}/versions`, "r+");
          await h.truncate((await h.size()) - 3);
          await h.sync();
          await h.close();
        },
        "versions",
      ],
      [
        "versions padded",
        async (fs, dir) => {
          const h = await fs.open(`${dir}/versions`, "r+");
          await h.write(new Uint8Array(5), 0, 5, await h.size());
          await h.sync();
          await h.close();
        },
        "versions",
      ],
      [
        "an extra file",
        async (fs, dir) => {
          const h = await fs.open(`${dir}/schemas/stray.json`, "wx");
          await h.close();
        },
        "schemas/stray.json",
      ],
    ];
    for (const [name, damage, file] of cases) {
      const { fs, db } = await populated(323, 30);
      const r = await db.checkpoint();
      await db.close();
      await damage(fs, `${SNAPSHOTS}/${r.snapshot_id}`);
      const err = await expectFatal(openDb(fs), "AERO_SNAPSHOT_CORRUPTION");
      expect(err.details?.file, name).toBe(file);
    }
  });

  it("a damaged checkpoint.json is AERO_METADATA_CORRUPTION", async () => {
    const { fs, db } = await populated(324, 20);
    await db.checkpoint();
    await db.close();
    await flipByte(fs, `${DATA_DIR}/checkpoint.json`, 10);
    const err = await expectFatal(openDb(fs), "AERO_METADATA_CORRUPTION");
    expect(err.details).toMatchObject({ file: "checkpoint.json" });
  });

  it("a marker whose boundaries disagree with its snapshot is AERO_SNAPSHOT_CORRUPTION", async () => {
    const { fs, db } = await populated(325, 20);
    const r = await db.checkpoint();
    await db.close();
    const h = await fs.open(`${DATA_DIR}/checkpoint.json`, "r+");
    await h.truncate(0);
    const bytes = checkpointMarkerBytes({
      snapshot_id: r.snapshot_id,
      commit_boundary: r.commit_boundary,
      lsn_boundary: r.lsn_boundary,
      boundary_frame_crc: 12345,
    });
    await h.write(bytes, 0, bytes.length, 0);
    await h.sync();
    await h.close();
    const err = await expectFatal(openDb(fs), "AERO_SNAPSHOT_CORRUPTION");
    expect(err.details).toMatchObject({ reason: "marker_mismatch" });
  });

  it("snapshot directories without a manifest, .tmp leftovers and unnamed snapshots are ignored", async () => {
    const { fs, db, model } = await populated(326, 40);
    const r = await db.checkpoint();
    await db.close();
    // Leftovers: a manifest-less snapshot at a later C, a .tmp dir, a complete unnamed one.
    for (const dir of [snapshotId(model.commit + 5), `${snapshotId(model.commit + 6)}.tmp`]) {
      await fs.mkdir(`${SNAPSHOTS}/${dir}`);
      const h = await fs.open(`${SNAPSHOTS}/${dir}/versions`, "wx");
      await h.write(new Uint8Array([1, 2, 3]), 0, 3, 0);
      await h.close();
    }
    await fs.syncDir(SNAPSHOTS);
    const db2 = await openDb(fs);
    expect(db2.recoveryReport().checkpoint?.snapshot_id).toBe(r.snapshot_id);
    expect(viewText(db2)).toBe(model.views.get(model.commit));
    await db2.insert({ schema_id: "users", schema_version: "v1", document: { _id: "q", name: "q" } });
    const r2 = await db2.checkpoint();
    expect(await fs.readdir(SNAPSHOTS)).toEqual([r2.snapshot_id]);
    await db2.close();
  });

  it("a snapshot schema whose metadata/schemas file is missing is AERO_METADATA_CORRUPTION", async () => {
    const { fs, db } = await populated(327, 20);
    await db.checkpoint();
    await db.close();
    await fs.unlink(`${DATA_DIR}/metadata/schemas/users/v1.json`);
    const err = await expectFatal(openDb(fs), "AERO_METADATA_CORRUPTION");
    expect(err.details).toMatchObject({ reason: "missing" });
  });

  it("readSnapshot verifies a snapshot offline and reports its manifest", async () => {
    const { fs, db, model } = await populated(328, 30);
    const r = await db.checkpoint();
    await db.close();
    let versions = 0;
    const manifest = await readSnapshot(fs, `${SNAPSHOTS}/${r.snapshot_id}`, {
      checkBodies: true,
      onVersion: (v) => {
        versions++;
        expect(v.location.size).toBe(v.body.length + v.location.size - v.body.length);
      },
    });
    expect(manifest).toMatchObject({ commit_boundary: model.commit, version_count: model.versions });
    expect(versions).toBe(model.versions);
    const size = (await fs.stat(`${SNAPSHOTS}/${r.snapshot_id}/versions`))?.size;
    expect(manifest.files.at(-1)).toMatchObject({ path: "versions", size });
    expect(SNAPSHOT_FRAME_OVERHEAD).toBe(25);
  });
});

describe("failures and the seam", () => {
  it("an I/O error while writing the snapshot is AERO_CHECKPOINT_FAILED; the old checkpoint stands", async () => {
    const { fs, db, model, rnd } = await populated(40, 40);
    const first = await db.checkpoint();
    await runOps(db, model.generate(rnd, 10));
    fs.injectFault({ op: "write", nth: 1, kind: "EIO", pathIncludes: "versions" });
    const err = await expectFatal(db.checkpoint(), "AERO_CHECKPOINT_FAILED");
    expect(err.severity).toBe("ERROR");
    expect(await fs.readdir(SNAPSHOTS)).toEqual([first.snapshot_id]);
    // The database keeps serving, and the next checkpoint succeeds.
    await runOps(db, model.generate(rnd, 3));
    expect(viewText(db)).toBe(model.views.get(model.commit));
    const again = await db.checkpoint();
    expect(again.commit_boundary).toBe(model.commit);
    await db.close();
    const db2 = await openDb(fs);
    expect(db2.recoveryReport().checkpoint?.snapshot_id).toBe(again.snapshot_id);
    expect(viewText(db2)).toBe(model.views.get(model.commit));
    await db2.close();
  });

  it("an I/O error writing the marker is AERO_CHECKPOINT_FAILED; an fsync failure of a snapshot file too", async () => {
    for (const fault of [
      { op: "create" as const, pathIncludes: "checkpoint.json" },
      { op: "sync" as const, pathIncludes: "manifest.json" },
      { op: "rename" as const, pathIncludes: ".tmp" },
    ]) {
      const { fs, db, model } = await populated(41, 30);
      fs.injectFault({ ...fault, nth: 1, kind: "EIO" });
      await expectFatal(db.checkpoint(), "AERO_CHECKPOINT_FAILED");
      expect(viewText(db)).toBe(model.views.get(model.commit));
      await db.close();
      const db2 = await openDb(fs);
      expect(db2.recoveryReport().checkpoint).toBeNull();
      expect(viewText(db2)).toBe(model.views.get(model.commit));
      await db2.close();
    }
  });

  it("an I/O error in truncation is AERO_CHECKPOINT_TRUNCATE_FAILED; the new checkpoint holds", async () => {
    const { fs, db, model, rnd } = await populated(42, 150);
    const boundary = model.commit;
    fs.injectFault({ op: "unlink", nth: 1, kind: "EIO", pathIncludes: ".wal" });
    const err = await expectFatal(db.checkpoint(), "AERO_CHECKPOINT_TRUNCATE_FAILED");
    expect(err.severity).toBe("ERROR");
    expect(viewText(db)).toBe(model.views.get(model.commit));
    await runOps(db, model.generate(rnd, 5));
    await db.close();
    const db2 = await openDb(fs);
    expect(db2.recoveryReport().checkpoint?.commit_boundary).toBe(boundary);
    expect(viewText(db2)).toBe(model.views.get(model.commit));
    // A later checkpoint truncates what was left.
    const again = await db2.checkpoint();
    expect(again.segments_removed).toBeGreaterThan(0);
    await db2.close();
  });

  it("without @aerodb/snapshot, checkpoint and backup fail with their codes", async () => {
    const fs = await freshDisk();
    const db = await coreOpen(CONFIG, { fs, processProbe: DEAD_OWNER });
    const cp = await expectFatal(db.checkpoint(), "AERO_CHECKPOINT_FAILED");
    expect(cp.message).toContain("@aerodb/snapshot");
    const bk = await expectFatal(db.backup("/out.tar"), "AERO_BACKUP_FAILED");
    expect(bk.message).toContain("@aerodb/snapshot");
    expect(await handleRequest(db, { op: "checkpoint" })).toMatchObject({ code: "AERO_CHECKPOINT_FAILED" });
    await db.close();
  });

  it("an embedded user of @aerodb/core opening a checkpointed directory recovers from the snapshot", async () => {
    const { fs, db, model } = await populated(43, 60);
    await db.checkpoint();
    await db.close();
    const plain = await coreOpen(CONFIG, { fs, processProbe: DEAD_OWNER });
    expect(plain.recoveryReport().checkpoint?.commit_boundary).toBe(model.commit);
    expect(viewText(plain)).toBe(model.views.get(model.commit));
    await plain.close();
  });

  it("op checkpoint through the envelope; writes issued meanwhile queue behind it", async () => {
    const { db, model } = await populated(44, 30);
    const pending = handleRequest(db, { op: "checkpoint" });
    const write = db.insert({
      schema_id: "users",
      schema_version: "v1",
      document: { _id: "late", name: "l" },
    });
    const response = await pending;
    expect(response).toEqual({
      status: "ok",
      data: {
        snapshot_id: snapshotId(model.commit),
        commit_boundary: model.commit,
        lsn_boundary: expect.any(Number),
        segments_removed: expect.any(Number),
      },
    });
    expect((await write).commit_id).toBe(model.commit + 1);
    expect(await handleRequest(db, { op: "checkpoint", extra: 1 })).toMatchObject({
      code: "AERO_QUERY_INVALID",
    });
    expect(await handleRequest(db, { op: "backup" })).toMatchObject({ code: "AERO_QUERY_INVALID" });
    expect(canonicalJson(await handleRequest(db, { op: "gc" }))).toContain("AERO_QUERY_INVALID");
    await db.close();
  });
});
