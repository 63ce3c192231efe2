import {
  FRAME_HEADER_BYTES,
  FRAME_OVERHEAD,
  type FrameKind,
  isFrameKind,
  MAX_FRAME_PAYLOAD,
} from "./constants.js";
import { crc32 } from "./crc.js";
import { readU32LE, readU64LE } from "./little-endian.js";

export interface DecodedFrame {
  readonly kind: FrameKind;
  readonly lsn: number;
  /** A view into the buffer the frame was decoded from (no copy). */
  readonly payload: Uint8Array;
  readonly crc: number;
  /** Total bytes of the frame, header and trailer included. */
  readonly size: number;
}

export type FrameDefect = "short" | "length" | "kind" | "crc";

export function encodeFrame(kind: FrameKind, lsn: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(payload.length + FRAME_OVERHEAD);
  writeFrameInto(out, 0, kind, lsn, payload);
  return out;
}

/** Encodes a frame at `offset` of `out`; returns the frame's CRC. */
export function writeFrameInto(
  out: Uint8Array,
  offset: number,
  kind: FrameKind,
  lsn: number,
  payload: Uint8Array,
): number {
  const view = new DataView(out.buffer, out.byteOffset + offset);
  view.setUint32(0, payload.length, true);
  view.setUint8(4, kind);
  view.setBigUint64(5, BigInt(lsn), true);
  out.set(payload, offset + FRAME_HEADER_BYTES);
  const end = offset + FRAME_HEADER_BYTES + payload.length;
  const crc = crc32(out, offset, end);
  view.setUint32(FRAME_HEADER_BYTES + payload.length, crc, true);
  return crc;
}

/**
 * A frame's fields as decodeFrameAt leaves them: the payload as a range of the buffer, so that
 * a scan over every frame of the log allocates nothing for the frames it only checks.
 */
export interface FrameCursor {
  kind: FrameKind;
  lsn: number;
  crc: number;
  /** Total bytes of the frame, header and trailer included. */
  size: number;
  /** Where the payload starts in the buffer, and its length. */
  payloadStart: number;
  payloadLength: number;
}

export function newFrameCursor(): FrameCursor {
  return { kind: 0 as FrameKind, lsn: 0, crc: 0, size: 0, payloadStart: 0, payloadLength: 0 };
}

/**
 * Decodes and verifies the frame at `offset` into `out`; returns null, or the defect that says
 * why the bytes are no frame (then `out` is unspecified). The frame's own CRC is checked unless
 * `verifyCrc` is false (see below).
 */
export function decodeFrameAt(
  buf: Uint8Array,
  offset: number,
  out: FrameCursor,
  verifyCrc = true,
): FrameDefect | null {
  // Plain byte arithmetic instead of a DataView and a BigInt per frame: recovery decodes every
  // frame of the log and each point read decodes one, so this is the hottest decoder there is.
  if (buf.length - offset < FRAME_OVERHEAD) return "short";
  const length = readU32LE(buf, offset);
  if (length > MAX_FRAME_PAYLOAD) return "length";
  const kind = buf[offset + 4] as number;
  if (!isFrameKind(kind)) return "kind";
  if (buf.length - offset < length + FRAME_OVERHEAD) return "short";
  const crcAt = FRAME_HEADER_BYTES + length;
  const crc = readU32LE(buf, offset + crcAt);
  // verifyCrc false: the caller verified a checksum covering these bytes already (a snapshot
  // file whose whole-file CRC matched its manifest).
  if (verifyCrc && crc32(buf, offset, offset + crcAt) !== crc) return "crc";
  out.kind = kind;
  out.lsn = readU64LE(buf, offset + 5);
  out.crc = crc;
  out.size = length + FRAME_OVERHEAD;
  out.payloadStart = offset + FRAME_HEADER_BYTES;
  out.payloadLength = length;
  return null;
}

/**
 * Decodes and verifies the frame at `offset`; a defect names why the bytes are no frame. The
 * frame's own CRC is checked unless `verifyCrc` is false (see decodeFrameAt).
 */
export function decodeFrame(buf: Uint8Array, offset: number, verifyCrc = true): DecodedFrame | FrameDefect {
  const at = newFrameCursor();
  const defect = decodeFrameAt(buf, offset, at, verifyCrc);
  if (defect !== null) return defect;
  return {
    kind: at.kind,
    lsn: at.lsn,
    payload: buf.subarray(at.payloadStart, at.payloadStart + at.payloadLength),
    crc: at.crc,
    size: at.size,
  };
}

export function isFrame(value: DecodedFrame | FrameDefect): value is DecodedFrame {
  return typeof value !== "string";
}
