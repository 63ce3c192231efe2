/**
 * The on-disk side of the scenarios: reading and damaging the real files of a data
 * directory, written from the documented formats (docs/formats/wal.md,
 * docs/formats/version-record.md), not from the implementation's decoders.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { crc32 } from "@aerodb/wal";

export const SEGMENT_HEADER_BYTES = 48;
export const FRAME_OVERHEAD = 17;
export const Kind = { BEGIN: 1, VERSION: 2, SCHEMA: 3, COMMIT: 4, GC: 5 } as const;

export interface Frame {
  readonly segment: string;
  readonly offset: number;
  readonly size: number;
  readonly kind: number;
  readonly lsn: number;
  readonly payload: Buffer;
}

export interface Unit {
  readonly segment: string;
  readonly commitId: number;
  /** Offset of the BEGIN frame. */
  readonly offset: number;
  /** Offset just past the COMMIT frame. */
  readonly end: number;
  readonly begin: Frame;
  readonly records: readonly Frame[];
  readonly commit: Frame;
}

export interface SegmentHeader {
  readonly magic: string;
  readonly formatVersion: number;
  readonly headerSize: number;
  readonly databaseId: string;
  readonly firstLsn: number;
  readonly previousFrameCrc: number;
}

export function walDir(dataDir: string): string {
  return path.join(dataDir, "wal");
}

/** Segment file names, in LSN order. */
export async function segmentNames(dataDir: string): Promise<string[]> {
  return (await fs.readdir(walDir(dataDir))).filter((n) => /^\d{20}\.wal$/.test(n)).sort();
}

export function segmentPath(dataDir: string, name: string): string {
  return path.join(walDir(dataDir), name);
}

export async function onlySegment(dataDir: string): Promise<string> {
  const names = await segmentNames(dataDir);
  if (names.length !== 1) throw new Error(`expected one WAL segment, found ${JSON.stringify(names)}`);
  return names[0] as string;
}

export function parseHeader(bytes: Buffer): SegmentHeader {
  return {
    magic: bytes.subarray(0, 8).toString("latin1"),
    formatVersion: bytes.readUInt16LE(8),
    headerSize: bytes.readUInt16LE(10),
    databaseId: bytes.subarray(12, 28).toString("hex"),
    firstLsn: Number(bytes.readBigUInt64LE(28)),
    previousFrameCrc: bytes.readUInt32LE(36),
  };
}

/**
 * Every frame of a segment; throws on any defect (the scenarios only parse intact files).
 * Zeros from some offset to the end of the file are preallocated padding (wal.md): the log
 * of the segment ends there.
 */
export function parseFrames(segment: string, bytes: Buffer): Frame[] {
  const frames: Frame[] = [];
  let offset = SEGMENT_HEADER_BYTES;
  const dataEnd = nonZeroEnd(bytes);
  while (offset < bytes.length && offset < dataEnd) {
    if (bytes.length - offset < FRAME_OVERHEAD) throw new Error(`short frame at ${segment}:${offset}`);
    const length = bytes.readUInt32LE(offset);
    const size = length + FRAME_OVERHEAD;
    if (bytes.length - offset < size) throw new Error(`short frame at ${segment}:${offset}`);
    const crc = bytes.readUInt32LE(offset + 13 + length);
    if (crc !== crc32(bytes.subarray(offset, offset + 13 + length))) {
      throw new Error(`bad CRC at ${segment}:${offset}`);
    }
    frames.push({
      segment,
      offset,
      size,
      kind: bytes.readUInt8(offset + 4),
      lsn: Number(bytes.readBigUInt64LE(offset + 5)),
      payload: Buffer.from(bytes.subarray(offset + 13, offset + 13 + length)),
    });
    offset += size;
  }
  return frames;
}

/** Groups frames into commit units (BEGIN, records, COMMIT). */
export function parseUnits(frames: readonly Frame[]): Unit[] {
  const units: Unit[] = [];
  let open: { begin: Frame; records: Frame[] } | null = null;
  for (const frame of frames) {
    if (frame.kind === Kind.BEGIN) {
      if (open) throw new Error(`BEGIN inside a unit at ${frame.offset}`);
      open = { begin: frame, records: [] };
    } else if (frame.kind === Kind.COMMIT) {
      if (!open) throw new Error(`COMMIT outside a unit at ${frame.offset}`);
      units.push({
        segment: frame.segment,
        commitId: Number(open.begin.payload.readBigUInt64LE(0)),
        offset: open.begin.offset,
        end: frame.offset + frame.size,
        begin: open.begin,
        records: open.records,
        commit: frame,
      });
      open = null;
    } else if (open) {
      open.records.push(frame);
    }
  }
  if (open) throw new Error("the log ends inside a unit");
  return units;
}

function nonZeroEnd(bytes: Buffer): number {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return end;
}

/** Where a segment's log ends: after its last frame (padding, if any, follows). */
export function logEnd(segment: { bytes: Buffer; frames: readonly Frame[] }): number {
  const last = segment.frames[segment.frames.length - 1];
  return last ? last.offset + last.size : SEGMENT_HEADER_BYTES;
}

