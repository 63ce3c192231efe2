import * as posixPath from "node:path/posix";
import {
  AeroError,
  crashPoint,
  type FileHandle,
  type FileSystem,
  isAeroError,
  isFsError,
  isSimulatedCrash,
  NodeFileSystem,
  removeTree,
  writeFully,
  writeNewFileSynced,
} from "@aerodb/base";
import {
  acquireLock,
  checkpointMarkerBytes,
  type HeldLock,
  layoutOf,
  type ProcessProbe,
  persistedFields,
  RESTORE_OLD_SUFFIX,
  RESTORE_TMP_SUFFIX,
  realProcessProbe,
  resolveConfig,
  writeState,
} from "@aerodb/core";
import { SNAPSHOT_PREFIX } from "./backup-manifest.js";
import { guardProgress, type ProgressSink } from "./progress.js";
import { archiveIdentity, type ReadArchive, readBackupArchive } from "./tar/backup-archive.js";
import { markerOf, verifyBackupArchive } from "./verify.js";

export interface RestoreOptions {
  /** The file system; the real one by default. Tests pass a SimFileSystem. */
  readonly fs?: FileSystem;
  /** Relative data_dir / archive paths resolve against this directory. */
  readonly cwd?: string;
  readonly pid?: number;
  readonly processProbe?: ProcessProbe;
  readonly progress?: ProgressSink;
}

export interface RestoreResult {
  readonly data_dir: string;
  readonly backup_id: string;
  readonly database_id: string;
  readonly snapshot_id: string;
  readonly commit_boundary: number;
  readonly lsn_boundary: number;
  readonly archive_bytes: number;
  /**
   * The target held a database (a MANIFEST) that the restore replaced; false for an absent or
   * empty target. An empty `<dd>` may be the placeholder of this restore or of a crashed one
   * (see `lockTarget`): nothing of the user's is lost when it goes.
   */
  readonly replaced: boolean;
}

interface RestorePaths {
  /** `<dd>`, the target data directory. */
  readonly root: string;
  readonly tmp: string;
  readonly old: string;
  readonly parent: string;
}

/** A `<dd>` this restore created because the target was missing. */
interface Placeholder {
  /** The missing parents of `<dd>` it created first, outermost first. */
  readonly parents: readonly string[];
}

/**
 * Restore (core.md §11), offline: `configInput` names the target data directory `<dd>`.
 *
 * 1. Lock: `<dd>/LOCK` and the LOCK of any `<dd>.restore-old` / `<dd>.restore-tmp` left by an
 *    interrupted restore (a live holder -> AERO_STORAGE_LOCKED). A missing `<dd>` is first
 *    created empty (the placeholder, durably, parents too) so that its LOCK is held for the
 *    whole restore: a concurrent restore or open of the same target is refused at once.
 * 2. Verify the archive fully before touching anything else (structure, both manifests, every
 *    CRC, the whole snapshot): a failure is AERO_RESTORE_INVALID_BACKUP, the target untouched
 *    (a placeholder and the parents made for it are removed again).
 * 3. Finish or undo an interrupted restore: `<dd>.restore-old` beside a `<dd>` means the swap
 *    was done (delete old); without `<dd>` it is renamed back; `<dd>.restore-tmp` is deleted.
 * 4. Extract into `<dd>.restore-tmp` (the archive is checked again as it is read): MANIFEST,
 *    snapshots/snap-<B>/, checkpoint.json, empty wal/, metadata/schemas/, a fresh
 *    metadata/state.json (data_dir = the resolved target, clean_shutdown true); every file
 *    and directory fsynced.
 * 5. Swap: `<dd>` (the old database or the placeholder) -> `<dd>.restore-old`, tmp -> `<dd>`,
 *    fsync the parent; delete the old one, fsync the parent, unlock. Every rename of a locked
 *    directory (here and in step 3) moves its lock with it (LockSet.move).
 *
 * A crash at any point leaves `<dd>` old or new, never mixed; core's open and init refuse with
 * AERO_RECOVERY_RESTORE_INCOMPLETE while `<dd>.restore-old` exists or `<dd>` is missing
 * beside `<dd>.restore-tmp`, and finds a placeholder left by a crash not initialized
 * (AERO_STORAGE_NOT_INITIALIZED); re-running the restore completes. The restored database
 * continues at LSN lsn_boundary + 1 and CommitId B + 1 (recovery starts from the marker).
 */
