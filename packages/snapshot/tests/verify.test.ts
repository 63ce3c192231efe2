// Offline verify (issue 4: `aerodb verify --data` extended to checkpoints, `--backup`):
// reads everything, reports every problem with its specific code, and never writes. Also
// the progress reporting of backup, restore and verify.
import { progressRecorder, type SimFileSystem, THROWING_PROGRESS } from "@aerodb/base";
import { beforeAll, describe, expect, it } from "vitest";
import { open, snapshotMaintenance } from "../src/provider.js";
import { restoreBackup } from "../src/restore.js";
import { verifyBackup, verifyDataDir } from "../src/verify.js";
import {
  bytesOf,
  cloneDisk,
  codeOf,
  config,
  DEAD,
  diskWith,
  idBytes,
  openDb,
  writeBytes,
} from "./support/backup-fixtures.js";

const DB = "/data/db";
const SNAP = (c: number) => `${DB}/snapshots/snap-${String(c).padStart(20, "0")}`;

/** Runs `body` and checks that it performed no write, create, rename, unlink or fsync. */
async function readOnly<T>(fs: SimFileSystem, body: () => Promise<T>): Promise<T> {
  const before = fs.boundaryOpCount;
  const result = await body();
  expect(fs.boundaryOpCount - before, "verify wrote to the disk").toBe(0);
  return result;
}

async function flip(fs: SimFileSystem, path: string, offset: number): Promise<void> {
  const bytes = await bytesOf(fs, path);
  bytes[offset] = (bytes[offset] as number) ^ 0x20;
  await writeBytes(fs, path, bytes);
}

describe("verify --data with a checkpoint", () => {
  let checkpointed: SimFileSystem;
  let checkpointBoundary: number;
  beforeAll(async () => {
    checkpointed = await diskWith(DB, { docs: 20, churn: true, moreSchemas: true, checkpointAfter: 10 });
    const db = await openDb(checkpointed, DB);
    checkpointBoundary = db.recoveryReport().checkpoint?.commit_boundary ?? -1;
    await db.close();
  });

  it("reports the checkpoint, the WAL from its boundary and the schema files, writing nothing", async () => {
    const fs = await cloneDisk(checkpointed);
    const report = await readOnly(fs, () => verifyDataDir(fs, DB));
    expect(report.problems).toEqual([]);
    expect(report.checkpoint).toMatchObject({
      snapshot_id: `snap-${String(checkpointBoundary).padStart(20, "0")}`,
      commit_boundary: checkpointBoundary,
    });
    expect(report.schemas).toEqual({ registered: 3, files_verified: 3, files_pending: 0 });
    expect(report.wal?.commit_high_water).toBeGreaterThan(checkpointBoundary);
  });

  it("verifies a restored database (empty wal/, the log continues from the marker)", async () => {
    const fs = await cloneDisk(checkpointed);
    const db = await openDb(fs, DB);
    await db.backup("/b.tar");
    await db.close();
    await restoreBackup(config("/r"), "/b.tar", { fs, processProbe: DEAD });
    const report = await readOnly(fs, () => verifyDataDir(fs, "/r"));
    expect(report.problems).toEqual([]);
    expect(report.wal).toMatchObject({ segments: 0, first_lsn: null, units: 0 });
    expect(report.wal?.last_lsn).toBe(report.checkpoint?.lsn_boundary);
  });

  const damage: Array<[string, (fs: SimFileSystem, c: number) => Promise<void>, string]> = [
    [
      "a flipped bit in the snapshot's versions",
      (fs, c) => flip(fs, `${SNAP(c)}/versions`, 20),
      "AERO_SNAPSHOT_CORRUPTION",
    ],
    [
      "a flipped bit in the snapshot's manifest",
      (fs, c) => flip(fs, `${SNAP(c)}/manifest.json`, 10),
      "AERO_SNAPSHOT_CORRUPTION",
    ],
    ["a damaged checkpoint.json", (fs) => flip(fs, `${DB}/checkpoint.json`, 5), "AERO_METADATA_CORRUPTION"],
    [
      "a marker whose snapshot is gone",
      async (fs, c) => {
        for (const name of await fs.readdir(`${SNAP(c)}/schemas/users`))
          await fs.unlink(`${SNAP(c)}/schemas/users/${name}`);
        await fs.rmdir(`${SNAP(c)}/schemas/users`);
        for (const name of await fs.readdir(`${SNAP(c)}/schemas`)) {
          for (const f of await fs.readdir(`${SNAP(c)}/schemas/${name}`))
            await fs.unlink(`${SNAP(c)}/schemas/${name}/${f}`);
          await fs.rmdir(`${SNAP(c)}/schemas/${name}`);
        }
        await fs.rmdir(`${SNAP(c)}/schemas`);
        for (const name of await fs.readdir(SNAP(c))) await fs.unlink(`${SNAP(c)}/${name}`);
        await fs.rmdir(SNAP(c));
      },
      "AERO_RECOVERY_SNAPSHOT_MISSING",
    ],
    [
      "a schema file removed",
      (fs) => fs.unlink(`${DB}/metadata/schemas/users/v1.json`),
      "AERO_METADATA_CORRUPTION",
    ],
    [
      "a WAL frame damaged after the checkpoint",
      async (fs) => {
        const [segment] = (await fs.readdir(`${DB}/wal`)).slice(-1);
        await flip(fs, `${DB}/wal/${segment}`, 60);
      },
      "AERO_WAL_CORRUPTION",
    ],
  ];
  it.each(damage)("finds %s, as recovery does", async (_what, harm, code) => {
    const fs = await cloneDisk(checkpointed);
    await harm(fs, checkpointBoundary);
    const report = await readOnly(fs, () => verifyDataDir(fs, DB));
    expect(report.problems.map((p) => p.code)).toContain(code);
    // verify and start agree: the damaged directory does not open.
    expect(await codeOf(open(config(DB), { fs, processProbe: DEAD }))).not.toBe("none");
  });

  it("reports an interrupted restore (and refuses when only its leftovers are there)", async () => {
    const fs = await cloneDisk(checkpointed);
    await fs.mkdir(`${DB}.restore-old`);
    const report = await readOnly(fs, () => verifyDataDir(fs, DB));
    expect(report.problems.map((p) => p.code)).toEqual(["AERO_RECOVERY_RESTORE_INCOMPLETE"]);
    await fs.rename(DB, `${DB}.restore-tmp`);
    expect(await codeOf(verifyDataDir(fs, DB))).toBe("AERO_RECOVERY_RESTORE_INCOMPLETE");
  });
});

