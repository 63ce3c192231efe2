// FrameReader locations outside wal/ (a checkpoint snapshot's versions file holds frames in the
// WAL frame format, docs/formats/snapshot.md): `file` names the path relative to the data
// directory; WAL locations are unchanged.
import { SimFileSystem } from "@aerodb/base";
import { describe, expect, it } from "vitest";
import { encodeFrame, FrameKind, FrameReader } from "../src/index.js";

async function writeFile(fs: SimFileSystem, path: string, bytes: Uint8Array): Promise<void> {
  const h = await fs.open(path, "wx");
  await h.write(bytes, 0, bytes.length, 0);
  await h.sync();
  await h.close();
}

describe("FrameReader file locations", () => {
  it("reads and verifies a frame in a file outside wal/, by its path relative to the data directory", async () => {
    const fs = new SimFileSystem();
    await fs.mkdir("/db");
    await fs.mkdir("/db/wal");
    await fs.mkdir("/db/snapshots");
    await fs.mkdir("/db/snapshots/snap-1");
    const a = encodeFrame(FrameKind.VERSION, 7, Uint8Array.from([1, 2, 3]));
    const b = encodeFrame(FrameKind.VERSION, 3, Uint8Array.from([9, 9]));
    const bytes = new Uint8Array(a.length + b.length);
    bytes.set(a, 0);
    bytes.set(b, a.length);
    await writeFile(fs, "/db/snapshots/snap-1/versions", bytes);
    const reader = new FrameReader(fs, "/db/wal");
    const file = "snapshots/snap-1/versions";
    await reader.openFile(file);
    expect(reader.openFiles()).toEqual([file]);
    const frame = reader.readSync({ segment: file, file, offset: a.length, size: b.length });
    expect(frame).toMatchObject({ kind: FrameKind.VERSION, lsn: 3, size: b.length });
    expect([...frame.payload]).toEqual([9, 9]);

    // Damage is AERO_DATA_CORRUPTION naming the file, not a segment.
    const h = await fs.open("/db/snapshots/snap-1/versions", "r+");
    await h.write(Uint8Array.from([0xff]), 0, 1, 14);
    await h.close();
    let caught: unknown;
    try {
      reader.readSync({ segment: file, file, offset: 0, size: a.length });
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code: "AERO_DATA_CORRUPTION", details: { file, offset: 0 } });
    expect((caught as { details: Record<string, unknown> }).details.segment).toBeUndefined();

    // A file that is not open is an internal invariant; closing is idempotent.
    await reader.closeFile(file);
    await reader.closeFile(file);
    expect(() => reader.readSync({ segment: file, file, offset: 0, size: a.length })).toThrow(
      expect.objectContaining({ code: "AERO_INTERNAL_INVARIANT" }),
    );
    await reader.closeAll();
  });

  it("takes the data directory explicitly when wal/ is elsewhere", async () => {
    const fs = new SimFileSystem();
    await fs.mkdir("/root");
    const frame = encodeFrame(FrameKind.VERSION, 1, Uint8Array.from([5]));
    await writeFile(fs, "/root/f", frame);
    const reader = new FrameReader(fs, "/elsewhere/wal", "/root");
    await reader.openFile("f");
    expect(reader.readSync({ segment: "f", file: "f", offset: 0, size: frame.length }).lsn).toBe(1);
    await reader.closeAll();
    expect(reader.openFiles()).toEqual([]);
  });
});
