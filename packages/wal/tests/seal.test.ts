import { describe, expect, it } from "vitest";
import { scanWal } from "../src/index.js";
import { appendUnits, collect, DB_ID, freshDisk, open, segmentNames, unitFor, WAL_DIR } from "./helpers.js";

describe("sealing the active segment (what a checkpoint does before truncating)", () => {
  it("lets truncation remove every segment at or below the boundary; the log continues after it", async () => {
    const disk = await freshDisk();
    const { writer } = await open(disk);
    const appended = await appendUnits(writer, 4);
    const boundary = writer.durableBoundary;
    // While the segment is active, it is never removed.
    expect(await writer.removeSegmentsThrough(boundary.lsn)).toEqual([]);
    await writer.sealActiveSegment();
    expect(await writer.removeSegmentsThrough(boundary.lsn)).toEqual(["00000000000000000001.wal"]);
    expect(await segmentNames(disk)).toEqual([]);
    // Recovery from the boundary alone (the checkpoint's), then the next unit starts a segment.
    const fromBase = await scanWal(disk, WAL_DIR, { databaseId: DB_ID, base: boundary });
    expect([fromBase.lastLsn, fromBase.lastCommitId, fromBase.tornTail]).toEqual([boundary.lsn, 4, null]);
    const next = await writer.appendUnit(unitFor(5));
    expect(next.beginLsn).toBe((appended[3]?.commitLsn ?? 0) + 1);
    expect(await segmentNames(disk)).toEqual([`${String(next.beginLsn).padStart(20, "0")}.wal`]);
    const { units, scan } = await collect(disk.crash(4), { base: boundary });
    expect(units.map((u) => u.commitId)).toEqual([5]);
    expect(scan.tornTail).toBeNull();
  });

  it("refuses to seal while units are queued", async () => {
    const disk = await freshDisk();
    const { writer } = await open(disk);
    const pending = writer.appendUnit(unitFor(1));
    await expect(writer.sealActiveSegment()).rejects.toMatchObject({ code: "AERO_INTERNAL_INVARIANT" });
    await pending;
  });
});
