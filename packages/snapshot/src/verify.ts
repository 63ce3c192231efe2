import * as posixPath from "node:path/posix";
import {
  AeroError,
  type ErrorCode,
  type FileSystem,
  isAeroError,
  isFsError,
  isSimulatedCrash,
  readFileIfExists,
} from "@aerodb/base";
import {
  type CheckpointMarker,
  checkNoInterruptedRestore,
  layoutOf,
  parseCheckpointMarker,
  parseSchemaDefinition,
  RESTORE_OLD_SUFFIX,
  RESTORE_TMP_SUFFIX,
  readManifest,
  readSnapshot,
  readState,
  realProcessProbe,
  SNAPSHOT_SCHEMAS_DIR,
  type SnapshotManifest,
} from "@aerodb/core";
import { FrameKind, parseSegmentFileName, type ScannedUnit, scanWal, type WalScanResult } from "@aerodb/wal";
import type { BackupManifest } from "./backup-manifest.js";
import { CountingFileSystem, guardProgress, type ProgressSink } from "./progress.js";
import { ArchiveFileSystem } from "./tar/archive-fs.js";
import { archiveIdentity, invalidBackup, type ReadArchive, readBackupArchive } from "./tar/backup-archive.js";

const decoder = new TextDecoder("utf-8", { fatal: true });

/** One problem verify found: an error envelope without its status. */
export type VerifyProblem = Omit<ReturnType<AeroError["toJSON"]>, "status">;

export interface VerifyOptions {
  readonly progress?: ProgressSink;
}

// ---- backups ---------------------------------------------------------------------------

/**
 * The content checks of a structurally verified archive (core.md §11): MANIFEST is a valid
 * sealed MANIFEST of the backup's database, and `snapshot/` is a complete, valid snapshot
 * (@aerodb/core's readSnapshot: listing, sizes, CRCs, schema files, every frame and document
 * body) whose boundaries are the backup manifest's. The snapshot is read in place, through
 * a read-only view of the archive: nothing is extracted. Any failure is
 * AERO_RESTORE_INVALID_BACKUP.
 */
export async function verifyArchiveContent(
  fs: FileSystem,
  archivePath: string,
  archive: ReadArchive,
  onBytes?: (bytes: number) => void,
): Promise<SnapshotManifest> {
  const { manifest } = archive;
  const handle = await fs.open(archivePath, "r");
  try {
    const view = new CountingFileSystem(new ArchiveFileSystem(handle, archive.files), onBytes ?? (() => {}));
    let databaseId: string;
    try {
      ({ databaseId } = await readManifest(view, "/MANIFEST"));
    } catch (err) {
      throw contentDefect("manifest_file", "The backup's MANIFEST is not a valid MANIFEST.", err);
    }
    if (databaseId !== manifest.database_id) {
      throw invalidBackup("database_id_mismatch", "The backup's MANIFEST names another database.");
    }
    try {
      return await readSnapshot(view, "/snapshot", {
        snapshotId: manifest.snapshot_id,
        databaseId: manifest.database_id,
        marker: markerOf(manifest),
        checkBodies: true,
      });
    } catch (err) {
      throw contentDefect("snapshot_invalid", "The backup's snapshot fails its checks.", err);
    }
  } finally {
    await handle.close().catch(() => undefined);
  }
}

function contentDefect(reason: string, message: string, err: unknown): AeroError {
  if (!isAeroError(err)) {
    if (isSimulatedCrash(err)) throw err;
    return invalidBackup("unreadable", "The backup file could not be read.", {
      errno: (err as { code?: string })?.code ?? "unknown",
    });
  }
  const { reason: innerReason, file, offset } = (err.details ?? {}) as Record<string, unknown>;
  return invalidBackup(reason, `${message} ${err.message}`, {
    cause_code: err.code,
    ...(innerReason === undefined ? {} : { cause_reason: innerReason }),
    ...(file === undefined ? {} : { file }),
    ...(offset === undefined ? {} : { offset }),
  });
}

