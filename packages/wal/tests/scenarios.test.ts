// The WAL scenarios of core.md §13 (WAL. 1–9) and the rest of core.md §1 at the WAL level:
// segment rolls, missing and foreign segments, truncation, fsync and write failures, and
// the asynchronous commit path (ARCHITECTURE §4).
import {
  AeroError,
  DelegatingFileSystem,
  delegatingHandle,
  type FileHandle,
  type FileSystem,
  type OpenMode,
  type OpenOptions,
  SimFileSystem,
  SimulatedCrash,
} from "@aerodb/base";
import { describe, expect, it } from "vitest";
import {
  type AppendedUnit,
  crc32,
  cutTornTail,
  decodeFrame,
  decodeSegmentHeader,
  encodeBegin,
  encodeSegmentHeader,
  FrameKind,
  type FrameLocation,
  FrameReader,
  isFrame,
  openWal,
  parseSegmentFileName,
  type ScannedUnit,
  SEGMENT_HEADER_BYTES,
  scanWal,
  type TornTail,
  type UnitInput,
  type WalBoundary,
} from "../src/index.js";
import {
  appendUnits,
  collect,
  concat,
  DB_DIR,
  DB_ID,
  diskWithSegments,
  diskWithUnits,
  expectAeroError,
  FrameBuilder,
  freshDisk,
  logBytes,
  OTHER_DB_ID,
  open,
  overwrite,
  SEGMENT_BYTES,
  segmentNames,
  shape,
  snapshotDir,
  unitFor,
  versionRecord,
  WAL_DIR,
} from "./helpers.js";

const dec = new TextDecoder();

/** Frames per unit = BEGIN + records + COMMIT. */
function framesOf(unit: UnitInput): number {
  return unit.records.length + 2;
}

/** A segment's log bytes (without the preallocated zero padding after the last frame). */
async function fileBytes(fs: FileSystem, name: string): Promise<Uint8Array> {
  return logBytes(await fs.readFile(`${WAL_DIR}/${name}`));
}

/** The byte offset and size of every frame of a one-segment log, in order. */
function frameOffsets(bytes: Uint8Array): Array<{ offset: number; size: number; kind: FrameKind }> {
  const out: Array<{ offset: number; size: number; kind: FrameKind }> = [];
  let off = SEGMENT_HEADER_BYTES;
  while (off < bytes.length) {
    const f = decodeFrame(bytes, off);
    if (!isFrame(f)) throw new Error(`test setup: no frame at ${off}`);
    out.push({ offset: off, size: f.size, kind: f.kind });
    off += f.size;
  }
  return out;
}

