import * as posixPath from "node:path/posix";
import {
  AeroError,
  type FileHandle,
  type FileSystem,
  guardProgress,
  isAeroError,
  type ProgressSink,
  readFileIfExists,
} from "@aerodb/base";
import {
  crc32,
  type DecodedFrame,
  decodeFrame,
  FRAME_OVERHEAD,
  FrameKind,
  type FrameLocation,
  isFrame,
  MAX_FRAME_PAYLOAD,
  PROGRESS_STEP_BYTES,
  readU32LE,
  readU64LE,
} from "@aerodb/wal";
import { schemaFileBytes } from "../engine/schema-files.js";
import { openSealedJson } from "../engine/sealed-json.js";
import { parseSchemaDefinition } from "../schema/definition.js";
import type { DocId, SchemaDefinition } from "../schema/types.js";
import { decodeVersion } from "../store/version-codec.js";
import {
  type CheckpointMarker,
  crc32Update,
  SNAPSHOT_FORMAT_VERSION,
  SNAPSHOT_MANIFEST_FILE,
  SNAPSHOT_PAYLOAD_PREFIX_BYTES,
  SNAPSHOT_SCHEMAS_DIR,
  SNAPSHOT_VERSIONS_FILE,
  type SnapshotFileEntry,
  type SnapshotManifest,
  snapshotCorruption,
  snapshotId,
} from "./format.js";
import { compareSnapshotOrder } from "./write-snapshot.js";

/** A version read from a snapshot's versions file, verified. */
export interface LoadedSnapshotVersion {
  readonly schemaId: string;
  readonly schemaVersion: string;
  readonly id: DocId;
  readonly tombstone: boolean;
  readonly commitId: number;
  readonly lsn: number;
  /** The document's canonical JSON (empty for a tombstone): a view into the read buffer, never overwritten. */
  readonly body: Uint8Array;
  /** Where the frame is: `file` is `locationFile` (relative to the data directory). */
  readonly location: FrameLocation;
}

export interface ReadSnapshotOptions {
  /** The snapshot must have this id (its directory name); defaults to the manifest's own. */
  readonly snapshotId?: string;
  /** The snapshot must belong to this database. */
  readonly databaseId?: string;
  /** The marker naming the snapshot: its boundaries must be the manifest's. */
  readonly marker?: CheckpointMarker;
  /** The `file` the versions' locations carry (default `versions`). */
  readonly locationFile?: string;
  /**
   * Check the versions file's whole CRC in a first pass and, when it holds, skip the per-frame
   * CRCs while decoding (recovery: faster, same bytes verified). Off by default: offline
   * verification reads each byte once, as its progress reports count.
   */
  readonly wholeFileCrcFirst?: boolean;
  /** Parse every document body (offline verify); recovery parses only what it indexes. */
  readonly checkBodies?: boolean;
  /**
   * Told the versions file's progress as phase "load": its size (twice with wholeFileCrcFirst,
   * which reads it twice) first, then the bytes done, at least every PROGRESS_STEP_BYTES.
   * Not stopped here: the caller owns the sink.
   */
  readonly progress?: ProgressSink;
  /** Receives each schema, sorted by (schema_id, schema_version), before any version. */
  readonly onSchema?: (def: SchemaDefinition) => void;
  /** Receives each version in snapshot order (key, then commit id). */
  readonly onVersion?: (version: LoadedSnapshotVersion) => void;
}

const decoder = new TextDecoder("utf-8", { fatal: true });
const CHUNK_BYTES = 4 << 20;

/** Whether `dir` holds a complete snapshot (its manifest, written last, exists). Reads only. */
export async function snapshotIsComplete(fs: FileSystem, dir: string): Promise<boolean> {
  const st = await fs.stat(posixPath.join(dir, SNAPSHOT_MANIFEST_FILE));
  return st?.isFile === true;
}

/**
 * Reads and checks a snapshot's manifest.json. A missing directory or manifest is
 * AERO_RECOVERY_SNAPSHOT_MISSING; damage, a wrong shape or an id that is not the expected
 * one is AERO_SNAPSHOT_CORRUPTION; another format version AERO_STORAGE_FORMAT_UNSUPPORTED.
 */
