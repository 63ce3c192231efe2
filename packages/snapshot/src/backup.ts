import * as posixPath from "node:path/posix";
import * as zlib from "node:zlib";
import {
  AeroError,
  compareCodeUnits,
  crashPoint,
  type FileHandle,
  type FileSystem,
  isAeroError,
  isSimulatedCrash,
  removeTree,
} from "@aerodb/base";
import {
  type ArchiveControl,
  type BackupArchivePhase,
  type BackupResult,
  type MaintenanceContext,
  readSnapshotManifest,
  SNAPSHOT_MANIFEST_FILE,
  snapshotId as snapshotIdOf,
  snapshotIsComplete,
} from "@aerodb/core";
import {
  archiveEntries,
  BACKUP_FORMAT_VERSION,
  BACKUP_MANIFEST_NAME,
  type BackupFile,
  type BackupManifest,
  backupIdOf,
  encodeBackupManifest,
  SNAPSHOT_PREFIX,
} from "./backup-manifest.js";
import { guardProgress, type ProgressSink } from "./progress.js";
import { TarWriter } from "./tar/tar-writer.js";

type Crc32 = (data: Uint8Array, initial?: number) => number;
const nativeCrc32 = (zlib as unknown as { crc32: Crc32 }).crc32;
const CHUNK_BYTES = 1 << 20;

/** The suffix of the private snapshot a backup writes when no checkpoint snapshot at B exists. */
export const BACKUP_SNAPSHOT_SUFFIX = ".backup.tmp";

export interface BackupOptions {
  readonly progress?: ProgressSink;
}

/**
 * The private snapshot a backup may have written, and whether it created `snapshots/` for
 * it: what a failed backup removes, in either phase, so that it leaves nothing behind.
 */
interface PrivateSnapshot {
  readonly fs: FileSystem;
  readonly root: string;
  readonly snapshots: string;
  dir: string | null;
  createdSnapshots: boolean;
}

/**
 * Backup (core.md §11), phase 1, run as a maintenance turn (the pipeline is paused, so B = V
 * and the store stand still): the snapshot at B — the checkpoint's own when it is at B, else
 * one written into a private `snapshots/<id>.backup.tmp/`. Resolves with phase 2, which core
 * runs after the turn (commits flow again) while it holds the maintenance lock, so that no
 * checkpoint deletes the snapshot meanwhile: the deterministic ustar of that snapshot —
 * backup_manifest.json, MANIFEST, snapshot/... (docs/formats/backup.md) — written to
 * `<path>.tmp`, fsynced, renamed over `path`, the directory fsynced. Any failure, in either
 * phase, is AERO_BACKUP_FAILED and leaves neither `<path>.tmp` nor the private snapshot.
 */
export async function beginBackup(
  ctx: MaintenanceContext,
  path: string,
  options: BackupOptions = {},
): Promise<BackupArchivePhase> {
  const { fs, layout } = ctx;
  const progress = guardProgress(options.progress);
  const b = ctx.commitBoundary;
  const id = snapshotIdOf(b);
  const written: PrivateSnapshot = {
    fs,
    root: layout.root,
    snapshots: layout.snapshots,
    dir: null,
    createdSnapshots: false,
  };
  let snapshotDir = posixPath.join(layout.snapshots, id);
  try {
    const reusable =
      ctx.checkpoint !== null &&
      ctx.checkpoint.commit_boundary === b &&
      ctx.checkpoint.lsn_boundary === ctx.walBoundary.lsn &&
      (await snapshotIsComplete(fs, snapshotDir));
    if (!reusable) {
      if (!(await fs.stat(layout.snapshots))?.isDirectory) {
        await fs.mkdir(layout.snapshots);
        written.createdSnapshots = true;
      }
      written.dir = posixPath.join(layout.snapshots, `${id}${BACKUP_SNAPSHOT_SUFFIX}`);
      if (await fs.stat(written.dir)) await removeTree(fs, written.dir);
      await ctx.writeSnapshot(written.dir);
      snapshotDir = written.dir;
    }
    crashPoint("backup:after-snapshot");
  } catch (err) {
    progress.stop();
    if (isSimulatedCrash(err)) throw err;
    await abandon(written);
    throw backupFailed(err);
  }
  // Everything phase 2 needs is taken from the context now: the context ends with the turn.
  const source: ArchiveSource = {
    databaseId: ctx.databaseId,
    commitBoundary: b,
    lsnBoundary: ctx.walBoundary.lsn,
    boundaryFrameCrc: ctx.walBoundary.frameCrc,
    manifestFile: layout.manifest,
    snapshotDir,
  };
  return (control) => archiveBackup(source, path, written, progress, control);
}

