// Hostile segment files: every one gives the right typed AeroError or a reported torn tail;
// never another exception, never a hang, never a valid unit skipped or a damaged one accepted.
import { AeroError, type SimFileSystem, seedList } from "@aerodb/base";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  crc32,
  decodeSegmentHeader,
  encodeBegin,
  encodeCommit,
  encodeSegmentHeader,
  FrameKind,
  MAX_FRAME_PAYLOAD,
  SEGMENT_HEADER_BYTES,
  segmentFileName,
  type UnitInput,
} from "../src/index.js";
import {
  appendUnits,
  collect,
  concat,
  diskWithSegments,
  diskWithUnits,
  FrameBuilder,
  freshDisk,
  logBytes,
  open,
  overwrite,
  segmentNames,
  shape,
  snapshotDir,
  unitFor,
  WAL_DIR,
} from "./helpers.js";

const FIRST = segmentFileName(1);
const FATAL_WAL_CODES = [
  "AERO_WAL_CORRUPTION",
  "AERO_WAL_UNIT_INCOMPLETE",
  "AERO_STORAGE_FORMAT_UNSUPPORTED",
  "AERO_MVCC_COMMIT_ORDER",
];

/** Where each unit of a one-segment log starts and ends. */
function unitSpans(builder: FrameBuilder, framesPerUnit: readonly number[]): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  let frame = 0;
  for (const n of framesPerUnit) {
    const start = builder.offsets[frame] as number;
    const lastFrame = builder.frames[frame + n - 1] as Uint8Array;
    spans.push([start, (builder.offsets[frame + n - 1] as number) + lastFrame.length]);
    frame += n;
  }
  return spans;
}

type Outcome =
  | { kind: "error"; error: AeroError }
  | { kind: "ok"; units: ReturnType<typeof shape>[]; tornTail: { offset: number; segment: string } | null };

/**
 * Recovers `disk` (scan + cut) and classifies the result. Anything but an AeroError fails the
 * test. A failed recovery must leave the files as they were; a successful one must leave a
 * clean log that a second scan reads the same way.
 */
async function recover(disk: SimFileSystem): Promise<Outcome> {
  const before = await snapshotDir(disk);
  const units: ReturnType<typeof shape>[] = [];
  let opened: Awaited<ReturnType<typeof open>>;
  try {
    opened = await open(disk, { onUnit: (u) => units.push(shape(u)) });
  } catch (err) {
    if (!(err instanceof AeroError)) throw err;
    expect(await snapshotDir(disk)).toEqual(before);
    return { kind: "error", error: err };
  }
  await opened.writer.close();
  const again = await collect(disk);
  expect(again.scan.tornTail).toBeNull();
  expect(again.units.map(shape)).toEqual(units);
  return { kind: "ok", units, tornTail: opened.scan.tornTail };
}

