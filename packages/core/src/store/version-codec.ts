import { AeroError } from "@aerodb/base";
import { readU16LE, readU32LE } from "@aerodb/wal";
import type { DocId } from "../schema/types.js";

/**
 * The payload of a VERSION frame (docs/formats/version-record.md), little-endian:
 *   u8 codec version (1) | u8 flags (bit 0 tombstone, bit 1 integer _id)
 *   u16 schema_id length | schema_id (UTF-8)
 *   u16 schema_version length | schema_version (UTF-8)
 *   _id: f64 when integer, else u32 length + UTF-8
 *   u32 body length | body: canonical JSON of the document (empty for a tombstone)
 * The body is stored exactly once, in the WAL frame; the store keeps its location.
 */
export const VERSION_CODEC = 1;

export interface VersionRecord {
  readonly schemaId: string;
  readonly schemaVersion: string;
  readonly id: DocId;
  readonly tombstone: boolean;
  /** Canonical JSON bytes of the document; empty for a tombstone. */
  readonly body: Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export function encodeVersion(record: VersionRecord): Uint8Array {
  const sid = encoder.encode(record.schemaId);
  const sver = encoder.encode(record.schemaVersion);
  const intId = typeof record.id === "number";
  const idBytes = intId ? null : encoder.encode(record.id as string);
  const size =
    2 +
    2 +
    sid.length +
    2 +
    sver.length +
    (intId ? 8 : 4 + (idBytes as Uint8Array).length) +
    4 +
    record.body.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  view.setUint8(at++, VERSION_CODEC);
  view.setUint8(at++, (record.tombstone ? 1 : 0) | (intId ? 2 : 0));
  view.setUint16(at, sid.length, true);
  out.set(sid, at + 2);
  at += 2 + sid.length;
  view.setUint16(at, sver.length, true);
  out.set(sver, at + 2);
  at += 2 + sver.length;
  if (intId) {
    view.setFloat64(at, record.id as number, true);
    at += 8;
  } else {
    const bytes = idBytes as Uint8Array;
    view.setUint32(at, bytes.length, true);
    out.set(bytes, at + 4);
    at += 4 + bytes.length;
  }
  view.setUint32(at, record.body.length, true);
  out.set(record.body, at + 4);
  return out;
}

/** Decodes a VERSION payload; a malformed one is AERO_DATA_CORRUPTION (its CRC was valid). */
export function decodeVersion(payload: Uint8Array): VersionRecord {
  try {
    const n = payload.length;
    let at = 0;
    if (n < 2 || payload[at++] !== VERSION_CODEC) throw new Error("codec");
    const flags = payload[at++] as number;
    if (flags & ~3) throw new Error("flags");
    const sidLen = u16At(payload, at);
    const schemaId = shortText(payload, at + 2, at + 2 + sidLen);
    at += 2 + sidLen;
    const sverLen = u16At(payload, at);
    const schemaVersion = shortText(payload, at + 2, at + 2 + sverLen);
    at += 2 + sverLen;
    let id: DocId;
    if (flags & 2) {
      if (at + 8 > n) throw new Error("id");
      id = new DataView(payload.buffer, payload.byteOffset + at, 8).getFloat64(0, true);
      if (!Number.isSafeInteger(id)) throw new Error("id");
      at += 8;
    } else {
      const idLen = u32At(payload, at);
      id = text(payload, at + 4, at + 4 + idLen);
      at += 4 + idLen;
    }
    const bodyLen = u32At(payload, at);
    if (at + 4 + bodyLen !== n) throw new Error("length");
    return { schemaId, schemaVersion, id, tombstone: (flags & 1) === 1, body: payload.subarray(at + 4) };
  } catch (err) {
    throw new AeroError("AERO_DATA_CORRUPTION", "A VERSION record is malformed.", {
      reason: err instanceof Error ? err.message : "decode",
    });
  }
}

function u16At(bytes: Uint8Array, at: number): number {
  if (at + 2 > bytes.length) throw new Error("length");
  return readU16LE(bytes, at);
}

function u32At(bytes: Uint8Array, at: number): number {
  if (at + 4 > bytes.length) throw new Error("length");
  return readU32LE(bytes, at);
}

/** Strict UTF-8 of bytes[start, end): malformed text is damage, never replaced. */
function text(bytes: Uint8Array, start: number, end: number): string {
  if (end > bytes.length) throw new Error("length");
  return decoder.decode(bytes.subarray(start, end));
}

/**
 * Schema ids and versions repeat in almost every record: the last few decoded are kept with
 * their bytes, so a replay allocates no string for them (recovery decodes every record).
 */
const recentTexts: Array<{ bytes: Uint8Array; text: string }> = [];

function shortText(bytes: Uint8Array, start: number, end: number): string {
  const length = end - start;
  outer: for (const recent of recentTexts) {
    if (recent.bytes.length !== length) continue;
    for (let i = 0; i < length; i++) if (recent.bytes[i] !== bytes[start + i]) continue outer;
    return recent.text;
  }
  const decoded = text(bytes, start, end);
  // A copy, never a view: Buffer#slice is a view, and a view would keep the whole buffer it was
  // decoded from (a recovery scan's segment, tens of MiB) alive for the life of the process.
  recentTexts.unshift({ bytes: Uint8Array.prototype.slice.call(bytes, start, end), text: decoded });
  if (recentTexts.length > 8) recentTexts.pop();
  return decoded;
}

/**
 * The byte range of the body inside a VERSION payload, found without decoding any string:
 * the read path parses only the body. Malformed lengths are AERO_DATA_CORRUPTION.
 */
export function bodyRange(payload: Uint8Array): { start: number; end: number } {
  const n = payload.length;
  if (n < 8 || payload[0] !== VERSION_CODEC) return corruptBody();
  let at = 2;
  at += 2 + readU16LE(payload, at);
  if (at + 2 > n) return corruptBody();
  at += 2 + readU16LE(payload, at);
  if ((payload[1] as number) & 2) at += 8;
  else {
    if (at + 4 > n) return corruptBody();
    at += 4 + readU32LE(payload, at);
  }
  if (at + 4 > n) return corruptBody();
  const length = readU32LE(payload, at);
  if (at + 4 + length !== n) return corruptBody();
  return { start: at + 4, end: at + 4 + length };
}

function corruptBody(): never {
  throw new AeroError("AERO_DATA_CORRUPTION", "A VERSION record is malformed.", { reason: "length" });
}

/** The key of a document across schema versions: (schema_id, _id), typed so 1 and "1" differ. */
export function keyOf(schemaId: string, id: DocId): string {
  return typeof id === "number" ? `${schemaId}\u0000n${id}` : `${schemaId}\u0000s${id}`;
}