/** Phase 2 of a backup: the archive of the snapshot phase 1 made ready. */
async function archiveBackup(
  source: ArchiveSource,
  path: string,
  written: PrivateSnapshot,
  progress: ProgressSink,
  control: ArchiveControl,
): Promise<BackupResult> {
  const { fs } = written;
  try {
    const archived = await writeArchive(fs, source, path, {
      progress,
      // The private snapshot is removed before the archive is renamed into place, so that
      // nothing can fail once `path` exists (but the directory fsync, which removes it again).
      beforeRename: () => removePrivate(written),
      stopped: () => control.stopped(),
    });
    return {
      backup_id: archived.manifest.backup_id,
      snapshot_id: archived.manifest.snapshot_id,
      commit_boundary: source.commitBoundary,
      lsn_boundary: source.lsnBoundary,
      bytes: archived.bytes,
    };
  } catch (err) {
    if (isSimulatedCrash(err)) throw err;
    await abandon(written);
    throw backupFailed(err);
  } finally {
    progress.stop();
  }
}

/** Removes the private snapshot durably (and `snapshots/` when the backup created it). */
async function removePrivate(written: PrivateSnapshot): Promise<void> {
  const { fs } = written;
  if (written.dir === null) return;
  await removeTree(fs, written.dir);
  written.dir = null;
  if (written.createdSnapshots) {
    // The backup leaves the data directory as it found it: no empty snapshots/ either.
    await fs.rmdir(written.snapshots);
    written.createdSnapshots = false;
    await fs.syncDir(written.root);
  } else {
    await fs.syncDir(written.snapshots);
  }
}

/** After a failure: whatever of the private snapshot is left goes, best effort. */
async function abandon(written: PrivateSnapshot): Promise<void> {
  const { fs } = written;
  if (written.dir !== null) await removeTree(fs, written.dir).catch(() => undefined);
  if (written.createdSnapshots) await fs.rmdir(written.snapshots).catch(() => undefined);
}

export interface ArchiveSource {
  readonly databaseId: string;
  readonly commitBoundary: number;
  readonly lsnBoundary: number;
  readonly boundaryFrameCrc: number;
  /** The data directory's MANIFEST. */
  readonly manifestFile: string;
  /** A complete snapshot directory at commitBoundary. */
  readonly snapshotDir: string;
}

export interface WriteArchiveOptions {
  readonly progress?: ProgressSink;
  /** Runs after the archive is durable in `<path>.tmp`, before the rename (its failure fails the archive). */
  readonly beforeRename?: () => Promise<void>;
  /**
   * Asked before every chunk and before the rename: once true the archive is abandoned
   * (`<path>.tmp` removed) with AERO_BACKUP_FAILED, reason "stopped".
   */
  readonly stopped?: () => boolean;
}

/**
 * Writes the archive of a complete snapshot to `path` via `<path>.tmp` (fsync, rename,
 * directory fsync). Two passes over the sources: the first sizes and checksums every file
 * for the manifest (the archive's first entry), the second streams them into the archive
 * and checks each CRC again, so a file that changed in between fails the backup instead of
 * producing an archive that contradicts its manifest. On failure `<path>.tmp` is removed.
 */