export async function readSnapshotManifest(
  fs: FileSystem,
  dir: string,
  expectedId?: string,
): Promise<SnapshotManifest> {
  const label = expectedId ?? posixPath.basename(dir);
  const bytes = await readFileIfExists(fs, posixPath.join(dir, SNAPSHOT_MANIFEST_FILE)).catch((err) => {
    // A directory where the manifest should be is damage, not absence.
    if ((err as { code?: string })?.code === "EISDIR" || (err as { code?: string })?.code === "ENOTDIR")
      throw snapshotCorruption(label, SNAPSHOT_MANIFEST_FILE, "not_a_file");
    throw err;
  });
  if (bytes === null) {
    throw new AeroError(
      "AERO_RECOVERY_SNAPSHOT_MISSING",
      `Snapshot ${label} does not exist or is incomplete.`,
      {
        snapshot_id: label,
        reason: (await fs.stat(dir))?.isDirectory ? "no_manifest" : "missing",
      },
    );
  }
  return parseSnapshotManifest(bytes, label, expectedId);
}

/** Parses and checks manifest.json bytes (see readSnapshotManifest for the errors). */
export function parseSnapshotManifest(
  bytes: Uint8Array,
  label: string,
  expectedId?: string,
): SnapshotManifest {
  let value: Record<string, unknown>;
  try {
    value = openSealedJson(bytes, SNAPSHOT_MANIFEST_FILE);
  } catch (err) {
    if (isAeroError(err)) {
      throw snapshotCorruption(label, SNAPSHOT_MANIFEST_FILE, String(err.details?.reason ?? "checksum"));
    }
    throw err;
  }
  if (value.format_version !== SNAPSHOT_FORMAT_VERSION) {
    throw new AeroError("AERO_STORAGE_FORMAT_UNSUPPORTED", "A snapshot manifest has an unsupported format.", {
      snapshot_id: label,
      file: SNAPSHOT_MANIFEST_FILE,
      format_version: typeof value.format_version === "number" ? value.format_version : null,
    });
  }
  const shape = () => snapshotCorruption(label, SNAPSHOT_MANIFEST_FILE, "shape");
  const keys = Object.keys(value).sort().join(",");
  if (
    keys !==
    "boundary_frame_crc,commit_boundary,database_id,files,format_version,lsn_boundary,schema_count,snapshot_id,version_count"
  ) {
    throw shape();
  }
  const v = value as Record<string, unknown>;
  if (
    !isCount(v.commit_boundary) ||
    !isCount(v.lsn_boundary) ||
    !isU32(v.boundary_frame_crc) ||
    !isCount(v.version_count) ||
    !isCount(v.schema_count) ||
    typeof v.database_id !== "string" ||
    !/^[0-9a-f]{32}$/.test(v.database_id) ||
    v.snapshot_id !== snapshotId(v.commit_boundary) ||
    !Array.isArray(v.files)
  ) {
    throw shape();
  }
  const files: SnapshotFileEntry[] = [];
  for (const f of v.files as unknown[]) {
    const entry = f as Record<string, unknown>;
    if (
      typeof f !== "object" ||
      f === null ||
      Object.keys(entry).sort().join(",") !== "crc32,path,size" ||
      typeof entry.path !== "string" ||
      !isCount(entry.size) ||
      !isU32(entry.crc32) ||
      !isSnapshotFilePath(entry.path)
    ) {
      throw shape();
    }
    const previous = files[files.length - 1];
    if (previous && !(previous.path < entry.path)) throw shape();
    files.push({ path: entry.path, size: entry.size, crc32: entry.crc32 });
  }
  if (files[files.length - 1]?.path !== SNAPSHOT_VERSIONS_FILE || files.length - 1 !== v.schema_count) {
    throw shape();
  }
  if (expectedId !== undefined && v.snapshot_id !== expectedId) {
    throw snapshotCorruption(label, SNAPSHOT_MANIFEST_FILE, "snapshot_id", { found: v.snapshot_id });
  }
  return {
    format_version: SNAPSHOT_FORMAT_VERSION,
    snapshot_id: v.snapshot_id as string,
    database_id: v.database_id as string,
    commit_boundary: v.commit_boundary as number,
    lsn_boundary: v.lsn_boundary as number,
    boundary_frame_crc: v.boundary_frame_crc as number,
    version_count: v.version_count as number,
    schema_count: v.schema_count as number,
    files,
  };
}

/**
 * Reads and verifies a whole snapshot (core §9.2, CORE-P-2): the manifest, that the
 * directory holds exactly the listed files, every file's size and CRC-32, every schema file
 * (canonical bytes of a valid definition at its own path), and every frame of the versions
 * file (kind, CRC, commit id <= C, LSN <= L, strict snapshot order, a registered schema).
 * Schemas and versions are handed to the callbacks as they are verified, so a caller that
 * loads them must discard its work if the call throws. Damage is AERO_SNAPSHOT_CORRUPTION
 * naming the file (and offset); never writes.
 */
