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
  const view = new DataView(payload.buffer, payload.byteOffset, payload.length);
  return { commitId: Number(view.getBigUint64(0, true)), recordCount: view.getUint32(8, true) };
}

export function encodeCommit(commitId: number): Uint8Array {
  const out = new Uint8Array(COMMIT_PAYLOAD_BYTES);
  new DataView(out.buffer).setBigUint64(0, BigInt(commitId), true);
  return out;
}

export function decodeCommit(payload: Uint8Array): number | null {
  if (payload.length !== COMMIT_PAYLOAD_BYTES) return null;
  return Number(new DataView(payload.buffer, payload.byteOffset, payload.length).getBigUint64(0, true));
}
