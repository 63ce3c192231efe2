// The WAL codecs' fast paths: crc32 uses a JavaScript table below 64 bytes and zlib.crc32
// above; decodeFrame, decodeBegin and decodeCommit read u32/u64 fields with byte arithmetic
// instead of a DataView and a BigInt; the WAL scan reads frames, BEGIN and COMMIT in place
// (decodeFrameAt, beginCommitIdAt, commitIdAt) without allocating. Each must give exactly what
// the straightforward version gives, for every length, every offset and the whole safe-integer
// range.
//
// Replay one property: AERODB_SEED=<n> npx vitest run tests/codec-fast-paths.test.ts
// More cases: AERODB_RUNS=<k> multiplies every property's runs.
import * as zlib from "node:zlib";
import { SeededRandom, seededProperty, seedList, withSeed } from "@aerodb/base";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FRAME_HEADER_BYTES } from "../src/format/constants.js";
import { decodeFrameAt, newFrameCursor } from "../src/format/frame.js";
import { beginCommitIdAt, beginRecordCountAt, commitIdAt } from "../src/format/unit-records.js";
import {
  crc32,
  type DecodedFrame,
  decodeBegin,
  decodeCommit,
  decodeFrame,
  encodeBegin,
  encodeCommit,
  encodeFrame,
  FRAME_OVERHEAD,
  FrameKind,
  isFrame,
} from "../src/index.js";

/** Runs a property under its named seed; a failure names the seed and the replay command. */
const check = <Ts extends [unknown, ...unknown[]]>(
  name: string,
  numRuns: number,
  property: fc.IProperty<Ts>,
) =>
  seededProperty(`codec-fast-paths:${name}`, numRuns, (seed, runs) =>
    fc.assert(property, { seed, numRuns: runs }),
  );

type Crc32 = (data: Uint8Array, initial?: number) => number;
const nativeCrc = (zlib as unknown as { crc32: Crc32 }).crc32;
const referenceCrc = (data: Uint8Array, start = 0, end = data.length): number =>
  nativeCrc(data.subarray(start, end)) >>> 0;