/** The checkpoint marker a backup's snapshot is restored under. */
export function markerOf(manifest: BackupManifest): CheckpointMarker {
  return {
    snapshot_id: manifest.snapshot_id,
    commit_boundary: manifest.commit_boundary,
    lsn_boundary: manifest.lsn_boundary,
    boundary_frame_crc: manifest.boundary_frame_crc,
  };
}

/** Fully verifies a backup archive (structure, both manifests, every CRC, the snapshot). */
export async function verifyBackupArchive(
  fs: FileSystem,
  archivePath: string,
  progressSink?: ProgressSink,
): Promise<{ archive: ReadArchive; snapshot: SnapshotManifest }> {
  const progress = guardProgress(progressSink);
  const st = await fs.stat(archivePath).catch(() => null);
  progress.start("verify", st?.size ?? 0);
  const archive = await readBackupArchive(fs, archivePath, { onBytes: (n) => progress.advance(n) });
  // The content checks read MANIFEST and every snapshot file once.
  progress.start(
    "check",
    archive.files.reduce((sum, f) => sum + f.size, 0),
  );
  const snapshot = await verifyArchiveContent(fs, archivePath, archive, (n) => progress.advance(n));
  return { archive, snapshot };
}

export interface BackupVerifyReport {
  readonly backup_id: string | null;
  readonly database_id: string | null;
  readonly snapshot_id: string | null;
  readonly commit_boundary: number | null;
  readonly lsn_boundary: number | null;
  readonly archive_bytes: number | null;
  readonly files: number | null;
  readonly versions: number | null;
  readonly schemas: number | null;
  readonly problems: VerifyProblem[];
}

/**
 * `aerodb verify --backup <file>`: reads the whole archive and never writes. Returns the
 * report; a defect is its one problem (verification stops at the first, since nothing after
 * a defect can be trusted).
 */
export async function verifyBackup(
  fs: FileSystem,
  archivePath: string,
  options: VerifyOptions = {},
): Promise<BackupVerifyReport> {
  const progress = guardProgress(options.progress);
  try {
    const { archive, snapshot } = await verifyBackupArchive(fs, archivePath, progress);
    return {
      ...archiveIdentity(archive),
      files: archive.manifest.files.length,
      versions: snapshot.version_count,
      schemas: snapshot.schema_count,
      problems: [],
    };
  } catch (err) {
    if (isSimulatedCrash(err)) throw err;
    return {
      backup_id: null,
      database_id: null,
      snapshot_id: null,
      commit_boundary: null,
      lsn_boundary: null,
      archive_bytes: null,
      files: null,
      versions: null,
      schemas: null,
      problems: [problemOf(err, "AERO_RESTORE_INVALID_BACKUP")],
    };
  } finally {
    progress.stop();
  }
}

// ---- data directories ------------------------------------------------------------------

export interface VerifyReport {
  readonly database_id: string;
  readonly stale_lock: boolean;
  readonly clean_shutdown_flag: boolean | null;
  readonly checkpoint: {
    readonly snapshot_id: string;
    readonly commit_boundary: number;
    readonly lsn_boundary: number;
    readonly versions: number;
    readonly schemas: number;
  } | null;
  readonly wal: {
    readonly segments: number;
    readonly first_lsn: number | null;
    readonly last_lsn: number;
    readonly records_verified: number;
    readonly units: number;
    readonly commit_high_water: number;
  } | null;
  readonly torn_tail: { segment: string; offset: number; bytes_cut: number; records_cut: number } | null;
  readonly schemas: {
    readonly registered: number;
    readonly files_verified: number;
    /** Files the next start writes: the log's final unit registered them and was cut off before its file. */
    readonly files_pending: number;
  } | null;
  readonly problems: VerifyProblem[];
}

/**
 * `aerodb verify --data <dir>`: checks a data directory offline and writes nothing, not even
 * LOCK (so it does not use open(), whose recovery cuts a torn tail and rewrites state.json):
 * an interrupted restore, MANIFEST, metadata/state.json, the checkpoint (checkpoint.json and
 * its whole snapshot: listing, sizes, CRCs, schema files, every frame and document body),
 * every WAL frame through @aerodb/wal's read-only scanWal (CRC, length, kind, LSN and
 * commit-id order from the checkpoint's boundary, unit shape), every SCHEMA record, and
 * metadata/schemas against the registered schemas (snapshot + log) byte for byte. A torn
 * tail is reported (the next start cuts it) but is not a problem. A directory a live process
 * holds is refused with AERO_STORAGE_LOCKED.
 */