export async function readSnapshot(
  fs: FileSystem,
  dir: string,
  options: ReadSnapshotOptions = {},
): Promise<SnapshotManifest> {
  const manifest = await readSnapshotManifest(fs, dir, options.snapshotId);
  const id = manifest.snapshot_id;
  if (options.databaseId !== undefined && manifest.database_id !== options.databaseId) {
    throw snapshotCorruption(id, SNAPSHOT_MANIFEST_FILE, "database_id", {
      expected: options.databaseId,
      found: manifest.database_id,
    });
  }
  const marker = options.marker;
  if (
    marker !== undefined &&
    (marker.snapshot_id !== id ||
      marker.commit_boundary !== manifest.commit_boundary ||
      marker.lsn_boundary !== manifest.lsn_boundary ||
      marker.boundary_frame_crc !== manifest.boundary_frame_crc)
  ) {
    throw snapshotCorruption(id, SNAPSHOT_MANIFEST_FILE, "marker_mismatch");
  }
  await checkListing(fs, dir, manifest);

  const known = new Set<string>();
  for (const entry of manifest.files) {
    if (entry.path === SNAPSHOT_VERSIONS_FILE) continue;
    const def = await readSchemaFile(fs, dir, id, entry);
    known.add(`${def.schema_id}\u0000${def.schema_version}`);
    options.onSchema?.(def);
  }
  const versionsEntry = manifest.files[manifest.files.length - 1] as SnapshotFileEntry;
  await readVersionsFile(fs, dir, manifest, versionsEntry, known, options);
  return manifest;
}

/** The directory must hold exactly manifest.json and the listed files (empty directories aside). */
async function checkListing(fs: FileSystem, dir: string, manifest: SnapshotManifest): Promise<void> {
  const found: string[] = [];
  const walk = async (path: string, rel: string): Promise<void> => {
    for (const name of await fs.readdir(path)) {
      const child = posixPath.join(path, name);
      const relative = rel === "" ? name : `${rel}/${name}`;
      const st = await fs.stat(child);
      if (st?.isDirectory) await walk(child, relative);
      else found.push(relative);
    }
  };
  await walk(dir, "");
  const listed = new Set(manifest.files.map((f) => f.path));
  for (const rel of found) {
    if (rel !== SNAPSHOT_MANIFEST_FILE && !listed.has(rel)) {
      throw snapshotCorruption(manifest.snapshot_id, rel, "unaccounted");
    }
  }
  const present = new Set(found);
  for (const entry of manifest.files) {
    if (!present.has(entry.path)) throw snapshotCorruption(manifest.snapshot_id, entry.path, "missing");
  }
}

async function readSchemaFile(
  fs: FileSystem,
  dir: string,
  id: string,
  entry: SnapshotFileEntry,
): Promise<SchemaDefinition> {
  const bytes = await fs.readFile(posixPath.join(dir, entry.path));
  checkSizeAndCrc(id, entry, bytes.length, crc32(bytes));
  let def: SchemaDefinition;
  try {
    def = parseSchemaDefinition(JSON.parse(decoder.decode(bytes)));
  } catch {
    throw snapshotCorruption(id, entry.path, "schema");
  }
  const want = schemaFileBytes(def);
  if (
    entry.path !== `${SNAPSHOT_SCHEMAS_DIR}/${def.schema_id}/${def.schema_version}.json` ||
    Buffer.compare(Buffer.from(want), Buffer.from(bytes)) !== 0
  ) {
    throw snapshotCorruption(id, entry.path, "schema");
  }
  return def;
}

function checkSizeAndCrc(id: string, entry: SnapshotFileEntry, size: number, crc: number): void {
  if (size !== entry.size) {
    throw snapshotCorruption(id, entry.path, "size", { expected_size: entry.size, found_size: size });
  }
  if (crc !== entry.crc32) {
    throw snapshotCorruption(id, entry.path, "crc", { expected_crc: entry.crc32, found_crc: crc });
  }
}