export async function writeArchive(
  fs: FileSystem,
  source: ArchiveSource,
  path: string,
  options: WriteArchiveOptions = {},
): Promise<{ manifest: BackupManifest; bytes: number }> {
  const progress = guardProgress(options.progress);
  const checkStopped = () => {
    if (options.stopped?.()) {
      throw new AeroError("AERO_BACKUP_FAILED", "The database stopped while the backup was archived.", {
        reason: "stopped",
      });
    }
  };
  checkStopped();
  const sources = new Map<string, string>([["MANIFEST", source.manifestFile]]);
  for (const rel of await listFiles(fs, source.snapshotDir)) {
    sources.set(`${SNAPSHOT_PREFIX}/${rel}`, posixPath.join(source.snapshotDir, rel));
  }
  const files: BackupFile[] = [];
  for (const [archivePath, file] of [...sources].sort((a, b) => compareCodeUnits(a[0], b[0]))) {
    const { size, crc } = await checksumFile(fs, file, checkStopped);
    files.push({ path: archivePath, size, crc32: crc });
  }
  await checkAgainstSnapshotManifest(fs, source, files);
  const manifest: BackupManifest = {
    format_version: BACKUP_FORMAT_VERSION,
    backup_id: backupIdOf(source.databaseId, source.commitBoundary),
    database_id: source.databaseId,
    snapshot_id: snapshotIdOf(source.commitBoundary),
    commit_boundary: source.commitBoundary,
    lsn_boundary: source.lsnBoundary,
    boundary_frame_crc: source.boundaryFrameCrc,
    files,
  };
  const manifestBytes = encodeBackupManifest(manifest);
  const entries = archiveEntries(manifest);
  progress.start(
    "archive",
    files.reduce((sum, f) => sum + f.size, manifestBytes.length),
  );

  const target = path;
  const tmp = `${target}.tmp`;
  const st = await fs.stat(target);
  if (st?.isDirectory) {
    throw new AeroError("AERO_BACKUP_FAILED", "The backup path is a directory.", { reason: "is_directory" });
  }
  if (await fs.stat(tmp)) await fs.unlink(tmp);
  let handle: FileHandle | null = await fs.open(tmp, "wx");
  let bytes = 0;
  let renamed = false;
  try {
    const writer = new TarWriter(handle);
    await writer.addFile(BACKUP_MANIFEST_NAME, manifestBytes);
    progress.advance(manifestBytes.length);
    for (const entry of entries) {
      if (entry.type === "dir") {
        await writer.addDir(entry.path);
        continue;
      }
      const file = sources.get(entry.path) as string;
      await writer.beginFile(entry.path, entry.size);
      const crc = await streamFile(fs, file, entry.size, async (chunk) => {
        checkStopped();
        await writer.write(chunk);
        progress.advance(chunk.length);
      });
      if (crc !== entry.crc32) {
        throw new AeroError("AERO_BACKUP_FAILED", "A file changed while it was archived.", {
          reason: "source_changed",
          entry: entry.path,
        });
      }
      await writer.endFile();
    }
    bytes = await writer.finish();
    await handle.sync();
    const closing = handle;
    handle = null;
    await closing.close();
    crashPoint("backup:after-archive-fsync");
    checkStopped();
    await options.beforeRename?.();
    await fs.rename(tmp, target);
    renamed = true;
    await fs.syncDir(posixPath.dirname(target));
  } catch (err) {
    if (isSimulatedCrash(err)) throw err;
    await handle?.close().catch(() => undefined);
    // After the rename only the directory fsync can have failed: the file is complete but
    // its entry may not survive a crash, and a failed backup leaves nothing — remove it.
    await removeQuietly(fs, renamed ? target : tmp);
    throw err;
  }
  return { manifest, bytes };
}

/**
 * The snapshot's own manifest lists every other file with its size and CRC-32: a file that
 * differs is a damaged snapshot (AERO_SNAPSHOT_CORRUPTION, FATAL), never archived.
 */
