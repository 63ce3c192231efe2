import * as posixPath from "node:path/posix";
import {
  AeroError,
  crashPoint,
  type FileHandle,
  type FileSystem,
  isAeroError,
  NodeFileSystem,
  removeTree,
  writeFully,
} from "@aerodb/base";
import {
  acquireLock,
  checkpointMarkerBytes,
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
import { type ReadArchive, readBackupArchive } from "./tar/backup-archive.js";
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
  /** The target held a database (or an empty directory) that the restore replaced. */
  readonly replaced: boolean;
}

type Lock = Awaited<ReturnType<typeof acquireLock>>;

/**
 * Restore (core.md §11), offline: `configInput` names the target data directory `<dd>`.
 *
 * 1. Lock: `<dd>/LOCK` and the LOCK of any `<dd>.restore-old` / `<dd>.restore-tmp` left by an
 *    interrupted restore (a live holder -> AERO_STORAGE_LOCKED).
 * 2. Verify the archive fully before touching anything (structure, both manifests, every
 *    CRC, the whole snapshot): a failure is AERO_RESTORE_INVALID_BACKUP, the target untouched.
 * 3. Finish or undo an interrupted restore: `<dd>.restore-old` beside a `<dd>` means the swap
 *    was done (delete old); without `<dd>` it is renamed back; `<dd>.restore-tmp` is deleted.
 * 4. Extract into `<dd>.restore-tmp` (the archive is checked again as it is read): MANIFEST,
 *    snapshots/snap-<B>/, checkpoint.json, empty wal/, metadata/schemas/, a fresh
 *    metadata/state.json (data_dir = the resolved target, clean_shutdown true); every file
 *    and directory fsynced.
 * 5. Swap: `<dd>` -> `<dd>.restore-old` (when it exists), tmp -> `<dd>`, fsync the parent;
 *    delete the old one, fsync the parent, unlock.
 *
 * A crash at any point leaves `<dd>` old or new, never mixed; core's open refuses with
 * AERO_RECOVERY_RESTORE_INCOMPLETE while `<dd>.restore-old` exists or `<dd>` is missing
 * beside `<dd>.restore-tmp`, and re-running the restore completes. The restored database
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
    await locks.take(root, true);
    await locks.take(old, true);
    await locks.take(tmp, true);

    const { archive } = await verifyBackupArchive(fs, archivePath, progress);
    crashPoint("restore:after-verify");

    await finishInterrupted(fs, { root, tmp, old, parent }, locks);
    const replaced = (await fs.stat(root)) !== null;

    try {
      await ensureParents(fs, parent);
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
      if (replaced) {
        await fs.rename(root, old);
        crashPoint("restore:after-swap-old");
      }
      await fs.rename(tmp, root);
      crashPoint("restore:after-swap-new");
      await fs.syncDir(parent);
    } catch (err) {
      if (isSimulatedCrash(err)) throw err;
      // Put the old database back where it was; if that fails too, the leftovers make the
      // next open refuse with AERO_RECOVERY_RESTORE_INCOMPLETE until the restore is re-run.
      if (replaced && !(await fs.stat(root).catch(() => null)) && (await fs.stat(old).catch(() => null))) {
        await fs.rename(old, root).catch(() => undefined);
      }
      await fs.syncDir(parent).catch(() => undefined);
      throw restoreFailed(err, "swap");
    }

    try {
      if (replaced) {
        await removeTree(fs, old);
        crashPoint("restore:mid-cleanup");
        await fs.syncDir(parent);
      }
      // The new database's LOCK is the one this restore created in the temporary directory.
      await fs.unlink(`${root}/LOCK`);
      await fs.syncDir(root);
    } catch (err) {
      if (isSimulatedCrash(err)) throw err;
      throw restoreFailed(err, "cleanup");
    }
    crashPoint("restore:after-cleanup");
    const m = archive.manifest;
    return {
      data_dir: root,
      backup_id: m.backup_id,
      database_id: m.database_id,
      snapshot_id: m.snapshot_id,
      commit_boundary: m.commit_boundary,
      lsn_boundary: m.lsn_boundary,
      archive_bytes: archive.archiveBytes,
      replaced,
    };
  } finally {
    await locks.releaseAll();
    progress.stop();
  }
}

/**
 * The LOCKs a restore holds, by directory. Directories move (rename) and disappear
 * (removeTree) under a restore, so a lock is dropped from the set when its directory goes.
 */
class LockSet {
  private readonly held = new Map<string, Lock>();

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

  /** Forgets a directory's lock (its LOCK file is gone or moved with the directory). */
  async drop(dir: string): Promise<void> {
    const lock = this.held.get(dir);
    if (!lock) return;
    this.held.delete(dir);
    await lock.release().catch((err) => {
      if (isSimulatedCrash(err)) throw err; // the process is gone: nothing after it runs
    });
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
  const names = (await fs.readdir(root)).filter((n) => n !== "LOCK");
  if (names.length > 0 && !names.includes("MANIFEST")) {
    throw new AeroError(
      "AERO_RESTORE_FAILED",
      "The restore target is a non-empty directory that holds no AeroDB database.",
      { reason: "target_not_database" },
    );
  }
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
      await fs.rename(old, root);
      await locks.drop(old);
      await locks.take(root, false);
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

/** mkdir -p of the target's parent, each new entry made durable. */
async function ensureParents(fs: FileSystem, dir: string): Promise<void> {
  if (await fs.stat(dir)) return;
  const up = posixPath.dirname(dir);
  if (up !== dir) await ensureParents(fs, up);
  await fs.mkdir(dir);
  await fs.syncDir(up);
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
    await writeFileExclusiveNoDirSync(fs, posixPath.join(layout.schemas, rel), bytes);
  }
  await writeFileExclusiveNoDirSync(fs, layout.checkpoint, checkpointMarkerBytes(markerOf(m)));
  await writeState(fs, layout.state, { persisted: persistedFields(config), clean_shutdown: true });
  // Deepest first, so every entry is durable before the directory that holds it is.
  for (const dir of [...dirs].sort((a, b) => b.length - a.length)) await fs.syncDir(dir);
}

/** A new file, content fsynced; its directory entry is made durable by the caller. */
async function writeFileExclusiveNoDirSync(fs: FileSystem, path: string, bytes: Uint8Array): Promise<void> {
  const handle = await fs.open(path, "wx");
  try {
    await writeFully(handle, bytes, 0);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function isSimulatedCrash(err: unknown): boolean {
  return err instanceof Error && err.name === "SimulatedCrash";
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
