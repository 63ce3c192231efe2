import {
  DATABASE_ID_BYTES,
  SEGMENT_HEADER_BYTES,
  SEGMENT_MAGIC,
  SEGMENT_NAME_DIGITS,
  SEGMENT_SUFFIX,
  WAL_FORMAT_VERSION,
} from "./constants.js";
import { crc32 } from "./crc.js";

/**
 * Segment header (48 bytes, little-endian):
 *   0  magic "AEROWAL\0"      8 | 8  u16 format version | 10 u16 header bytes (48)
 *   12 database id           16 | 28 u64 first LSN    | 36 u32 CRC of frame first LSN - 1 (0 if none)
 *   40 u32 reserved (0)         | 44 u32 CRC-32 of bytes 0..43
 */
export interface SegmentHeader {
  readonly formatVersion: number;
  /** 32 lower-case hex digits. */
  readonly databaseId: string;
  readonly firstLsn: number;
  readonly prevFrameCrc: number;
}

export type HeaderDefect = "short" | "magic" | "crc" | "version" | "layout";

export function encodeSegmentHeader(header: Omit<SegmentHeader, "formatVersion">): Uint8Array {
  const out = new Uint8Array(SEGMENT_HEADER_BYTES);
  const view = new DataView(out.buffer);
  out.set(SEGMENT_MAGIC, 0);
  view.setUint16(8, WAL_FORMAT_VERSION, true);
  view.setUint16(10, SEGMENT_HEADER_BYTES, true);
  out.set(databaseIdBytes(header.databaseId), 12);
  view.setBigUint64(28, BigInt(header.firstLsn), true);
  view.setUint32(36, header.prevFrameCrc >>> 0, true);
  view.setUint32(40, 0, true);
  view.setUint32(44, crc32(out, 0, 44), true);
  return out;
}

export function decodeSegmentHeader(buf: Uint8Array): SegmentHeader | HeaderDefect {
  if (buf.length < SEGMENT_HEADER_BYTES) return "short";
  for (let i = 0; i < SEGMENT_MAGIC.length; i++) if (buf[i] !== SEGMENT_MAGIC[i]) return "magic";
  const view = new DataView(buf.buffer, buf.byteOffset, SEGMENT_HEADER_BYTES);
  if (view.getUint32(44, true) !== crc32(buf, 0, 44)) return "crc";
  const formatVersion = view.getUint16(8, true);
  if (formatVersion !== WAL_FORMAT_VERSION) return "version";
  if (view.getUint16(10, true) !== SEGMENT_HEADER_BYTES || view.getUint32(40, true) !== 0) return "layout";
  return {
    formatVersion,
    databaseId: Buffer.from(buf.subarray(12, 12 + DATABASE_ID_BYTES)).toString("hex"),
    firstLsn: Number(view.getBigUint64(28, true)),
    prevFrameCrc: view.getUint32(36, true),
  };
}

export function databaseIdBytes(databaseId: string): Uint8Array {
  if (!/^[0-9a-f]{32}$/.test(databaseId)) {
    throw new RangeError(`a database id is 32 lower-case hex digits, got '${databaseId}'`);
  }
  return Uint8Array.from(Buffer.from(databaseId, "hex"));
}

export function segmentFileName(firstLsn: number): string {
  return `${String(firstLsn).padStart(SEGMENT_NAME_DIGITS, "0")}${SEGMENT_SUFFIX}`;
}

const SEGMENT_NAME = new RegExp(`^(\\d{${SEGMENT_NAME_DIGITS}})\\${SEGMENT_SUFFIX}$`);

/** The first LSN a segment's file name claims, or null for a file that is not a segment. */
export function parseSegmentFileName(name: string): number | null {
  const match = SEGMENT_NAME.exec(name);
  if (!match) return null;
  const lsn = Number(match[1]);
  return Number.isSafeInteger(lsn) && lsn >= 1 ? lsn : null;
}
