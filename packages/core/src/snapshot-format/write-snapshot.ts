import * as posixPath from "node:path/posix";
import {
  AeroError,
  compareCodeUnits,
  type FileHandle,
  type FileSystem,
  writeFully,
  writeNewFileSynced,
} from "@aerodb/base";
import { crc32, FrameKind, MAX_FRAME_PAYLOAD } from "@aerodb/wal";
import { schemaFileBytes } from "../engine/schema-files.js";
import { sealJson } from "../engine/sealed-json.js";
import { compareIds } from "../index/scalar-order.js";
import type { SchemaDefinition } from "../schema/types.js";
import {
  crc32Update,
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
} from "./format.js";

/** What a snapshot is written from: the engine's state at a commit boundary. */
export interface SnapshotSource {
  readonly databaseId: string;
  /** C: every version with commit id <= C, and nothing above. */
  readonly commitBoundary: number;
  /** L: the LSN of C's COMMIT frame (the last durable LSN), 0 for the empty database. */
  readonly lsnBoundary: number;
  /** CRC of frame L (0 when L is 0). */
  readonly boundaryFrameCrc: number;
  /** Every retained version with commit id <= C, in key order then commit order. */
  versions(): Iterable<SnapshotVersion>;
  /** The schemas registered at or below C. */
  readonly schemas: readonly SchemaDefinition[];
}

const CHUNK_BYTES = 1 << 20;

/**
 * Writes a complete snapshot into `dir`, which must not exist (its parent must): the
 * versions file, the schema files, each fsynced with its directory, then manifest.json
 * last, fsynced, and `dir` fsynced. The caller renames `dir` into place and fsyncs the
 * parent (core §10.2). Same source, same bytes. Returns the manifest written.
 */
export async function writeSnapshotFiles(
  fs: FileSystem,
  dir: string,
  source: SnapshotSource,
): Promise<SnapshotManifest> {
  const id = snapshotId(source.commitBoundary);
  await fs.mkdir(dir);
  const files: SnapshotFileEntry[] = [];

  const versions = await writeVersionsFile(fs, posixPath.join(dir, SNAPSHOT_VERSIONS_FILE), source);
  files.push({ path: SNAPSHOT_VERSIONS_FILE, size: versions.size, crc32: versions.crc });

  const defs = [...source.schemas].sort(
    (a, b) =>
      compareCodeUnits(a.schema_id, b.schema_id) || compareCodeUnits(a.schema_version, b.schema_version),
  );
  const schemasDir = posixPath.join(dir, SNAPSHOT_SCHEMAS_DIR);
  await fs.mkdir(schemasDir);
  let currentId: string | null = null;
  for (const def of defs) {
    const idDir = posixPath.join(schemasDir, def.schema_id);
    if (def.schema_id !== currentId) {
      if (currentId !== null) await fs.syncDir(posixPath.join(schemasDir, currentId));
      await fs.mkdir(idDir);
      currentId = def.schema_id;
    }
    const bytes = schemaFileBytes(def);
    await writeNewFileSynced(fs, posixPath.join(idDir, `${def.schema_version}.json`), bytes);
    files.push({
      path: `${SNAPSHOT_SCHEMAS_DIR}/${def.schema_id}/${def.schema_version}.json`,
      size: bytes.length,
      crc32: crc32(bytes),
    });
  }
  if (currentId !== null) await fs.syncDir(posixPath.join(schemasDir, currentId));
  await fs.syncDir(schemasDir);

  files.sort((a, b) => compareCodeUnits(a.path, b.path));
  const manifest: SnapshotManifest = {
    format_version: SNAPSHOT_FORMAT_VERSION,
    snapshot_id: id,
    database_id: source.databaseId,
    commit_boundary: source.commitBoundary,
    lsn_boundary: source.lsnBoundary,
    boundary_frame_crc: source.boundaryFrameCrc,
    version_count: versions.count,
    schema_count: defs.length,
    files,
  };
  await writeNewFileSynced(fs, posixPath.join(dir, SNAPSHOT_MANIFEST_FILE), manifestBytes(manifest));
  await fs.syncDir(dir);
  return manifest;
}