export async function verifyDataDir(
  fsInput: FileSystem,
  dataDir: string,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const progress = guardProgress(options.progress);
  try {
    return await verifyDataDirInner(fsInput, dataDir, progress);
  } finally {
    progress.stop();
  }
}

async function verifyDataDirInner(
  fsInput: FileSystem,
  dataDir: string,
  progress: ProgressSink,
): Promise<VerifyReport> {
  const layout = layoutOf(dataDir);
  const problems: VerifyProblem[] = [];
  const note = (err: unknown) => problems.push(problemOf(err, "AERO_STORAGE_READ_FAILED"));
  try {
    await checkNoInterruptedRestore(fsInput, layout.root);
  } catch (err) {
    if (!(await fsInput.stat(layout.root))?.isDirectory) throw err;
    note(err);
  }
  const rootStat = await fsInput.stat(layout.root);
  if (!rootStat?.isDirectory) {
    throw new AeroError(
      "AERO_STORAGE_NOT_INITIALIZED",
      "The data directory does not exist (run `aerodb init`, or `aerodb restore` a backup into it).",
    );
  }
  const staleLock = await checkLock(fsInput, layout.lock);
  const { databaseId } = await readManifest(fsInput, layout.manifest);

  let cleanShutdown: boolean | null = null;
  try {
    cleanShutdown = await checkState(fsInput, layout.state, dataDir);
  } catch (err) {
    note(err);
  }

  let marker: CheckpointMarker | null = null;
  let markerOk = true;
  try {
    const bytes = await readFileIfExists(fsInput, layout.checkpoint);
    marker = bytes === null ? null : parseCheckpointMarker(bytes);
  } catch (err) {
    markerOk = false;
    note(err);
  }
  const snapshotDir = marker ? posixPath.join(layout.snapshots, marker.snapshot_id) : null;
  progress.start("verify", await bytesToRead(fsInput, layout.wal, snapshotDir));
  const fs = new CountingFileSystem(fsInput, (n) => progress.advance(n));

  // Schema files expected in metadata/schemas (relative path -> bytes, and the registering
  // commit for those the log registered; the snapshot's are older than any log unit).
  const registered = new Map<string, { bytes: Uint8Array; commitId: number | null }>();
  let checkpoint: VerifyReport["checkpoint"] = null;
  let snapshotOk = marker !== null;
  if (marker !== null && snapshotDir !== null) {
    try {
      const manifest = await readSnapshot(fs, snapshotDir, {
        snapshotId: marker.snapshot_id,
        databaseId,
        marker,
        checkBodies: true,
      });
      for (const entry of manifest.files) {
        if (!entry.path.startsWith(`${SNAPSHOT_SCHEMAS_DIR}/`)) continue;
        const bytes = await fs.readFile(posixPath.join(snapshotDir, entry.path));
        registered.set(entry.path.slice(SNAPSHOT_SCHEMAS_DIR.length + 1), { bytes, commitId: null });
      }
      checkpoint = {
        snapshot_id: manifest.snapshot_id,
        commit_boundary: manifest.commit_boundary,
        lsn_boundary: manifest.lsn_boundary,
        versions: manifest.version_count,
        schemas: manifest.schema_count,
      };
    } catch (err) {
      snapshotOk = false;
      note(err);
    }
  }

  let lastUnit: ScannedUnit | null = null;
  let scan: WalScanResult | null = null;
  if (markerOk && marker !== null && marker.lsn_boundary > 0 && (await segmentCount(fs, layout.wal)) === 0) {
    // A checkpointed database whose wal/ is empty (a restore lays it out so): the log is
    // exactly the checkpoint's boundary, and the next start continues from it.
    scan = {
      segments: [],
      firstLsn: null,
      lastLsn: marker.lsn_boundary,
      lastCommitId: marker.commit_boundary,
      lastFrameCrc: marker.boundary_frame_crc,
      recordsVerified: 0,
      unitsRead: 0,
      unitsDelivered: 0,
      tornTail: null,
      tail: { segment: null, offset: 0 },
    };
  } else if (markerOk) {
    try {
      scan = await scanWal(fs, layout.wal, {
        databaseId,
        ...(marker
          ? {
              base: {
                lsn: marker.lsn_boundary,
                commitId: marker.commit_boundary,
                frameCrc: marker.boundary_frame_crc,
              },
            }
          : {}),
        onUnit: (unit) => {
          lastUnit = unit;
          for (const record of unit.records) {
            if (record.kind !== FrameKind.SCHEMA) continue;
            const def = schemaOfRecord(record.payload, record.location);
            const bytes = new Uint8Array(record.payload.length + 1);
            bytes.set(record.payload);
            bytes[record.payload.length] = 0x0a;
            registered.set(`${def.schema_id}/${def.schema_version}.json`, { bytes, commitId: unit.commitId });
          }
        },
      });
    } catch (err) {
      note(
        isAeroError(err) ? err : toProblemError(err, "AERO_STORAGE_READ_FAILED", "Reading the WAL failed."),
      );
    }
  }

  let schemas: VerifyReport["schemas"] = null;
  if (scan !== null && (marker === null || snapshotOk)) {
    const finalCommit = (lastUnit as ScannedUnit | null)?.commitId ?? null;
    schemas = await checkSchemaFiles(fs, layout.schemas, registered, finalCommit, note);
  }
  return {
    database_id: databaseId,
    stale_lock: staleLock,
    clean_shutdown_flag: cleanShutdown,
    checkpoint,
    wal: scan && {
      segments: scan.segments.length,
      first_lsn: scan.firstLsn,
      last_lsn: scan.lastLsn,
      records_verified: scan.recordsVerified,
      units: scan.unitsRead,
      commit_high_water: scan.lastCommitId,
    },
    torn_tail:
      scan?.tornTail == null
        ? null
        : {
            segment: scan.tornTail.segment,
            offset: scan.tornTail.offset,
            bytes_cut: scan.tornTail.bytesCut,
            records_cut: scan.tornTail.recordsCut,
          },
    schemas,
    problems,
  };
}