describe("truncated segment headers", () => {
  const header = encodeSegmentHeader({
    databaseId: "a3e0db00000000000000000000000de0",
    firstLsn: 1,
    prevFrameCrc: 0,
  });

  it.each([0, 1, 8, 12, 30, 44, 47])(
    "the only segment, %i bytes: a torn tail, the file removed",
    async (n) => {
      const disk = await diskWithSegments([{ firstLsn: 1, bytes: header.subarray(0, n) }]);
      const { scan } = await collect(disk);
      expect(scan.tornTail).toEqual({ segment: FIRST, offset: 0, bytesCut: n, recordsCut: 0 });
      expect(scan.lastLsn).toBe(0);
      const { writer } = await open(disk);
      expect(await segmentNames(disk)).toEqual([]);
      const unit = await writer.appendUnit(unitFor(1));
      expect(unit.beginLsn).toBe(1);
      await writer.close();
      expect((await collect(disk.crash(1))).units.map((u) => u.commitId)).toEqual([1]);
    },
  );

  it("the last segment's header cut short after a full segment: torn tail, earlier units intact", async () => {
    const { disk, inputs } = await diskWithUnits(10, { segmentBytes: 400 });
    const names = await segmentNames(disk);
    const last = names.at(-1) as string;
    // Rebuild the log without the last segment's units, then add a cut header for it.
    for (const name of names.slice(-1)) await disk.unlink(`${WAL_DIR}/${name}`);
    const kept = (await collect(disk)).units.length;
    const lastHeader = encodeSegmentHeader({
      databaseId: "a3e0db00000000000000000000000de0",
      firstLsn: Number(last.slice(0, 20)),
      prevFrameCrc: 0,
    });
    await overwrite(disk, `${WAL_DIR}/${last}`, lastHeader.subarray(0, 40));
    const outcome = await recover(disk);
    expect(outcome).toMatchObject({ kind: "ok", tornTail: { segment: last, offset: 0 } });
    expect(outcome.kind === "ok" && outcome.units).toEqual(inputs.slice(0, kept).map(shape));
    expect(await segmentNames(disk)).toEqual(names.slice(0, -1));
  });

  it("a cut header in a segment that is not the last is WAL_CORRUPTION", async () => {
    const { disk } = await diskWithUnits(12, { segmentBytes: 400 });
    const names = await segmentNames(disk);
    expect(names.length).toBeGreaterThan(2);
    const name = names[1] as string;
    await overwrite(disk, `${WAL_DIR}/${name}`, (await disk.readFile(`${WAL_DIR}/${name}`)).subarray(0, 30));
    const outcome = await recover(disk);
    expect(outcome.kind).toBe("error");
    expect(outcome.kind === "error" && outcome.error.code).toBe("AERO_WAL_CORRUPTION");
    expect(outcome.kind === "error" && outcome.error.details).toMatchObject({ segment: name, offset: 0 });
  });
});

/** Sets the u32 length field of the frame at `offset` (the CRC no longer matches). */
function setLength(bytes: Uint8Array, offset: number, length: number): Uint8Array {
  const out = bytes.slice();
  new DataView(out.buffer).setUint32(offset, length, true);
  return out;
}

describe("length fields", () => {
  const b = new FrameBuilder().unit(1, ["a", "bb"]).unit(2, ["ccc"]).unit(3, ["dddd"]);
  const seg = b.segment(1);
  const spans = unitSpans(b, [4, 3, 3]);

  it.each([0xffffffff, MAX_FRAME_PAYLOAD + 1, MAX_FRAME_PAYLOAD, 0x10000])(
    "length %i mid-log is WAL_CORRUPTION at that frame",
    async (length) => {
      const at = b.offsets[4] as number; // BEGIN of unit 2
      const disk = await diskWithSegments([{ firstLsn: 1, bytes: setLength(seg, at, length) }]);
      const outcome = await recover(disk);
      expect(outcome.kind === "error" && outcome.error.code).toBe("AERO_WAL_CORRUPTION");
      expect(outcome.kind === "error" && outcome.error.details).toMatchObject({ segment: FIRST, offset: at });
    },
  );

  it.each([0xffffffff, 1000])(
    "length %i on the final frame of the log: the last unit is a torn tail",
    async (length) => {
      const at = b.offsets.at(-1) as number; // COMMIT of unit 3
      const disk = await diskWithSegments([{ firstLsn: 1, bytes: setLength(seg, at, length) }]);
      const outcome = await recover(disk);
      expect(outcome).toMatchObject({ kind: "ok", tornTail: { segment: FIRST, offset: spans[2]?.[0] } });
      expect(outcome.kind === "ok" && outcome.units.map((u) => u.commitId)).toEqual([1, 2]);
    },
  );

  it.each([0xffffffff, 1000, 30])(
    "length %i past EOF in a segment that is not the last is WAL_CORRUPTION",
    async (length) => {
      const next = new FrameBuilder(b.nextLsn).unit(4, ["e"]);
      const disk = await diskWithSegments([
        { firstLsn: 1, bytes: setLength(seg, b.offsets.at(-1) as number, length) },
        { firstLsn: b.nextLsn, bytes: next.segment(b.nextLsn, b.lastCrc) },
      ]);
      const outcome = await recover(disk);
      expect(outcome.kind === "error" && outcome.error.code).toBe("AERO_WAL_CORRUPTION");
      expect(outcome.kind === "error" && outcome.error.details).toMatchObject({
        segment: FIRST,
        offset: b.offsets.at(-1),
      });
    },
  );

  it("a closed segment cut inside its last unit is WAL_CORRUPTION, not a torn tail", async () => {
    const next = new FrameBuilder(b.nextLsn).unit(4, ["e"]);
    const disk = await diskWithSegments([
      { firstLsn: 1, bytes: seg.subarray(0, seg.length - 3) },
      { firstLsn: b.nextLsn, bytes: next.segment(b.nextLsn, b.lastCrc) },
    ]);
    const outcome = await recover(disk);
    expect(outcome.kind === "error" && outcome.error.code).toBe("AERO_WAL_CORRUPTION");
  });
});