/** A bit-at-a-time CRC-32 (IEEE, reflected), independent of both tables. */
function bitwiseCrc(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** The same bytes as a Uint8Array, a Buffer, or a view at an odd offset of a bigger buffer. */
function inContainer(bytes: Uint8Array, kind: "uint8array" | "buffer" | "view"): Uint8Array {
  if (kind === "uint8array") return Uint8Array.from(bytes);
  if (kind === "buffer") return Buffer.from(bytes);
  const outer = new Uint8Array(bytes.length + 11);
  outer.fill(0xa5);
  outer.set(bytes, 5);
  return outer.subarray(5, 5 + bytes.length);
}
const CONTAINERS = ["uint8array", "buffer", "view"] as const;

const u64 = (bytes: Uint8Array, at = 0): bigint =>
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(at, true);
const u32 = (bytes: Uint8Array, at = 0): number =>
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(at, true);

/** The safe-integer range's landmarks: byte, word and 2^53 boundaries. */
const SAFE_LANDMARKS = [
  0,
  1,
  2,
  0xff,
  0x100,
  0x7fff_ffff,
  0x8000_0000,
  2 ** 32 - 1,
  2 ** 32,
  2 ** 32 + 1,
  2 ** 40 + 7,
  2 ** 48 - 1,
  2 ** 52,
  2 ** 53 - 2,
  Number.MAX_SAFE_INTEGER,
];
const U32_LANDMARKS = [
  0,
  1,
  0xff,
  0x100,
  0xffff,
  0x1_0000,
  0x7f_ffff,
  0x80_0000,
  0x7fff_ffff,
  0x8000_0000,
  2 ** 32 - 1,
];
const safeNat = fc.oneof(fc.constantFrom(...SAFE_LANDMARKS), fc.maxSafeNat(), fc.nat());
const u32Arb = fc.oneof(fc.constantFrom(...U32_LANDMARKS), fc.nat({ max: 2 ** 32 - 1 }));

// ---------------------------------------------------------------------------------------------

describe("crc32: the JavaScript table (below 64 bytes) and zlib (above) agree", () => {
  it("known answers", () => {
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(Buffer.from("123456789"))).toBe(0xcbf43926);
    expect(crc32(Buffer.from("The quick brown fox jumps over the lazy dog"))).toBe(0x414fa339);
    expect(crc32(new Uint8Array(64).fill(0xff))).toBe(bitwiseCrc(new Uint8Array(64).fill(0xff)));
    expect(crc32(new Uint8Array(63).fill(0xff))).toBe(bitwiseCrc(new Uint8Array(63).fill(0xff)));
  });

  it("every length 0..200, whole buffers and at every start offset 0..8, in every container", async () => {
    for (const seed of seedList("codec-fast-paths:crc-lengths", 1)) {
      await withSeed(seed, () => {
        const rnd = new SeededRandom(seed);
        for (let length = 0; length <= 200; length++) {
          for (const fill of ["random", "zeros", "ones"] as const) {
            const bytes =
              fill === "random"
                ? rnd.bytes(length + 16)
                : new Uint8Array(length + 16).fill(fill === "zeros" ? 0 : 0xff);
            const exact = bytes.subarray(0, length);
            for (const kind of CONTAINERS) {
              const data = inContainer(exact, kind);
              expect(crc32(data), `${kind} length ${length} ${fill}`).toBe(referenceCrc(data));
              expect(crc32(data, 0, length)).toBe(referenceCrc(data));
            }
            expect(crc32(exact)).toBe(bitwiseCrc(exact));
            // Sub-ranges of a bigger buffer: [start, start + length).
            for (let start = 0; start <= 8; start++) {
              const end = start + length;
              for (const kind of CONTAINERS) {
                const data = inContainer(bytes, kind);
                expect(crc32(data, start, end), `${kind} [${start}, ${end}) ${fill}`).toBe(
                  referenceCrc(data, start, end),
                );
              }
            }
          }
        }
        process.stdout.write(`codec-fast-paths crc-lengths: seed ${seed}, lengths 0..200\n`);
      });
    }
  });

  it("random buffers and random sub-ranges", async () => {
    await check(
      "crc-ranges",
      3000,
      fc.property(
        fc.uint8Array({ maxLength: 400 }),
        fc.nat(),
        fc.nat(),
        fc.constantFrom(...CONTAINERS),
        (bytes, a, b, kind) => {
          const data = inContainer(bytes, kind);
          const start = a % (bytes.length + 1);
          const end = start + (b % (bytes.length - start + 1));
          expect(crc32(data, start, end)).toBe(referenceCrc(data, start, end));
          expect(crc32(data, start)).toBe(referenceCrc(data, start));
          expect(crc32(data)).toBe(referenceCrc(data));
          expect(crc32(data.subarray(start, end))).toBe(bitwiseCrc(bytes.subarray(start, end)));
        },
      ),
    );
  });

  it("returns an unsigned 32-bit integer", () => {
    for (let length = 0; length < 130; length++) {
      const value = crc32(new Uint8Array(length).fill(length));
      expect(
        Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff,
        `length ${length}: ${value}`,
      ).toBe(true);
    }
  });
});

// ---------------------------------------------------------------------------------------------

const KINDS = [FrameKind.BEGIN, FrameKind.VERSION, FrameKind.SCHEMA, FrameKind.COMMIT, FrameKind.GC];

function expectFrame(
  decoded: DecodedFrame | string,
  kind: FrameKind,
  lsn: number,
  payload: Uint8Array,
): void {
  expect(isFrame(decoded as DecodedFrame), `decoded: ${String(decoded)}`).toBe(true);
  const frame = decoded as DecodedFrame;
  expect(frame.kind).toBe(kind);
  expect(frame.lsn).toBe(lsn);
  expect(Buffer.from(frame.payload).equals(Buffer.from(payload))).toBe(true);
  expect(frame.size).toBe(payload.length + FRAME_OVERHEAD);
}

