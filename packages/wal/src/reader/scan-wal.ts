import * as posixPath from "node:path/posix";
import { AeroError, type FileSystem, guardProgress, isFsError, type ProgressSink } from "@aerodb/base";
import {
  BEGIN_PAYLOAD_BYTES,
  FRAME_KIND_NAMES,
  FrameKind,
  MAX_UNIT_RECORDS,
  SEGMENT_HEADER_BYTES,
} from "../format/constants.js";
import { crc32 } from "../format/crc.js";
import {
  type DecodedFrame,
  decodeFrame,
  decodeFrameAt,
  type FrameCursor,
  type FrameDefect,
  isFrame,
  newFrameCursor,
} from "../format/frame.js";
import { decodeSegmentHeader, parseSegmentFileName } from "../format/segment-header.js";
import { beginCommitIdAt, beginRecordCountAt, commitIdAt, decodeCommit } from "../format/unit-records.js";
import type {
  ScannedGc,
  ScannedRecord,
  ScannedUnit,
  SegmentSummary,
  TornTail,
  WalBoundary,
  WalScanResult,
} from "./scan-types.js";

export interface ScanOptions {
  /** The database the segments must belong to (32 hex digits). */
  readonly databaseId: string;
  /**
   * What precedes the log: {0,0,0} for a database without a checkpoint, else the
   * checkpoint's boundaries. Units at or below `base.lsn` are verified but not delivered.
   */
  readonly base?: WalBoundary;
  /** Receives every complete unit past the base, in log order. */
  readonly onUnit?: (unit: ScannedUnit) => void;
  /** Receives every standalone GC record past the base, in log order. */
  readonly onGc?: (gc: ScannedGc) => void;
  /**
   * Told the scan's progress as phase "replay": the total of the segment files' sizes first,
   * then the bytes scanned, at least every PROGRESS_STEP_BYTES and at each segment's end.
   * Not stopped here: the caller owns the sink and stops it when its whole operation ends.
   */
  readonly progress?: ProgressSink;
}

/** How often a long segment scan reports progress (a segment may be 1 GiB). */
export const PROGRESS_STEP_BYTES = 1 << 20;

const EMPTY_BASE: WalBoundary = { lsn: 0, commitId: 0, frameCrc: 0 };

/**
 * Reads and verifies the whole log (core.md §1.4–1.5). It never writes: a torn tail is
 * reported in the result and cut by `cutTornTail`, so `aerodb verify` can use the same
 * reader. Any other damage throws the FATAL error naming segment and offset.
 */
export async function scanWal(fs: FileSystem, walDir: string, options: ScanOptions): Promise<WalScanResult> {
  const base = options.base ?? EMPTY_BASE;
  const names = await listSegments(fs, walDir);
  const progress = guardProgress(options.progress);
  if (options.progress !== undefined) {
    let total = 0;
    for (const { name } of names) total += (await fs.stat(posixPath.join(walDir, name)))?.size ?? 0;
    progress.start("replay", total);
  }
  const state = new ScanState(base, options, progress);
  for (let i = 0; i < names.length; i++) {
    const { name, firstLsn } = names[i] as { name: string; firstLsn: number };
    const bytes = await readSegment(fs, walDir, name);
    const isLast = i === names.length - 1;
    state.scanSegment(name, firstLsn, bytes, isLast, options.databaseId);
    state.reportRest(bytes.length);
    if (state.tornTail) break;
  }
  return state.result();
}

async function listSegments(
  fs: FileSystem,
  walDir: string,
): Promise<Array<{ name: string; firstLsn: number }>> {
  const st = await fs.stat(walDir);
  if (!st?.isDirectory) {
    throw new AeroError("AERO_RECOVERY_FAILED", "The WAL directory is missing.", {
      phase: "wal",
      path: "wal/",
    });
  }
  const out: Array<{ name: string; firstLsn: number }> = [];
  for (const name of await fs.readdir(walDir)) {
    const firstLsn = parseSegmentFileName(name);
    if (firstLsn === null) {
      throw new AeroError(
        "AERO_WAL_CORRUPTION",
        `The WAL directory holds a file that is not a segment: ${name}.`,
        {
          segment: name,
          reason: "unexpected_file",
        },
      );
    }
    out.push({ name, firstLsn });
  }
  // Names are zero-padded LSNs, so code-unit order is LSN order.
  return out;
}