describe("a bit flip at every byte is detected", () => {
  async function flipEveryBit(
    segments: ReadonlyArray<{ firstLsn: number; bytes: Uint8Array }>,
    spans: Array<[number, number]>[],
    originals: ReturnType<typeof shape>[][],
  ) {
    let errors = 0;
    let torn = 0;
    for (const [s, segment] of segments.entries()) {
      for (let at = 0; at < segment.bytes.length; at++) {
        for (let bit = 0; bit < 8; bit++) {
          const bytes = segment.bytes.slice();
          bytes[at] = (bytes[at] as number) ^ (1 << bit);
          const disk = await diskWithSegments(segments.map((x, i) => (i === s ? { ...x, bytes } : x)));
          const outcome = await recover(disk);
          const where = `segment ${s}, byte ${at}, bit ${bit}`;
          if (outcome.kind === "error") {
            expect(["AERO_WAL_CORRUPTION", "AERO_WAL_UNIT_INCOMPLETE"], where).toContain(outcome.error.code);
            errors++;
            continue;
          }
          // Accepted only as a torn tail in the last segment that removes the damaged unit
          // and nothing before it.
          expect(s, where).toBe(segments.length - 1);
          expect(outcome.tornTail, where).not.toBeNull();
          const segSpans = spans[s] as Array<[number, number]>;
          const damaged = segSpans.findIndex(([from, to]) => at >= from && at < to);
          expect(damaged, where).toBeGreaterThanOrEqual(0);
          expect(outcome.tornTail?.offset, where).toBe(segSpans[damaged]?.[0]);
          const before = originals
            .slice(0, s)
            .flat()
            .concat((originals[s] ?? []).slice(0, damaged));
          expect(outcome.units, where).toEqual(before);
          torn++;
        }
      }
    }
    return { errors, torn };
  }

  it("a 3-unit one-segment log: every flip is an error or cuts exactly the damaged unit", async () => {
    const b = new FrameBuilder().unit(1, ["x"]).unit(2, ["yy", "zzz"]).unit(3, ["w"]);
    const seg = b.segment(1);
    const spans = unitSpans(b, [3, 4, 3]);
    const originals = [
      [1, ["x"]],
      [2, ["yy", "zzz"]],
      [3, ["w"]],
    ].map(([id, ps]) => ({
      commitId: id as number,
      records: (ps as string[]).map((p) => ({
        kind: FrameKind.VERSION,
        payload: Buffer.from(p).toString("hex"),
      })),
    }));
    const { errors, torn } = await flipEveryBit([{ firstLsn: 1, bytes: seg }], [spans], [originals]);
    expect(errors + torn).toBe(seg.length * 8);
    expect(torn).toBeGreaterThan(0); // flips in unit 3's last frames
    expect(errors).toBeGreaterThan(0);
  });

  it("a two-segment log: flips in the closed segment are always errors", async () => {
    const a = new FrameBuilder().unit(1, ["first"]).unit(2, ["second", "2b"]);
    const b = new FrameBuilder(a.nextLsn).unit(3, ["third"]).unit(4, ["fourth"]);
    const segments = [
      { firstLsn: 1, bytes: a.segment(1) },
      { firstLsn: a.nextLsn, bytes: b.segment(a.nextLsn, a.lastCrc) },
    ];
    const toShape = (id: number, ps: string[]) => ({
      commitId: id,
      records: ps.map((p) => ({ kind: FrameKind.VERSION, payload: Buffer.from(p).toString("hex") })),
    });
    const { errors, torn } = await flipEveryBit(
      segments,
      [unitSpans(a, [3, 4]), unitSpans(b, [3, 3])],
      [
        [toShape(1, ["first"]), toShape(2, ["second", "2b"])],
        [toShape(3, ["third"]), toShape(4, ["fourth"])],
      ],
    );
    expect(errors).toBeGreaterThan((segments[0]?.bytes.length ?? 0) * 8 - 1);
    expect(torn).toBeGreaterThan(0);
  });

  it("a log written by the WalWriter: same rule", async () => {
    const { disk, inputs } = await diskWithUnits(3, { make: (id) => unitFor(id, 2) });
    const bytes = logBytes(await disk.readFile(`${WAL_DIR}/${FIRST}`));
    // Re-derive unit spans from the appended layout: every unit is 4 frames.
    const frames: number[] = [];
    for (let off = SEGMENT_HEADER_BYTES; off < bytes.length; ) {
      frames.push(off);
      off += new DataView(bytes.buffer, bytes.byteOffset + off).getUint32(0, true) + 17;
    }
    const spans: Array<[number, number]> = [0, 1, 2].map((u) => [
      frames[u * 4] as number,
      (frames[u * 4 + 4] as number | undefined) ?? bytes.length,
    ]);
    for (let at = 0; at < bytes.length; at++) {
      const copy = bytes.slice();
      copy[at] = (copy[at] as number) ^ 0x40;
      const outcome = await recover(await diskWithSegments([{ firstLsn: 1, bytes: copy }]));
      if (outcome.kind === "error") {
        expect(["AERO_WAL_CORRUPTION", "AERO_WAL_UNIT_INCOMPLETE"]).toContain(outcome.error.code);
        continue;
      }
      const damaged = spans.findIndex(([from, to]) => at >= from && at < to);
      expect(outcome.tornTail?.offset, `byte ${at}`).toBe(spans[damaged]?.[0]);
      expect(outcome.units, `byte ${at}`).toEqual(inputs.slice(0, damaged).map(shape));
    }
  });
});

