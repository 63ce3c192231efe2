// @aerodb/snapshot: snapshots, checkpoints, backup, restore and offline verify, and the
// full Phase-1 engine: core's public API with `open` wiring checkpoints and backups in.
export * from "@aerodb/core";
export {
  type ArchiveSource,
  BACKUP_SNAPSHOT_SUFFIX,
  type BackupOptions,
  beginBackup,
  type WriteArchiveOptions,
  writeArchive,
} from "./backup.js";
export {
  BACKUP_FORMAT_VERSION,
  BACKUP_MANIFEST_NAME,
  type BackupFile,
  type BackupManifest,
  decodeBackupManifest,
  encodeBackupManifest,
} from "./backup-manifest.js";
export { runCheckpoint, SNAPSHOT_TMP_SUFFIX } from "./checkpoint.js";
export { CountingFileSystem, guardProgress, NO_PROGRESS, type ProgressSink } from "./progress.js";
export { open, type SnapshotMaintenanceOptions, snapshotMaintenance } from "./provider.js";
export { type RestoreOptions, type RestoreResult, restoreBackup } from "./restore.js";
export { type ReadArchive, readBackupArchive } from "./tar/backup-archive.js";
export { TarReader } from "./tar/tar-reader.js";
export { TarWriter } from "./tar/tar-writer.js";
export { decodeHeader, encodeHeader, type TarEntry } from "./tar/ustar.js";
export {
  type BackupVerifyReport,
  type VerifyOptions,
  type VerifyProblem,
  type VerifyReport,
  verifyBackup,
  verifyBackupArchive,
  verifyDataDir,
} from "./verify.js";