export async function restoreBackup(
  configInput: unknown,
  archivePathInput: string,
  options: RestoreOptions = {},
): Promise<RestoreResult> {
  const config = resolveConfig(configInput, options.cwd);
  const fs = options.fs ?? new NodeFileSystem();
  const progress = guardProgress(options.progress);
  const root = config.core.data_dir;
  const archivePath = posixPath.resolve(options.cwd ?? process.cwd(), archivePathInput);
  const tmp = `${root}${RESTORE_TMP_SUFFIX}`;
  const old = `${root}${RESTORE_OLD_SUFFIX}`;
  const parent = posixPath.dirname(root);
  const owner = { pid: options.pid ?? process.pid, databaseId: null };
  const probe = options.processProbe ?? realProcessProbe;
  const locks = new LockSet(fs, owner, probe);
  const paths = { root, tmp, old, parent };
  try {
    if (
      archivePath.startsWith(`${root}/`) ||
      archivePath.startsWith(`${tmp}/`) ||
      archivePath.startsWith(`${old}/`)
    ) {
      // The swap would move the archive away and delete it with the old database.
      throw new AeroError("AERO_RESTORE_FAILED", "The backup file lies inside the restore target.", {
        reason: "archive_inside_target",
      });
    }
    await checkTarget(fs, root);
    const placeholder = await lockTarget(fs, paths, locks);
    try {
      return await restoreLocked(fs, { archivePath, config, progress, paths, locks });
    } catch (err) {
      if (placeholder !== null && !isSimulatedCrash(err)) {
        await removePlaceholder(fs, paths, placeholder, locks);
      }
      throw err;
    }
  } finally {
    await locks.releaseAll();
    progress.stop();
  }
}

/**
 * Steps 2-5, with the lock standing for `<dd>` held. Nothing seen before the verification is
 * relied on after it: `<dd>`, `<dd>.restore-old` and `<dd>.restore-tmp` are looked at again.
 * Nor can they change meanwhile: another restore needs the same lock before it touches any
 * of them, and an open needs `<dd>/LOCK` (or is refused for `<dd>.restore-old`).
 */
async function restoreLocked(
  fs: FileSystem,
  job: {
    archivePath: string;
    config: ReturnType<typeof resolveConfig>;
    progress: ProgressSink;
    paths: RestorePaths;
    locks: LockSet;
  },
): Promise<RestoreResult> {
  const { archivePath, config, progress, paths, locks } = job;
  const { root, tmp, old, parent } = paths;
  await locks.take(old, true);
  await locks.take(tmp, true);

  const { archive } = await verifyBackupArchive(fs, archivePath, progress);
  crashPoint("restore:after-verify");

  await finishInterrupted(fs, paths, locks);
  const replaced = await holdsDatabase(fs, root);

  try {
    // <dd> exists (the user's, the placeholder, or one step 3 renamed back), so its parent does.
    await fs.mkdir(tmp);
    await fs.syncDir(parent);
    await locks.take(tmp, false);
    await extract(fs, archivePath, archive, tmp, config, progress);
  } catch (err) {
    if (isSimulatedCrash(err)) throw err;
    await removeTree(fs, tmp).catch(() => undefined);
    throw restoreFailed(err, "extract");
  }
  crashPoint("restore:after-extract");

  try {
    // Each directory moves with its LOCK, held throughout: <dd>'s lock now stands for
    // <dd>.restore-old, and the temporary directory's for the new <dd>.
    await locks.move(root, old);
    crashPoint("restore:after-swap-old");
    await locks.move(tmp, root);
    crashPoint("restore:after-swap-new");
    await fs.syncDir(parent);
  } catch (err) {
    if (isSimulatedCrash(err)) throw err;
    // Put the old database back where it was; if that fails too, the leftovers make the
    // next open refuse with AERO_RECOVERY_RESTORE_INCOMPLETE until the restore is re-run.
    if (!(await fs.stat(root).catch(() => null)) && (await fs.stat(old).catch(() => null))) {
      await locks.move(old, root).catch(() => undefined);
    }
    await fs.syncDir(parent).catch(() => undefined);
    throw restoreFailed(err, "swap");
  }

  try {
    await removeTree(fs, old);
    await locks.drop(old);
    crashPoint("restore:mid-cleanup");
    await fs.syncDir(parent);
    // The new database's LOCK is the one this restore created in the temporary directory.
    await locks.release(root);
    await fs.syncDir(root);
  } catch (err) {
    if (isSimulatedCrash(err)) throw err;
    throw restoreFailed(err, "cleanup");
  }
  crashPoint("restore:after-cleanup");
  return { data_dir: root, ...archiveIdentity(archive), replaced };
}

