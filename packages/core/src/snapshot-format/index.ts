// The checkpoint snapshot format (docs/formats/snapshot.md): written by @aerodb/snapshot's
// checkpoint and backup, read by recovery, restore and offline verify.
export {
  checkpointMarkerBytes,
  parseCheckpointMarker,
  readCheckpointMarker,
  writeCheckpointMarker,
} from "./checkpoint-marker.js";
export {
  CHECKPOINT_FORMAT_VERSION,
  type CheckpointMarker,
  crc32Update,
  parseSnapshotId,
  SNAPSHOT_FORMAT_VERSION,
  SNAPSHOT_FRAME_OVERHEAD,
  SNAPSHOT_MANIFEST_FILE,
  SNAPSHOT_PAYLOAD_PREFIX_BYTES,
  SNAPSHOT_SCHEMAS_DIR,
  SNAPSHOT_VERSIONS_FILE,
  type SnapshotFileEntry,
  type SnapshotManifest,
  type SnapshotVersion,
  snapshotId,
  snapshotVersionsFile,
} from "./format.js";
export {
  type LoadedSnapshotVersion,
  parseSnapshotManifest,
  type ReadSnapshotOptions,
  readSnapshot,
  readSnapshotManifest,
  snapshotIsComplete,
} from "./read-snapshot.js";
export {
  compareSnapshotOrder,
  encodeSnapshotFrame,
  manifestBytes,
  type SnapshotSource,
  writeSnapshotFiles,
} from "./write-snapshot.js";