export interface Log {
  readonly segments: ReadonlyArray<{ name: string; bytes: Buffer; header: SegmentHeader; frames: Frame[] }>;
  readonly frames: readonly Frame[];
  readonly units: readonly Unit[];
}

/** The whole WAL of a data directory, parsed. */
export async function readLog(dataDir: string): Promise<Log> {
  const segments = [];
  for (const name of await segmentNames(dataDir)) {
    const bytes = await fs.readFile(segmentPath(dataDir, name));
    segments.push({ name, bytes, header: parseHeader(bytes), frames: parseFrames(name, bytes) });
  }
  const frames = segments.flatMap((s) => s.frames);
  return { segments, frames, units: parseUnits(frames) };
}

/** One frame's bytes: length, kind, LSN, payload, CRC-32 of the rest (wal.md §3). */
export function encodeFrame(kind: number, lsn: number, payload: Buffer): Buffer {
  const out = Buffer.alloc(payload.length + FRAME_OVERHEAD);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt8(kind, 4);
  out.writeBigUInt64LE(BigInt(lsn), 5);
  payload.copy(out, 13);
  out.writeUInt32LE(crc32(out.subarray(0, 13 + payload.length)), 13 + payload.length);
  return out;
}

export interface VersionRecord {
  readonly schemaId: string;
  readonly schemaVersion: string;
  readonly id: string | number;
  readonly tombstone: boolean;
  /** The body text (canonical JSON), "" for a tombstone. */
  readonly body: string;
}

/** A VERSION payload (docs/formats/version-record.md). */
export function decodeVersion(payload: Buffer): VersionRecord {
  let at = 0;
  const codec = payload.readUInt8(at++);
  if (codec !== 1) throw new Error(`VERSION codec ${codec}`);
  const flags = payload.readUInt8(at++);
  const sLen = payload.readUInt16LE(at);
  at += 2;
  const schemaId = payload.toString("utf8", at, at + sLen);
  at += sLen;
  const vLen = payload.readUInt16LE(at);
  at += 2;
  const schemaVersion = payload.toString("utf8", at, at + vLen);
  at += vLen;
  let id: string | number;
  if (flags & 2) {
    id = payload.readDoubleLE(at);
    at += 8;
  } else {
    const n = payload.readUInt32LE(at);
    at += 4;
    id = payload.toString("utf8", at, at + n);
    at += n;
  }
  const bLen = payload.readUInt32LE(at);
  at += 4;
  const body = payload.toString("utf8", at, at + bLen);
  at += bLen;
  if (at !== payload.length) throw new Error("VERSION payload has trailing bytes");
  return { schemaId, schemaVersion, id, tombstone: (flags & 1) === 1, body };
}

/** The VERSION frames of the log, decoded, in log order. */
export function versionRecords(log: Log): Array<VersionRecord & { frame: Frame; commitId: number }> {
  return log.units.flatMap((u) =>
    u.records
      .filter((f) => f.kind === Kind.VERSION)
      .map((f) => ({ ...decodeVersion(f.payload), frame: f, commitId: u.commitId })),
  );
}

/** XORs one byte of a file in place (same inode, as damage on disk would be). */
export async function flipBits(file: string, offset: number, mask = 0x01): Promise<void> {
  const handle = await fs.open(file, "r+");
  try {
    const buf = Buffer.alloc(1);
    await handle.read(buf, 0, 1, offset);
    buf[0] = (buf[0] as number) ^ mask;
    await handle.write(buf, 0, 1, offset);
  } finally {
    await handle.close();
  }
}

/** Every entry under `root`: "dir" for directories, the SHA-256 of the bytes for files. */
export async function tree(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string, rel: string): Promise<void> => {
    const entries = await fs.readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const abs = path.join(dir, entry.name);
      const relPath = rel === "" ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        out[`${relPath}/`] = "dir";
        await walk(abs, relPath);
      } else {
        out[relPath] = createHash("sha256")
          .update(await fs.readFile(abs))
          .digest("hex");
      }
    }
  };
  await walk(root, "");
  return out;
}

/** The database id recorded in MANIFEST. */
export async function manifestDatabaseId(dataDir: string): Promise<string> {
  const value = JSON.parse(await fs.readFile(path.join(dataDir, "MANIFEST"), "utf8")) as {
    database_id: string;
  };
  return value.database_id;
}

export async function readJson(file: string): Promise<Record<string, unknown>> {
  return JSON.parse(await fs.readFile(file, "utf8")) as Record<string, unknown>;
}

export async function exists(file: string): Promise<boolean> {
  return (await fs.stat(file).catch(() => null)) !== null;
}

/** Copies a directory tree (files and directories only). */
export async function copyTree(from: string, to: string): Promise<void> {
  await fs.cp(from, to, { recursive: true });
}

/**
 * Truncates a segment file to the end of its log, dropping the preallocated zero padding,
 * so a scenario can damage "the end of the log" by editing the end of the file.
 */
export async function dropPadding(dataDir: string, name: string): Promise<number> {
  const file = segmentPath(dataDir, name);
  const bytes = await fs.readFile(file);
  const end = logEnd({ bytes, frames: parseFrames(name, bytes) });
  await fs.truncate(file, end);
  return end;
}
