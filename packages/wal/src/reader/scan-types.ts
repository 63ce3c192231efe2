import type { FrameKind } from "../format/constants.js";

/** Where a frame lives: the durable address of a record (the core's store points here). */
export interface FrameLocation {
  /** The WAL segment's file name; for a frame outside wal/ the same path as `file`. */
  readonly segment: string;
  /** Byte offset of the frame's first byte in the segment file (or in `file`). */
  readonly offset: number;
  /** Total frame bytes (header, payload, CRC). */
  readonly size: number;
  /**
   * Set only for a frame that lives outside wal/ (a checkpoint snapshot's `versions` file,
   * docs/formats/snapshot.md): its path relative to the data directory, e.g.
   * `snapshots/snap-00000000000000000042/versions`. WAL locations never carry it.
   */
  readonly file?: string;
}

/** The log position just before a range of the log: LSN, commit id and that frame's CRC. */
export interface WalBoundary {
  readonly lsn: number;
  readonly commitId: number;
  readonly frameCrc: number;
}

export interface ScannedRecord {
  readonly lsn: number;
  readonly kind: FrameKind.VERSION | FrameKind.SCHEMA;
  /** A view into the segment bytes read by the scan. */
  readonly payload: Uint8Array;
  readonly location: FrameLocation;
}

export interface ScannedUnit {
  readonly commitId: number;
  readonly beginLsn: number;
  readonly commitLsn: number;
  readonly segment: string;
  readonly records: readonly ScannedRecord[];
}

export interface ScannedGc {
  readonly lsn: number;
  readonly payload: Uint8Array;
  readonly location: FrameLocation;
}

export interface SegmentSummary {
  readonly name: string;
  readonly firstLsn: number;
  /** firstLsn - 1 for a segment that holds only its header. */
  readonly lastLsn: number;
  /** Bytes of the segment that belong to the log (header and complete units). */
  readonly bytes: number;
}

/** The incomplete end of the log that recovery cuts (core §1.5), as the recovery report shows it. */
export interface TornTail {
  readonly segment: string;
  readonly offset: number;
  readonly bytesCut: number;
  /** Valid frames discarded with the incomplete unit. */
  readonly recordsCut: number;
}

export interface WalScanResult {
  readonly segments: readonly SegmentSummary[];
  readonly firstLsn: number | null;
  /** The last LSN of the log after the cut (the base's LSN for an empty log). */
  readonly lastLsn: number;
  readonly lastCommitId: number;
  readonly lastFrameCrc: number;
  readonly recordsVerified: number;
  readonly unitsRead: number;
  /** Units past the base handed to onUnit. */
  readonly unitsDelivered: number;
  readonly tornTail: TornTail | null;
  /** Where appending continues: the last segment and the end of its complete units. */
  readonly tail: { readonly segment: string | null; readonly offset: number };
}