async function readSegment(fs: FileSystem, walDir: string, name: string): Promise<Uint8Array> {
  try {
    return await fs.readFile(posixPath.join(walDir, name));
  } catch (err) {
    // A directory with a segment's name is as foreign to wal/ as any other non-segment.
    if (!isFsError(err, "EISDIR")) throw err;
    throw new AeroError("AERO_WAL_CORRUPTION", `The WAL directory holds a directory named ${name}.`, {
      segment: name,
      reason: "unexpected_file",
    });
  }
}

interface OpenUnit {
  commitId: number;
  recordCount: number;
  beginLsn: number;
  startOffset: number;
  /** CRC of the frame before BEGIN, restored when the unit is cut. */
  prevFrameCrc: number;
  records: ScannedRecord[];
}

class ScanState {
  private readonly segments: SegmentSummary[] = [];
  private lastLsn: number;
  private lastFrameCrc: number;
  /** null while the commit id preceding the log is unknown (log starting below the base). */
  private lastCommitId: number | null;
  private firstLsn: number | null = null;
  private recordsVerified = 0;
  private unitsRead = 0;
  private unitsDelivered = 0;
  private baseChecked: boolean;
  tornTail: TornTail | null = null;
  private tailSegment: string | null = null;
  private tailOffset = 0;

  constructor(
    private readonly base: WalBoundary,
    private readonly options: ScanOptions,
    private readonly progress: ProgressSink,
  ) {
    this.lastLsn = base.lsn;
    this.lastFrameCrc = base.frameCrc;
    this.lastCommitId = base.commitId;
    this.baseChecked = base.lsn === 0;
  }

  /** One past the last non-zero byte of the segment being scanned. */
  private dataEnd = 0;
  private readonly cursor = newFrameCursor();
  /** Bytes of the current segment already reported to the progress sink. */
  private reported = 0;

  /** Reports the rest of a scanned segment (all of it, however its scan ended). */
  reportRest(segmentBytes: number): void {
    if (segmentBytes > this.reported) this.progress.advance(segmentBytes - this.reported);
    this.reported = 0;
  }

