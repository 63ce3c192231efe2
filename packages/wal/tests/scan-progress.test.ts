// The WAL scan's progress reports (phase "replay"), which recovery turns into the progress bar
// of every command that opens a database: one start with the total of the segment files, then
// advances that add up to it, reported at least every PROGRESS_STEP_BYTES within a segment.
// A sink that throws changes nothing the scan returns.
import { progressRecorder, THROWING_PROGRESS } from "@aerodb/base";
import { describe, expect, it } from "vitest";
import { PROGRESS_STEP_BYTES, type ScannedUnit, scanWal } from "../src/index.js";
import { concat, DB_ID, diskWithUnits, overwrite, shape, unitFor, WAL_DIR } from "./helpers.js";

async function segmentSizes(disk: Awaited<ReturnType<typeof diskWithUnits>>["disk"]): Promise<number[]> {
  const sizes: number[] = [];
  for (const name of await disk.readdir(WAL_DIR)) {
    sizes.push((await disk.stat(`${WAL_DIR}/${name}`))?.size ?? -1);
  }
  return sizes;
}

/** Units of about 20 KiB each: a 4 MiB segment then takes several progress steps to scan. */
const bigUnit = (commitId: number) => {
  const base = unitFor(commitId, 1);
  const record = base.records[0] as { kind: (typeof base.records)[number]["kind"]; payload: Uint8Array };
  const payload = new Uint8Array(20 * 1024).fill(0x61);
  payload.set(record.payload.subarray(0, Math.min(record.payload.length, payload.length)));
  return { commitId, records: [{ kind: record.kind, payload }] };
};

describe("scanWal progress", () => {
  it("one start with the total of the segment files, advances adding up to it, nothing else", async () => {
    const { disk } = await diskWithUnits(40, { segmentBytes: 64 * 1024, make: bigUnit });
    const sizes = await segmentSizes(disk);
    expect(sizes.length).toBeGreaterThan(3);
    const { sink, phases, stops } = progressRecorder();
    const scan = await scanWal(disk, WAL_DIR, { databaseId: DB_ID, progress: sink });
    const total = sizes.reduce((a, b) => a + b, 0);
    expect(phases.map((p) => [p.phase, p.total, p.done])).toEqual([["replay", total, total]]);
    expect(phases[0]?.advances.every((n) => n > 0)).toBe(true);
    // The caller owns the sink: the scan never stops it.
    expect(stops()).toBe(0);
    expect(scan.unitsRead).toBe(40);
  });

  it("a segment longer than the step is reported as it is scanned, not only at its end", async () => {
    const segmentBytes = 4 * PROGRESS_STEP_BYTES;
    const { disk } = await diskWithUnits(4 * 60, { segmentBytes, make: bigUnit });
    const sizes = await segmentSizes(disk);
    expect(sizes[0]).toBeGreaterThan(3 * PROGRESS_STEP_BYTES);
    const { sink, phases } = progressRecorder();
    await scanWal(disk, WAL_DIR, { databaseId: DB_ID, progress: sink });
    const advances = phases[0]?.advances ?? [];
    // At least three reports inside the first segment, each at least one step apart.
    expect(advances.length).toBeGreaterThanOrEqual(sizes.length + 3);
    for (const n of advances.slice(0, 3)) expect(n).toBeGreaterThanOrEqual(PROGRESS_STEP_BYTES);
    expect(phases[0]?.done).toBe(sizes.reduce((a, b) => a + b, 0));
  });

  it("a torn tail: the cut segment is still reported whole, and the totals agree", async () => {
    const { disk } = await diskWithUnits(12, { segmentBytes: 64 * 1024, make: bigUnit });
    const names = await disk.readdir(WAL_DIR);
    const last = `${WAL_DIR}/${names[names.length - 1]}`;
    // Junk after the last unit, where the preallocated zeros were: a torn final write.
    const bytes = await disk.readFile(last);
    const end = bytes.findLastIndex((b) => b !== 0) + 1;
    await overwrite(
      disk,
      last,
      concat([bytes.subarray(0, end), Uint8Array.from([0xde, 0xad, 0xbe, 0xef, 1])]),
    );
    const sizes = await segmentSizes(disk);
    const { sink, phases } = progressRecorder();
    const scan = await scanWal(disk, WAL_DIR, { databaseId: DB_ID, progress: sink });
    expect(scan.tornTail).not.toBeNull();
    const total = sizes.reduce((a, b) => a + b, 0);
    expect(phases.map((p) => [p.phase, p.total, p.done])).toEqual([["replay", total, total]]);
  });

  it("a sink that throws changes nothing the scan delivers or returns", async () => {
    const { disk } = await diskWithUnits(30, { segmentBytes: 64 * 1024, make: bigUnit });
    const plain: ScannedUnit[] = [];
    const withThrowing: ScannedUnit[] = [];
    const a = await scanWal(disk, WAL_DIR, { databaseId: DB_ID, onUnit: (u) => plain.push(u) });
    const b = await scanWal(disk, WAL_DIR, {
      databaseId: DB_ID,
      onUnit: (u) => withThrowing.push(u),
      progress: THROWING_PROGRESS,
    });
    expect(b).toEqual(a);
    expect(withThrowing.map(shape)).toEqual(plain.map(shape));
  });
});
