// A restore into a missing target holds the target's lock from its start to its end (core.md §11
// "lock target"; §13.36 "lock held -> STORAGE_LOCKED"): it makes `<dd>` as an empty placeholder
// and takes `<dd>/LOCK` before it verifies the archive. Before that, such a restore locked
// nothing while it verified and extracted, and
//   - a second restore into the same target could delete the first one's `<dd>.restore-tmp`
//     while the first was extracting into it, or
//   - a second restore started meanwhile, once the first had finished and the database had been
//     opened and written to, swapped out that live database and deleted it (acknowledged writes
//     lost), never having held its LOCK;
//   - an open (with `initialize`, even) in the meantime made a database the restore then replaced.
// Operations are held at chosen file-system calls (HookedFileSystem), never by timers.
//
// Replay one crash seed: AERODB_SEED=<n> npx vitest run tests/restore-concurrency.test.ts
import { type SimFileSystem, seedList, withSeed } from "@aerodb/base";
import { describe, expect, it } from "vitest";
import { open } from "../src/provider.js";
import { restoreBackup } from "../src/restore.js";
import {
  cloneDisk,
  codeOf,
  config,
  DEAD,
  diskWith,
  dumpTree,
  openDb,
  stateOf,
  writeBytes,
} from "./support/backup-fixtures.js";
import { type Gate, HookedFileSystem, type HookedOp } from "./support/hooked-fs.js";

const SRC = "/src/db";
const TARGET = "/dst/db";
const TMP = `${TARGET}.restore-tmp`;
/** Two backups of one database, B with one more commit than A: which one was restored shows. */
const ARCHIVE_A = "/a.tar";
const ARCHIVE_B = "/b.tar";

/** A disk with both archives and no target, and the state each archive restores. */
async function twoBackups() {
  const sim = await diskWith(SRC, { docs: 9, churn: true, checkpointAfter: 4 });
  const db = await openDb(sim, SRC);
  await db.backup(ARCHIVE_A);
  const stateA = stateOf(db);
  await db.insert({ schema_id: "users", schema_version: "v1", document: { _id: "b-only", n: 7 } });
  await db.backup(ARCHIVE_B);
  const stateB = stateOf(db);
  await db.close();
  expect(stateB).not.toEqual(stateA);
  return { sim, stateA, stateB };
}

async function restore(fs: HookedFileSystem | SimFileSystem, archive: string) {
  return restoreBackup(config(TARGET), archive, { fs, processProbe: DEAD });
}

/** The code an open of the target fails with ("none" when it opened; it is closed again). */
async function openCode(fs: HookedFileSystem | SimFileSystem, initialize = false): Promise<string> {
  const opening = initialize ? openDb(fs, TARGET, 3) : open(config(TARGET), { fs, processProbe: DEAD });
  return codeOf(opening.then((db) => db.close()));
}

async function stateAt(fs: HookedFileSystem | SimFileSystem) {
  const db = await open(config(TARGET), { fs, processProbe: DEAD });
  try {
    return stateOf(db);
  } finally {
    await db.close();
  }
}

