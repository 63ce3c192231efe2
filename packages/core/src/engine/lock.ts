import {
  AeroError,
  type FileSystem,
  isFsError,
  NodeFileSystem,
  writeFileAtomic,
  writeFileExclusive,
} from "@aerodb/base";
import { canonicalJson } from "../canonical-json.js";

export interface LockOwner {
  readonly pid: number;
  readonly databaseId: string | null;
}

/** Decides whether a lock's owner still runs; injectable so tests can simulate dead owners. */
export type ProcessProbe = (pid: number) => boolean;

export const realProcessProbe: ProcessProbe = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
};

// Per file system: a simulated crash hands tests a new FileSystem, whose locks start free.
// Every NodeFileSystem is the same real disk, so they share one set: a second open() of a
// directory in this process is refused however many NodeFileSystem instances there are
// (a LOCK naming this process's own pid is otherwise taken for a dead owner's).
const heldInThisProcess = new WeakMap<object, Set<string>>();
const REAL_DISK = {};

function heldSet(fs: FileSystem): Set<string> {
  const key = fs instanceof NodeFileSystem ? REAL_DISK : fs;
  let set = heldInThisProcess.get(key);
  if (!set) {
    set = new Set();
    heldInThisProcess.set(key, set);
  }
  return set;
}

/** A LOCK this process holds. */
export interface HeldLock {
  /** The LOCK was a dead owner's, taken over. */
  readonly stale: boolean;
  /** Removes the LOCK file; idempotent. */
  release(): Promise<void>;
  /**
   * Renames the locked directory, its LOCK inside, through `rename`: the LOCK's new path counts
   * as held in this process before the rename and the old one until it is done. Otherwise, for
   * the moment between the rename and taking the lock again, an open or a restore in this
   * process would find a LOCK naming this process's own pid and held by no one here, and take
   * it for a dead owner's. The lock then stands for `newLockPath`. Refused with
   * AERO_STORAGE_LOCKED (nothing renamed) when this process holds that path already.
   */
  moveWith(newLockPath: string, rename: () => Promise<void>): Promise<void>;
}

/**
 * The data directory's LOCK (core §9): created exclusively with the owner's pid. A live
 * owner makes the next opener fail at once with AERO_STORAGE_LOCKED; a dead owner's lock
 * is taken over and reported (`stale`), so a SIGKILLed process never blocks a restart.
 */
export async function acquireLock(
  fs: FileSystem,
  lockPath: string,
  owner: LockOwner,
  probe: ProcessProbe,
): Promise<HeldLock> {
  if (heldSet(fs).has(lockPath)) {
    throw new AeroError("AERO_STORAGE_LOCKED", "The data directory is already open in this process.", {
      pid: owner.pid,
    });
  }
  const bytes = new TextEncoder().encode(
    `${canonicalJson({ database_id: owner.databaseId, pid: owner.pid })}\n`,
  );
  let stale = false;
  try {
    await writeFileExclusive(fs, lockPath, bytes);
  } catch (err) {
    if (!isFsError(err, "EEXIST")) throw err;
    const current = await readOwner(fs, lockPath);
    if (current !== null && current.pid !== owner.pid && probe(current.pid)) {
      throw new AeroError("AERO_STORAGE_LOCKED", "Another live process holds the data directory.", {
        pid: current.pid,
      });
    }
    stale = true;
    await writeFileAtomic(fs, lockPath, bytes);
  }
  const held = heldSet(fs);
  held.add(lockPath);
  let path = lockPath;
  let released = false;
  return {
    stale,
    release: async () => {
      if (released) return;
      released = true;
      held.delete(path);
      try {
        await fs.unlink(path);
      } catch (err) {
        if (!isFsError(err, "ENOENT")) throw err;
      }
    },
    moveWith: async (newLockPath, rename) => {
      if (released) {
        throw new AeroError("AERO_INTERNAL_INVARIANT", "A released lock cannot move.", { lock: path });
      }
      if (held.has(newLockPath)) {
        throw new AeroError("AERO_STORAGE_LOCKED", "The data directory is already open in this process.", {
          pid: owner.pid,
        });
      }
      held.add(newLockPath);
      try {
        await rename();
      } catch (err) {
        held.delete(newLockPath);
        throw err;
      }
      held.delete(path);
      path = newLockPath;
    },
  };
}

async function readOwner(fs: FileSystem, lockPath: string): Promise<LockOwner | null> {
  try {
    const value = JSON.parse(new TextDecoder().decode(await fs.readFile(lockPath))) as Record<
      string,
      unknown
    >;
    if (typeof value.pid !== "number") return null;
    return { pid: value.pid, databaseId: typeof value.database_id === "string" ? value.database_id : null };
  } catch {
    // A torn or empty LOCK (crash while it was written) has no live owner to protect.
    return null;
  }
}

/** The data directory's LOCK for a command: `pid` and `processProbe` default to this process's. */
export function lockDataDir(
  fs: FileSystem,
  lockPath: string,
  options: { readonly pid?: number; readonly processProbe?: ProcessProbe },
): ReturnType<typeof acquireLock> {
  return acquireLock(
    fs,
    lockPath,
    { pid: options.pid ?? process.pid, databaseId: null },
    options.processProbe ?? realProcessProbe,
  );
}
