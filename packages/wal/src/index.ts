// @aerodb/wal: the framed, checksummed, segmented write-ahead log.

// The file-system seam lives in @aerodb/base; it is re-exported here because every later
// package's failure tests use it together with the WAL.
export {
  type FaultRule,
  type FileSystem,
  NodeFileSystem,
  SimFileSystem,
  SimulatedCrash,
} from "@aerodb/base";
export {
  FRAME_KIND_NAMES,
  FRAME_OVERHEAD,
  FrameKind,
  MAX_FRAME_PAYLOAD,
  SEGMENT_HEADER_BYTES,
  WAL_FORMAT_VERSION,
} from "./format/constants.js";
export { crc32 } from "./format/crc.js";
export { type DecodedFrame, decodeFrame, encodeFrame, type FrameDefect, isFrame } from "./format/frame.js";
export { readU16LE, readU32LE, readU64LE } from "./format/little-endian.js";
export {
  decodeSegmentHeader,
  encodeSegmentHeader,
  parseSegmentFileName,
  type SegmentHeader,
  segmentFileName,
} from "./format/segment-header.js";
export { decodeBegin, decodeCommit, encodeBegin, encodeCommit } from "./format/unit-records.js";
export { type OpenWalOptions, openWal } from "./open-wal.js";
export { cutTornTail } from "./reader/cut-torn-tail.js";
export { FrameReader } from "./reader/frame-reader.js";
export type {
  FrameLocation,
  ScannedGc,
  ScannedRecord,
  ScannedUnit,
  SegmentSummary,
  TornTail,
  WalBoundary,
  WalScanResult,
} from "./reader/scan-types.js";
export { PROGRESS_STEP_BYTES, type ScanOptions, scanWal } from "./reader/scan-wal.js";
export { BASELINE_FLUSH_POLICY, type FlushPolicy } from "./writer/flush-policy.js";
export {
  type AppendedRecord,
  type AppendedUnit,
  type UnitInput,
  type WalRecordInput,
  WalWriter,
  type WalWriterOptions,
  type WalWriterStats,
} from "./writer/wal-writer.js";