describe("random garbage (fast-check)", () => {
  const seed = seedList("wal-bad-input", 1)[0] as number;
  const runs = 300 * Math.max(1, Number(process.env.AERODB_RUNS ?? "1") || 1);

  it("any bytes as the only segment: an AeroError or a torn tail, never a unit", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), fc.boolean(), async (garbage, withHeader) => {
        const header = encodeSegmentHeader({
          databaseId: "a3e0db00000000000000000000000de0",
          firstLsn: 1,
          prevFrameCrc: 0,
        });
        const bytes = withHeader ? concat([header, garbage]) : garbage;
        const outcome = await recover(await diskWithSegments([{ firstLsn: 1, bytes }]));
        if (outcome.kind === "error") {
          expect(FATAL_WAL_CODES).toContain(outcome.error.code);
          return;
        }
        expect(outcome.units).toEqual([]);
        // A header followed only by zeros is an empty, preallocated segment: nothing to cut.
        if (!(withHeader && garbage.every((b) => b === 0))) expect(outcome.tornTail).not.toBeNull();
      }),
      { seed, numRuns: runs },
    );
  });

  const unitArb = fc.array(
    fc.record({
      kind: fc.constantFrom(FrameKind.VERSION as const, FrameKind.SCHEMA as const),
      payload: fc.uint8Array({ maxLength: 120 }),
    }),
    { minLength: 1, maxLength: 3 },
  );
  const mutationArb = fc.oneof(
    fc.record({
      op: fc.constant("overwrite" as const),
      at: fc.nat(),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 24 }),
    }),
    fc.record({
      op: fc.constant("insert" as const),
      at: fc.nat(),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 24 }),
    }),
    fc.record({ op: fc.constant("truncate" as const), at: fc.nat(), bytes: fc.constant(new Uint8Array(0)) }),
    fc.record({
      op: fc.constant("append" as const),
      at: fc.constant(0),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }),
    }),
  );

  it("a valid log with garbage written into it: never a damaged or skipped unit", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(unitArb, { minLength: 1, maxLength: 6 }), mutationArb, async (records, m) => {
        const inputs: UnitInput[] = records.map((r, i) => ({ commitId: i + 1, records: r }));
        const disk = await freshDisk();
        const { writer } = await open(disk);
        await appendUnits(writer, inputs.length, 1, (id) => inputs[id - 1] as UnitInput);
        await writer.close();
        const original = await disk.readFile(`${WAL_DIR}/${FIRST}`);
        const unitEnds: number[] = [];
        let off = SEGMENT_HEADER_BYTES;
        for (const input of inputs) {
          for (let f = 0; f < input.records.length + 2; f++) {
            off += new DataView(original.buffer, original.byteOffset + off).getUint32(0, true) + 17;
          }
          unitEnds.push(off);
        }
        const at = m.at % (original.length + 1);
        const mutated =
          m.op === "overwrite"
            ? concat([
                original.subarray(0, at),
                m.bytes,
                original.subarray(Math.min(original.length, at + m.bytes.length)),
              ])
            : m.op === "insert"
              ? concat([original.subarray(0, at), m.bytes, original.subarray(at)])
              : m.op === "truncate"
                ? original.subarray(0, at)
                : concat([original, m.bytes]);
        let firstDiff = 0;
        while (
          firstDiff < mutated.length &&
          firstDiff < original.length &&
          mutated[firstDiff] === original[firstDiff]
        ) {
          firstDiff++;
        }
        await overwrite(disk, `${WAL_DIR}/${FIRST}`, mutated);
        const outcome = await recover(disk);
        if (outcome.kind === "error") {
          expect(FATAL_WAL_CODES).toContain(outcome.error.code);
          return;
        }
        // A prefix of the appended units, byte for byte, holding every unit the garbage left alone.
        expect(outcome.units).toEqual(inputs.slice(0, outcome.units.length).map(shape));
        const untouched = unitEnds.filter((end) => end <= firstDiff).length;
        expect(outcome.units.length).toBeGreaterThanOrEqual(untouched);
        if (outcome.units.length > untouched) {
          // More than the untouched units only when the mutation kept them whole (e.g. an
          // overwrite with the same bytes, or garbage appended after the log).
          expect(
            Buffer.from(mutated.subarray(0, unitEnds[outcome.units.length - 1])).equals(
              Buffer.from(original.subarray(0, unitEnds[outcome.units.length - 1])),
            ),
          ).toBe(true);
        }
      }),
      { seed, numRuns: runs },
    );
  });

  it("a large garbage segment is refused or cut in bounded time", async () => {
    const big = new Uint8Array(2 * 1024 * 1024);
    let x = 0x9e3779b9;
    for (let i = 0; i < big.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      big[i] = x & 0xff;
    }
    const started = Date.now();
    const outcome = await recover(await diskWithSegments([{ firstLsn: 1, bytes: big }]));
    expect(outcome.kind === "ok" ? outcome.units : []).toEqual([]);
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});

