/**
 * Little-endian integers read with plain byte arithmetic: the decoders of the hot paths (every
 * frame at recovery, one per point read) avoid a DataView and a BigInt per value.
 */

export function readU16LE(bytes: Uint8Array, at: number): number {
  return (bytes[at] as number) | ((bytes[at + 1] as number) << 8);
}

export function readU32LE(bytes: Uint8Array, at: number): number {
  return (
    ((bytes[at] as number) | ((bytes[at + 1] as number) << 8) | ((bytes[at + 2] as number) << 16)) +
    (bytes[at + 3] as number) * 0x100_0000
  );
}

/**
 * A u64 as a number: exact below 2^53, which LSNs and commit ids never reach (one per frame or
 * commit); above, rounded to the nearest double as Number(bigint) rounds.
 */
export function readU64LE(bytes: Uint8Array, at: number): number {
  return readU32LE(bytes, at + 4) * 0x1_0000_0000 + readU32LE(bytes, at);
}
