import { BEGIN_PAYLOAD_BYTES, COMMIT_PAYLOAD_BYTES } from "./constants.js";
import { readU32LE, readU64LE } from "./little-endian.js";

export function encodeBegin(commitId: number, recordCount: number): Uint8Array {
  const out = new Uint8Array(BEGIN_PAYLOAD_BYTES);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(commitId), true);
  view.setUint32(8, recordCount, true);
  return out;
}

export function decodeBegin(payload: Uint8Array): { commitId: number; recordCount: number } | null {
  if (payload.length !== BEGIN_PAYLOAD_BYTES) return null;
  return { commitId: readU64LE(payload, 0), recordCount: readU32LE(payload, 8) };
}

/** A BEGIN payload's commit id and record count, read in place at `start` (length checked by the caller). */
export function beginCommitIdAt(buf: Uint8Array, start: number): number {
  return readU64LE(buf, start);
}

export function beginRecordCountAt(buf: Uint8Array, start: number): number {
  return readU32LE(buf, start + 8);
}

export function encodeCommit(commitId: number): Uint8Array {
  const out = new Uint8Array(COMMIT_PAYLOAD_BYTES);
  new DataView(out.buffer).setBigUint64(0, BigInt(commitId), true);
  return out;
}

export function decodeCommit(payload: Uint8Array): number | null {
  if (payload.length !== COMMIT_PAYLOAD_BYTES) return null;
  return readU64LE(payload, 0);
}

/** A COMMIT payload's commit id read in place, or null when its length is not a COMMIT's. */
export function commitIdAt(buf: Uint8Array, start: number, length: number): number | null {
  return length === COMMIT_PAYLOAD_BYTES ? readU64LE(buf, start) : null;
}