describe("WAL.1 10 commits, reopen: LSN and CommitId continue", () => {
  it.each(["a clean close", "a power loss"])("continues LSNs and commit ids after %s", async (how) => {
    const disk = await freshDisk();
    const { writer } = await open(disk);
    const appended = await appendUnits(writer, 10);
    if (how === "a clean close") await writer.close();
    const expectedLastLsn = appended.reduce((n, u) => n + (u.commitLsn - u.beginLsn + 1), 0);
    expect(appended[9]?.commitLsn).toBe(expectedLastLsn);

    // Everything was acknowledged, so a power loss keeps it all.
    for (const fs of [how === "a clean close" ? disk : disk.crash(101)]) {
      const units: number[] = [];
      const { writer: next, scan } = await open(fs, { onUnit: (u) => units.push(u.commitId) });
      expect(scan.lastCommitId).toBe(10);
      expect(scan.lastLsn).toBe(expectedLastLsn);
      expect(scan.tornTail).toBeNull();
      expect(units).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(next.expectedCommitId).toBe(11);
      const eleventh = await next.appendUnit(unitFor(11));
      expect(eleventh.commitId).toBe(11);
      expect(eleventh.beginLsn).toBe(expectedLastLsn + 1);
      expect(eleventh.commitLsn).toBe(expectedLastLsn + framesOf(unitFor(11)));
      await next.close();
      const again = await collect(fs);
      expect(again.scan.lastCommitId).toBe(11);
      expect(again.units.map((u) => u.commitId)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    }
  });

  it("refuses a unit that does not carry the next commit id (WAL-3: single writer, dense ids)", async () => {
    const disk = await freshDisk();
    const { writer } = await open(disk);
    await appendUnits(writer, 2);
    const err = await expectAeroError(() => writer.appendUnit(unitFor(4)), "AERO_INTERNAL_INVARIANT");
    expect(err.details).toMatchObject({ expected_commit_id: 3, found_commit_id: 4 });
    await expectAeroError(() => writer.appendUnit(unitFor(2)), "AERO_INTERNAL_INVARIANT");
    await expectAeroError(() => writer.appendUnit({ commitId: 3, records: [] }), "AERO_INTERNAL_INVARIANT");
    // The refused calls consumed nothing: commit 3 still fits.
    const third = await writer.appendUnit(unitFor(3));
    expect(third.commitId).toBe(3);
    await writer.close();
    await expectAeroError(() => writer.appendUnit(unitFor(4)), "AERO_WAL_CLOSED");
  });
});

describe("WAL.2 first LSN and CommitId are 1; a unit is readable once appended", () => {
  it("starts at 1 and reads each appended record back right after the append resolves", async () => {
    const disk = await freshDisk();
    const { writer, scan } = await open(disk);
    expect(scan.lastLsn).toBe(0);
    expect(scan.lastCommitId).toBe(0);
    const reader = new FrameReader(disk, WAL_DIR);
    let expectedLsn = 1;
    for (let id = 1; id <= 5; id++) {
      const input = unitFor(id);
      const unit = await writer.appendUnit(input);
      expect(unit.commitId).toBe(id);
      expect(unit.beginLsn).toBe(expectedLsn);
      expect(unit.records.map((r) => r.lsn)).toEqual(input.records.map((_, i) => expectedLsn + 1 + i));
      expectedLsn = unit.commitLsn + 1;
      for (const [i, record] of unit.records.entries()) {
        await reader.openSegment(record.location.segment);
        const frame = reader.readSync(record.location);
        expect(frame.lsn).toBe(record.lsn);
        expect(frame.kind).toBe(input.records[i]?.kind);
        expect(Buffer.from(frame.payload).equals(Buffer.from(input.records[i]?.payload ?? []))).toBe(true);
      }
    }
    const first = (await collect(disk)).units[0];
    expect(first?.commitId).toBe(1);
    expect(first?.beginLsn).toBe(1);
    await reader.closeAll();
    await writer.close();
  });

  it("FrameReader refuses a damaged frame with AERO_DATA_CORRUPTION naming its location", async () => {
    const { disk, appended } = await diskWithUnits(2);
    const location = appended[1]?.records[0]?.location;
    if (!location) throw new Error("setup");
    const bytes = await fileBytes(disk, location.segment);
    bytes[location.offset + 15] = (bytes[location.offset + 15] as number) ^ 0x01;
    await overwrite(disk, `${WAL_DIR}/${location.segment}`, bytes);
    const reader = new FrameReader(disk, WAL_DIR);
    await reader.openSegment(location.segment);
    const err = await expectAeroError(async () => reader.readSync(location), "AERO_DATA_CORRUPTION");
    expect(err.details).toMatchObject({ segment: location.segment, offset: location.offset, reason: "crc" });
    await reader.closeAll();
  });
});

describe("WAL.3 ins, upd, ins, del, upd replay in the same order", () => {
  it("scanWal delivers the five units in append order with the same payloads and kinds", async () => {
    const ops: UnitInput[] = [
      { commitId: 1, records: [versionRecord('{"op":"insert","_id":"a","v":1}')] },
      { commitId: 2, records: [versionRecord('{"op":"update","_id":"a","v":2}')] },
      { commitId: 3, records: [versionRecord('{"op":"insert","_id":"b","v":1}')] },
      { commitId: 4, records: [{ kind: FrameKind.VERSION, payload: new Uint8Array(0) }] },
      {
        commitId: 5,
        records: [
          versionRecord('{"op":"update","_id":"b","v":2}'),
          { kind: FrameKind.SCHEMA, payload: Uint8Array.from([0, 255, 1]) },
        ],
      },
    ];
    const { disk, appended } = await diskWithUnits(5, { make: (id) => ops[id - 1] as UnitInput });
    const { units, scan } = await collect(disk);
    expect(units.map(shape)).toEqual(ops.map(shape));
    expect(units.map((u) => [u.beginLsn, u.commitLsn])).toEqual(
      appended.map((u) => [u.beginLsn, u.commitLsn]),
    );
    expect(units.flatMap((u) => u.records.map((r) => r.location))).toEqual(
      appended.flatMap((u) => u.records.map((r) => r.location)),
    );
    expect(scan.unitsRead).toBe(5);
    expect(scan.unitsDelivered).toBe(5);
    expect(scan.recordsVerified).toBe(ops.reduce((n, u) => n + framesOf(u), 0));
    expect(dec.decode(units[0]?.records[0]?.payload)).toBe('{"op":"insert","_id":"a","v":1}');
  });
});

describe("WAL.4 a bit flip before valid records is WAL_CORRUPTION with segment and offset", () => {
  it.each([
    ["BEGIN of unit 2", 1, 0, 3],
    ["COMMIT of unit 1", 0, -1, 20],
    ["length field of BEGIN of unit 3", 2, 0, 1],
    ["LSN field of COMMIT of unit 2", 1, -1, 7],
  ])("flip in the %s", async (_label, unitIndex, frameIndex, byteInFrame) => {
    const { disk } = await diskWithUnits(5, { make: (id) => unitFor(id, 1) });
    const name = (await segmentNames(disk))[0] as string;
    const bytes = await fileBytes(disk, name);
    const frames = frameOffsets(bytes);
    // unitFor(id, 1) -> 3 frames per unit
    const idx = unitIndex * 3 + (frameIndex < 0 ? 2 : frameIndex);
    const frame = frames[idx];
    if (!frame) throw new Error("setup");
    const at = frame.offset + Math.min(byteInFrame, frame.size - 1);
    bytes[at] = (bytes[at] as number) ^ 0x10;
    await overwrite(disk, `${WAL_DIR}/${name}`, bytes);
    const before = await snapshotDir(disk);

    const err = await expectAeroError(() => collect(disk), "AERO_WAL_CORRUPTION");
    expect(err.severity).toBe("FATAL");
    expect(err.details).toMatchObject({ segment: name, offset: frame.offset });
    const viaOpen = await expectAeroError(() => open(disk), "AERO_WAL_CORRUPTION");
    expect(viaOpen.details).toEqual(err.details);
    expect(await snapshotDir(disk)).toEqual(before);
  });

  it("a damaged VERSION whose COMMIT follows is WAL_UNIT_INCOMPLETE (mvcc.md §5.2, §9), FATAL, nothing changed", async () => {
    for (const records of [1, 3]) {
      for (const damaged of Array.from({ length: records }, (_, i) => i)) {
        const { disk } = await diskWithUnits(4, { make: (id) => unitFor(id, records) });
        const name = (await segmentNames(disk))[0] as string;
        const bytes = await fileBytes(disk, name);
        const frames = frameOffsets(bytes);
        const frame = frames[records + 2 + 1 + damaged]; // unit 2, record `damaged`
        if (!frame || (frame.kind !== FrameKind.VERSION && frame.kind !== FrameKind.SCHEMA))
          throw new Error("setup");
        bytes[frame.offset + 14] = (bytes[frame.offset + 14] as number) ^ 0x04;
        await overwrite(disk, `${WAL_DIR}/${name}`, bytes);
        const before = await snapshotDir(disk);
        const err = await expectAeroError(() => open(disk));
        expect(err.severity).toBe("FATAL");
        expect(err.code, `records=${records} damaged=${damaged}: ${err.message}`).toBe(
          "AERO_WAL_UNIT_INCOMPLETE",
        );
        expect(err.details).toMatchObject({ segment: name, offset: frame.offset, commit_id: 2 });
        expect(await snapshotDir(disk)).toEqual(before);
      }
    }
  });

  it("a damaged VERSION of a durable unit in a closed segment is WAL_UNIT_INCOMPLETE too", async () => {
    const { disk } = await diskWithUnits(12, { segmentBytes: 300, make: (id) => unitFor(id, 3) });
    const names = await segmentNames(disk);
    expect(names.length).toBeGreaterThan(2);
    const name = names[0] as string;
    const bytes = await fileBytes(disk, name);
    const frame = frameOffsets(bytes)[1]; // the first VERSION of the segment's first unit
    if (!frame) throw new Error("setup");
    bytes[frame.offset + 20] = (bytes[frame.offset + 20] as number) ^ 0x01;
    await overwrite(disk, `${WAL_DIR}/${name}`, bytes);
    const err = await expectAeroError(() => open(disk), "AERO_WAL_UNIT_INCOMPLETE");
    expect(err.details).toMatchObject({ segment: name, offset: frame.offset, commit_id: 1 });
  });

  it("a flip in a closed (non-last) segment is WAL_CORRUPTION even at its end", async () => {
    const { disk } = await diskWithUnits(12, { segmentBytes: 300 });
    const names = await segmentNames(disk);
    expect(names.length).toBeGreaterThan(2);
    const name = names[0] as string;
    const bytes = await fileBytes(disk, name);
    const last = frameOffsets(bytes).at(-1);
    if (!last) throw new Error("setup");
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0x80; // the final COMMIT's CRC
    await overwrite(disk, `${WAL_DIR}/${name}`, bytes);
    const before = await snapshotDir(disk);
    const err = await expectAeroError(() => open(disk), "AERO_WAL_CORRUPTION");
    expect(err.details).toMatchObject({ segment: name, offset: last.offset, reason: "crc" });
    expect(await snapshotDir(disk)).toEqual(before);
  });
});

describe("WAL.5 a torn final unit is cut, reported, and the rest is intact", () => {
  it("last unit 10 bytes short", async () => {
    const { disk, inputs, appended } = await diskWithUnits(6);
    const name = (await segmentNames(disk))[0] as string;
    const bytes = await fileBytes(disk, name);
    const lastUnit = appended[5] as AppendedUnit;
    const lastUnitStart = frameOffsets(bytes).length - framesOf(inputs[5] as UnitInput);
    const unitOffset = frameOffsets(bytes)[lastUnitStart]?.offset as number;
    await overwrite(disk, `${WAL_DIR}/${name}`, bytes.subarray(0, bytes.length - 10));

    const { units, scan } = await collect(disk);
    expect(scan.tornTail).toEqual({
      segment: name,
      offset: unitOffset,
      bytesCut: bytes.length - 10 - unitOffset,
      // the BEGIN and the records were intact; only the COMMIT was torn
      recordsCut: (inputs[5] as UnitInput).records.length + 1,
    });
    expect(units.map(shape)).toEqual(inputs.slice(0, 5).map(shape));
    expect(scan.lastLsn).toBe(lastUnit.beginLsn - 1);
    expect(scan.lastCommitId).toBe(5);

    const reopened = await open(disk);
    expect(reopened.scan.tornTail).toEqual(scan.tornTail);
    // The cut is durable: a power loss right after recovery keeps it.
    const afterPowerLoss = disk.crash(55);
    expect((await fileBytes(afterPowerLoss, name)).length).toBe(unitOffset);
    const second = await collect(afterPowerLoss);
    expect(second.scan.tornTail).toBeNull();
    expect(second.units.map(shape)).toEqual(inputs.slice(0, 5).map(shape));
    // Appending continues with the cut unit's commit id and LSN.
    const { writer } = await open(afterPowerLoss);
    const sixth = await writer.appendUnit(unitFor(6));
    expect(sixth.beginLsn).toBe(lastUnit.beginLsn);
    await writer.close();
  });

  it("5 junk bytes after the last unit", async () => {
    const { disk, inputs } = await diskWithUnits(6);
    const name = (await segmentNames(disk))[0] as string;
    const bytes = await fileBytes(disk, name);
    await overwrite(
      disk,
      `${WAL_DIR}/${name}`,
      concat([bytes, Uint8Array.from([0xde, 0xad, 0xbe, 0xef, 0x01])]),
    );
    const { units, scan } = await collect(disk);
    expect(scan.tornTail).toEqual({ segment: name, offset: bytes.length, bytesCut: 5, recordsCut: 0 });
    expect(units.map(shape)).toEqual(inputs.map(shape));
    // The cut applied directly, as `aerodb verify` + recovery would: truncate and fsync.
    await cutTornTail(disk, WAL_DIR, scan.tornTail as TornTail);
    const recovered = disk.crash(3);
    expect(Buffer.from(await fileBytes(recovered, name)).equals(Buffer.from(bytes))).toBe(true);
    const second = await collect(recovered);
    expect(second.scan.tornTail).toBeNull();
    expect(second.units.map(shape)).toEqual(inputs.map(shape));
  });

  it("a unit lacking its COMMIT at the end of the log is cut too", async () => {
    const b = new FrameBuilder().unit(1, ["a"]).unit(2, ["b"]);
    const torn = new FrameBuilder(b.nextLsn, 0);
    torn.frame(FrameKind.BEGIN, encodeBegin(3, 2)).frame(FrameKind.VERSION, Uint8Array.from([1, 2, 3]));
    const complete = b.segment(1);
    const disk = await diskWithSegments([{ firstLsn: 1, bytes: concat([complete, ...torn.frames]) }]);
    const { units, scan } = await collect(disk);
    expect(units.map((u) => u.commitId)).toEqual([1, 2]);
    expect(scan.tornTail).toEqual({
      segment: "00000000000000000001.wal",
      offset: complete.length,
      bytesCut: torn.frames.reduce((n, f) => n + f.length, 0),
      recordsCut: 2,
    });
    expect(scan.lastLsn).toBe(6);
  });
});

describe("WAL.6 an unknown kind or an LSN jump mid-log is FATAL and changes nothing", () => {
  /** Rewrites frame `index` of a one-segment log through `edit`, then re-CRCs it. */
  async function editFrame(
    count: number,
    index: number,
    edit: (view: DataView) => void,
  ): Promise<{ disk: SimFileSystem; name: string; offset: number; offsets: number[] }> {
    const { disk } = await diskWithUnits(count, { make: (id) => unitFor(id, 1) });
    const name = (await segmentNames(disk))[0] as string;
    const bytes = await fileBytes(disk, name);
    const frame = frameOffsets(bytes)[index];
    if (!frame) throw new Error("setup");
    const view = new DataView(bytes.buffer, bytes.byteOffset + frame.offset, frame.size);
    edit(view);
    view.setUint32(frame.size - 4, crc32(bytes, frame.offset, frame.offset + frame.size - 4), true);
    expect(isFrame(decodeFrame(bytes, frame.offset)) || decodeFrame(bytes, frame.offset) === "kind").toBe(
      true,
    );
    const offsets = frameOffsets(await fileBytes(disk, name)).map((f) => f.offset);
    await overwrite(disk, `${WAL_DIR}/${name}`, bytes);
    return { disk, name, offset: frame.offset, offsets };
  }

  it.each([
    ["BEGIN", 3],
    ["COMMIT", 5],
  ])("unknown kind (re-CRC'd) on the %s of unit 2", async (_label, index) => {
    const { disk, name, offset } = await editFrame(4, index, (v) => v.setUint8(4, 0x09));
    const before = await snapshotDir(disk);
    const err = await expectAeroError(() => open(disk), "AERO_WAL_CORRUPTION");
    expect(err.severity).toBe("FATAL");
    expect(err.details).toMatchObject({ segment: name, offset, reason: "kind" });
    expect(await snapshotDir(disk)).toEqual(before);
  });

  it("unknown kind (re-CRC'd) on the final frame of the log is damage too: the unit is a torn tail", async () => {
    // Nothing valid follows it, so core §1.5 makes it a torn tail, cut and reported.
    const { disk, name, offsets } = await editFrame(3, 8, (v) => v.setUint8(4, 0x00));
    const { units, scan } = await collect(disk);
    expect(units.map((u) => u.commitId)).toEqual([1, 2]);
    // Cut back to the BEGIN of unit 3 (frame 6); its BEGIN and VERSION are discarded with it.
    expect(scan.tornTail).toMatchObject({ segment: name, offset: offsets[6], recordsCut: 2 });
  });

  it.each([
    ["forward", 2],
    ["backward", -2],
    ["repeated", -1],
  ])("LSN jump (%s) mid-log", async (_label, delta) => {
    // Frame 4 is the VERSION of unit 2 (LSN 5).
    const { disk, name, offset } = await editFrame(4, 4, (v) => v.setBigUint64(5, BigInt(5 + delta), true));
    const before = await snapshotDir(disk);
    const err = await expectAeroError(() => open(disk), "AERO_WAL_CORRUPTION");
    expect(err.severity).toBe("FATAL");
    expect(err.details).toMatchObject({
      segment: name,
      offset,
      reason: "lsn_gap",
      expected_lsn: 5,
      found_lsn: 5 + delta,
    });
    expect(await snapshotDir(disk)).toEqual(before);
  });
});

describe("WAL.7 fresh: high water 0; no wal/ directory: RECOVERY_FAILED", () => {
  it("an empty wal/ directory opens at LSN 0 and commit 0", async () => {
    const disk = await freshDisk();
    const { writer, scan } = await open(disk);
    expect(scan).toMatchObject({
      lastCommitId: 0,
      lastLsn: 0,
      firstLsn: null,
      segments: [],
      tornTail: null,
      unitsRead: 0,
      recordsVerified: 0,
    });
    expect(writer.expectedCommitId).toBe(1);
    expect(writer.durableBoundary).toEqual({ lsn: 0, commitId: 0, frameCrc: 0 });
    await writer.close();
    expect(await segmentNames(disk)).toEqual([]);
  });

  it("a missing wal/ directory is AERO_RECOVERY_FAILED, and nothing is created", async () => {
    const disk = new SimFileSystem();
    await disk.mkdir(DB_DIR);
    await expectAeroError(() => scanWal(disk, WAL_DIR, { databaseId: DB_ID }), "AERO_RECOVERY_FAILED");
    const err = await expectAeroError(() => open(disk), "AERO_RECOVERY_FAILED");
    expect(err.severity).toBe("FATAL");
    expect(await disk.readdir(DB_DIR)).toEqual([]);
  });

  it("wal/ being a file is AERO_RECOVERY_FAILED", async () => {
    const disk = new SimFileSystem();
    await disk.mkdir(DB_DIR);
    await overwrite(disk, WAL_DIR, Uint8Array.from([1, 2, 3]));
    await expectAeroError(() => open(disk), "AERO_RECOVERY_FAILED");
  });
});

describe("WAL.8 one WAL copied into two directories gives the same report", () => {
  it("identical scan results, identical recovery reports and identical bytes after recovery", async () => {
    const { disk } = await diskWithUnits(9, { segmentBytes: 400 });
    const names = await segmentNames(disk);
    expect(names.length).toBeGreaterThan(1);
    const last = names.at(-1) as string;
    const copies: SimFileSystem[] = [];
    for (const dir of ["/a", "/b"]) {
      const fs = new SimFileSystem();
      await fs.mkdir(dir);
      await fs.mkdir(`${dir}/wal`);
      for (const name of names) {
        let bytes = await fileBytes(disk, name);
        if (name === last) bytes = concat([bytes, Uint8Array.from([9, 9, 9, 9, 9, 9, 9])]);
        await overwrite(fs, `${dir}/wal/${name}`, bytes);
      }
      copies.push(fs);
    }
    const reports = [];
    for (const [i, fs] of copies.entries()) {
      const dir = i === 0 ? "/a/wal" : "/b/wal";
      const units: unknown[] = [];
      const scan = await scanWal(fs, dir, { databaseId: DB_ID, onUnit: (u) => units.push(u) });
      const opened = await openWal(fs, dir, { databaseId: DB_ID, segmentBytes: 400 });
      await opened.writer.close();
      const bytes: Record<string, string> = {};
      for (const name of await fs.readdir(dir)) {
        bytes[name] = Buffer.from(await fs.readFile(`${dir}/${name}`)).toString("hex");
      }
      reports.push({ scan, units, report: opened.scan, bytes });
    }
    expect(reports[0]?.scan.tornTail).not.toBeNull();
    expect(reports[0]).toEqual(reports[1]);
  });
});

describe("WAL.9 a COMMIT following fewer records than BEGIN declared is WAL_UNIT_INCOMPLETE", () => {
  it("mid-log and at the end of the log (a durable COMMIT is never a torn tail)", async () => {
    for (const atEnd of [false, true]) {
      const b = new FrameBuilder().unit(1, ["one"]);
      const incompleteAt = b.offsets.length;
      b.unit(2, ["two-a"], 2); // BEGIN(2, n=2), one VERSION, COMMIT(2)
      if (!atEnd) b.unit(3, ["three"]);
      const disk = await diskWithSegments([{ firstLsn: 1, bytes: b.segment(1) }]);
      const before = await snapshotDir(disk);
      const err = await expectAeroError(() => open(disk), "AERO_WAL_UNIT_INCOMPLETE");
      expect(err.severity).toBe("FATAL");
      expect(err.details).toMatchObject({
        segment: "00000000000000000001.wal",
        offset: b.offsets[incompleteAt + 2],
        commit_id: 2,
        expected_records: 2,
        found_records: 1,
      });
      expect(await snapshotDir(disk)).toEqual(before);
    }
  });
});

describe("segments roll at unit boundaries", () => {
  it("each segment starts with BEGIN, ends with COMMIT, is named by its first LSN and chains the CRCs", async () => {
    const segmentBytes = 600;
    const { disk, appended } = await diskWithUnits(30, { segmentBytes });
    const names = await segmentNames(disk);
    expect(names.length).toBeGreaterThan(4);
    let prevCrc = 0;
    let expectedFirstLsn = 1;
    for (const [i, name] of names.entries()) {
      const bytes = await fileBytes(disk, name);
      const header = decodeSegmentHeader(bytes);
      if (typeof header === "string") throw new Error(`header of ${name}: ${header}`);
      expect(header.firstLsn).toBe(parseSegmentFileName(name));
      expect(header.firstLsn).toBe(expectedFirstLsn);
      expect(header.databaseId).toBe(DB_ID);
      expect(header.prevFrameCrc).toBe(prevCrc);
      const frames = frameOffsets(bytes);
      expect(frames[0]?.kind).toBe(FrameKind.BEGIN);
      expect(frames.at(-1)?.kind).toBe(FrameKind.COMMIT);
      const lastFrame = frames.at(-1);
      if (!lastFrame) throw new Error("setup");
      if (i < names.length - 1) {
        // Rolled at the first unit boundary past segmentBytes, not before.
        expect(bytes.length).toBeGreaterThanOrEqual(segmentBytes);
        const lastUnitStart = frames.findLastIndex((f) => f.kind === FrameKind.BEGIN);
        expect(frames[lastUnitStart]?.offset).toBeLessThan(segmentBytes);
      }
      prevCrc = new DataView(bytes.buffer, bytes.byteOffset).getUint32(bytes.length - 4, true);
      expectedFirstLsn += frames.length;
    }
    // Units never span segments: every record lives in its unit's segment.
    const { units, scan } = await collect(disk);
    expect(units).toHaveLength(30);
    for (const u of units) for (const r of u.records) expect(r.location.segment).toBe(u.segment);
    for (const [i, u] of appended.entries()) {
      expect(u.records.every((r) => r.location.segment === units[i]?.segment)).toBe(true);
    }
    expect(scan.segments.map((s) => s.name)).toEqual(names);
    expect(scan.lastFrameCrc).toBe(prevCrc);
  });

  it("a missing middle segment is WAL_CORRUPTION reason missing_segment", async () => {
    const { disk } = await diskWithUnits(20, { segmentBytes: 500 });
    const names = await segmentNames(disk);
    expect(names.length).toBeGreaterThan(3);
    await disk.unlink(`${WAL_DIR}/${names[2]}`);
    await disk.syncDir(WAL_DIR);
    const before = await snapshotDir(disk);
    const err = await expectAeroError(() => open(disk), "AERO_WAL_CORRUPTION");
    expect(err.details).toMatchObject({
      segment: names[3],
      reason: "missing_segment",
      expected_lsn: parseSegmentFileName(names[2] as string),
      found_lsn: parseSegmentFileName(names[3] as string),
    });
    expect(await snapshotDir(disk)).toEqual(before);
  });

  it("a missing first segment (no checkpoint base) is WAL_CORRUPTION reason missing_segment", async () => {
    const { disk } = await diskWithUnits(20, { segmentBytes: 500 });
    const names = await segmentNames(disk);
    await disk.unlink(`${WAL_DIR}/${names[0]}`);
    const err = await expectAeroError(() => collect(disk), "AERO_WAL_CORRUPTION");
    expect(err.details).toMatchObject({ segment: names[1], reason: "missing_segment", expected_lsn: 1 });
  });

  it("a missing last segment is not detectable by the WAL alone: the log ends one segment earlier", async () => {
    // Recorded here so that the behaviour is deliberate: only a checkpoint boundary or the
    // core's commit high water can tell a deleted final segment from a shorter log.
    const { disk } = await diskWithUnits(20, { segmentBytes: 500 });
    const names = await segmentNames(disk);
    await disk.unlink(`${WAL_DIR}/${names.at(-1)}`);
    const { scan } = await collect(disk);
    expect(scan.segments.map((s) => s.name)).toEqual(names.slice(0, -1));
    expect(scan.lastLsn).toBe((parseSegmentFileName(names.at(-1) as string) as number) - 1);
  });

  it("a segment of another database is WAL_CORRUPTION", async () => {
    const { disk } = await diskWithUnits(20, { segmentBytes: 500 });
    const names = await segmentNames(disk);
    const name = names[1] as string;
    const bytes = await fileBytes(disk, name);
    const header = decodeSegmentHeader(bytes);
    if (typeof header === "string") throw new Error("setup");
    bytes.set(encodeSegmentHeader({ ...header, databaseId: OTHER_DB_ID }), 0);
    await overwrite(disk, `${WAL_DIR}/${name}`, bytes);
    const before = await snapshotDir(disk);
    const err = await expectAeroError(() => open(disk), "AERO_WAL_CORRUPTION");
    expect(err.details).toMatchObject({ segment: name, reason: "database_id", found: OTHER_DB_ID });
    expect(await snapshotDir(disk)).toEqual(before);
    // And a whole log opened as another database.
    const whole = await diskWithUnits(3);
    const foreign = await expectAeroError(
      () => collect(whole.disk, { databaseId: OTHER_DB_ID }),
      "AERO_WAL_CORRUPTION",
    );
    expect(foreign.details).toMatchObject({ reason: "database_id", expected: OTHER_DB_ID, found: DB_ID });
  });
});

describe("truncation removes whole segments at or below the boundary, never the active one", () => {
  async function setup(): Promise<{
    disk: SimFileSystem;
    boundaries: WalBoundary[];
    inputs: UnitInput[];
    summary: Array<{ name: string; firstLsn: number; lastLsn: number }>;
  }> {
    const disk = await freshDisk();
    const { writer } = await open(disk, { segmentBytes: 500 });
    const boundaries: WalBoundary[] = [];
    const inputs: UnitInput[] = [];
    for (let id = 1; id <= 24; id++) {
      inputs.push(unitFor(id));
      await writer.appendUnit(unitFor(id));
      boundaries.push(writer.durableBoundary);
    }
    await writer.close();
    const { scan } = await collect(disk);
    return { disk, boundaries, inputs, summary: scan.segments.map((s) => ({ ...s })) };
  }

  it("removes only segments whose last LSN <= boundary; base scans deliver only later units", async () => {
    const { disk, boundaries, inputs, summary } = await setup();
    expect(summary.length).toBeGreaterThan(4);
    // Boundaries: inside segment 3; exactly the end of segment 2; before the end of segment 1.
    const seg3 = summary[2] as { firstLsn: number; lastLsn: number };
    const cases = [
      boundaries.find((b) => b.lsn > seg3.firstLsn && b.lsn < seg3.lastLsn),
      boundaries.find((b) => b.lsn === summary[1]?.lastLsn),
      boundaries.find((b) => b.lsn < (summary[0]?.lastLsn ?? 0)),
    ];
    for (const boundary of cases) {
      if (!boundary) throw new Error("setup: no such boundary");
      const fs = disk.crash(1); // an identical, independent copy (everything is durable)
      const { writer } = await open(fs, { segmentBytes: 500 });
      const removed = await writer.removeSegmentsThrough(boundary.lsn);
      expect(removed).toEqual(summary.filter((s) => s.lastLsn <= boundary.lsn).map((s) => s.name));
      await writer.close();
      // Durable: a power loss keeps the removal.
      const after = fs.crash(2);
      expect(await segmentNames(after)).toEqual(
        summary.filter((s) => s.lastLsn > boundary.lsn).map((s) => s.name),
      );
      const { units, scan } = await collect(after, { base: boundary });
      expect(units.map(shape)).toEqual(inputs.slice(boundary.commitId).map(shape));
      expect(scan.lastCommitId).toBe(24);
      expect(scan.tornTail).toBeNull();
      // And the writer continues after a base open.
      const reopened = await openWal(after, WAL_DIR, {
        databaseId: DB_ID,
        segmentBytes: 500,
        base: boundary,
      });
      const next = await reopened.writer.appendUnit(unitFor(25));
      expect(next.beginLsn).toBe(scan.lastLsn + 1);
      await reopened.writer.close();
    }
  });

  it("never removes the active segment, even with a boundary past the end of the log", async () => {
    const { disk, summary } = await setup();
    const { writer } = await open(disk, { segmentBytes: 500 });
    const removed = await writer.removeSegmentsThrough(Number.MAX_SAFE_INTEGER);
    expect(removed).toEqual(summary.slice(0, -1).map((s) => s.name));
    expect(await segmentNames(disk)).toEqual([summary.at(-1)?.name]);
    expect(await writer.removeSegmentsThrough(Number.MAX_SAFE_INTEGER)).toEqual([]);
    const unit = await writer.appendUnit(unitFor(25));
    expect(unit.commitId).toBe(25);
    await writer.close();
  });

  it("a base that disagrees with the log is AERO_RECOVERY_INCONSISTENT", async () => {
    const { disk, boundaries } = await setup();
    const b = boundaries[10] as WalBoundary;
    await expectAeroError(
      () => collect(disk, { base: { ...b, frameCrc: (b.frameCrc ^ 1) >>> 0 } }),
      "AERO_RECOVERY_INCONSISTENT",
    );
    await expectAeroError(
      () => collect(disk, { base: { ...b, commitId: b.commitId + 1 } }),
      "AERO_RECOVERY_INCONSISTENT",
    );
  });
});

describe("append failures (core §1.3, scenario 43)", () => {
  it("fsync EIO fails that append, every queued one and every later one; acknowledged units survive", async () => {
    const disk = await freshDisk();
    const { writer } = await open(disk);
    const acknowledged = await appendUnits(writer, 4);
    disk.injectFault({ op: "sync", nth: 1, kind: "EIO" });
    const pending = [5, 6, 7].map((id) => writer.appendUnit(unitFor(id)));
    const outcomes = await Promise.allSettled(pending);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe("rejected");
      const reason = (outcome as PromiseRejectedResult).reason;
      expect(reason).toBeInstanceOf(AeroError);
      expect((reason as AeroError).code).toBe("AERO_WAL_FSYNC_FAILED");
      expect((reason as AeroError).details).toMatchObject({ errno: "EIO" });
    }
    expect(writer.stoppedBy).toBeInstanceOf(AeroError);
    // The writer stays stopped: no retry-and-hope, even though the fault was one-shot.
    await expectAeroError(() => writer.appendUnit(unitFor(writer.expectedCommitId)), "AERO_WAL_FSYNC_FAILED");
    expect(writer.durableBoundary.commitId).toBe(4);
    await writer.close();

    const recovered = disk.crash(7);
    expect(recovered.crashFates.some((f) => f.fate === "flip")).toBe(false); // see the next test for flips
    const units: ScannedUnit[] = [];
    const { writer: reopened, scan } = await open(recovered, { onUnit: (u) => units.push(u) });
    const ids = units.map((u) => u.commitId);
    expect(ids.slice(0, 4)).toEqual(acknowledged.map((u) => u.commitId));
    // The failed unit may or may not have reached the disk; nothing after it did.
    expect(ids.length).toBeLessThanOrEqual(5);
    expect(units.map(shape)).toEqual([1, 2, 3, 4, 5].slice(0, ids.length).map((id) => shape(unitFor(id))));
    expect(scan.lastCommitId).toBe(ids.length);
    // The restarted writer accepts appends again, continuing the ids.
    expect((await reopened.appendUnit(unitFor(ids.length + 1))).commitId).toBe(ids.length + 1);
    await reopened.close();
  });

  it("after an fsync failure, every crash outcome keeps the acknowledged units", async () => {
    // The unit whose fsync failed sits unsynced in the page cache: a power loss keeps all,
    // none, a prefix or a torn part of it, or flips a bit in it. Only a flip may make
    // recovery fail, and then with a FATAL WAL code, never with accepted damage.
    const outcomes = new Set<string>();
    for (let seed = 1; seed <= 40; seed++) {
      const disk = await freshDisk();
      const { writer } = await open(disk);
      await appendUnits(writer, 4);
      disk.injectFault({ op: "sync", nth: 1, kind: "EIO" });
      await expectAeroError(() => writer.appendUnit(unitFor(5)), "AERO_WAL_FSYNC_FAILED");
      const recovered = disk.crash(seed);
      const flipped = recovered.crashFates.some((f) => f.fate === "flip");
      try {
        const { units } = await collect(recovered);
        expect(units.map(shape)).toEqual(
          [1, 2, 3, 4, 5].slice(0, units.length).map((id) => shape(unitFor(id))),
        );
        expect(units.length).toBeGreaterThanOrEqual(4);
        outcomes.add(`ok:${units.length}`);
      } catch (err) {
        expect(err).toBeInstanceOf(AeroError);
        expect(flipped, `seed ${seed}: ${(err as Error).message}`).toBe(true);
        expect(["AERO_WAL_CORRUPTION", "AERO_WAL_UNIT_INCOMPLETE"]).toContain((err as AeroError).code);
        outcomes.add("fatal");
      }
    }
    // The seeds reach both a kept and a lost failed unit.
    expect(outcomes.has("ok:4")).toBe(true);
    expect(outcomes.has("ok:5")).toBe(true);
  });

  it.each(["EIO", "ENOSPC"] as const)(
    "%s on write is AERO_WAL_APPEND_FAILED and stops the writer",
    async (kind) => {
      const disk = await freshDisk();
      const { writer } = await open(disk);
      await appendUnits(writer, 3);
      disk.injectFault({ op: "write", nth: 2, kind });
      const outcomes = await Promise.allSettled([4, 5].map((id) => writer.appendUnit(unitFor(id))));
      for (const outcome of outcomes) {
        expect(outcome.status).toBe("rejected");
        const reason = (outcome as PromiseRejectedResult).reason as AeroError;
        expect(reason.code).toBe("AERO_WAL_APPEND_FAILED");
        expect(reason.details).toMatchObject({ errno: kind });
      }
      await expectAeroError(
        () => writer.appendUnit(unitFor(writer.expectedCommitId)),
        "AERO_WAL_APPEND_FAILED",
      );
      await writer.close();
      const { units } = await collect(disk.crash(9));
      expect(units.map((u) => u.commitId)).toEqual([1, 2, 3]);
    },
  );

  it("EIO creating a new segment is AERO_WAL_APPEND_FAILED", async () => {
    const disk = await freshDisk();
    disk.injectFault({ op: "create", nth: 1, kind: "EIO" });
    const { writer } = await open(disk);
    await expectAeroError(() => writer.appendUnit(unitFor(1)), "AERO_WAL_APPEND_FAILED");
    await writer.close();
  });

  it("short writes are completed: every unit intact after a power loss", async () => {
    const disk = await freshDisk();
    disk.injectFault({ op: "write", nth: 1, kind: "short", sticky: true });
    const { writer } = await open(disk, { segmentBytes: 700 });
    await appendUnits(writer, 12);
    await writer.close();
    expect(writer.stats().writeCalls).toBeGreaterThan(0);
    expect(disk.opCount("write")).toBeGreaterThan(writer.stats().writeCalls);
    const recovered = disk.crash(4);
    const { units, scan } = await collect(recovered);
    expect(scan.tornTail).toBeNull();
    expect(units.map(shape)).toEqual(Array.from({ length: 12 }, (_, i) => shape(unitFor(i + 1))));
  });

  it("a crash during an append rejects it with SimulatedCrash and acknowledges nothing more", async () => {
    const disk = await freshDisk();
    const { writer } = await open(disk);
    await appendUnits(writer, 2);
    disk.crashAfter(1);
    const outcomes = await Promise.allSettled([3, 4].map((id) => writer.appendUnit(unitFor(id))));
    expect(outcomes.map((o) => o.status)).toEqual(["rejected", "rejected"]);
    expect((outcomes[0] as PromiseRejectedResult).reason).toBeInstanceOf(SimulatedCrash);
    await writer.close();
  });
});