/** WAL segment files in wal/ (-1 when the directory is missing: the scan reports that). */
async function segmentCount(fs: FileSystem, walDir: string): Promise<number> {
  if (!(await fs.stat(walDir))?.isDirectory) return -1;
  return (await fs.readdir(walDir)).filter((name) => parseSegmentFileName(name) !== null).length;
}

/** What verify will read: WAL segments and the checkpoint's snapshot (for progress). */
async function bytesToRead(fs: FileSystem, walDir: string, snapshotDir: string | null): Promise<number> {
  let total = 0;
  const walk = async (dir: string): Promise<void> => {
    const st = await fs.stat(dir);
    if (!st?.isDirectory) return;
    for (const name of await fs.readdir(dir)) {
      const child = posixPath.join(dir, name);
      const cst = await fs.stat(child);
      if (cst?.isDirectory) await walk(child);
      else if (cst) total += cst.size;
    }
  };
  await walk(walDir);
  if (snapshotDir !== null) await walk(snapshotDir);
  return total;
}

/** A live owner refuses verify (its log is moving); a dead owner's LOCK is only reported. */
async function checkLock(fs: FileSystem, lockPath: string): Promise<boolean> {
  const bytes = await readFileIfExists(fs, lockPath);
  if (bytes === null) return false;
  let pid: unknown = null;
  try {
    pid = (JSON.parse(decoder.decode(bytes)) as { pid?: unknown }).pid;
  } catch {
    return true; // a torn LOCK has no live owner
  }
  if (typeof pid === "number" && pid !== process.pid && realProcessProbe(pid)) {
    throw new AeroError("AERO_STORAGE_LOCKED", "Another live process holds the data directory.", { pid });
  }
  return true;
}