describe("files in wal/ that are not segments", () => {
  it.each([
    "notes.txt",
    "1.wal",
    "0000000000000000001.wal",
    "00000000000000000000.wal",
    "00000000000000000001.wal.tmp",
    "00000000000000000001.WAL",
    ".00000000000000000001.wal",
  ])("%s is WAL_CORRUPTION reason unexpected_file, nothing changed", async (name) => {
    const { disk } = await diskWithUnits(3);
    await overwrite(disk, `${WAL_DIR}/${name}`, Uint8Array.from([1, 2, 3]));
    const outcome = await recover(disk);
    expect(outcome.kind === "error" && outcome.error.code).toBe("AERO_WAL_CORRUPTION");
    expect(outcome.kind === "error" && outcome.error.details).toMatchObject({
      segment: name,
      reason: "unexpected_file",
    });
  });

  it("a directory named like a segment is WAL_CORRUPTION reason unexpected_file", async () => {
    const { disk } = await diskWithUnits(3);
    const name = segmentFileName(1000);
    await disk.mkdir(`${WAL_DIR}/${name}`);
    const outcome = await recover(disk);
    expect(outcome.kind === "error" && outcome.error.code).toBe("AERO_WAL_CORRUPTION");
    expect(outcome.kind === "error" && outcome.error.details).toMatchObject({
      segment: name,
      reason: "unexpected_file",
    });
  });
});

