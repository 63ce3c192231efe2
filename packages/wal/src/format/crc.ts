import * as zlib from "node:zlib";

// zlib.crc32 is native (Node >= 20.15): CRC-32 (IEEE), the same polynomial as zip and PNG.
type Crc32 = (data: Uint8Array, initial?: number) => number;
const maybeNative = (zlib as unknown as { crc32?: Crc32 }).crc32;
if (typeof maybeNative !== "function") {
  throw new Error("AeroDB needs zlib.crc32 (Node.js >= 20.15)");
}
const native: Crc32 = maybeNative;

export function crc32(data: Uint8Array, start = 0, end = data.length): number {
  return native(start === 0 && end === data.length ? data : data.subarray(start, end)) >>> 0;
}
