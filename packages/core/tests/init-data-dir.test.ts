// `init` (and `open` with `initialize`) on what a killed process can leave in a data directory
// (a LOCK, an interrupted restore's leftovers), and under a live owner's LOCK (core.md §9: every
// command on a data directory takes the LOCK).
import { SimFileSystem } from "@aerodb/base";
import { describe, expect, it } from "vitest";
import { open } from "../src/engine/database.js";
import { initDataDir } from "../src/engine/init-data-dir.js";
import { dumpTree } from "./support/workload.js";

const ROOT = "/db";
const CONFIG = { core: { data_dir: ROOT } };
const ID = () => Uint8Array.from({ length: 16 }, (_, i) => i);
const DEAD = () => false;
const ALIVE = () => true;
const OTHER_PID = 4242;

async function diskWith(files: Record<string, string>): Promise<SimFileSystem> {
  const fs = new SimFileSystem();
  await fs.mkdir(ROOT);
  for (const [name, text] of Object.entries(files)) {
    const h = await fs.open(`${ROOT}/${name}`, "wx");
    await h.write(new TextEncoder().encode(text), 0, text.length, 0);
    await h.close();
  }
  return fs;
}

const lockOf = (pid: number) => `{"database_id":null,"pid":${pid}}\n`;

describe("init", () => {
  it("initializes a directory that holds only a dead process's LOCK (and LOCK.tmp), and leaves no LOCK", async () => {
    for (const leftovers of [{ LOCK: lockOf(OTHER_PID) }, { LOCK: lockOf(OTHER_PID), "LOCK.tmp": "{" }]) {
      const fs = await diskWith(leftovers);
      const { databaseId } = await initDataDir(CONFIG, { fs, randomBytes: ID, processProbe: DEAD });
      expect(databaseId).toBe("000102030405060708090a0b0c0d0e0f");
      const names = (await dumpTree(fs, ROOT)).map(([path]) => path);
      expect(names).toContain("MANIFEST");
      expect(names).not.toContain("LOCK");
      const db = await open(CONFIG, { fs, processProbe: DEAD });
      expect(db.recoveryReport().database_id).toBe(databaseId);
      await db.close();
    }
  });

  it("is refused with AERO_STORAGE_LOCKED while a live process holds the LOCK, and writes nothing", async () => {
    const fs = await diskWith({ LOCK: lockOf(OTHER_PID) });
    const before = await dumpTree(fs, ROOT);
    await expect(initDataDir(CONFIG, { fs, randomBytes: ID, processProbe: ALIVE })).rejects.toMatchObject({
      code: "AERO_STORAGE_LOCKED",
    });
    await expect(open(CONFIG, { fs, initialize: true, processProbe: ALIVE })).rejects.toMatchObject({
      code: "AERO_STORAGE_LOCKED",
    });
    expect(await dumpTree(fs, ROOT)).toEqual(before);
  });

  it("refuses a directory with other files as initialized, without writing a LOCK into it", async () => {
    const fs = await diskWith({ "notes.txt": "mine" });
    const before = await dumpTree(fs, ROOT);
    await expect(initDataDir(CONFIG, { fs, randomBytes: ID, processProbe: DEAD })).rejects.toMatchObject({
      code: "AERO_STORAGE_ALREADY_INITIALIZED",
    });
    expect(await dumpTree(fs, ROOT)).toEqual(before);
  });

  it("open with initialize fills a directory a killed opener left with only its LOCK", async () => {
    const fs = await diskWith({ LOCK: lockOf(OTHER_PID) });
    const db = await open(CONFIG, { fs, initialize: true, randomBytes: ID, processProbe: DEAD });
    // init took the dead owner's LOCK over and released it: open found none.
    expect(db.recoveryReport()).toMatchObject({
      database_id: "000102030405060708090a0b0c0d0e0f",
      stale_lock: false,
    });
    await db.close();
  });

  it("is refused with AERO_RECOVERY_RESTORE_INCOMPLETE beside an interrupted restore's swap, and writes nothing", async () => {
    // A restore killed between its two renames: the old database is <dd>.restore-old and <dd> is
    // missing. A database made at <dd> now would be taken for the restored one by the re-run,
    // which would then delete the old one as a finished swap's leftover.
    for (const target of ["missing", "empty"] as const) {
      const fs = new SimFileSystem();
      await initDataDir(
        { core: { data_dir: `${ROOT}.restore-old` } },
        { fs, randomBytes: ID, processProbe: DEAD },
      );
      if (target === "empty") await fs.mkdir(ROOT);
      const before = await dumpTree(fs, "/");
      await expect(initDataDir(CONFIG, { fs, randomBytes: ID, processProbe: DEAD })).rejects.toMatchObject({
        code: "AERO_RECOVERY_RESTORE_INCOMPLETE",
        details: { leftover: "restore-old" },
      });
      await expect(open(CONFIG, { fs, initialize: true, processProbe: DEAD })).rejects.toMatchObject({
        code: "AERO_RECOVERY_RESTORE_INCOMPLETE",
      });
      expect(await dumpTree(fs, "/")).toEqual(before);
    }
  });

  it("two inits of one absent directory: one initializes, the other is refused, one database id on disk", async () => {
    const fs = new SimFileSystem();
    const results = await Promise.allSettled([
      initDataDir(CONFIG, { fs, randomBytes: () => new Uint8Array(16).fill(1), pid: 1, processProbe: ALIVE }),
      initDataDir(CONFIG, { fs, randomBytes: () => new Uint8Array(16).fill(2), pid: 2, processProbe: ALIVE }),
    ]);
    const won = results.filter((r) => r.status === "fulfilled");
    expect(won).toHaveLength(1);
    const lost = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(["AERO_STORAGE_LOCKED", "AERO_STORAGE_ALREADY_INITIALIZED"]).toContain(lost.reason.code);
    const db = await open(CONFIG, { fs, processProbe: DEAD });
    expect(db.recoveryReport().database_id).toBe(
      (won[0] as PromiseFulfilledResult<{ databaseId: string }>).value.databaseId,
    );
    await db.close();
  });
});