describe("segment headers", () => {
  /** Rewrites a header field and re-CRCs the header so only that field is wrong. */
  function editHeader(bytes: Uint8Array, edit: (view: DataView) => void): Uint8Array {
    const out = bytes.slice();
    const view = new DataView(out.buffer);
    edit(view);
    view.setUint32(44, crc32(out, 0, 44), true);
    return out;
  }

  it.each([0, 2, 0xffff])(
    "format version %i is AERO_STORAGE_FORMAT_UNSUPPORTED, first or later segment",
    async (version) => {
      for (const index of [0, 1, -1]) {
        const { disk } = await diskWithUnits(12, { segmentBytes: 400 });
        const names = await segmentNames(disk);
        const name = names.at(index) as string;
        const bytes = await disk.readFile(`${WAL_DIR}/${name}`);
        await overwrite(
          disk,
          `${WAL_DIR}/${name}`,
          editHeader(bytes, (v) => v.setUint16(8, version, true)),
        );
        const outcome = await recover(disk);
        expect(outcome.kind === "error" && outcome.error.code).toBe("AERO_STORAGE_FORMAT_UNSUPPORTED");
        expect(outcome.kind === "error" && outcome.error.details).toMatchObject({ segment: name });
      }
    },
  );

  it("an unsupported version on a header-only last segment is still refused, not cut", async () => {
    const header = editHeader(
      encodeSegmentHeader({ databaseId: "a3e0db00000000000000000000000de0", firstLsn: 1, prevFrameCrc: 0 }),
      (v) => v.setUint16(8, 7, true),
    );
    const disk = await diskWithSegments([{ firstLsn: 1, bytes: header }]);
    const outcome = await recover(disk);
    expect(outcome.kind === "error" && outcome.error.code).toBe("AERO_STORAGE_FORMAT_UNSUPPORTED");
    expect(await segmentNames(disk)).toEqual([FIRST]);
  });

  it.each([
    ["magic", (v: DataView) => v.setUint8(0, 0x42)],
    ["header size", (v: DataView) => v.setUint16(10, 64, true)],
    ["reserved", (v: DataView) => v.setUint32(40, 1, true)],
    ["first LSN disagreeing with the name", (v: DataView) => v.setBigUint64(28, 2n, true)],
    ["previous CRC of the first segment", (v: DataView) => v.setUint32(36, 1, true)],
  ])("%s (re-CRC'd) with units after it is WAL_CORRUPTION", async (_label, edit) => {
    const { disk } = await diskWithUnits(3);
    const bytes = await disk.readFile(`${WAL_DIR}/${FIRST}`);
    await overwrite(disk, `${WAL_DIR}/${FIRST}`, editHeader(bytes, edit));
    const outcome = await recover(disk);
    expect(outcome.kind === "error" && outcome.error.code).toBe("AERO_WAL_CORRUPTION");
    expect(outcome.kind === "error" && outcome.error.details).toMatchObject({ segment: FIRST, offset: 0 });
  });

  it("a later segment whose previous-CRC breaks the chain is WAL_CORRUPTION", async () => {
    const { disk } = await diskWithUnits(12, { segmentBytes: 400 });
    const name = (await segmentNames(disk))[1] as string;
    const bytes = await disk.readFile(`${WAL_DIR}/${name}`);
    const header = decodeSegmentHeader(bytes);
    if (typeof header === "string") throw new Error("setup");
    await overwrite(
      disk,
      `${WAL_DIR}/${name}`,
      editHeader(bytes, (v) => v.setUint32(36, header.prevFrameCrc ^ 1, true)),
    );
    const outcome = await recover(disk);
    expect(outcome.kind === "error" && outcome.error.code).toBe("AERO_WAL_CORRUPTION");
  });
});