  scanSegment(name: string, nameLsn: number, bytes: Uint8Array, isLast: boolean, databaseId: string): void {
    this.dataEnd = nonZeroEnd(bytes);
    const header = decodeSegmentHeader(bytes);
    if (typeof header === "string") {
      if (header === "version") {
        throw new AeroError(
          "AERO_STORAGE_FORMAT_UNSUPPORTED",
          `WAL segment ${name} has an unsupported format version.`,
          {
            segment: name,
          },
        );
      }
      if (isLast && !hasValidFrameFrom(bytes, 0)) {
        // A segment whose creation was interrupted: nothing in it was ever durable-acknowledged.
        this.cutAt(name, 0, bytes.length, 0);
        return;
      }
      throw corruption(name, 0, `segment header: ${header}`);
    }
    if (header.databaseId !== databaseId) {
      throw new AeroError("AERO_WAL_CORRUPTION", `WAL segment ${name} belongs to another database.`, {
        segment: name,
        offset: 0,
        reason: "database_id",
        expected: databaseId,
        found: header.databaseId,
      });
    }
    if (header.firstLsn !== nameLsn)
      throw corruption(name, 0, "segment name and header disagree on the first LSN");
    this.checkSegmentStart(name, header.firstLsn, header.prevFrameCrc);
    if (this.firstLsn === null) this.firstLsn = header.firstLsn;

    let off = SEGMENT_HEADER_BYTES;
    let open: OpenUnit | null = null;
    let lastUnitEnd = off;
    // One cursor for every frame of the segment: the scan allocates only for what it hands on
    // (records and GC payloads), not for the BEGIN and COMMIT frames it merely checks.
    const f = this.cursor;
    while (off < bytes.length) {
      const defect = decodeFrameAt(bytes, off, f);
      if (defect !== null) {
        // Zeros to the end of the file are preallocated padding, not damage: the log of this
        // segment ends here (an open unit before them is handled as any unit cut short).
        if (this.dataEnd <= off) break;
        this.damage(name, bytes, off, defect, isLast, open);
        if (this.tornTail) return;
        // damage() only returns after cutting the torn tail; anything else threw.
        throw new AeroError("AERO_INTERNAL_INVARIANT", "The WAL scan went on past damage.", {
          segment: name,
          offset: off,
        });
      }
      const expectedLsn = this.lastLsn + 1;
      if (f.lsn !== expectedLsn) {
        throw new AeroError("AERO_WAL_CORRUPTION", `WAL LSN gap in ${name} at offset ${off}.`, {
          segment: name,
          offset: off,
          reason: "lsn_gap",
          expected_lsn: expectedLsn,
          found_lsn: f.lsn,
        });
      }
      switch (f.kind) {
        case FrameKind.BEGIN: {
          if (open) throw corruption(name, off, "BEGIN inside an open unit");
          if (f.payloadLength !== BEGIN_PAYLOAD_BYTES) throw corruption(name, off, "malformed BEGIN payload");
          const commitId = beginCommitIdAt(bytes, f.payloadStart);
          const recordCount = beginRecordCountAt(bytes, f.payloadStart);
          if (recordCount < 1 || recordCount > MAX_UNIT_RECORDS) {
            throw corruption(name, off, "malformed BEGIN payload");
          }
          this.checkCommitId(name, off, commitId);
          open = {
            commitId,
            recordCount,
            beginLsn: f.lsn,
            startOffset: off,
            prevFrameCrc: this.lastFrameCrc,
            records: [],
          };
          break;
        }
        case FrameKind.VERSION:
        case FrameKind.SCHEMA: {
          if (!open) throw corruption(name, off, `${FRAME_KIND_NAMES[f.kind]} outside a unit`);
          if (open.records.length >= open.recordCount)
            throw corruption(name, off, "more records than BEGIN declared");
          open.records.push({
            lsn: f.lsn,
            kind: f.kind,
            payload: payloadOf(bytes, f),
            location: { segment: name, offset: off, size: f.size },
          });
          break;
        }
        case FrameKind.COMMIT: {
          if (!open) throw corruption(name, off, "COMMIT outside a unit");
          const commitId = commitIdAt(bytes, f.payloadStart, f.payloadLength);
          if (commitId !== open.commitId) throw corruption(name, off, "COMMIT id differs from its BEGIN");
          if (open.records.length !== open.recordCount) {
            throw new AeroError("AERO_WAL_UNIT_INCOMPLETE", `Commit ${commitId} in ${name} lacks records.`, {
              segment: name,
              offset: off,
              commit_id: commitId,
              expected_records: open.recordCount,
              found_records: open.records.length,
            });
          }
          this.closeUnit(open, f, name);
          open = null;
          lastUnitEnd = off + f.size;
          break;
        }
        case FrameKind.GC: {
          if (open) throw corruption(name, off, "GC inside a unit");
          this.acceptFrame(f);
          this.unitsRead++;
          if (f.lsn > this.base.lsn) {
            this.options.onGc?.({
              lsn: f.lsn,
              payload: payloadOf(bytes, f),
              location: { segment: name, offset: off, size: f.size },
            });
          }
          lastUnitEnd = off + f.size;
          break;
        }
      }
      if (f.kind !== FrameKind.COMMIT && f.kind !== FrameKind.GC) this.acceptFrame(f);
      off += f.size;
      if (off - this.reported >= PROGRESS_STEP_BYTES) {
        this.progress.advance(off - this.reported);
        this.reported = off;
      }
    }
    if (open) {
      // Units never span segments, so an open unit is only legal as the torn end of the log.
      if (!isLast) throw corruption(name, open.startOffset, "a unit runs off the end of a closed segment");
      this.rewindOpenUnit(open);
      this.cutAt(name, open.startOffset, bytes.length - open.startOffset, open.records.length + 1);
      return;
    }
    this.segments.push({ name, firstLsn: header.firstLsn, lastLsn: this.lastLsn, bytes: lastUnitEnd });
    this.tailSegment = name;
    this.tailOffset = lastUnitEnd;
  }

  private acceptFrame(f: FrameCursor): void {
    this.lastLsn = f.lsn;
    this.lastFrameCrc = f.crc;
    this.recordsVerified++;
  }

  private closeUnit(open: OpenUnit, commit: FrameCursor, segment: string): void {
    this.acceptFrame(commit);
    this.lastCommitId = open.commitId;
    this.unitsRead++;
    if (open.beginLsn <= this.base.lsn && commit.lsn > this.base.lsn) {
      throw corruption(segment, open.startOffset, "a unit straddles the checkpoint boundary");
    }
    if (commit.lsn === this.base.lsn) this.checkBase(segment, open.commitId);
    if (open.beginLsn > this.base.lsn) {
      this.unitsDelivered++;
      this.options.onUnit?.({
        commitId: open.commitId,
        beginLsn: open.beginLsn,
        commitLsn: commit.lsn,
        segment,
        records: open.records,
      });
    }
  }

