import { describe, expect, it } from "vitest";
import { segmentFileName } from "../src/index.js";
import { preallocationBytes } from "../src/writer/wal-writer.js";
import {
  appendUnits,
  collect,
  concat,
  freshDisk,
  logBytes,
  open,
  overwrite,
  SEGMENT_BYTES,
  shape,
  unitFor,
  WAL_DIR,
} from "./helpers.js";

const FIRST = `${WAL_DIR}/${segmentFileName(1)}`;

describe("segment preallocation (zero padding after the last frame)", () => {
  it("keeps a zero-filled region ahead of the log, which recovery reads as padding, not damage", async () => {
    const disk = await freshDisk();
    const { writer } = await open(disk);
    await appendUnits(writer, 5);
    const file = await disk.readFile(FIRST);
    const log = logBytes(file);
    expect(file.length).toBeGreaterThan(log.length);
    expect(file.length).toBeGreaterThanOrEqual(preallocationBytes(SEGMENT_BYTES));
    expect(file.subarray(log.length).every((b) => b === 0)).toBe(true);
    expect(writer.stats().bytesPreallocated).toBeGreaterThan(0);
    const { scan, units } = await collect(disk.crash(1));
    expect(scan.tornTail).toBeNull();
    expect(units).toHaveLength(5);
    expect(scan.tail.offset).toBe(log.length);
  });

  it("appending after a restart overwrites the padding in place and the log reads back whole", async () => {
    const disk = await freshDisk();
    const first = await open(disk);
    const appended = await appendUnits(first.writer, 3);
    await first.writer.close();
    const second = await open(disk);
    const more = await second.writer.appendUnit(unitFor(4));
    expect(more.beginLsn).toBe((appended[2]?.commitLsn ?? 0) + 1);
    const { units, scan } = await collect(disk.crash(2));
    expect(units.map((u) => u.commitId)).toEqual([1, 2, 3, 4]);
    expect(scan.tornTail).toBeNull();
  });

  it("a non-zero byte inside the padding is a torn tail at the log's end, every unit intact", async () => {
    const disk = await freshDisk();
    const { writer } = await open(disk);
    const inputs = [unitFor(1), unitFor(2)];
    for (const u of inputs) await writer.appendUnit(u);
    const file = await disk.readFile(FIRST);
    const logEnd = logBytes(file).length;
    const damaged = file.slice();
    damaged[logEnd + 100] = 0x5a;
    await overwrite(disk, FIRST, damaged);
    const { scan, units } = await collect(disk);
    expect(scan.tornTail).toEqual({
      segment: segmentFileName(1),
      offset: logEnd,
      bytesCut: damaged.length - logEnd,
      recordsCut: 0,
    });
    expect(units.map(shape)).toEqual(inputs.map(shape));
  });

  it("a unit cut short before the padding is cut back to its start", async () => {
    const disk = await freshDisk();
    const { writer } = await open(disk);
    await appendUnits(writer, 3);
    const file = await disk.readFile(FIRST);
    const log = logBytes(file);
    // Zero the last 10 bytes of the log: its COMMIT is gone, the padding follows.
    await overwrite(
      disk,
      FIRST,
      concat([log.subarray(0, log.length - 10), new Uint8Array(file.length - log.length + 10)]),
    );
    const { scan, units } = await collect(disk);
    expect(units.map((u) => u.commitId)).toEqual([1, 2]);
    expect(scan.tornTail?.recordsCut).toBeGreaterThan(0);
  });
});