/**
 * The LOCKs a restore holds, by directory. Directories move (rename) and disappear
 * (removeTree) under a restore, so a lock is dropped from the set when its directory goes.
 */
class LockSet {
  private readonly held = new Map<string, HeldLock>();

  constructor(
    private readonly fs: FileSystem,
    private readonly owner: { pid: number; databaseId: null },
    private readonly probe: ProcessProbe,
  ) {}

  /** Takes `<dir>/LOCK` (a live holder -> AERO_STORAGE_LOCKED); `ifExists`: only when dir exists. */
  async take(dir: string, ifExists: boolean): Promise<void> {
    if (ifExists && !(await this.fs.stat(dir))?.isDirectory) return;
    await this.drop(dir);
    this.held.set(dir, await acquireLock(this.fs, `${dir}/LOCK`, this.owner, this.probe));
  }

  holds(dir: string): boolean {
    return this.held.has(dir);
  }

  /** Forgets a directory's lock (its LOCK file is gone or moved with the directory). */
  async drop(dir: string): Promise<void> {
    const lock = this.held.get(dir);
    if (!lock) return;
    this.held.delete(dir);
    await lock.release().catch((err) => {
      if (isSimulatedCrash(err)) throw err; // the process is gone: nothing after it runs
    });
  }

  /**
   * Renames `from` to `to` with the lock `from` holds, which then stands for `to`: the LOCK
   * inside moves with the directory and is held in this process under both names while it moves
   * (HeldLock.moveWith), so no open or restore here takes it for a dead owner's meanwhile.
   */
  async move(from: string, to: string): Promise<void> {
    const lock = this.held.get(from);
    const rename = () => this.fs.rename(from, to);
    if (lock === undefined) return rename();
    if (this.held.has(to)) {
      throw new AeroError("AERO_INTERNAL_INVARIANT", "A restore moved a locked directory onto another.", {
        from,
        to,
      });
    }
    await lock.moveWith(`${to}/LOCK`, rename);
    this.held.delete(from);
    this.held.set(to, lock);
  }

  /** Releases a directory's lock now, its LOCK file removed; unlike drop, a failure is reported. */
  async release(dir: string): Promise<void> {
    const lock = this.held.get(dir);
    if (!lock) return;
    this.held.delete(dir);
    await lock.release();
  }

  async releaseAll(): Promise<void> {
    for (const dir of [...this.held.keys()].reverse()) await this.drop(dir);
  }
}

/**
 * The target must be absent, or a directory that is empty or holds an AeroDB database
 * (a MANIFEST): a restore never replaces a directory of someone else's files.
 */
async function checkTarget(fs: FileSystem, root: string): Promise<void> {
  const st = await fs.stat(root);
  if (st === null) return;
  if (!st.isDirectory) {
    throw new AeroError("AERO_RESTORE_FAILED", "The restore target exists and is not a directory.", {
      reason: "target_not_directory",
    });
  }
  // LOCK.tmp: a crash while a stale LOCK was being taken over (writeFileAtomic).
  const names = (await fs.readdir(root)).filter((n) => n !== "LOCK" && n !== "LOCK.tmp");
  if (names.length > 0 && !names.includes("MANIFEST")) {
    throw new AeroError(
      "AERO_RESTORE_FAILED",
      "The restore target is a non-empty directory that holds no AeroDB database.",
      { reason: "target_not_database" },
    );
  }
}

/**
 * Step 1: takes the lock that stands for `<dd>` until the restore ends, so that nothing else
 * can open, restore into, or create `<dd>` meanwhile. Without it, a restore into a missing
 * target locked nothing: a second restore could delete its `<dd>.restore-tmp` mid-extract,
 * or, started before the first finished, later swap out (and delete) the restored database
 * while it was open and written to. Returns the placeholder when it had to make `<dd>`.
 */
