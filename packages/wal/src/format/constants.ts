/**
 * The WAL's on-disk constants. docs/formats/wal.md describes the same layout in prose; it is
 * a stable format because replicas ship these bytes verbatim: change nothing here without
 * a new format version.
 */
export const WAL_FORMAT_VERSION = 1;

/** "AEROWAL" + NUL: the first 8 bytes of every segment. */
export const SEGMENT_MAGIC = Uint8Array.from([0x41, 0x45, 0x52, 0x4f, 0x57, 0x41, 0x4c, 0x00]);
export const SEGMENT_HEADER_BYTES = 48;
export const DATABASE_ID_BYTES = 16;
export const SEGMENT_SUFFIX = ".wal";
export const SEGMENT_NAME_DIGITS = 20;

/** Frame layout: u32 payload length | u8 kind | u64 LSN | payload | u32 CRC-32 of the prior bytes. */
export const FRAME_HEADER_BYTES = 13;
export const FRAME_TRAILER_BYTES = 4;
export const FRAME_OVERHEAD = FRAME_HEADER_BYTES + FRAME_TRAILER_BYTES;
/** A hard ceiling on one payload: a length field above it is damage, not a frame. */
export const MAX_FRAME_PAYLOAD = 64 * 1024 * 1024;

export enum FrameKind {
  BEGIN = 1,
  VERSION = 2,
  SCHEMA = 3,
  COMMIT = 4,
  GC = 5,
}

export const FRAME_KIND_NAMES: Readonly<Record<FrameKind, string>> = {
  [FrameKind.BEGIN]: "BEGIN",
  [FrameKind.VERSION]: "VERSION",
  [FrameKind.SCHEMA]: "SCHEMA",
  [FrameKind.COMMIT]: "COMMIT",
  [FrameKind.GC]: "GC",
};

export function isFrameKind(value: number): value is FrameKind {
  return value >= FrameKind.BEGIN && value <= FrameKind.GC;
}

/** BEGIN payload: u64 commit id | u32 record count. COMMIT payload: u64 commit id. */
export const BEGIN_PAYLOAD_BYTES = 12;
export const COMMIT_PAYLOAD_BYTES = 8;
/** A unit's record count is bounded so that a damaged count cannot make a reader wait forever. */
export const MAX_UNIT_RECORDS = 1_000_000;
