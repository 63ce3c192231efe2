import {
  FRAME_HEADER_BYTES,
  FRAME_OVERHEAD,
  type FrameKind,
  isFrameKind,
  MAX_FRAME_PAYLOAD,
} from "./constants.js";
import { crc32 } from "./crc.js";

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

/** Decodes and verifies the frame at `offset`; a defect names why the bytes are no frame. */
export function decodeFrame(buf: Uint8Array, offset: number): DecodedFrame | FrameDefect {
  if (buf.length - offset < FRAME_OVERHEAD) return "short";
  const view = new DataView(buf.buffer, buf.byteOffset + offset);
  const length = view.getUint32(0, true);
  if (length > MAX_FRAME_PAYLOAD) return "length";
  const kind = view.getUint8(4);
  if (!isFrameKind(kind)) return "kind";
  if (buf.length - offset < length + FRAME_OVERHEAD) return "short";
  const crcAt = FRAME_HEADER_BYTES + length;
  const crc = view.getUint32(crcAt, true);
  if (crc32(buf, offset, offset + crcAt) !== crc) return "crc";
  const lsn = Number(view.getBigUint64(5, true));
  return {
    kind,
    lsn,
    payload: buf.subarray(offset + FRAME_HEADER_BYTES, offset + crcAt),
    crc,
    size: length + FRAME_OVERHEAD,
  };
}

export function isFrame(value: DecodedFrame | FrameDefect): value is DecodedFrame {
  return typeof value !== "string";
}