/** A FileSystem that forwards to a SimFileSystem but holds handle fsyncs at a gate. */
class GatedFs extends DelegatingFileSystem {
  gated = false;
  syncsWaiting = 0;
  private releaseGate: (() => void) | null = null;
  private gate: Promise<void> = Promise.resolve();

  constructor(readonly sim: SimFileSystem) {
    super(sim);
  }

  arm(): void {
    this.gated = true;
    this.gate = new Promise<void>((resolve) => {
      this.releaseGate = resolve;
    });
  }

  override async open(path: string, mode: OpenMode, options?: OpenOptions): Promise<FileHandle> {
    const h = await this.inner.open(path, mode, options);
    return delegatingHandle(h, {
      sync: async () => {
        if (this.gated) {
          this.syncsWaiting++;
          await this.gate;
          this.syncsWaiting--;
        }
        await h.sync();
      },
    });
  }

  release(): void {
    this.gated = false;
    this.releaseGate?.();
  }
}

describe("the event loop keeps moving while an fsync is pending (ARCHITECTURE §4)", () => {
  it("timers, microtasks and FrameReader reads run before the append resolves; it resolves only after the fsync", async () => {
    const gated = new GatedFs(await freshDisk());
    const { writer } = await openWal(gated, WAL_DIR, { databaseId: DB_ID, segmentBytes: SEGMENT_BYTES });
    const first = await writer.appendUnit(unitFor(1)); // creates the segment, ungated
    const reader = new FrameReader(gated, WAL_DIR);
    await reader.openSegment(first.records[0]?.location.segment as string);

    gated.arm();
    const events: string[] = [];
    let resolved = false;
    const second = writer.appendUnit(unitFor(2)).then((u) => {
      resolved = true;
      events.push("append resolved");
      return u;
    });
    const third = writer.appendUnit(unitFor(3)); // queued behind the pending fsync

    await new Promise<void>((resolve) => setTimeout(resolve, 5));
    events.push("timer ran");
    await Promise.resolve();
    events.push("microtask ran");
    expect(gated.syncsWaiting).toBe(1); // the append really is waiting in its fsync
    const frame = reader.readSync(first.records[0]?.location as FrameLocation);
    expect(frame.lsn).toBe(first.records[0]?.lsn);
    events.push("read ran");
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(resolved).toBe(false);
    expect(writer.durableBoundary.commitId).toBe(1);
    // Not durable yet: a power loss now would lose commit 2 (and may keep it); 2 is not acknowledged.
    // Only the header's and unit 1's fsyncs reached the disk; unit 2's is held at the gate.
    expect(gated.sim.opCount("sync")).toBe(2);

    gated.release();
    const unit2 = await second;
    expect(unit2.commitId).toBe(2);
    expect((await third).commitId).toBe(3);
    expect(events).toEqual(["timer ran", "microtask ran", "read ran", "append resolved"]);
    expect(writer.durableBoundary.commitId).toBe(3);
    await reader.closeAll();
    await writer.close();
  });
});
