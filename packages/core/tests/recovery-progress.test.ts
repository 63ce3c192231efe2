// Recovery's progress reports (OpenOptions.progress), which the CLI draws as a bar on a
// terminal: phase "replay" over the WAL segments in bytes (after phase "load" when a checkpoint
// exists; that case is tested in @aerodb/snapshot, which writes checkpoints), then phase
// "index" in steps (two per live document), advances adding up to each phase's total, and
// exactly one stop, on success and on a FATAL recovery alike.
// A sink that throws changes nothing: same state, same recovery report.
import { type FileSystem, progressRecorder, SimFileSystem, THROWING_PROGRESS } from "@aerodb/base";
import { describe, expect, it } from "vitest";
import { open } from "../src/engine/database.js";
import { NOTES } from "./support/notes-schema.js";
import { readDbState } from "./support/workload.js";

const DATA_DIR = "/db";
const CONFIG = { core: { data_dir: DATA_DIR, wal_segment_bytes: 64 * 1024 } };
const DB_ID_BYTES = Uint8Array.from({ length: 16 }, (_, i) => 0x10 + i);
const DEAD_OWNER = () => false;

/** A database of ~600 KiB of notes over several 64 KiB segments, closed. */
async function populated(): Promise<SimFileSystem> {
  const fs = new SimFileSystem();
  const db = await open(CONFIG, {
    fs,
    processProbe: DEAD_OWNER,
    initialize: true,
    randomBytes: () => DB_ID_BYTES,
  });
  await db.registerSchema(NOTES);
  for (let i = 1; i <= 150; i++) {
    await db.insert({
      schema_id: "notes",
      schema_version: "v1",
      document: { _id: i, text: "n".repeat(4000) },
    });
  }
  await db.close();
  return fs;
}

async function walBytes(fs: FileSystem): Promise<number> {
  let total = 0;
  for (const name of await fs.readdir(`${DATA_DIR}/wal`))
    total += (await fs.stat(`${DATA_DIR}/wal/${name}`))?.size ?? 0;
  return total;
}

describe("recovery progress", () => {
  it("phase replay covers every WAL byte, then one stop; the database opens as without a sink", async () => {
    const fs = await populated();
    const total = await walBytes(fs);
    expect((await fs.readdir(`${DATA_DIR}/wal`)).length).toBeGreaterThan(3);
    const { sink, phases, stops } = progressRecorder();
    const db = await open(CONFIG, { fs, processProbe: DEAD_OWNER, progress: sink });
    // The index build follows, in steps: two per live document (150 notes).
    expect(phases.map((p) => [p.phase, p.unit, p.total, p.done])).toEqual([
      ["replay", "bytes", total, total],
      ["index", "steps", 300, 300],
    ]);
    expect(stops()).toBe(1);
    const withSink = { report: db.recoveryReport(), state: readDbState(db) };
    await db.close();
    const plain = await open(CONFIG, { fs, processProbe: DEAD_OWNER });
    expect({ report: plain.recoveryReport(), state: readDbState(plain) }).toEqual(withSink);
    await plain.close();
  });

  it("a FATAL recovery still stops the sink once", async () => {
    const fs = await populated();
    const names = await fs.readdir(`${DATA_DIR}/wal`);
    // A flipped bit in a record of a durable unit in the first segment: FATAL WAL_UNIT_INCOMPLETE.
    const path = `${DATA_DIR}/wal/${names[0]}`;
    const bytes = await fs.readFile(path);
    bytes[2000] = (bytes[2000] as number) ^ 0x40;
    const handle = await fs.open(path, "r+");
    await handle.write(bytes, 0, bytes.length, 0);
    await handle.sync();
    await handle.close();
    const { sink, stops } = progressRecorder();
    await expect(open(CONFIG, { fs, processProbe: DEAD_OWNER, progress: sink })).rejects.toMatchObject({
      code: "AERO_WAL_UNIT_INCOMPLETE",
      severity: "FATAL",
    });
    expect(stops()).toBe(1);
  });

  it("a sink that throws at every call changes nothing", async () => {
    const fs = await populated();
    const db = await open(CONFIG, {
      fs,
      processProbe: DEAD_OWNER,
      progress: THROWING_PROGRESS,
    });
    const seen = { report: db.recoveryReport(), state: readDbState(db) };
    await db.close();
    const plain = await open(CONFIG, { fs, processProbe: DEAD_OWNER });
    expect({ report: plain.recoveryReport(), state: readDbState(plain) }).toEqual(seen);
    await plain.close();
  });
});