  private rewindOpenUnit(open: OpenUnit): void {
    // The frames of the cut unit were counted as verified; they are not part of the log.
    this.recordsVerified -= open.records.length + 1;
    this.lastLsn = open.beginLsn - 1;
    this.lastFrameCrc = open.prevFrameCrc;
  }

  private checkBase(segment: string, commitId: number): void {
    if (commitId !== this.base.commitId || this.lastFrameCrc !== this.base.frameCrc) {
      throw new AeroError("AERO_RECOVERY_INCONSISTENT", "The WAL disagrees with the checkpoint boundary.", {
        phase: "wal",
        segment,
        lsn: this.base.lsn,
        expected_commit_id: this.base.commitId,
        found_commit_id: commitId,
        expected_crc: this.base.frameCrc,
        found_crc: this.lastFrameCrc,
      });
    }
    this.baseChecked = true;
  }

  private checkSegmentStart(name: string, firstLsn: number, prevFrameCrc: number): void {
    if (this.segments.length === 0) {
      // The first segment: either it continues the base exactly, or (after truncation) it
      // starts at or below the base and the base is checked when the log passes it.
      if (firstLsn === this.base.lsn + 1) {
        if (prevFrameCrc !== this.base.frameCrc)
          throw corruption(name, 0, "segment header's previous CRC differs");
        this.baseChecked = true;
        return;
      }
      if (this.base.lsn > 0 && firstLsn <= this.base.lsn) {
        this.lastLsn = firstLsn - 1;
        this.lastFrameCrc = prevFrameCrc;
        this.lastCommitId = null;
        return;
      }
      throw new AeroError("AERO_WAL_CORRUPTION", "WAL segments are missing at the start of the log.", {
        segment: name,
        offset: 0,
        reason: "missing_segment",
        expected_lsn: this.base.lsn + 1,
        found_lsn: firstLsn,
      });
    }
    if (firstLsn !== this.lastLsn + 1) {
      throw new AeroError("AERO_WAL_CORRUPTION", `A WAL segment is missing before ${name}.`, {
        segment: name,
        offset: 0,
        reason: "missing_segment",
        expected_lsn: this.lastLsn + 1,
        found_lsn: firstLsn,
      });
    }
    if (prevFrameCrc !== this.lastFrameCrc)
      throw corruption(name, 0, "segment header's previous CRC differs");
  }

  private checkCommitId(segment: string, offset: number, commitId: number): void {
    if (this.lastCommitId === null) {
      if (commitId < 1) throw commitOrder(segment, offset, 1, commitId);
      this.lastCommitId = commitId - 1;
      return;
    }
    if (commitId !== this.lastCommitId + 1)
      throw commitOrder(segment, offset, this.lastCommitId + 1, commitId);
  }

  /** Damage at `off`: a torn tail if nothing valid follows in the last segment, else FATAL. */
  private damage(
    name: string,
    bytes: Uint8Array,
    off: number,
    defect: FrameDefect,
    isLast: boolean,
    open: OpenUnit | null,
  ): void {
    const later = firstValidFrameAfter(bytes, off);
    if (isLast && later === null) {
      const cutOffset = open ? open.startOffset : off;
      if (open) this.rewindOpenUnit(open);
      this.cutAt(name, cutOffset, bytes.length - cutOffset, open ? open.records.length + 1 : 0);
      return;
    }
    if (open && later && runsIntoCommit(bytes, later, open.commitId)) {
      throw new AeroError(
        "AERO_WAL_UNIT_INCOMPLETE",
        `Commit ${open.commitId} in ${name} has a damaged record.`,
        {
          segment: name,
          offset: off,
          commit_id: open.commitId,
          expected_records: open.recordCount,
          found_records: open.records.length,
        },
      );
    }
    throw new AeroError("AERO_WAL_CORRUPTION", `WAL damage in ${name} at offset ${off}.`, {
      segment: name,
      offset: off,
      reason: defect,
      ...crcDetails(bytes, off, defect),
    });
  }

