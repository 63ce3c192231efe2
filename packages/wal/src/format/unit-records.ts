import { BEGIN_PAYLOAD_BYTES, COMMIT_PAYLOAD_BYTES } from "./constants.js";

export function encodeBegin(commitId: number, recordCount: number): Uint8Array {
  const out = new Uint8Array(BEGIN_PAYLOAD_BYTES);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(commitId), true);
  view.setUint32(8, recordCount, true);
  return out;
}

export function decodeBegin(payload: Uint8Array): { commitId: number; recordCount: number } | null {
  if (payload.length !== BEGIN_PAYLOAD_BYTES) return null;
  return { commitId: u64le(payload, 0), recordCount: u32le(payload, 8) };
}

export function encodeCommit(commitId: number): Uint8Array {
  const out = new Uint8Array(COMMIT_PAYLOAD_BYTES);
  new DataView(out.buffer).setBigUint64(0, BigInt(commitId), true);
  return out;
}

export function decodeCommit(payload: Uint8Array): number | null {
  if (payload.length !== COMMIT_PAYLOAD_BYTES) return null;
  return u64le(payload, 0);
}

// Byte arithmetic rather than a DataView and a BigInt: recovery decodes two of these per unit.
function u32le(bytes: Uint8Array, at: number): number {
  return (
    ((bytes[at] as number) | ((bytes[at + 1] as number) << 8) | ((bytes[at + 2] as number) << 16)) +
    (bytes[at + 3] as number) * 0x100_0000
  );
}

/** A u64 as a number: exact below 2^53 (commit ids never reach it), rounded like Number(bigint) above. */
function u64le(bytes: Uint8Array, at: number): number {
  return u32le(bytes, at + 4) * 0x1_0000_0000 + u32le(bytes, at);
}
