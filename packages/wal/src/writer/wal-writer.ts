import * as posixPath from "node:path/posix";
import {
  AeroError,
  crashPoint,
  type FileHandle,
  type FileSystem,
  isAeroError,
  SimulatedCrash,
  writeFullySync,
} from "@aerodb/base";
import {
  FRAME_OVERHEAD,
  FrameKind,
  MAX_FRAME_PAYLOAD,
  MAX_UNIT_RECORDS,
  SEGMENT_HEADER_BYTES,
} from "../format/constants.js";
import { writeFrameInto } from "../format/frame.js";
import { databaseIdBytes, encodeSegmentHeader, segmentFileName } from "../format/segment-header.js";
import { encodeBegin, encodeCommit } from "../format/unit-records.js";
import type { FrameLocation, WalBoundary } from "../reader/scan-types.js";
import { BASELINE_FLUSH_POLICY, type FlushPolicy } from "./flush-policy.js";

export interface WalRecordInput {
  readonly kind: FrameKind.VERSION | FrameKind.SCHEMA;
  readonly payload: Uint8Array;
}

export interface UnitInput {
  /** Must be the next commit id (last + 1): the WAL refuses anything else. */
  readonly commitId: number;
  readonly records: readonly WalRecordInput[];
}

export interface AppendedRecord {
  readonly lsn: number;
  readonly kind: FrameKind.VERSION | FrameKind.SCHEMA;
  readonly location: FrameLocation;
}

export interface AppendedUnit {
  readonly commitId: number;
  readonly beginLsn: number;
  readonly commitLsn: number;
  readonly records: readonly AppendedRecord[];
}

export interface WalWriterOptions {
  readonly databaseId: string;
  /** Roll to a new segment at the first unit boundary past this size. */
  readonly segmentBytes: number;
  /** Where the log ends now (from the recovery scan). */
  readonly last: WalBoundary;
  /** The segment appending continues in and the byte offset where its log ends. */
  readonly tail: { readonly segment: string | null; readonly offset: number };
  /** Existing segments, oldest first (for truncation). */
  readonly segments?: readonly { readonly name: string; readonly firstLsn: number }[];
  readonly policy?: FlushPolicy;
  /** Told when a segment file is created, before any unit in it is acknowledged. */
  readonly onSegmentCreated?: (name: string) => Promise<void> | void;
}

export interface WalWriterStats {
  readonly unitsAppended: number;
  readonly fsyncs: number;
  readonly writeCalls: number;
  readonly bytesWritten: number;
  /** Zero bytes written ahead of the log (preallocation), not counted in bytesWritten. */
  readonly bytesPreallocated: number;
  readonly segmentsCreated: number;
}

interface QueuedUnit {
  readonly commitId: number;
  readonly beginLsn: number;
  readonly frames: readonly Uint8Array[];
  readonly kinds: readonly FrameKind[];
  /** CRC of the frame before this unit (a new segment's header records it). */
  readonly prevFrameCrc: number;
  readonly lastFrameCrc: number;
  resolve(unit: AppendedUnit): void;
  reject(err: unknown): void;
}

/**
 * The single writer of the log. `appendUnit` encodes a unit at once (LSNs and CRCs are
 * fixed in call order), queues it, and resolves only after an fsync covering it returned:
 * the caller awaits durability without blocking the event loop, so reads and later
 * appends proceed meanwhile. A failed write or fsync fails every unit it covered and
 * every queued one, and the writer accepts nothing more (core §1.3, ARCHITECTURE §4).
 */
export class WalWriter {
  private readonly queue: QueuedUnit[] = [];
  private pumping: Promise<void> | null = null;
  private failure: AeroError | SimulatedCrash | null = null;
  private closed = false;
  private handle: FileHandle | null = null;
  private segment: string | null;
  private offset: number;
  private readonly segments: Array<{ name: string; firstLsn: number }>;
  private nextLsn: number;
  private nextCommitId: number;
  private encodedCrc: number;
  private durable: WalBoundary;
  private readonly policy: FlushPolicy;
  private counters = {
    unitsAppended: 0,
    fsyncs: 0,
    writeCalls: 0,
    bytesWritten: 0,
    bytesPreallocated: 0,
    segmentsCreated: 0,
  };
  /** End of the zero-filled region of the active segment (see preallocationBytes). */
  private allocatedEnd = 0;

