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

export function encodeCommit(commitId: number): Uint8Array {
  const out = new Uint8Array(COMMIT_PAYLOAD_BYTES);
  new DataView(out.buffer).setBigUint64(0, BigInt(commitId), true);
  return out;
}

export function decodeCommit(payload: Uint8Array): number | null {
  if (payload.length !== COMMIT_PAYLOAD_BYTES) return null;
  return readU64LE(payload, 0);
}
