/**
 * The checkpoint snapshot format (docs/formats/snapshot.md), shared by the checkpoint
 * procedure, backup, restore, offline verify and recovery. A snapshot is a directory
 * `snapshots/snap-<C, 20 digits>/` holding:
 *
 * - `versions`: every retained version with commit id <= C, ordered by key (schema_id by
 *   UTF-16 code unit, then _id in index order: integers before strings) then commit id, each
 *   as a WAL-format frame (kind VERSION, the version's original LSN, CRC-32) whose payload is
 *   u64 commit id + the original VERSION payload. The store points into this file after a
 *   checkpoint, and a read verifies the frame's CRC exactly as a WAL read does.
 * - `schemas/<schema_id>/<schema_version>.json`: the canonical schema file bytes.
 * - `manifest.json`: sealed canonical JSON naming the boundaries, the counts and every file
 *   with its size and CRC-32; written last, so a snapshot is complete iff it has a manifest.
 *
 * Same state, same bytes: nothing in a snapshot depends on the clock or on the history of
 * earlier checkpoints.
 */
import * as zlib from "node:zlib";
import { AeroError } from "@aerodb/base";
import { FRAME_OVERHEAD } from "@aerodb/wal";
import type { DocId } from "../schema/types.js";

export const SNAPSHOT_FORMAT_VERSION = 1;
export const CHECKPOINT_FORMAT_VERSION = 1;
export const SNAPSHOT_VERSIONS_FILE = "versions";
export const SNAPSHOT_MANIFEST_FILE = "manifest.json";
export const SNAPSHOT_SCHEMAS_DIR = "schemas";
/** Bytes in front of the VERSION payload inside a snapshot frame: u64 commit id. */
export const SNAPSHOT_PAYLOAD_PREFIX_BYTES = 8;
/** Frame bytes a snapshot spends on a version besides its VERSION payload. */
export const SNAPSHOT_FRAME_OVERHEAD = FRAME_OVERHEAD + SNAPSHOT_PAYLOAD_PREFIX_BYTES;
const ID_DIGITS = 20;
const SNAPSHOT_ID = /^snap-(\d{20})$/;

/** `snap-<C, 20 digits>`: the id (and directory name) of the snapshot at commit boundary C. */
export function snapshotId(commitBoundary: number): string {
  return `snap-${String(commitBoundary).padStart(ID_DIGITS, "0")}`;
}

/** The commit boundary a snapshot id names, or null when `name` is no snapshot id. */
export function parseSnapshotId(name: string): number | null {
  const match = SNAPSHOT_ID.exec(name);
  if (!match) return null;
  const value = Number(match[1]);
  return Number.isSafeInteger(value) ? value : null;
}

/** The path of a snapshot's versions file relative to the data directory (store locations). */
export function snapshotVersionsFile(id: string): string {
  return `snapshots/${id}/${SNAPSHOT_VERSIONS_FILE}`;
}

export interface SnapshotFileEntry {
  /** Relative to the snapshot directory, `/`-separated. */
  readonly path: string;
  readonly size: number;
  readonly crc32: number;
}

/** manifest.json, without its checksum (docs/formats/snapshot.md). */
export interface SnapshotManifest {
  readonly format_version: 1;
  readonly snapshot_id: string;
  readonly database_id: string;
  readonly commit_boundary: number;
  readonly lsn_boundary: number;
  /** CRC of the frame with LSN lsn_boundary (0 when lsn_boundary is 0). */
  readonly boundary_frame_crc: number;
  readonly version_count: number;
  readonly schema_count: number;
  /** Every file but manifest.json, sorted by path (UTF-16 code unit). */
  readonly files: readonly SnapshotFileEntry[];
}

/** checkpoint.json, without its checksum: names the snapshot recovery starts from. */
export interface CheckpointMarker {
  readonly snapshot_id: string;
  readonly commit_boundary: number;
  readonly lsn_boundary: number;
  readonly boundary_frame_crc: number;
}

/** One version as a snapshot holds it; `payload` is the original VERSION payload. */
export interface SnapshotVersion {
  readonly schemaId: string;
  readonly id: DocId;
  readonly commitId: number;
  /** The LSN of the version's frame in the WAL (kept in the snapshot frame). */
  readonly lsn: number;
  readonly payload: Uint8Array;
}

// zlib.crc32 is native (Node >= 20.15); @aerodb/wal refuses to load without it.
type Crc32 = (data: Uint8Array, initial?: number) => number;
const nativeCrc32 = (zlib as unknown as { crc32: Crc32 }).crc32;

/** CRC-32 (IEEE) continued over `data` from `initial` (0 to start): streaming file CRCs. */
export function crc32Update(data: Uint8Array, initial: number): number {
  return nativeCrc32(data, initial) >>> 0;
}

export function snapshotCorruption(
  snapshot: string,
  file: string,
  reason: string,
  extra: Record<string, unknown> = {},
): AeroError {
  return new AeroError("AERO_SNAPSHOT_CORRUPTION", `Snapshot ${snapshot} is damaged: ${file} (${reason}).`, {
    snapshot_id: snapshot,
    file,
    reason,
    ...extra,
  });
}
