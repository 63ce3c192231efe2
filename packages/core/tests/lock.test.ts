// The data directory's LOCK within one process (core.md §9): a LOCK naming this process's own pid
// is held by someone here or else a dead owner's (a pid reused after a restart), so which paths
// this process holds is what keeps two users of one directory in one process apart. A locked
// directory that is renamed (a restore's swap) must stay held under its new name throughout.
import { SimFileSystem } from "@aerodb/base";
import { describe, expect, it } from "vitest";
import { acquireLock } from "../src/engine/lock.js";

const OWNER = { pid: 77, databaseId: null };
const DEAD = () => false;

async function diskWithDir(dir: string): Promise<SimFileSystem> {
  const fs = new SimFileSystem();
  await fs.mkdir(dir);
  return fs;
}

describe("acquireLock in one process", () => {
  it("refuses a second holder of the same LOCK, even though its pid is this process's", async () => {
    const fs = await diskWithDir("/a");
    const lock = await acquireLock(fs, "/a/LOCK", OWNER, DEAD);
    await expect(acquireLock(fs, "/a/LOCK", OWNER, DEAD)).rejects.toMatchObject({
      code: "AERO_STORAGE_LOCKED",
    });
    await lock.release();
    const again = await acquireLock(fs, "/a/LOCK", OWNER, DEAD);
    expect(again.stale).toBe(false);
    await again.release();
  });

  it("moveWith: the LOCK's new path is held before the rename and the old one until it is done", async () => {
    const fs = await diskWithDir("/a");
    const lock = await acquireLock(fs, "/a/LOCK", OWNER, DEAD);
    const seen: string[] = [];
    await lock.moveWith("/b/LOCK", async () => {
      // Mid-move, both names are taken in this process: neither can be taken over.
      for (const path of ["/a/LOCK", "/b/LOCK"]) {
        await acquireLock(fs, path, OWNER, DEAD).catch((err: { code: string }) =>
          seen.push(`${path} ${err.code}`),
        );
      }
      await fs.rename("/a", "/b");
    });
    expect(seen).toEqual(["/a/LOCK AERO_STORAGE_LOCKED", "/b/LOCK AERO_STORAGE_LOCKED"]);

    // After it, the lock stands for the new path: the old one is free, and release removes the new.
    await expect(acquireLock(fs, "/b/LOCK", OWNER, DEAD)).rejects.toMatchObject({
      code: "AERO_STORAGE_LOCKED",
    });
    await fs.mkdir("/a");
    const other = await acquireLock(fs, "/a/LOCK", OWNER, DEAD);
    await other.release();
    expect(await fs.readdir("/b")).toEqual(["LOCK"]);
    await lock.release();
    expect(await fs.readdir("/b")).toEqual([]);
  });

  it("moveWith: a failed rename leaves the lock where it was and the new path free", async () => {
    const fs = await diskWithDir("/a");
    const lock = await acquireLock(fs, "/a/LOCK", OWNER, DEAD);
    const failure = Object.assign(new Error("rename failed"), { code: "EIO" });
    await expect(lock.moveWith("/b/LOCK", () => Promise.reject(failure))).rejects.toBe(failure);
    await fs.mkdir("/b");
    const other = await acquireLock(fs, "/b/LOCK", OWNER, DEAD);
    await other.release();
    await expect(acquireLock(fs, "/a/LOCK", OWNER, DEAD)).rejects.toMatchObject({
      code: "AERO_STORAGE_LOCKED",
    });
    await lock.release();
    expect(await fs.readdir("/a")).toEqual([]);
  });

  it("moveWith is refused onto a path this process holds, and after release", async () => {
    const fs = await diskWithDir("/a");
    await fs.mkdir("/b");
    const a = await acquireLock(fs, "/a/LOCK", OWNER, DEAD);
    const b = await acquireLock(fs, "/b/LOCK", OWNER, DEAD);
    let renamed = false;
    const rename = async () => {
      renamed = true;
    };
    await expect(a.moveWith("/b/LOCK", rename)).rejects.toMatchObject({ code: "AERO_STORAGE_LOCKED" });
    await a.release();
    await expect(a.moveWith("/c/LOCK", rename)).rejects.toMatchObject({ code: "AERO_INTERNAL_INVARIANT" });
    expect(renamed).toBe(false);
    await b.release();
  });
});