/** The exact bytes of manifest.json. */
export function manifestBytes(manifest: SnapshotManifest): Uint8Array {
  return sealJson({ ...manifest, files: manifest.files.map((f) => ({ ...f })) });
}

/** The frame a snapshot stores one version as (docs/formats/snapshot.md). */
export function encodeSnapshotFrame(version: SnapshotVersion): Uint8Array {
  const out = new Uint8Array(version.payload.length + SNAPSHOT_FRAME_OVERHEAD);
  writeSnapshotFrameInto(out, 0, version);
  return out;
}

function writeSnapshotFrameInto(out: Uint8Array, at: number, version: SnapshotVersion): number {
  const payloadLength = SNAPSHOT_PAYLOAD_PREFIX_BYTES + version.payload.length;
  const view = new DataView(out.buffer, out.byteOffset + at);
  view.setUint32(0, payloadLength, true);
  view.setUint8(4, FrameKind.VERSION);
  view.setBigUint64(5, BigInt(version.lsn), true);
  view.setBigUint64(13, BigInt(version.commitId), true);
  out.set(version.payload, at + 13 + SNAPSHOT_PAYLOAD_PREFIX_BYTES);
  const end = at + 13 + payloadLength;
  view.setUint32(13 + payloadLength, crc32(out, at, end), true);
  return end + 4 - at;
}

async function writeVersionsFile(
  fs: FileSystem,
  path: string,
  source: SnapshotSource,
): Promise<{ size: number; crc: number; count: number }> {
  const handle = await fs.open(path, "wx");
  let crc = 0;
  let position = 0;
  let count = 0;
  try {
    let chunk = new Uint8Array(CHUNK_BYTES);
    let used = 0;
    const flush = async () => {
      if (used === 0) return;
      const bytes = chunk.subarray(0, used);
      await writeFully(handle, bytes, position);
      crc = crc32Update(bytes, crc);
      position += used;
      used = 0;
    };
    let previous: SnapshotVersion | null = null;
    for (const version of source.versions()) {
      checkVersion(version, previous, source);
      previous = version;
      const size = version.payload.length + SNAPSHOT_FRAME_OVERHEAD;
      if (used + size > chunk.length) {
        await flush();
        if (size > chunk.length) chunk = new Uint8Array(size);
      }
      used += writeSnapshotFrameInto(chunk, used, version);
      count++;
    }
    await flush();
    await handle.sync();
  } finally {
    await closeQuietly(handle);
  }
  return { size: position, crc, count };
}

/** The source must deliver exactly the snapshot's versions, in order: anything else is a bug. */
function checkVersion(
  version: SnapshotVersion,
  previous: SnapshotVersion | null,
  source: SnapshotSource,
): void {
  const bad = (reason: string) =>
    new AeroError("AERO_INTERNAL_INVARIANT", "A snapshot was given a version it cannot hold.", {
      reason,
      commit_id: version.commitId,
      lsn: version.lsn,
    });
  if (version.commitId < 1 || version.commitId > source.commitBoundary) throw bad("commit_id");
  if (version.lsn < 1 || version.lsn > source.lsnBoundary) throw bad("lsn");
  if (version.payload.length + SNAPSHOT_PAYLOAD_PREFIX_BYTES > MAX_FRAME_PAYLOAD) throw bad("size");
  if (previous !== null && compareSnapshotOrder(previous, version) >= 0) throw bad("order");
}

/** The snapshot order: schema_id, then _id (integers before strings), then commit id. */
export function compareSnapshotOrder(
  a: { readonly schemaId: string; readonly id: SnapshotVersion["id"]; readonly commitId: number },
  b: { readonly schemaId: string; readonly id: SnapshotVersion["id"]; readonly commitId: number },
): number {
  return compareCodeUnits(a.schemaId, b.schemaId) || compareIds(a.id, b.id) || a.commitId - b.commitId;
}

async function closeQuietly(handle: FileHandle): Promise<void> {
  await handle.close().catch(() => undefined);
}
