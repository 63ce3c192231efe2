// Shared helpers for the WAL tests: a fresh simulated disk with a durable wal/ directory,
// appending units, collecting what a scan delivers, and crafting segment bytes by hand.
import { AeroError, type FileSystem, SeededRandom, SimFileSystem } from "@aerodb/base";
import { expect } from "vitest";
import {
  type AppendedUnit,
  decodeFrame,
  encodeBegin,
  encodeCommit,
  encodeFrame,
  encodeSegmentHeader,
  FrameKind,
  isFrame,
  openWal,
  type ScannedUnit,
  SEGMENT_HEADER_BYTES,
  scanWal,
  segmentFileName,
  type UnitInput,
  type WalRecordInput,
  type WalScanResult,
  type WalWriter,
} from "../src/index.js";

export const DB_ID = "a3e0db00000000000000000000000de0";
export const OTHER_DB_ID = "0123456789abcdef0123456789abcdef";
export const DB_DIR = "/db";
export const WAL_DIR = "/db/wal";
export const SEGMENT_BYTES = 64 * 1024;

const enc = new TextEncoder();

/** A fresh simulated disk holding /db/wal, both directory entries durable. */
export async function freshDisk(): Promise<SimFileSystem> {
  const disk = new SimFileSystem();
  await disk.mkdir(DB_DIR);
  await disk.mkdir(WAL_DIR);
  await disk.syncDir(DB_DIR);
  await disk.syncDir("/");
  return disk;
}

export function versionRecord(text: string): WalRecordInput {
  return { kind: FrameKind.VERSION, payload: enc.encode(text) };
}

/** Deterministic payloads for unit `commitId` (1..3 records). */
export function unitFor(commitId: number, records = 1 + (commitId % 3)): UnitInput {
  const out: WalRecordInput[] = [];
  for (let i = 0; i < records; i++) {
    out.push(
      i % 2 === 0
        ? versionRecord(JSON.stringify({ _id: `doc-${commitId}-${i}`, n: commitId * 10 + i }))
        : { kind: FrameKind.SCHEMA, payload: enc.encode(`schema-${commitId}-${i}`) },
    );
  }
  return { commitId, records: out };
}

export interface OpenOptions {
  readonly segmentBytes?: number;
  readonly onUnit?: (unit: ScannedUnit) => void;
  readonly databaseId?: string;
}

export async function open(
  fs: FileSystem,
  options: OpenOptions = {},
): Promise<{ writer: WalWriter; scan: WalScanResult }> {
  return openWal(fs, WAL_DIR, {
    databaseId: options.databaseId ?? DB_ID,
    segmentBytes: options.segmentBytes ?? SEGMENT_BYTES,
    ...(options.onUnit ? { onUnit: options.onUnit } : {}),
  });
}

/** Appends units `from`..`from + count - 1` one at a time (each awaited). */
export async function appendUnits(
  writer: WalWriter,
  count: number,
  from = writer.expectedCommitId,
  make: (commitId: number) => UnitInput = unitFor,
): Promise<AppendedUnit[]> {
  const out: AppendedUnit[] = [];
  for (let id = from; id < from + count; id++) out.push(await writer.appendUnit(make(id)));
  return out;
}

/** A fresh disk with `count` units appended through a closed writer. */
export async function diskWithUnits(
  count: number,
  options: { segmentBytes?: number; make?: (commitId: number) => UnitInput } = {},
): Promise<{ disk: SimFileSystem; appended: AppendedUnit[]; inputs: UnitInput[] }> {
  const disk = await freshDisk();
  const { writer } = await open(disk, options.segmentBytes ? { segmentBytes: options.segmentBytes } : {});
  const make = options.make ?? unitFor;
  const inputs = Array.from({ length: count }, (_, i) => make(i + 1));
  const appended = await appendUnits(writer, count, 1, (id) => inputs[id - 1] as UnitInput);
  await writer.close();
  return { disk, appended, inputs };
}

/** Scans the log and returns what it delivered, in order. */
export async function collect(
  fs: FileSystem,
  options: { databaseId?: string; base?: { lsn: number; commitId: number; frameCrc: number } } = {},
): Promise<{ units: ScannedUnit[]; scan: WalScanResult }> {
  const units: ScannedUnit[] = [];
  const scan = await scanWal(fs, WAL_DIR, {
    databaseId: options.databaseId ?? DB_ID,
    ...(options.base ? { base: options.base } : {}),
    onUnit: (u) => units.push(u),
  });
  return { units, scan };
}