/** Checks metadata/state.json with core's reader; returns its clean-shutdown flag. */
async function checkState(fs: FileSystem, path: string, dataDir: string): Promise<boolean> {
  const state = await readState(fs, path);
  if (state.persisted.data_dir !== dataDir) {
    // Not corruption, but `start` on this path would refuse the directory.
    throw new AeroError("AERO_CONFIG_IMMUTABLE", "The data directory was created at another path.", {
      field: "core.data_dir",
    });
  }
  return state.clean_shutdown;
}

function schemaOfRecord(payload: Uint8Array, location: { segment: string; offset: number }) {
  try {
    return parseSchemaDefinition(JSON.parse(decoder.decode(payload)));
  } catch {
    throw new AeroError("AERO_WAL_CORRUPTION", "A SCHEMA record does not hold a valid definition.", {
      segment: location.segment,
      offset: location.offset,
      reason: "schema_payload",
    });
  }
}

/**
 * metadata/schemas must hold exactly the registered schemas' files, byte for byte (core
 * §3.5, §9.2). Only the log's final unit may lack its file (registration writes it after
 * the fsync; the next start writes it). `.json.tmp` leftovers are derived and ignored.
 */
async function checkSchemaFiles(
  fs: FileSystem,
  schemasDir: string,
  registered: ReadonlyMap<string, { bytes: Uint8Array; commitId: number | null }>,
  finalCommit: number | null,
  note: (err: unknown) => void,
): Promise<NonNullable<VerifyReport["schemas"]>> {
  const dirStat = await fs.stat(schemasDir);
  if (!dirStat?.isDirectory) {
    note(
      new AeroError("AERO_METADATA_CORRUPTION", "metadata/schemas is missing.", {
        file: "metadata/schemas",
        reason: "missing",
      }),
    );
    return { registered: registered.size, files_verified: 0, files_pending: 0 };
  }
  for (const dirName of await fs.readdir(schemasDir)) {
    const dir = posixPath.join(schemasDir, dirName);
    if (!(await fs.stat(dir))?.isDirectory) {
      note(unaccounted(`metadata/schemas/${dirName}`));
      continue;
    }
    for (const fileName of await fs.readdir(dir)) {
      const rel = `${dirName}/${fileName}`;
      if (fileName.endsWith(".json.tmp")) continue;
      if (!registered.has(rel)) note(unaccounted(`metadata/schemas/${rel}`));
    }
  }
  let verified = 0;
  let pending = 0;
  for (const [rel, { bytes: want, commitId }] of registered) {
    const file = `metadata/schemas/${rel}`;
    const bytes = await readFileIfExists(fs, posixPath.join(schemasDir, rel));
    if (bytes === null) {
      if (commitId !== null && commitId === finalCommit) {
        pending++;
      } else {
        note(
          new AeroError("AERO_METADATA_CORRUPTION", `Schema file ${file} was removed.`, {
            file,
            reason: "missing",
          }),
        );
      }
      continue;
    }
    if (Buffer.compare(Buffer.from(bytes), Buffer.from(want)) !== 0) {
      note(
        new AeroError("AERO_METADATA_CORRUPTION", `Schema file ${file} was changed.`, {
          file,
          reason: "modified",
        }),
      );
      continue;
    }
    verified++;
  }
  return { registered: registered.size, files_verified: verified, files_pending: pending };
}

function unaccounted(file: string): AeroError {
  return new AeroError("AERO_METADATA_CORRUPTION", `${file} does not belong to any registered schema.`, {
    file,
    reason: "unaccounted",
  });
}

function toProblemError(err: unknown, fallback: ErrorCode, message: string): AeroError {
  if (isAeroError(err)) return err;
  if (isFsError(err)) return new AeroError(fallback, message, { errno: err.code });
  return new AeroError("AERO_INTERNAL_INVARIANT", "An unexpected internal error occurred.");
}

function problemOf(err: unknown, fallback: ErrorCode): VerifyProblem {
  const { status: _status, ...problem } = toProblemError(err, fallback, "Reading failed.").toJSON();
  return problem;
}

/** The sibling directories a restore uses (for reports and tests). */
export function restoreSiblings(dataDir: string): { tmp: string; old: string } {
  return { tmp: `${dataDir}${RESTORE_TMP_SUFFIX}`, old: `${dataDir}${RESTORE_OLD_SUFFIX}` };
}