async function lockTarget(fs: FileSystem, paths: RestorePaths, locks: LockSet): Promise<Placeholder | null> {
  const { root, old } = paths;
  if ((await fs.stat(root)) !== null) {
    await locks.take(root, false);
    return null;
  }
  // An interrupted swap moved the database to <dd>.restore-old: its LOCK, taken with the other
  // leftovers, stands for <dd>'s until step 3 renames it back. A placeholder must not be made
  // here: step 3 would read <dd> beside <dd>.restore-old as a finished swap and delete the old.
  if ((await fs.stat(old)) !== null) return null;
  const placeholder = await makePlaceholder(fs, paths);
  // null: something made <dd> since it was found missing; it gets the checks an existing one gets.
  if (placeholder === null) await checkTarget(fs, root);
  await locks.take(root, false);
  if (placeholder !== null) crashPoint("restore:after-placeholder");
  return placeholder;
}

/** `<dd>` as an empty directory, its entry durable, missing parents made first; null if it appeared. */
async function makePlaceholder(fs: FileSystem, paths: RestorePaths): Promise<Placeholder | null> {
  const parents = await ensureParents(fs, paths.parent);
  try {
    await fs.mkdir(paths.root);
  } catch (err) {
    if (isFsError(err, "EEXIST")) return null;
    throw err;
  }
  await fs.syncDir(paths.parent);
  return { parents };
}

/**
 * After a failure, takes the placeholder (and the parents made for it) away again, so that a
 * refused restore into a missing target leaves it missing. Only while `<dd>` is still the
 * placeholder and locked by this restore: rmdir refuses a directory with anything in it, so
 * the restored database, or a LOCK another process took once ours was released, keeps it.
 * Best effort: the restore's own error is the one reported, and an empty `<dd>` left behind
 * only opens as not initialized until a restore fills it.
 */
async function removePlaceholder(
  fs: FileSystem,
  paths: RestorePaths,
  placeholder: Placeholder,
  locks: LockSet,
): Promise<void> {
  const { root, parent } = paths;
  try {
    if (!locks.holds(root) || (await fs.readdir(root)).some((name) => name !== "LOCK")) return;
    await locks.drop(root);
    await fs.rmdir(root);
    await fs.syncDir(parent);
    for (const dir of [...placeholder.parents].reverse()) {
      await fs.rmdir(dir);
      await fs.syncDir(posixPath.dirname(dir));
    }
  } catch (err) {
    if (isSimulatedCrash(err)) throw err;
  }
}

/** What `replaced` reports: whether `<dd>` is a database (an empty directory is not). */
async function holdsDatabase(fs: FileSystem, root: string): Promise<boolean> {
  return (await fs.stat(`${root}/MANIFEST`)) !== null;
}

/** Step 3: brings the leftovers of an interrupted restore back to "old database only". */
async function finishInterrupted(
  fs: FileSystem,
  paths: { root: string; tmp: string; old: string; parent: string },
  locks: LockSet,
): Promise<void> {
  const { root, tmp, old, parent } = paths;
  let changed = false;
  if (await fs.stat(old)) {
    // With <dd> present the swap completed (<dd> is a complete restored database): the old
    // one only awaited deletion. Without it, the swap stopped half-way: undo it.
    if (await fs.stat(root)) {
      await removeTree(fs, old);
      await locks.drop(old);
    } else {
      // The old database's LOCK moves back with it and stands for <dd> again.
      await locks.move(old, root);
    }
    changed = true;
  }
  if (await fs.stat(tmp)) {
    await removeTree(fs, tmp);
    await locks.drop(tmp);
    changed = true;
  }
  if (changed) await fs.syncDir(parent);
}

/** mkdir -p of the target's parent, each new entry made durable; returns the directories made. */
async function ensureParents(fs: FileSystem, dir: string): Promise<string[]> {
  if (await fs.stat(dir)) return [];
  const up = posixPath.dirname(dir);
  const made = up !== dir ? await ensureParents(fs, up) : [];
  try {
    await fs.mkdir(dir);
  } catch (err) {
    // Made by someone else meanwhile (another restore into a sibling, say): not ours to remove.
    if (isFsError(err, "EEXIST")) return made;
    throw err;
  }
  await fs.syncDir(up);
  return [...made, dir];
}

/**
 * Step 4: the second pass over the archive writes each entry as it is verified again, then
 * the files the archive does not carry. Directories are fsynced after their entries.
 */