  private constructor(
    private readonly fs: FileSystem,
    private readonly walDir: string,
    private readonly options: WalWriterOptions,
  ) {
    this.segment = options.tail.segment;
    this.offset = options.tail.offset;
    this.segments = [...(options.segments ?? [])];
    this.nextLsn = options.last.lsn + 1;
    this.nextCommitId = options.last.commitId + 1;
    this.encodedCrc = options.last.frameCrc;
    this.durable = options.last;
    this.policy = options.policy ?? BASELINE_FLUSH_POLICY;
  }

  static async open(fs: FileSystem, walDir: string, options: WalWriterOptions): Promise<WalWriter> {
    databaseIdBytes(options.databaseId); // fail at open, not at the first segment roll
    const writer = new WalWriter(fs, walDir, options);
    if (writer.segment !== null) {
      writer.handle = await fs.open(posixPath.join(walDir, writer.segment), "r+");
      writer.allocatedEnd = await writer.handle.size();
    }
    return writer;
  }

  /** The last durable position of the log. */
  get durableBoundary(): WalBoundary {
    return this.durable;
  }

  /** The commit id the next unit must carry. */
  get expectedCommitId(): number {
    return this.nextCommitId;
  }

  get policyName(): string {
    return this.policy.name;
  }

  /** The error that stopped the writer, if any. */
  get stoppedBy(): AeroError | SimulatedCrash | null {
    return this.failure;
  }

  stats(): WalWriterStats {
    return { ...this.counters };
  }

  segmentNames(): string[] {
    return this.segments.map((s) => s.name);
  }