describe("commit ids out of order (valid CRCs)", () => {
  it.each([
    ["duplicate", [1, 2, 2], 2, 3],
    ["skipped", [1, 2, 4], 2, 3],
    ["lower", [1, 2, 1], 2, 3],
    ["first not 1", [2, 3], 0, 1],
    ["zero", [0], 0, 1],
  ])("%s -> AERO_MVCC_COMMIT_ORDER", async (_label, ids, badIndex, expected) => {
    const b = new FrameBuilder();
    const begins: number[] = [];
    for (const id of ids) {
      begins.push(b.offsets.length);
      b.unit(id, [`unit-${id}`]);
    }
    const disk = await diskWithSegments([{ firstLsn: 1, bytes: b.segment(1) }]);
    const outcome = await recover(disk);
    expect(outcome.kind === "error" && outcome.error.code).toBe("AERO_MVCC_COMMIT_ORDER");
    expect(outcome.kind === "error" && outcome.error.details).toMatchObject({
      segment: FIRST,
      offset: b.offsets[begins[badIndex] as number],
      expected_commit_id: expected,
      found_commit_id: ids[badIndex],
    });
  });

  it("ids out of order across a segment boundary", async () => {
    const a = new FrameBuilder().unit(1, ["a"]).unit(2, ["b"]);
    const c = new FrameBuilder(a.nextLsn).unit(4, ["c"]);
    const disk = await diskWithSegments([
      { firstLsn: 1, bytes: a.segment(1) },
      { firstLsn: a.nextLsn, bytes: c.segment(a.nextLsn, a.lastCrc) },
    ]);
    const outcome = await recover(disk);
    expect(outcome.kind === "error" && outcome.error.code).toBe("AERO_MVCC_COMMIT_ORDER");
  });
});

