// The backup crash matrix (core.md §11, issue 4 "crash matrix"): a power loss at every
// boundary operation (create, write, fsync, rename, unlink, mkdir, rmdir, directory fsync)
// of a backup of an open database, with a seeded choice of what the crash keeps. After each:
//   - the destination path holds nothing, the file it held before, or the complete backup
//     (byte-identical to the uninterrupted one) — never a partial file;
//   - the database recovers with every acknowledged commit, and verifies clean;
//   - the next backup succeeds with the reference bytes and leaves no leftovers.
//
// Replay one seed: AERODB_SEED=<n> npx vitest run tests/backup-crash.test.ts
// Longer campaigns: AERODB_RUNS=<k> multiplies the crash seeds per point.
import { SimFileSystem, SimulatedCrash, seedList, withSeed } from "@aerodb/base";
import { afterAll, describe, expect, it } from "vitest";
import { verifyDataDir } from "../src/verify.js";
import {
  bytesOf,
  cloneDisk,
  diskWith,
  openDb,
  type Shape,
  stateOf,
  writeBytes,
} from "./support/backup-fixtures.js";

const DB = "/data/db";
const OUT = "/out/backup.tar";

interface Config {
  readonly name: string;
  readonly shape: Shape | null;
  /** An older backup already at the destination path. */
  readonly overwrite: boolean;
}

const CONFIGS: readonly Config[] = [
  { name: "with a private snapshot", shape: { docs: 15, churn: true, moreSchemas: true }, overwrite: false },
  { name: "reusing the checkpoint's snapshot", shape: { docs: 10, checkpointAfter: 10 }, overwrite: false },
  { name: "over an older backup", shape: { docs: 8, checkpointAfter: 3 }, overwrite: true },
  { name: "of an empty database", shape: null, overwrite: false },
];

let backupPoints = 0;

async function template(cfg: Config): Promise<SimFileSystem> {
  let disk: SimFileSystem;
  if (cfg.shape === null) {
    disk = new SimFileSystem();
    await (await openDb(disk, DB)).close();
  } else {
    disk = await diskWith(DB, cfg.shape);
  }
  await disk.mkdir("/out");
  await disk.syncDir("/");
  if (cfg.overwrite) await writeBytes(disk, OUT, new TextEncoder().encode("an older backup"));
  return disk;
}

describe("backup crash matrix", () => {
  afterAll(() => {
    process.stdout.write(`backup crash matrix: ${backupPoints} crash points\n`);
  });
  const crashSeeds = seedList("backup-crash", 3);

  it.each(CONFIGS)("a crash at every operation of a backup $name", async (cfg) => {
    const disk = await template(cfg);
    const previous = cfg.overwrite ? await bytesOf(disk, OUT) : null;
    const reference = await cloneDisk(disk);
    const refDb = await openDb(reference, DB);
    const state = stateOf(refDb);
    const before = reference.boundaryOpCount;
    await refDb.backup(OUT);
    const total = reference.boundaryOpCount - before;
    const expected = await bytesOf(reference, OUT);
    await refDb.close();
    expect(total).toBeGreaterThanOrEqual(5);

    const outcomes = { absent: 0, previous: 0, complete: 0 };
    for (const seed of crashSeeds) {
      for (let k = 1; k <= total; k++) {
        await withSeed(seed + k, async (s) => {
          const fs = await cloneDisk(disk);
          const db = await openDb(fs, DB);
          fs.crashAfter(k);
          try {
            await db.backup(OUT);
            throw new Error(`backup completed although a crash was armed at operation ${k} of ${total}`);
          } catch (err) {
            if (!(err instanceof SimulatedCrash)) throw err;
          }
          const after = fs.crash(s);
          const where = `crash at op ${k}/${total}, seed ${s}`;
          const st = await after.stat(OUT);
          if (st === null) {
            outcomes.absent++;
          } else {
            const bytes = await bytesOf(after, OUT);
            if (previous !== null && bytes.equals(previous)) outcomes.previous++;
            else {
              expect(bytes.equals(expected), `${where}: a partial or different file at the destination`).toBe(
                true,
              );
              outcomes.complete++;
            }
          }
          const reopened = await openDb(after, DB);
          expect(stateOf(reopened), where).toEqual(state);
          await reopened.close();
          expect((await verifyDataDir(after, DB)).problems, where).toEqual([]);
          const again = await openDb(after, DB);
          await again.backup(OUT);
          await again.close();
          expect((await bytesOf(after, OUT)).equals(expected), where).toBe(true);
          expect(await after.readdir("/out"), where).toEqual(["backup.tar"]);
          const snapshots = (await after.stat(`${DB}/snapshots`))
            ? await after.readdir(`${DB}/snapshots`)
            : [];
          expect(
            snapshots.filter((n) => n.endsWith(".backup.tmp")),
            where,
          ).toEqual([]);
          backupPoints++;
        });
      }
    }
    expect(outcomes.complete).toBeGreaterThan(0);
    expect(outcomes.absent + outcomes.previous).toBeGreaterThan(0);
  });
});