  private cutAt(segment: string, offset: number, bytesCut: number, recordsCut: number): void {
    this.tornTail = { segment, offset, bytesCut, recordsCut };
    if (offset >= SEGMENT_HEADER_BYTES) {
      this.segments.push({
        name: segment,
        firstLsn: this.segmentFirstLsn(segment),
        lastLsn: this.lastLsn,
        bytes: offset,
      });
      this.tailSegment = segment;
      this.tailOffset = offset;
    }
  }

  private segmentFirstLsn(segment: string): number {
    return parseSegmentFileName(segment) ?? 0;
  }

  result(): WalScanResult {
    if (this.segments.length === 0) {
      // No segment holds any of the log (a restored database, or the only segment's creation
      // was cut short): the log is empty and continues exactly at the base.
      this.lastLsn = this.base.lsn;
      this.lastCommitId = this.base.commitId;
      this.lastFrameCrc = this.base.frameCrc;
      this.baseChecked = true;
    }
    if (!this.baseChecked) {
      throw new AeroError("AERO_RECOVERY_INCONSISTENT", "The WAL ends before the checkpoint boundary.", {
        phase: "wal",
        expected_lsn: this.base.lsn,
        last_lsn: this.lastLsn,
      });
    }
    // A segment that holds only a header still counts: the writer continues in it.
    const segments = this.segments.map((s) =>
      s.lastLsn < s.firstLsn ? { ...s, lastLsn: s.firstLsn - 1 } : s,
    );
    return {
      segments,
      firstLsn: this.firstLsn,
      lastLsn: this.lastLsn,
      lastCommitId: this.lastCommitId ?? this.base.commitId,
      lastFrameCrc: this.lastFrameCrc,
      recordsVerified: this.recordsVerified,
      unitsRead: this.unitsRead,
      unitsDelivered: this.unitsDelivered,
      tornTail: this.tornTail,
      tail: { segment: this.tailSegment, offset: this.tailOffset },
    };
  }
}

function nonZeroEnd(bytes: Uint8Array): number {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return end;
}

/** A view of the frame's payload in the segment bytes (no copy). */
function payloadOf(bytes: Uint8Array, f: FrameCursor): Uint8Array {
  return bytes.subarray(f.payloadStart, f.payloadStart + f.payloadLength);
}

function hasValidFrameFrom(bytes: Uint8Array, from: number): boolean {
  return firstValidFrameAfter(bytes, from - 1) !== null;
}

/** Looks for any verifiable frame starting after `off` (the torn-tail test of core §1.5). */
function firstValidFrameAfter(
  bytes: Uint8Array,
  off: number,
): { offset: number; frame: DecodedFrame } | null {
  for (let p = Math.max(0, off + 1); p < bytes.length; p++) {
    const frame = decodeFrame(bytes, p);
    if (isFrame(frame)) return { offset: p, frame };
  }
  return null;
}

/**
 * Whether the valid frames from `start` run, record after record, into the COMMIT of
 * `commitId`: then the damage was a record of that durable unit (mvcc.md §9), wherever in
 * the unit it sits, not only when it was the unit's last record.
 */
function runsIntoCommit(
  bytes: Uint8Array,
  start: { offset: number; frame: DecodedFrame },
  commitId: number,
): boolean {
  let { offset, frame } = start;
  while (frame.kind === FrameKind.VERSION || frame.kind === FrameKind.SCHEMA) {
    offset += frame.size;
    const next = decodeFrame(bytes, offset);
    if (!isFrame(next)) return false;
    frame = next;
  }
  return frame.kind === FrameKind.COMMIT && decodeCommit(frame.payload) === commitId;
}

function crcDetails(bytes: Uint8Array, off: number, defect: FrameDefect): Record<string, unknown> {
  if (defect !== "crc") return {};
  const view = new DataView(bytes.buffer, bytes.byteOffset + off);
  const length = view.getUint32(0, true);
  return {
    expected_crc: crc32(bytes, off, off + 13 + length),
    found_crc: view.getUint32(13 + length, true),
  };
}

function corruption(segment: string, offset: number, reason: string): AeroError {
  return new AeroError("AERO_WAL_CORRUPTION", `WAL damage in ${segment} at offset ${offset}: ${reason}.`, {
    segment,
    offset,
    reason,
  });
}

function commitOrder(segment: string, offset: number, expected: number, found: number): AeroError {
  return new AeroError(
    "AERO_MVCC_COMMIT_ORDER",
    `Commit ids are out of order in ${segment} at offset ${offset}.`,
    {
      segment,
      offset,
      expected_commit_id: expected,
      found_commit_id: found,
    },
  );
}