async function extract(
  fs: FileSystem,
  archivePath: string,
  expected: ReadArchive,
  tmp: string,
  config: ReturnType<typeof resolveConfig>,
  progress: ProgressSink,
): Promise<void> {
  const layout = layoutOf(tmp);
  const m = expected.manifest;
  const snapshotDir = posixPath.join(layout.snapshots, m.snapshot_id);
  const dirs = [tmp];
  const mkdir = async (dir: string) => {
    await fs.mkdir(dir);
    dirs.push(dir);
  };
  await mkdir(layout.wal);
  await mkdir(layout.metadata);
  await mkdir(layout.schemas);
  await mkdir(layout.snapshots);
  const schemaFiles: Array<{ rel: string; bytes: Uint8Array }> = [];

  const targetOf = (archivePathOfEntry: string) =>
    archivePathOfEntry === SNAPSHOT_PREFIX
      ? snapshotDir
      : archivePathOfEntry.startsWith(`${SNAPSHOT_PREFIX}/`)
        ? posixPath.join(snapshotDir, archivePathOfEntry.slice(SNAPSHOT_PREFIX.length + 1))
        : posixPath.join(tmp, archivePathOfEntry);
  let handle: FileHandle | null = null;
  let position = 0;
  let schemaBytes: Uint8Array[] | null = null;
  progress.start("extract", expected.archiveBytes);
  try {
    const read = await readBackupArchive(fs, archivePath, {
      onBytes: (n) => progress.advance(n),
      visitor: {
        dir: (path) => mkdir(targetOf(path)),
        beginFile: async (entry) => {
          handle = await fs.open(targetOf(entry.path), "wx");
          position = 0;
          schemaBytes = entry.path.startsWith(`${SNAPSHOT_PREFIX}/schemas/`) ? [] : null;
        },
        chunk: async (bytes) => {
          await writeFully(handle as unknown as FileHandle, bytes, position);
          position += bytes.length;
          schemaBytes?.push(bytes.slice());
        },
        endFile: async (entry) => {
          const done = handle as unknown as FileHandle;
          handle = null;
          try {
            await done.sync();
          } finally {
            await done.close();
          }
          if (schemaBytes !== null) {
            const rel = entry.path.slice(`${SNAPSHOT_PREFIX}/schemas/`.length);
            schemaFiles.push({ rel, bytes: Buffer.concat(schemaBytes) });
          }
        },
      },
    });
    if (
      read.manifestBytes.length !== expected.manifestBytes.length ||
      read.archiveBytes !== expected.archiveBytes
    ) {
      throw new AeroError("AERO_RESTORE_INVALID_BACKUP", "The backup file changed while it was restored.", {
        reason: "changed",
      });
    }
  } finally {
    await (handle as FileHandle | null)?.close().catch(() => undefined);
  }

  // metadata/schemas/<id>/<version>.json: the snapshot's schema files, byte for byte.
  for (const { rel, bytes } of schemaFiles) {
    const [schemaId] = rel.split("/") as [string];
    const dir = posixPath.join(layout.schemas, schemaId);
    if (!dirs.includes(dir)) await mkdir(dir);
    await writeNewFileSynced(fs, posixPath.join(layout.schemas, rel), bytes);
  }
  await writeNewFileSynced(fs, layout.checkpoint, checkpointMarkerBytes(markerOf(m)));
  await writeState(fs, layout.state, { persisted: persistedFields(config), clean_shutdown: true });
  // Deepest first, so every entry is durable before the directory that holds it is.
  for (const dir of [...dirs].sort((a, b) => b.length - a.length)) await fs.syncDir(dir);
}

/** A failure after validation: AERO_RESTORE_FAILED (verification errors pass through). */
function restoreFailed(err: unknown, phase: string): AeroError {
  if (
    isAeroError(err) &&
    (err.code === "AERO_RESTORE_INVALID_BACKUP" || err.code === "AERO_RESTORE_FAILED")
  ) {
    return err;
  }
  return new AeroError(
    "AERO_RESTORE_FAILED",
    phase === "cleanup"
      ? "The restored database is in place, but removing the old one failed; re-run the restore."
      : "The restore failed after the backup was verified; the target was not replaced.",
    {
      phase,
      ...(isAeroError(err)
        ? { cause_code: err.code }
        : { errno: (err as { code?: string })?.code ?? "unknown" }),
    },
    { cause: err },
  );
}
