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
): Promise<{ stale: boolean; release: () => Promise<void> }> {
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
  heldSet(fs).add(lockPath);
  let released = false;
  return {
    stale,
    release: async () => {
      if (released) return;
      released = true;
      heldSet(fs).delete(lockPath);
      try {
        await fs.unlink(lockPath);
      } catch (err) {
        if (!isFsError(err, "ENOENT")) throw err;
      }
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
