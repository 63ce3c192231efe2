import { compareCodeUnits } from "@aerodb/base";
import { canonicalJson } from "@aerodb/core";
import { crc32 } from "@aerodb/wal";
import { END_BYTES, entryBytes, pathDefect } from "./tar/ustar.js";

/**
 * `backup_manifest.json` (core.md §11, docs/formats/backup.md): the first entry of every
 * backup archive. Canonical JSON and a newline, sealed like MANIFEST: `checksum` is the
 * CRC-32 of the canonical JSON of every other field.
 */
export const BACKUP_FORMAT_VERSION = 1;
export const BACKUP_MANIFEST_NAME = "backup_manifest.json";
/** The largest backup_manifest.json a reader accepts (it is read into memory first). */
export const MAX_BACKUP_MANIFEST_BYTES = 16 << 20;
export const SNAPSHOT_PREFIX = "snapshot";

export interface BackupFile {
  readonly path: string;
  readonly size: number;
  readonly crc32: number;
}

export interface BackupManifest {
  readonly format_version: number;
  /** `<database_id>-<commit_boundary>`: content-derived, never wall-clock. */
  readonly backup_id: string;
  readonly database_id: string;
  readonly snapshot_id: string;
  readonly commit_boundary: number;
  readonly lsn_boundary: number;
  /** CRC of the WAL frame at lsn_boundary (0 when it is 0): the restored log continues from it. */
  readonly boundary_frame_crc: number;
  /** Every other entry's content, sorted by path: MANIFEST, then snapshot/... */
  readonly files: readonly BackupFile[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** `snap-<C, 20 digits>` (core.md §10). */
export function snapshotIdOf(commitBoundary: number): string {
  return `snap-${String(commitBoundary).padStart(20, "0")}`;
}

export function backupIdOf(databaseId: string, commitBoundary: number): string {
  return `${databaseId}-${commitBoundary}`;
}

export function encodeBackupManifest(manifest: BackupManifest): Uint8Array {
  const body = { ...manifest, files: manifest.files.map((f) => ({ ...f })) };
  const checksum = crc32(encoder.encode(canonicalJson(body)));
  return encoder.encode(`${canonicalJson({ ...body, checksum })}\n`);
}

/** Why a manifest was refused (the `reason` of AERO_RESTORE_INVALID_BACKUP). */
export class ManifestDefect extends Error {
  constructor(
    readonly reason: "manifest_corrupt" | "manifest_checksum" | "unsupported_format" | "manifest_invalid",
    message: string,
    readonly field: string | null = null,
  ) {
    super(message);
    this.name = "ManifestDefect";
  }
}

/**
 * Parses and checks a backup_manifest.json: valid UTF-8 JSON, its checksum, canonical bytes,
 * a supported format version, and every field's shape and consistency (ids derived from
 * the boundaries, files sorted and unique, safe paths, MANIFEST and snapshot/manifest.json
 * present, no path both a file and a directory).
 */
export function decodeBackupManifest(bytes: Uint8Array): BackupManifest {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch {
    throw new ManifestDefect("manifest_corrupt", "backup_manifest.json is not valid JSON.");
  }
  if (!isObject(value))
    throw new ManifestDefect("manifest_corrupt", "backup_manifest.json is not an object.");
  const { checksum, ...rest } = value;
  if (checksum !== crc32(encoder.encode(canonicalJson(rest)))) {
    throw new ManifestDefect("manifest_checksum", "backup_manifest.json fails its checksum.");
  }
  if (rest.format_version !== BACKUP_FORMAT_VERSION) {
    throw new ManifestDefect(
      "unsupported_format",
      `The backup's format version ${JSON.stringify(rest.format_version ?? null)} is not supported (this version reads ${BACKUP_FORMAT_VERSION}).`,
      "format_version",
    );
  }
  const invalid = (field: string, what: string) =>
    new ManifestDefect("manifest_invalid", `backup_manifest.json: ${what}.`, field);
  const expectedKeys = [
    "backup_id",
    "boundary_frame_crc",
    "commit_boundary",
    "database_id",
    "files",
    "format_version",
    "lsn_boundary",
    "snapshot_id",
  ];
  const keys = Object.keys(rest).sort();
  if (keys.join(",") !== expectedKeys.join(",")) throw invalid("(keys)", "unexpected or missing fields");
  const { database_id, commit_boundary, lsn_boundary, boundary_frame_crc, files } = rest;
  if (typeof database_id !== "string" || !/^[0-9a-f]{32}$/.test(database_id)) {
    throw invalid("database_id", "database_id is not 32 hex digits");
  }
  if (!isCount(commit_boundary)) throw invalid("commit_boundary", "commit_boundary is not a count");
  if (!isCount(lsn_boundary)) throw invalid("lsn_boundary", "lsn_boundary is not a count");
  if (lsn_boundary < commit_boundary) throw invalid("lsn_boundary", "lsn_boundary is below commit_boundary");
  if (!isUint32(boundary_frame_crc) || (lsn_boundary === 0 && boundary_frame_crc !== 0)) {
    throw invalid("boundary_frame_crc", "boundary_frame_crc is not a CRC-32");
  }
  if (rest.backup_id !== backupIdOf(database_id, commit_boundary)) {
    throw invalid("backup_id", "backup_id does not match database_id and commit_boundary");
  }
  if (rest.snapshot_id !== snapshotIdOf(commit_boundary)) {
    throw invalid("snapshot_id", "snapshot_id does not match commit_boundary");
  }
  if (!Array.isArray(files)) throw invalid("files", "files is not a list");
  const out: BackupFile[] = [];
  let previous: string | null = null;
  for (const file of files) {
    if (!isObject(file) || Object.keys(file).sort().join(",") !== "crc32,path,size") {
      throw invalid("files", "a file entry has the wrong shape");
    }
    const { path, size, crc32: crc } = file;
    if (typeof path !== "string" || pathDefect(path) !== null)
      throw invalid("files", "a file path is unsafe");
    if (path !== "MANIFEST" && !path.startsWith(`${SNAPSHOT_PREFIX}/`)) {
      throw invalid("files", "a file lies outside MANIFEST and snapshot/");
    }
    if (previous !== null && compareCodeUnits(previous, path) >= 0) {
      throw invalid("files", "files are not sorted and unique");
    }
    if (!isCount(size)) throw invalid("files", "a file size is not a count");
    if (!isUint32(crc)) throw invalid("files", "a file crc32 is not a CRC-32");
    out.push({ path, size, crc32: crc });
    previous = path;
  }
  const paths = new Set(out.map((f) => f.path));
  if (!paths.has("MANIFEST")) throw invalid("files", "MANIFEST is not listed");
  if (!paths.has(`${SNAPSHOT_PREFIX}/manifest.json`))
    throw invalid("files", "snapshot/manifest.json is not listed");
  for (const dir of directoriesOf(out)) {
    if (paths.has(dir)) throw invalid("files", "a path is both a file and a directory");
  }
  const manifest: BackupManifest = {
    format_version: BACKUP_FORMAT_VERSION,
    backup_id: rest.backup_id as string,
    database_id,
    snapshot_id: rest.snapshot_id as string,
    commit_boundary,
    lsn_boundary,
    boundary_frame_crc,
    files: out,
  };
  const canonical = encodeBackupManifest(manifest);
  if (Buffer.compare(Buffer.from(canonical), Buffer.from(bytes)) !== 0) {
    throw new ManifestDefect("manifest_corrupt", "backup_manifest.json is not in canonical form.");
  }
  return manifest;
}

/** Every directory that holds a listed file (snapshot, snapshot/schemas, ...), unsorted. */
export function directoriesOf(files: readonly BackupFile[]): Set<string> {
  const dirs = new Set<string>();
  for (const { path } of files) {
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join("/"));
  }
  return dirs;
}

export type ArchiveEntry =
  | { readonly type: "file"; readonly path: string; readonly size: number; readonly crc32: number }
  | { readonly type: "dir"; readonly path: string; readonly size: 0 };

/**
 * The exact entry sequence of the archive after backup_manifest.json: the listed files and
 * their directories, sorted by path (a directory by its path with a trailing '/', so it
 * precedes its content). Writer and reader both use this one order.
 */
export function archiveEntries(manifest: Pick<BackupManifest, "files">): ArchiveEntry[] {
  const entries: ArchiveEntry[] = [
    ...manifest.files.map((f) => ({ type: "file" as const, path: f.path, size: f.size, crc32: f.crc32 })),
    ...[...directoriesOf(manifest.files)].map((path) => ({ type: "dir" as const, path, size: 0 as const })),
  ];
  const key = (e: ArchiveEntry) => (e.type === "dir" ? `${e.path}/` : e.path);
  return entries.sort((a, b) => compareCodeUnits(key(a), key(b)));
}

/** The size an archive with this manifest has, exactly. */
export function expectedArchiveSize(manifestBytes: number, manifest: Pick<BackupManifest, "files">): number {
  let total = entryBytes(manifestBytes) + END_BYTES;
  for (const entry of archiveEntries(manifest)) total += entryBytes(entry.size);
  return total;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function isUint32(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 0xffffffff;
}