async function readVersionsFile(
  fs: FileSystem,
  dir: string,
  manifest: SnapshotManifest,
  entry: SnapshotFileEntry,
  knownSchemas: ReadonlySet<string>,
  options: ReadSnapshotOptions,
): Promise<void> {
  const id = manifest.snapshot_id;
  const path = posixPath.join(dir, SNAPSHOT_VERSIONS_FILE);
  const st = await fs.stat(path);
  if (!st?.isFile) throw snapshotCorruption(id, SNAPSHOT_VERSIONS_FILE, "missing");
  if (st.size !== entry.size) {
    throw snapshotCorruption(id, SNAPSHOT_VERSIONS_FILE, "size", {
      expected_size: entry.size,
      found_size: st.size,
    });
  }
  const locationFile = options.locationFile ?? SNAPSHOT_VERSIONS_FILE;
  const handle = await fs.open(path, "r");
  try {
    // Recovery: a first pass checks the whole file against the manifest's CRC-32 (one native call per
    // chunk): when it holds, every frame's bytes are the ones written, and the decoding pass
    // skips the per-frame CRCs, which cost more than the rest of the load. When it does not,
    // the per-frame CRCs locate the damage (and the whole-file CRC is still checked at the end).
    const progress = guardProgress(options.progress);
    const passes = options.wholeFileCrcFirst === true ? 2 : 1;
    progress.start("load", entry.size * passes);
    const trusted =
      options.wholeFileCrcFirst === true &&
      (await fileCrc(handle, entry.size, (n) => progress.advance(n))) === entry.crc32;
    const input = new ChunkedInput(handle, entry.size, !trusted);
    let count = 0;
    let previous: { schemaId: string; id: DocId; commitId: number; lsn: number } | null = null;
    let knownId: string | null = null;
    let knownVersion: string | null = null;
    let offset = 0;
    const bad = (reason: string, extra: Record<string, unknown> = {}) =>
      snapshotCorruption(id, SNAPSHOT_VERSIONS_FILE, reason, { offset, ...extra });
    let reported = 0;
    while (!input.atEnd) {
      offset = input.position;
      if (offset - reported >= PROGRESS_STEP_BYTES) {
        progress.advance(offset - reported);
        reported = offset;
      }
      // Most frames are already buffered: take them without an await (a promise per frame cost
      // more than decoding it); only a frame that runs past the buffer waits for a read.
      const frame = input.bufferedFrame() ?? (await input.nextFrame());
      if (!isFrame(frame)) throw bad(frame);
      if (frame.kind !== FrameKind.VERSION) throw bad("kind");
      const payload = frame.payload;
      if (payload.length < SNAPSHOT_PAYLOAD_PREFIX_BYTES) throw bad("payload");
      const commitId = readU64LE(payload, 0);
      if (commitId < 1 || commitId > manifest.commit_boundary)
        throw bad("commit_id", { commit_id: commitId });
      if (frame.lsn < 1 || frame.lsn > manifest.lsn_boundary) throw bad("lsn", { lsn: frame.lsn });
      let record: ReturnType<typeof decodeVersion>;
      try {
        record = decodeVersion(payload.subarray(SNAPSHOT_PAYLOAD_PREFIX_BYTES));
      } catch (err) {
        if (isAeroError(err)) throw bad("version_record");
        throw err;
      }
      if (previous !== null) {
        const sameKey = previous.schemaId === record.schemaId && previous.id === record.id;
        const ordered = sameKey
          ? previous.commitId < commitId && previous.lsn < frame.lsn
          : compareSnapshotOrder(previous, { schemaId: record.schemaId, id: record.id, commitId }) < 0;
        if (!ordered) throw bad("order");
        previous.schemaId = record.schemaId;
        previous.id = record.id;
        previous.commitId = commitId;
        previous.lsn = frame.lsn;
      } else {
        previous = { schemaId: record.schemaId, id: record.id, commitId, lsn: frame.lsn };
      }
      // Records of one schema version follow each other: check the pair only when it changes.
      if (record.schemaId !== knownId || record.schemaVersion !== knownVersion) {
        if (!knownSchemas.has(`${record.schemaId}\u0000${record.schemaVersion}`)) {
          throw bad("schema_missing", { schema_id: record.schemaId, schema_version: record.schemaVersion });
        }
        knownId = record.schemaId;
        knownVersion = record.schemaVersion;
      }
      if (record.tombstone && record.body.length > 0) throw bad("body");
      if (options.checkBodies && !record.tombstone) checkBody(record.body, record.id, bad);
      options.onVersion?.({
        schemaId: record.schemaId,
        schemaVersion: record.schemaVersion,
        id: record.id,
        tombstone: record.tombstone,
        commitId,
        lsn: frame.lsn,
        body: record.body,
        location: { segment: locationFile, file: locationFile, offset, size: frame.size },
      });
      count++;
    }
    progress.advance(input.position - reported);
    checkSizeAndCrc(id, entry, input.position, input.crc);
    if (count !== manifest.version_count) {
      throw snapshotCorruption(id, SNAPSHOT_VERSIONS_FILE, "count", {
        expected: manifest.version_count,
        found: count,
      });
    }
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** The CRC-32 of the file's first `size` bytes, or -1 when fewer can be read. */
async function fileCrc(handle: FileHandle, size: number, onBytes: (n: number) => void): Promise<number> {
  const buf = new Uint8Array(Math.max(1, Math.min(CHUNK_BYTES, size)));
  let crc = 0;
  let at = 0;
  while (at < size) {
    const n = await handle.read(buf, 0, Math.min(buf.length, size - at), at);
    if (n <= 0) return -1;
    crc = crc32Update(n === buf.length ? buf : buf.subarray(0, n), crc);
    at += n;
    onBytes(n);
  }
  return crc;
}

function checkBody(body: Uint8Array, id: DocId, bad: (reason: string) => AeroError): void {
  let doc: unknown;
  try {
    doc = JSON.parse(decoder.decode(body));
  } catch {
    throw bad("body");
  }
  if (
    typeof doc !== "object" ||
    doc === null ||
    Array.isArray(doc) ||
    (doc as { _id?: unknown })._id !== id
  ) {
    throw bad("body");
  }
}

/**
 * Sequential frame input over a file in large chunks, with the file's CRC-32 computed over
 * every byte as it is read. A frame is decoded only once all of its bytes are buffered;
 * frames already buffered are decoded without awaiting. A refill moves the unread bytes
 * into a new buffer, so the views handed out earlier stay valid.
 */
class ChunkedInput {
  private buf = new Uint8Array(0);
  private start = 0;
  private end = 0;
  /** File offset of buf[0]. */
  private base = 0;
  crc = 0;

  constructor(
    private readonly handle: FileHandle,
    private readonly size: number,
    /** false once the whole file's CRC was checked (readVersionsFile's first pass). */
    private readonly verifyFrames = true,
  ) {}

  get position(): number {
    return this.base + this.start;
  }

  get atEnd(): boolean {
    return this.position >= this.size;
  }

  async nextFrame(): Promise<DecodedFrame | "short" | "length" | "kind" | "crc"> {
    const buffered = this.bufferedFrame();
    if (buffered !== null) return buffered;
    await this.fill(FRAME_OVERHEAD);
    if (this.end - this.start >= 4) {
      const length = readU32LE(this.buf, this.start);
      if (length > MAX_FRAME_PAYLOAD) return "length";
      await this.fill(length + FRAME_OVERHEAD);
    }
    return this.take();
  }

  /** The next frame when all of its bytes are buffered, else null (read more). */
  bufferedFrame(): DecodedFrame | "length" | "kind" | "crc" | null {
    const available = this.end - this.start;
    if (available < FRAME_OVERHEAD) return null;
    const length = readU32LE(this.buf, this.start);
    if (length > MAX_FRAME_PAYLOAD) return "length";
    if (available < length + FRAME_OVERHEAD) return null;
    const frame = this.take();
    return frame === "short" ? null : frame;
  }

  private take(): DecodedFrame | "short" | "length" | "kind" | "crc" {
    const frame = decodeFrame(
      this.end === this.buf.length ? this.buf : this.buf.subarray(0, this.end),
      this.start,
      this.verifyFrames,
    );
    if (isFrame(frame)) this.start += frame.size;
    return frame;
  }

  /** Buffers at least `need` bytes from the cursor, or everything up to the end of the file. */
  private async fill(need: number): Promise<void> {
    if (this.end - this.start >= need) return;
    if (this.base + this.end >= this.size) return;
    const keep = this.end - this.start;
    const next = new Uint8Array(Math.max(CHUNK_BYTES, need));
    next.set(this.buf.subarray(this.start, this.end), 0);
    this.base += this.start;
    this.buf = next;
    this.start = 0;
    this.end = keep;
    while (this.end < this.buf.length && this.base + this.end < this.size) {
      const want = Math.min(this.buf.length - this.end, this.size - (this.base + this.end));
      const n = await this.handle.read(this.buf, this.end, want, this.base + this.end);
      if (n <= 0) break;
      this.crc = crc32Update(this.buf.subarray(this.end, this.end + n), this.crc);
      this.end += n;
    }
  }
}

function isSnapshotFilePath(path: string): boolean {
  if (path === SNAPSHOT_VERSIONS_FILE) return true;
  return /^schemas\/[a-z][a-z0-9_]{0,63}\/v[1-9][0-9]{0,8}\.json$/.test(path);
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function isU32(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 0xffffffff;
}