describe("malformed unit structure (valid CRCs) is WAL_CORRUPTION", () => {
  const enc = new TextEncoder();
  const cases: Array<[string, (b: FrameBuilder) => void]> = [
    ["a VERSION outside a unit", (b) => b.frame(FrameKind.VERSION, enc.encode("stray")).unit(2, ["x"])],
    ["a COMMIT outside a unit", (b) => b.frame(FrameKind.COMMIT, encodeCommit(2)).unit(2, ["x"])],
    [
      "a BEGIN inside an open unit",
      (b) =>
        b.frame(FrameKind.BEGIN, encodeBegin(2, 1)).frame(FrameKind.BEGIN, encodeBegin(2, 1)).unit(3, ["x"]),
    ],
    [
      "more records than BEGIN declared",
      (b) =>
        b
          .frame(FrameKind.BEGIN, encodeBegin(2, 1))
          .frame(FrameKind.VERSION, enc.encode("1"))
          .frame(FrameKind.VERSION, enc.encode("2"))
          .frame(FrameKind.COMMIT, encodeCommit(2)),
    ],
    [
      "a COMMIT id differing from its BEGIN",
      (b) =>
        b
          .frame(FrameKind.BEGIN, encodeBegin(2, 1))
          .frame(FrameKind.VERSION, enc.encode("1"))
          .frame(FrameKind.COMMIT, encodeCommit(3)),
    ],
    [
      "a BEGIN declaring 0 records",
      (b) => b.frame(FrameKind.BEGIN, encodeBegin(2, 0)).frame(FrameKind.COMMIT, encodeCommit(2)),
    ],
    [
      "a BEGIN declaring more than 1,000,000 records",
      (b) =>
        b
          .frame(FrameKind.BEGIN, encodeBegin(2, 1_000_001))
          .frame(FrameKind.VERSION, enc.encode("1"))
          .frame(FrameKind.COMMIT, encodeCommit(2)),
    ],
    [
      "a BEGIN payload of the wrong size",
      (b) => b.frame(FrameKind.BEGIN, new Uint8Array(11)).frame(FrameKind.COMMIT, encodeCommit(2)),
    ],
    [
      "a COMMIT payload of the wrong size",
      (b) =>
        b
          .frame(FrameKind.BEGIN, encodeBegin(2, 1))
          .frame(FrameKind.VERSION, enc.encode("1"))
          .frame(FrameKind.COMMIT, new Uint8Array(9)),
    ],
    [
      "a GC record inside a unit",
      (b) =>
        b
          .frame(FrameKind.BEGIN, encodeBegin(2, 1))
          .frame(FrameKind.GC, enc.encode("gc"))
          .frame(FrameKind.VERSION, enc.encode("1"))
          .frame(FrameKind.COMMIT, encodeCommit(2)),
    ],
  ];

  it.each(cases)("%s", async (_label, build) => {
    const b = new FrameBuilder().unit(1, ["ok"]);
    const badAt = b.offsets.length;
    build(b);
    const disk = await diskWithSegments([{ firstLsn: 1, bytes: b.segment(1) }]);
    const outcome = await recover(disk);
    expect(outcome.kind === "error" && outcome.error.code).toBe("AERO_WAL_CORRUPTION");
    expect(outcome.kind === "error" && (outcome.error.details?.offset as number)).toBeGreaterThanOrEqual(
      b.offsets[badAt] as number,
    );
  });

  it("a unit running off the end of a closed segment is WAL_CORRUPTION", async () => {
    const a = new FrameBuilder().unit(1, ["a"]).frame(FrameKind.BEGIN, encodeBegin(2, 1));
    const c = new FrameBuilder(a.nextLsn)
      .frame(FrameKind.VERSION, enc.encode("v"))
      .frame(FrameKind.COMMIT, encodeCommit(2));
    const disk = await diskWithSegments([
      { firstLsn: 1, bytes: a.segment(1) },
      { firstLsn: a.nextLsn, bytes: c.segment(a.nextLsn, a.lastCrc) },
    ]);
    const outcome = await recover(disk);
    expect(outcome.kind === "error" && outcome.error.code).toBe("AERO_WAL_CORRUPTION");
  });

  it("a log whose first frame's LSN is not the segment's first LSN is WAL_CORRUPTION reason lsn_gap", async () => {
    const b = new FrameBuilder(2).unit(1, ["a"]);
    const disk = await diskWithSegments([{ firstLsn: 1, bytes: b.segment(1) }]);
    const outcome = await recover(disk);
    expect(outcome.kind === "error" && outcome.error.details).toMatchObject({
      reason: "lsn_gap",
      expected_lsn: 1,
      found_lsn: 2,
    });
  });

  it("a huge LSN in a frame is an LSN gap, not a crash", async () => {
    const b = new FrameBuilder().unit(1, ["a"]);
    b.frame(FrameKind.BEGIN, encodeBegin(2, 1), 2 ** 62)
      .frame(FrameKind.VERSION, enc.encode("v"))
      .frame(FrameKind.COMMIT, encodeCommit(2));
    const disk = await diskWithSegments([{ firstLsn: 1, bytes: b.segment(1) }]);
    const outcome = await recover(disk);
    expect(outcome.kind === "error" && outcome.error.details).toMatchObject({ reason: "lsn_gap" });
  });

  it("a standalone GC record between units is accepted and delivered to onGc", async () => {
    const b = new FrameBuilder().unit(1, ["a"]).frame(FrameKind.GC, enc.encode("gc")).unit(2, ["b"]);
    const disk = await diskWithSegments([{ firstLsn: 1, bytes: b.segment(1) }]);
    const outcome = await recover(disk);
    expect(outcome.kind === "ok" && outcome.units.map((u) => u.commitId)).toEqual([1, 2]);
  });
});