describe("frames: encodeFrame / decodeFrame round-trip LSNs across the safe-integer range", () => {
  it("landmark LSNs, every kind, payloads around the crc32 switch, at offsets in bigger buffers", () => {
    const payloadLengths = [0, 1, 12, 46, 47, 50, 51, 52, 100, 1000];
    for (const lsn of SAFE_LANDMARKS.filter((n) => n >= 1)) {
      for (const kind of KINDS) {
        for (const length of payloadLengths) {
          const payload = Uint8Array.from({ length }, (_, i) => (i * 31 + lsn) & 0xff);
          const frame = encodeFrame(kind, lsn, payload);
          expect(frame.length).toBe(length + FRAME_OVERHEAD);
          // The LSN field holds the exact u64; the CRC covers header and payload.
          expect(u64(frame, 5)).toBe(BigInt(lsn));
          expect(u32(frame, FRAME_HEADER_BYTES + length)).toBe(
            bitwiseCrc(frame.subarray(0, FRAME_HEADER_BYTES + length)),
          );
          for (const containerKind of CONTAINERS) {
            const decoded = decodeFrame(inContainer(frame, containerKind), 0);
            expectFrame(decoded, kind, lsn, payload);
            expect((decoded as DecodedFrame).crc).toBe(u32(frame, FRAME_HEADER_BYTES + length));
          }
          // At an offset, with bytes after it.
          const padded = new Uint8Array(frame.length + 10);
          padded.set(frame, 7);
          expectFrame(decodeFrame(inContainer(padded, "view"), 7), kind, lsn, payload);
        }
      }
    }
  });

  it("random LSNs, payloads and offsets", async () => {
    await check(
      "frame-roundtrip",
      2000,
      fc.property(
        fc.constantFrom(...KINDS),
        safeNat.filter((n) => n >= 1),
        fc.uint8Array({ maxLength: 160 }),
        fc.nat({ max: 20 }),
        fc.constantFrom(...CONTAINERS),
        (kind, lsn, payload, offset, containerKind) => {
          const frame = encodeFrame(kind, lsn, payload);
          const buf = new Uint8Array(offset + frame.length + 3);
          buf.set(frame, offset);
          expectFrame(decodeFrame(inContainer(buf, containerKind), offset), kind, lsn, payload);
        },
      ),
    );
  });

  it("any u64 in the LSN field decodes as Number(u64), as the DataView + BigInt decoder did", async () => {
    await check(
      "frame-u64",
      2000,
      fc.property(
        fc.oneof(
          fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
          fc.bigInt({ min: 0n, max: 2n ** 53n + 10n }),
          fc.constantFrom(2n ** 53n + 1n, 2n ** 53n + 3n, 2n ** 64n - 1n, 2n ** 63n, 2n ** 54n + 2n),
        ),
        fc.uint8Array({ maxLength: 70 }),
        (lsn, payload) => {
          // Built by hand: encodeFrame takes a number.
          const frame = new Uint8Array(payload.length + FRAME_OVERHEAD);
          const view = new DataView(frame.buffer);
          view.setUint32(0, payload.length, true);
          view.setUint8(4, FrameKind.VERSION);
          view.setBigUint64(5, lsn, true);
          frame.set(payload, FRAME_HEADER_BYTES);
          view.setUint32(
            FRAME_HEADER_BYTES + payload.length,
            bitwiseCrc(frame.subarray(0, FRAME_HEADER_BYTES + payload.length)),
            true,
          );
          const decoded = decodeFrame(frame, 0);
          expect(isFrame(decoded)).toBe(true);
          expect((decoded as DecodedFrame).lsn).toBe(Number(lsn));
        },
      ),
    );
  });

  it("a frame with any single bit flipped is a defect, never a frame", async () => {
    for (const seed of seedList("codec-fast-paths:frame-bitflip", 1)) {
      await withSeed(seed, () => {
        const rnd = new SeededRandom(seed);
        for (const length of [0, 12, 50, 51, 52, 90]) {
          const frame = encodeFrame(FrameKind.VERSION, 2 ** 40 + 7, rnd.bytes(length));
          for (let bit = 0; bit < frame.length * 8; bit++) {
            const copy = frame.slice();
            copy[bit >> 3] = (copy[bit >> 3] as number) ^ (1 << (bit & 7));
            const decoded = decodeFrame(copy, 0);
            expect(typeof decoded, `length ${length}, bit ${bit}`).toBe("string");
          }
        }
      });
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe("BEGIN and COMMIT payloads round-trip commit ids and record counts", () => {
  it("landmark commit ids and record counts up to 2^32-1", () => {
    for (const commitId of SAFE_LANDMARKS) {
      for (const recordCount of U32_LANDMARKS) {
        const begin = encodeBegin(commitId, recordCount);
        expect(u64(begin)).toBe(BigInt(commitId));
        expect(u32(begin, 8)).toBe(recordCount);
        for (const kind of CONTAINERS) {
          expect(decodeBegin(inContainer(begin, kind))).toEqual({ commitId, recordCount });
        }
      }
      const commit = encodeCommit(commitId);
      expect(u64(commit)).toBe(BigInt(commitId));
      for (const kind of CONTAINERS) expect(decodeCommit(inContainer(commit, kind))).toBe(commitId);
    }
  });

  it("random commit ids and record counts", async () => {
    await check(
      "unit-roundtrip",
      2000,
      fc.property(safeNat, u32Arb, fc.constantFrom(...CONTAINERS), (commitId, recordCount, kind) => {
        expect(decodeBegin(inContainer(encodeBegin(commitId, recordCount), kind))).toEqual({
          commitId,
          recordCount,
        });
        expect(decodeCommit(inContainer(encodeCommit(commitId), kind))).toBe(commitId);
      }),
    );
  });

  it("any bytes decode as Number(u64) and the u32, as the DataView + BigInt decoder did", async () => {
    await check(
      "unit-any-bytes",
      2000,
      fc.property(
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        fc.constantFrom(...CONTAINERS),
        (bytes, kind) => {
          const payload = inContainer(bytes, kind);
          expect(decodeBegin(payload)).toEqual({
            commitId: Number(u64(payload)),
            recordCount: u32(payload, 8),
          });
          const commit = payload.subarray(0, 8);
          expect(decodeCommit(commit)).toBe(Number(u64(commit)));
        },
      ),
    );
  });

  it("wrong payload lengths: null", () => {
    for (const length of [0, 7, 8, 11, 13, 16]) {
      if (length !== 12) expect(decodeBegin(new Uint8Array(length))).toBeNull();
    }
    for (const length of [0, 7, 9, 12]) expect(decodeCommit(new Uint8Array(length))).toBeNull();
  });
});

describe("in-place decoding (the WAL scan): the same fields as decodeFrame, decodeBegin and decodeCommit", () => {
  it("decodeFrameAt gives decodeFrame's fields with the payload as a range, at any offset", async () => {
    await check(
      "frame-at",
      1500,
      fc.property(
        fc.constantFrom(FrameKind.BEGIN, FrameKind.VERSION, FrameKind.SCHEMA, FrameKind.COMMIT, FrameKind.GC),
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.integer({ min: 0, max: 9 }),
        fc.boolean(),
        (kind, lsn, payload, pad, damage) => {
          const frame = encodeFrame(kind, lsn, payload);
          const buf = new Uint8Array(pad + frame.length + 3).fill(0x5a);
          buf.set(frame, pad);
          const at = pad + FRAME_HEADER_BYTES + (payload.length >> 1);
          if (damage) buf[at] = (buf[at] as number) ^ 0x10;
          const cursor = newFrameCursor();
          const defect = decodeFrameAt(buf, pad, cursor);
          const reference = decodeFrame(buf, pad);
          if (!isFrame(reference)) {
            expect(defect).toBe(reference);
            return;
          }
          expect(defect).toBeNull();
          expect({
            kind: cursor.kind,
            lsn: cursor.lsn,
            crc: cursor.crc,
            size: cursor.size,
            payload: Array.from(
              buf.subarray(cursor.payloadStart, cursor.payloadStart + cursor.payloadLength),
            ),
          }).toEqual({ ...reference, payload: Array.from(reference.payload) });
          expect(cursor.payloadStart).toBe(pad + FRAME_HEADER_BYTES);
        },
      ),
    );
  });

  it("BEGIN and COMMIT fields read in place equal the payload decoders; a COMMIT of another length is null", async () => {
    await check(
      "unit-at",
      1500,
      fc.property(safeNat, u32Arb, fc.integer({ min: 0, max: 9 }), (commitId, recordCount, pad) => {
        const begin = encodeBegin(commitId, recordCount);
        const commit = encodeCommit(commitId);
        const buf = new Uint8Array(pad + begin.length + commit.length).fill(0xc3);
        buf.set(begin, pad);
        buf.set(commit, pad + begin.length);
        expect(beginCommitIdAt(buf, pad)).toBe(decodeBegin(begin)?.commitId);
        expect(beginRecordCountAt(buf, pad)).toBe(decodeBegin(begin)?.recordCount);
        expect(commitIdAt(buf, pad + begin.length, commit.length)).toBe(decodeCommit(commit));
        for (const length of [0, 7, 9, 12]) expect(commitIdAt(buf, pad, length)).toBeNull();
      }),
    );
  });
});