/** A unit reduced to comparable data: commit id, record kinds and payload bytes (as hex). */
export function shape(unit: {
  commitId: number;
  records: readonly { kind: FrameKind; payload: Uint8Array }[];
}): { commitId: number; records: Array<{ kind: FrameKind; payload: string }> } {
  return {
    commitId: unit.commitId,
    records: unit.records.map((r) => ({ kind: r.kind, payload: Buffer.from(r.payload).toString("hex") })),
  };
}

/** Every file under `dir` with its bytes (to show that nothing changed). */
export async function snapshotDir(fs: FileSystem, dir = WAL_DIR): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const name of await fs.readdir(dir)) {
    const st = await fs.stat(`${dir}/${name}`);
    out.set(
      name,
      st?.isDirectory ? "<dir>" : Buffer.from(await fs.readFile(`${dir}/${name}`)).toString("hex"),
    );
  }
  return out;
}

export async function segmentNames(fs: FileSystem): Promise<string[]> {
  return fs.readdir(WAL_DIR);
}

/** Replaces a file's whole content durably (a hand edit of the disk between runs). */
export async function overwrite(fs: FileSystem, path: string, bytes: Uint8Array): Promise<void> {
  if (await fs.stat(path)) await fs.unlink(path);
  const handle = await fs.open(path, "wx");
  let done = 0;
  while (done < bytes.length) done += await handle.write(bytes, done, bytes.length - done, done);
  await handle.sync();
  await handle.close();
  await fs.syncDir(path.slice(0, path.lastIndexOf("/")));
}

/** Calls `body` and returns the AeroError it throws (fails the test if it does not throw one). */
export async function expectAeroError(body: () => Promise<unknown>, code?: string): Promise<AeroError> {
  let thrown: unknown;
  try {
    await body();
  } catch (err) {
    thrown = err;
  }
  expect(thrown, "expected an AeroError").toBeInstanceOf(AeroError);
  const error = thrown as AeroError;
  if (code !== undefined) expect(error.code, error.message).toBe(code);
  return error;
}

/** A hand-built frame sequence: LSNs assigned in order, CRCs valid. */
export class FrameBuilder {
  private lsn: number;
  readonly frames: Uint8Array[] = [];
  /** Byte offset (within the segment) of each frame, header included. */
  readonly offsets: number[] = [];
  private at: number;

  constructor(firstLsn = 1, headerBytes = 48) {
    this.lsn = firstLsn;
    this.at = headerBytes;
  }

  frame(kind: FrameKind, payload: Uint8Array, lsn = this.lsn): this {
    const f = encodeFrame(kind, lsn, payload);
    this.frames.push(f);
    this.offsets.push(this.at);
    this.at += f.length;
    this.lsn = lsn + 1;
    return this;
  }

  unit(commitId: number, payloads: readonly string[], declared = payloads.length): this {
    this.frame(FrameKind.BEGIN, encodeBegin(commitId, declared));
    for (const p of payloads) this.frame(FrameKind.VERSION, enc.encode(p));
    return this.frame(FrameKind.COMMIT, encodeCommit(commitId));
  }

  get nextLsn(): number {
    return this.lsn;
  }

  /** The CRC of the last frame (what the next segment's header records). */
  get lastCrc(): number {
    const f = this.frames[this.frames.length - 1];
    if (!f) return 0;
    return new DataView(f.buffer, f.byteOffset).getUint32(f.length - 4, true);
  }

  segment(firstLsn: number, prevFrameCrc = 0, databaseId = DB_ID): Uint8Array {
    return concat([encodeSegmentHeader({ databaseId, firstLsn, prevFrameCrc }), ...this.frames]);
  }
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Writes a hand-built segment into a fresh disk's wal/ directory. */
export async function diskWithSegments(
  segments: ReadonlyArray<{ firstLsn: number; bytes: Uint8Array }>,
): Promise<SimFileSystem> {
  const disk = await freshDisk();
  for (const s of segments) await overwrite(disk, `${WAL_DIR}/${segmentFileName(s.firstLsn)}`, s.bytes);
  return disk;
}

export function randomPayload(rnd: SeededRandom, maxBytes: number): Uint8Array {
  return rnd.bytes(rnd.int(0, maxBytes));
}

export { SeededRandom };

/**
 * The log part of a segment file: the header and the frames that decode, without the
 * zero padding the writer preallocates after them (docs/formats/wal.md). Tests that edit
 * "the end of the log" work on these bytes.
 */
export function logBytes(file: Uint8Array): Uint8Array {
  let off = SEGMENT_HEADER_BYTES;
  while (off < file.length) {
    const frame = decodeFrame(file, off);
    if (!isFrame(frame)) break;
    off += frame.size;
  }
  return file.subarray(0, Math.min(off, file.length));
}