async function checkAgainstSnapshotManifest(
  fs: FileSystem,
  source: ArchiveSource,
  files: readonly BackupFile[],
): Promise<void> {
  const manifest = await readSnapshotManifest(fs, source.snapshotDir, snapshotIdOf(source.commitBoundary));
  const archived = new Map(files.map((f) => [f.path, f]));
  const listed = new Set([`${SNAPSHOT_PREFIX}/${SNAPSHOT_MANIFEST_FILE}`]);
  for (const entry of manifest.files) {
    const path = `${SNAPSHOT_PREFIX}/${entry.path}`;
    listed.add(path);
    const file = archived.get(path);
    if (!file || file.size !== entry.size || file.crc32 !== entry.crc32) {
      throw new AeroError("AERO_SNAPSHOT_CORRUPTION", "A snapshot file differs from its manifest.", {
        snapshot_id: manifest.snapshot_id,
        file: entry.path,
        reason: file ? "crc" : "missing",
      });
    }
  }
  for (const path of archived.keys()) {
    if (path.startsWith(`${SNAPSHOT_PREFIX}/`) && !listed.has(path)) {
      throw new AeroError("AERO_SNAPSHOT_CORRUPTION", "A snapshot holds a file its manifest does not list.", {
        snapshot_id: manifest.snapshot_id,
        file: path.slice(SNAPSHOT_PREFIX.length + 1),
        reason: "unaccounted",
      });
    }
  }
  if (
    manifest.database_id !== source.databaseId ||
    manifest.lsn_boundary !== source.lsnBoundary ||
    manifest.boundary_frame_crc !== source.boundaryFrameCrc
  ) {
    throw new AeroError("AERO_SNAPSHOT_CORRUPTION", "The snapshot's boundaries are not the backup's.", {
      snapshot_id: manifest.snapshot_id,
      file: SNAPSHOT_MANIFEST_FILE,
      reason: "boundaries",
    });
  }
}

/** Relative paths of every file under `dir`, sorted. */
async function listFiles(fs: FileSystem, dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (abs: string, rel: string): Promise<void> => {
    for (const name of await fs.readdir(abs)) {
      const child = posixPath.join(abs, name);
      const childRel = rel === "" ? name : `${rel}/${name}`;
      const st = await fs.stat(child);
      if (st?.isDirectory) await walk(child, childRel);
      else out.push(childRel);
    }
  };
  await walk(dir, "");
  return out.sort(compareCodeUnits);
}

async function checksumFile(
  fs: FileSystem,
  file: string,
  onChunk: () => void,
): Promise<{ size: number; crc: number }> {
  const st = await fs.stat(file);
  if (!st?.isFile) {
    throw new AeroError("AERO_BACKUP_FAILED", "A file of the snapshot is missing.", {
      reason: "source_missing",
    });
  }
  const crc = await streamFile(fs, file, st.size, onChunk);
  return { size: st.size, crc };
}

/** Reads exactly `size` bytes of `file` in chunks; returns their CRC-32. */
async function streamFile(
  fs: FileSystem,
  file: string,
  size: number,
  onChunk: (chunk: Uint8Array) => void | Promise<void>,
): Promise<number> {
  const handle = await fs.open(file, "r");
  try {
    const buffer = new Uint8Array(Math.min(CHUNK_BYTES, Math.max(size, 1)));
    let crc = 0;
    let position = 0;
    while (position < size) {
      const n = await handle.read(buffer, 0, Math.min(buffer.length, size - position), position);
      if (n <= 0) {
        throw new AeroError("AERO_BACKUP_FAILED", "A file of the snapshot changed while it was archived.", {
          reason: "source_changed",
        });
      }
      const chunk = buffer.subarray(0, n);
      crc = nativeCrc32(chunk, crc) >>> 0;
      await onChunk(chunk);
      position += n;
    }
    return crc;
  } finally {
    await handle.close().catch(() => undefined);
  }
}

async function removeQuietly(fs: FileSystem, path: string): Promise<void> {
  try {
    if (await fs.stat(path)) {
      await fs.unlink(path);
      await fs.syncDir(posixPath.dirname(path));
    }
  } catch {
    // best effort: the failure being reported is the original one
  }
}

/** Any failure of a backup: AERO_BACKUP_FAILED (an AeroError of that code passes through). */
function backupFailed(err: unknown): AeroError {
  // A FATAL error (the store failed a checksum while the snapshot read it) stops the instance.
  if (isAeroError(err) && (err.code === "AERO_BACKUP_FAILED" || err.severity === "FATAL")) return err;
  if (isAeroError(err)) {
    return new AeroError(
      "AERO_BACKUP_FAILED",
      "The backup failed.",
      {
        reason: "snapshot",
        cause_code: err.code,
      },
      { cause: err },
    );
  }
  return new AeroError(
    "AERO_BACKUP_FAILED",
    "The backup failed.",
    { reason: "io", errno: (err as { code?: string })?.code ?? "unknown" },
    { cause: err },
  );
}