  appendUnit(unit: UnitInput): Promise<AppendedUnit> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new AeroError("AERO_WAL_CLOSED", "The WAL is closed."));
    if (unit.commitId !== this.nextCommitId) {
      return Promise.reject(
        new AeroError("AERO_INTERNAL_INVARIANT", "A unit was appended out of commit order.", {
          expected_commit_id: this.nextCommitId,
          found_commit_id: unit.commitId,
        }),
      );
    }
    if (unit.records.length < 1 || unit.records.length > MAX_UNIT_RECORDS) {
      return Promise.reject(
        new AeroError("AERO_INTERNAL_INVARIANT", "A unit must hold between 1 and 1,000,000 records.", {
          records: unit.records.length,
        }),
      );
    }
    for (const record of unit.records) {
      if (record.kind !== FrameKind.VERSION && record.kind !== FrameKind.SCHEMA) {
        return Promise.reject(
          new AeroError("AERO_INTERNAL_INVARIANT", "A unit may hold only VERSION and SCHEMA records.", {
            kind: record.kind,
          }),
        );
      }
      if (record.payload.length > MAX_FRAME_PAYLOAD) {
        // Refused before anything is written: a frame this large would read back as damage.
        return Promise.reject(
          new AeroError("AERO_WRITE_TOO_LARGE", "A record is larger than a WAL frame can hold.", {
            bytes: record.payload.length,
            max_bytes: MAX_FRAME_PAYLOAD,
          }),
        );
      }
    }
    const prevFrameCrc = this.encodedCrc;
    const beginLsn = this.nextLsn;
    const frames: Uint8Array[] = [];
    const kinds: FrameKind[] = [];
    const push = (kind: FrameKind, payload: Uint8Array) => {
      const frame = new Uint8Array(payload.length + FRAME_OVERHEAD);
      this.encodedCrc = writeFrameInto(frame, 0, kind, this.nextLsn++, payload);
      frames.push(frame);
      kinds.push(kind);
    };
    push(FrameKind.BEGIN, encodeBegin(unit.commitId, unit.records.length));
    for (const record of unit.records) push(record.kind, record.payload);
    push(FrameKind.COMMIT, encodeCommit(unit.commitId));
    this.nextCommitId++;
    return new Promise<AppendedUnit>((resolve, reject) => {
      this.queue.push({
        commitId: unit.commitId,
        beginLsn,
        frames,
        kinds,
        prevFrameCrc,
        lastFrameCrc: this.encodedCrc,
        resolve,
        reject,
      });
      this.kick();
    });
  }

  /** Waits for every queued unit, then closes the segment. Further appends are refused. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.pumping) await this.pumping;
    const handle = this.handle;
    this.handle = null;
    if (handle) await handle.close().catch(() => undefined);
  }

  /**
   * Closes the active segment, so that the next unit starts a new one. A checkpoint does this
   * inside its pipeline turn: every segment then ends at or below its boundary and truncation
   * can remove them all. Memory-only: after a restart appending continues in the last segment.
   */
  async sealActiveSegment(): Promise<void> {
    if (this.pumping || this.queue.length > 0) {
      throw new AeroError("AERO_INTERNAL_INVARIANT", "A segment can only be sealed between flushes.");
    }
    const handle = this.handle;
    this.handle = null;
    this.segment = null;
    this.offset = 0;
    this.allocatedEnd = 0;
    await handle?.close();
  }

  /**
   * Removes whole segments whose every LSN is <= `lsnBoundary`, never the active one
   * (core §1.6). The caller guarantees the checkpoint marker is durable first.
   */
  async removeSegmentsThrough(lsnBoundary: number): Promise<string[]> {
    const removed: string[] = [];
    while (this.segments.length > 0) {
      const first = this.segments[0] as { name: string };
      const next = this.segments[1];
      // The last segment's last LSN is the durable end of the log once it is sealed; while it
      // is active it is never removed.
      const lastLsn = next
        ? next.firstLsn - 1
        : this.segment === null
          ? this.durable.lsn
          : Number.POSITIVE_INFINITY;
      if (lastLsn > lsnBoundary) break;
      await this.fs.unlink(posixPath.join(this.walDir, first.name));
      removed.push(first.name);
      this.segments.shift();
    }
    if (removed.length > 0) await this.fs.syncDir(this.walDir);
    return removed;
  }

  private kick(): void {
    if (this.pumping) return;
    this.pumping = this.pump().finally(() => {
      this.pumping = null;
      if (this.queue.length > 0 && !this.failure) this.kick();
    });
  }

  private async pump(): Promise<void> {
    while (this.queue.length > 0 && !this.failure) {
      if (this.policy.beforeFlush) await this.policy.beforeFlush();
      const count = Math.min(
        Math.max(1, Math.floor(this.policy.unitsPerFlush(this.queue.length))),
        this.queue.length,
      );
      const batch = this.queue.splice(0, count);
      let results: AppendedUnit[];
      try {
        results = await this.flush(batch);
      } catch (err) {
        this.stop(err, batch);
        return;
      }
      const last = batch[batch.length - 1] as QueuedUnit;
      this.durable = {
        lsn: last.beginLsn + last.frames.length - 1,
        commitId: last.commitId,
        frameCrc: last.lastFrameCrc,
      };
      this.counters.unitsAppended += batch.length;
      batch.forEach((u, i) => {
        u.resolve(results[i] as AppendedUnit);
      });
    }
  }

  private async flush(batch: readonly QueuedUnit[]): Promise<AppendedUnit[]> {
    const results: AppendedUnit[] = [];
    let pending: { frames: Uint8Array[]; units: QueuedUnit[] } = { frames: [], units: [] };
    let pendingBytes = 0;
    const writePending = async () => {
      if (pending.frames.length === 0) return;
      await this.preallocate(this.offset + pendingBytes);
      this.writeFrames(pending.frames);
      crashPoint("wal:after-append");
      await this.syncSegment();
      crashPoint("wal:after-fsync");
      pending = { frames: [], units: [] };
      pendingBytes = 0;
    };
    for (const unit of batch) {
      // Roll at a unit boundary once the segment (including this flush's earlier units) is full.
      if (this.segment === null || this.offset + pendingBytes >= this.options.segmentBytes) {
        await writePending();
        await this.roll(unit);
      }
      const records: AppendedRecord[] = [];
      let at = this.offset + pendingBytes;
      unit.frames.forEach((frame, i) => {
        const kind = unit.kinds[i] as FrameKind;
        if (kind === FrameKind.VERSION || kind === FrameKind.SCHEMA) {
          records.push({
            lsn: unit.beginLsn + i,
            kind,
            location: { segment: this.segment as string, offset: at, size: frame.length },
          });
        }
        at += frame.length;
      });
      results.push({
        commitId: unit.commitId,
        beginLsn: unit.beginLsn,
        commitLsn: unit.beginLsn + unit.frames.length - 1,
        records,
      });
      pending.frames.push(...unit.frames);
      pending.units.push(unit);
      pendingBytes = at - this.offset;
    }
    await writePending();
    return results;
  }

  private writeFrames(frames: readonly Uint8Array[]): void {
    const handle = this.handle as FileHandle;
    const calls = this.policy.writeCalls(frames);
    const expected = frames.reduce((n, f) => n + f.length, 0);
    const actual = calls.reduce((n, c) => n + c.length, 0);
    if (expected !== actual) {
      throw new AeroError("AERO_INTERNAL_INVARIANT", "A flush policy changed the bytes of the log.", {
        policy: this.policy.name,
        expected_bytes: expected,
        found_bytes: actual,
      });
    }
    for (const call of calls) {
      try {
        writeFullySync(handle, call, this.offset);
      } catch (err) {
        throw wrapIo("AERO_WAL_APPEND_FAILED", "Writing to the WAL failed.", err, this.segment, this.offset);
      }
      this.offset += call.length;
      this.counters.writeCalls++;
      this.counters.bytesWritten += call.length;
    }
  }

  /**
   * Keeps a zero-filled region ahead of the write offset. Overwriting allocated blocks lets
   * each commit's fdatasync skip the file-size metadata an append would force (about a third
   * more durable commits per second on this machine kind, perf-notes.md); the size change is
   * paid once per region, inside the fsync of the unit that crosses it. The zeros are not
   * part of the log: the reader ends a segment at its first byte after which all are zero
   * (docs/formats/wal.md). The region size is a constant of the segment size, never of load.
   */
  private async preallocate(need: number): Promise<void> {
    if (need <= this.allocatedEnd) return;
    await this.zeroFill(need + preallocationBytes(this.options.segmentBytes));
  }

  /** Writes zeros from the end of the allocated region (or the log) up to `target`. */
  private async zeroFill(target: number): Promise<void> {
    const handle = this.handle as FileHandle;
    try {
      for (let at = Math.max(this.allocatedEnd, this.offset); at < target; ) {
        const length = Math.min(ZEROS.length, target - at);
        const n = await handle.write(ZEROS, 0, length, at);
        if (n <= 0) throw Object.assign(new Error("write made no progress"), { code: "EIO" });
        at += n;
        this.counters.bytesPreallocated += n;
      }
    } catch (err) {
      throw wrapIo(
        "AERO_WAL_APPEND_FAILED",
        "Preallocating the WAL segment failed.",
        err,
        this.segment,
        this.offset,
      );
    }
    this.allocatedEnd = target;
  }

  private async syncSegment(): Promise<void> {
    try {
      await (this.handle as FileHandle).sync();
    } catch (err) {
      throw wrapIo("AERO_WAL_FSYNC_FAILED", "The WAL fsync failed.", err, this.segment, this.offset);
    }
    this.counters.fsyncs++;
  }

  /** Starts a new segment at `unit`: header written and fsynced, directory entry fsynced. */
  private async roll(unit: QueuedUnit): Promise<void> {
    const name = segmentFileName(unit.beginLsn);
    const path = posixPath.join(this.walDir, name);
    try {
      const old = this.handle;
      this.handle = null;
      if (old) await old.close();
      const handle = await this.fs.open(path, "wx");
      this.handle = handle;
      writeFullySync(
        handle,
        encodeSegmentHeader({
          databaseId: this.options.databaseId,
          firstLsn: unit.beginLsn,
          prevFrameCrc: unit.prevFrameCrc,
        }),
        0,
      );
      this.segment = name;
      this.offset = SEGMENT_HEADER_BYTES;
      this.allocatedEnd = SEGMENT_HEADER_BYTES;
      await this.zeroFill(SEGMENT_HEADER_BYTES + preallocationBytes(this.options.segmentBytes));
      await handle.sync();
      await this.fs.syncDir(this.walDir);
    } catch (err) {
      throw wrapIo("AERO_WAL_APPEND_FAILED", "Creating a WAL segment failed.", err, name, 0);
    }
    this.counters.segmentsCreated++;
    this.segments.push({ name, firstLsn: unit.beginLsn });
    await this.options.onSegmentCreated?.(name);
  }

  private stop(err: unknown, batch: readonly QueuedUnit[]): void {
    const failure =
      err instanceof SimulatedCrash || isAeroError(err)
        ? err
        : new AeroError("AERO_WAL_APPEND_FAILED", "Appending to the WAL failed.", {}, { cause: err });
    this.failure = failure;
    for (const unit of batch) unit.reject(failure);
    for (const unit of this.queue.splice(0)) unit.reject(failure);
  }
}

const ZEROS = new Uint8Array(1024 * 1024);

/** Bytes kept zero-filled ahead of the log: 1 MiB, or 1/64 of a small segment (>= 4 KiB). */
export function preallocationBytes(segmentBytes: number): number {
  return Math.min(ZEROS.length, Math.max(4096, Math.floor(segmentBytes / 64)));
}

function wrapIo(
  code: "AERO_WAL_APPEND_FAILED" | "AERO_WAL_FSYNC_FAILED",
  message: string,
  err: unknown,
  segment: string | null,
  offset: number,
): unknown {
  if (err instanceof SimulatedCrash || isAeroError(err)) return err;
  const errno = (err as { code?: unknown })?.code;
  return new AeroError(
    code,
    message,
    { segment, offset, errno: typeof errno === "string" ? errno : "unknown" },
    { cause: err },
  );
}