describe("verify --backup", () => {
  it("reports a clean backup, and refuses a damaged one, writing nothing", async () => {
    const fs = await diskWith(DB, { docs: 9, moreSchemas: true });
    const db = await openDb(fs, DB);
    const result = await db.backup("/b.tar");
    await db.close();
    const report = await readOnly(fs, () => verifyBackup(fs, "/b.tar"));
    expect(report).toMatchObject({
      backup_id: result.backup_id,
      commit_boundary: result.commit_boundary,
      lsn_boundary: result.lsn_boundary,
      archive_bytes: result.bytes,
      files: 6,
      schemas: 3,
      problems: [],
    });
    await flip(fs, "/b.tar", 1500);
    const bad = await readOnly(fs, () => verifyBackup(fs, "/b.tar"));
    expect(bad.problems).toHaveLength(1);
    expect(bad.problems[0]).toMatchObject({ code: "AERO_RESTORE_INVALID_BACKUP", severity: "FATAL" });
    const missing = await verifyBackup(fs, "/nope.tar");
    expect(missing.problems[0]).toMatchObject({
      code: "AERO_RESTORE_INVALID_BACKUP",
      details: { reason: "unreadable" },
    });
  });
});

describe("progress reporting", () => {
  it("backup, restore and verify report every byte of every phase, then stop", async () => {
    const fs = await diskWith(DB, { docs: 30, churn: true, checkpointAfter: 4 });
    const b = progressRecorder();
    const db = await open(config(DB), {
      fs,
      processProbe: DEAD,
      randomBytes: idBytes(1),
      maintenance: snapshotMaintenance({ backup: { progress: b.sink } }),
    });
    const result = await db.backup("/b.tar");
    await db.close();
    expect(b.phases.map((p) => p.phase)).toEqual(["archive"]);
    expect(b.phases[0]?.done).toBe(b.phases[0]?.total);
    expect(b.stops()).toBe(1);

    const r = progressRecorder();
    await restoreBackup(config("/r"), "/b.tar", { fs, processProbe: DEAD, progress: r.sink });
    expect(r.phases.map((p) => p.phase)).toEqual(["verify", "check", "extract"]);
    for (const p of r.phases) expect(p.done, p.phase).toBe(p.total);
    expect(r.phases[0]?.total).toBe(result.bytes);
    expect(r.stops()).toBe(1);

    const v = progressRecorder();
    await verifyBackup(fs, "/b.tar", { progress: v.sink });
    expect(v.phases.map((p) => [p.phase, p.done === p.total])).toEqual([
      ["verify", true],
      ["check", true],
    ]);
    const d = progressRecorder();
    await verifyDataDir(fs, DB, { progress: d.sink });
    expect(d.phases).toHaveLength(1);
    expect(d.phases[0]?.done).toBeGreaterThanOrEqual(d.phases[0]?.total ?? Number.POSITIVE_INFINITY);
  });

  it("a throwing progress sink changes nothing", async () => {
    const fs = await diskWith(DB, { docs: 5 });
    const db = await openDb(fs, DB);
    await db.backup("/b.tar");
    await db.close();
    await restoreBackup(config("/r"), "/b.tar", { fs, processProbe: DEAD, progress: THROWING_PROGRESS });
    expect((await verifyBackup(fs, "/b.tar", { progress: THROWING_PROGRESS })).problems).toEqual([]);
    expect((await verifyDataDir(fs, "/r", { progress: THROWING_PROGRESS })).problems).toEqual([]);
  });
});
