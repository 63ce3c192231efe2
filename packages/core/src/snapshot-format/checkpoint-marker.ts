import { AeroError, type FileSystem, readFileIfExists, writeFileAtomic } from "@aerodb/base";
import { openSealedJson, sealJson } from "../engine/sealed-json.js";
import { CHECKPOINT_FORMAT_VERSION, type CheckpointMarker, snapshotId } from "./format.js";

const FILE = "checkpoint.json";

/** The exact bytes of checkpoint.json: sealed canonical JSON (docs/formats/snapshot.md). */
export function checkpointMarkerBytes(marker: CheckpointMarker): Uint8Array {
  return sealJson({
    format_version: CHECKPOINT_FORMAT_VERSION,
    snapshot_id: marker.snapshot_id,
    commit_boundary: marker.commit_boundary,
    lsn_boundary: marker.lsn_boundary,
    boundary_frame_crc: marker.boundary_frame_crc,
  });
}

/**
 * Parses and verifies checkpoint.json bytes: damage or a wrong shape is
 * AERO_METADATA_CORRUPTION, another format version AERO_STORAGE_FORMAT_UNSUPPORTED.
 */
export function parseCheckpointMarker(bytes: Uint8Array): CheckpointMarker {
  const value = openSealedJson(bytes, FILE);
  if (value.format_version !== CHECKPOINT_FORMAT_VERSION) {
    throw new AeroError("AERO_STORAGE_FORMAT_UNSUPPORTED", "checkpoint.json has an unsupported format.", {
      file: FILE,
      format_version: typeof value.format_version === "number" ? value.format_version : null,
    });
  }
  const { snapshot_id, commit_boundary, lsn_boundary, boundary_frame_crc } = value;
  const keys = Object.keys(value).sort().join(",");
  if (
    keys !== "boundary_frame_crc,commit_boundary,format_version,lsn_boundary,snapshot_id" ||
    !isCount(commit_boundary) ||
    !isCount(lsn_boundary) ||
    !isU32(boundary_frame_crc) ||
    typeof snapshot_id !== "string" ||
    snapshot_id !== snapshotId(commit_boundary) ||
    (lsn_boundary === 0 && (commit_boundary !== 0 || boundary_frame_crc !== 0))
  ) {
    throw new AeroError("AERO_METADATA_CORRUPTION", "checkpoint.json has the wrong shape.", {
      file: FILE,
      reason: "shape",
    });
  }
  return { snapshot_id, commit_boundary, lsn_boundary, boundary_frame_crc };
}

/** The checkpoint marker in force, or null when the database has never been checkpointed. */
export async function readCheckpointMarker(fs: FileSystem, path: string): Promise<CheckpointMarker | null> {
  const bytes = await readFileIfExists(fs, path);
  return bytes === null ? null : parseCheckpointMarker(bytes);
}

/** Replaces checkpoint.json atomically and durably (temp file, fsync, rename, directory fsync). */
export async function writeCheckpointMarker(
  fs: FileSystem,
  path: string,
  marker: CheckpointMarker,
): Promise<void> {
  await writeFileAtomic(fs, path, checkpointMarkerBytes(marker));
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function isU32(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 0xffffffff;
}