/** A settled promise's outcome, so that a test can await it after asserting on other things. */
function outcome<T>(promise: Promise<T>): Promise<{ value: T } | { error: unknown }> {
  return promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

/** Starts restore A into the missing target and waits until it is held at `op path`. */
async function restoreHeldAt(fs: HookedFileSystem, op: HookedOp, path: string) {
  const gate: Gate = fs.holdAt(op, path);
  const first = outcome(restore(fs, ARCHIVE_A));
  await gate.reached;
  return { gate, first };
}

const PHASES: Array<[string, HookedOp, string]> = [
  ["verifying the archive", "open", ARCHIVE_A],
  ["extracting", "create", `${TMP}/MANIFEST`],
];

describe("a restore into a missing target holds the target's lock throughout", () => {
  it("a second restore started while the first verifies is refused and changes nothing", async () => {
    const { sim, stateA } = await twoBackups();
    const fs = new HookedFileSystem(sim);
    const { gate, first } = await restoreHeldAt(fs, "open", ARCHIVE_A);
    const before = await dumpTree(sim, "/");
    const second = await codeOf(restore(fs, ARCHIVE_B));
    const after = await dumpTree(sim, "/");
    gate.open();
    const result = await first;

    expect(second).toBe("AERO_STORAGE_LOCKED");
    expect(after).toEqual(before);
    expect(result).toMatchObject({ value: { replaced: false } });
    expect(await stateAt(fs)).toEqual(stateA);
    expect(await sim.readdir("/dst")).toEqual(["db"]);
  });

  it("a second restore never deletes the temporary directory the first is extracting into", async () => {
    const { sim, stateA } = await twoBackups();
    const fs = new HookedFileSystem(sim);
    const { gate: verifyingA, first } = await restoreHeldAt(fs, "open", ARCHIVE_A);
    // B starts while A verifies; were it let through, it would verify its archive (held here)
    // while A goes on to extract, then run its step 3 on A's temporary directory.
    const verifyingB = fs.holdAt("open", ARCHIVE_B);
    const second = codeOf(restore(fs, ARCHIVE_B));
    const extractingA = fs.holdAt("create", `${TMP}/MANIFEST`);
    verifyingA.open();
    await extractingA.reached;
    const tmpOfA = () => dumpTree(sim, TMP).catch(() => "gone");
    const beforeB = await tmpOfA();
    verifyingB.open();
    const code = await second;
    const afterB = await tmpOfA();
    extractingA.open();
    const result = await first;

    expect(code).toBe("AERO_STORAGE_LOCKED");
    expect(afterB).toEqual(beforeB);
    expect(result).toMatchObject({ value: { replaced: false } });
    expect(await stateAt(fs)).toEqual(stateA);
    expect(await sim.readdir("/dst")).toEqual(["db"]);
  });

  it.each(PHASES)(
    "an open of the target while the restore is %s is AERO_STORAGE_LOCKED",
    async (_, op, path) => {
      const { sim, stateA } = await twoBackups();
      const fs = new HookedFileSystem(sim);
      const { gate, first } = await restoreHeldAt(fs, op, path);
      const plain = await openCode(fs);
      // `initialize` would otherwise make a database at the missing target for the swap to replace.
      const initializing = await openCode(fs, true);
      gate.open();
      const result = await first;

      expect({ plain, initializing }).toEqual({
        plain: "AERO_STORAGE_LOCKED",
        initializing: "AERO_STORAGE_LOCKED",
      });
      expect(result).toMatchObject({ value: { replaced: false } });
      expect(await stateAt(fs)).toEqual(stateA);
    },
  );

  it("a restore started into the then-missing target never replaces the live database restored meanwhile", async () => {
    const { sim } = await twoBackups();
    const fs = new HookedFileSystem(sim);
    const { gate: verifyingA, first } = await restoreHeldAt(fs, "open", ARCHIVE_A);
    const verifyingB = fs.holdAt("open", ARCHIVE_B);
    const second = codeOf(restore(fs, ARCHIVE_B));
    verifyingA.open();
    expect(await first).toMatchObject({ value: { replaced: false } });

    // The restored database in use: opened, written to, the write acknowledged.
    const db = await open(config(TARGET), { fs, processProbe: DEAD });
    const ack = await db.insert({
      schema_id: "users",
      schema_version: "v1",
      document: { _id: "acknowledged", n: 4242 },
    });
    expect(ack.commit_id).not.toBeNull();
    const served = stateOf(db);
    verifyingB.open();
    expect(await second).toBe("AERO_STORAGE_LOCKED");
    await db.close();
    expect(await stateAt(fs)).toEqual(served);
    expect(await sim.readdir("/dst")).toEqual(["db"]);
  });
});

describe("a restore's swap keeps its locks while the directories move", () => {
  it("a second restore in this process, between the first's two renames, is refused and changes nothing", async () => {
    // Mid-swap <dd> is missing and <dd>.restore-old holds the old database with the LOCK of
    // <dd>, naming this process's pid. Held by no one here under its new name, that LOCK was
    // taken for a dead owner's: the second restore took it over, then gave it up (removed it).
    const { sim, stateA } = await twoBackups();
    const fs = new HookedFileSystem(sim);
    const { gate, first } = await restoreHeldAt(fs, "rename", TMP);
    expect(await sim.readdir("/dst")).toEqual(["db.restore-old", "db.restore-tmp"]);
    const before = await dumpTree(sim, "/");
    const second = await codeOf(restore(fs, ARCHIVE_B));
    const opening = await openCode(fs);
    const after = await dumpTree(sim, "/");
    gate.open();
    const result = await first;

    expect({ second, opening }).toEqual({
      second: "AERO_STORAGE_LOCKED",
      opening: "AERO_RECOVERY_RESTORE_INCOMPLETE",
    });
    expect(after).toEqual(before);
    expect(result).toMatchObject({ value: { replaced: false } });
    expect(await stateAt(fs)).toEqual(stateA);
    expect(await sim.readdir("/dst")).toEqual(["db"]);
    expect(await sim.readdir(TARGET)).not.toContain("LOCK");
  });
});

describe("the placeholder after a crash or a refusal", () => {
  it("a crash right after the placeholder was made: open is AERO_STORAGE_NOT_INITIALIZED, a re-run restores", async () => {
    const { sim: template, stateA } = await twoBackups();
    for (const seed of seedList("restore-placeholder-crash", 3)) {
      process.stdout.write(`restore placeholder crash: seed ${seed}\n`);
      await withSeed(seed, async (s) => {
        const sim = await cloneDisk(template);
        const fs = new HookedFileSystem(sim);
        const { gate, first } = await restoreHeldAt(fs, "open", ARCHIVE_A);
        const crashed = sim.crash(s);
        gate.open();
        // The process is gone: whatever its last call returned, the restore did not complete.
        expect(await first).toHaveProperty("error");

        // What it leaves: <dd>, empty but for the dead restore's LOCK, and no other sibling.
        expect(await crashed.readdir("/dst")).toEqual(["db"]);
        expect(await crashed.readdir(TARGET)).toEqual(["LOCK"]);
        expect(await openCode(crashed)).toBe("AERO_STORAGE_NOT_INITIALIZED");
        const again = await restore(crashed, ARCHIVE_A);
        expect(again.replaced).toBe(false);
        expect(await stateAt(crashed)).toEqual(stateA);
        expect(await crashed.readdir("/dst")).toEqual(["db"]);
      });
    }
  });

  it("a re-run restores into a placeholder whose stale LOCK was being taken over (LOCK.tmp left)", async () => {
    const { sim, stateA } = await twoBackups();
    await sim.mkdir("/dst");
    await sim.mkdir(TARGET);
    const lock = new TextEncoder().encode('{"database_id":null,"pid":999999}\n');
    await writeBytes(sim, `${TARGET}/LOCK`, lock);
    await writeBytes(sim, `${TARGET}/LOCK.tmp`, lock.subarray(0, 7));
    expect((await restore(sim, ARCHIVE_A)).replaced).toBe(false);
    expect(await stateAt(sim)).toEqual(stateA);
  });

  it("a refused restore into a missing target leaves it missing, parents included", async () => {
    const { sim } = await twoBackups();
    const damaged = Buffer.from(await sim.readFile(ARCHIVE_A));
    damaged[damaged.length - 1100] = (damaged[damaged.length - 1100] as number) ^ 1;
    await writeBytes(sim, "/bad.tar", damaged);
    const before = await dumpTree(sim, "/");
    await expect(
      restoreBackup(config("/x/y/db"), "/bad.tar", { fs: sim, processProbe: DEAD }),
    ).rejects.toMatchObject({ code: "AERO_RESTORE_INVALID_BACKUP" });
    expect(await dumpTree(sim, "/")).toEqual(before);

    // Refused at the lock of a live restore's leftover temporary directory: the placeholder goes too.
    await sim.mkdir("/dst");
    await sim.mkdir(TMP);
    await writeBytes(sim, `${TMP}/LOCK`, new TextEncoder().encode('{"database_id":null,"pid":515151}\n'));
    const live = (pid: number) => pid === 515151;
    await expect(
      restoreBackup(config(TARGET), ARCHIVE_A, { fs: sim, processProbe: live }),
    ).rejects.toMatchObject({ code: "AERO_STORAGE_LOCKED" });
    expect(await sim.readdir("/dst")).toEqual(["db.restore-tmp"]);
  });
});
