// Recovery's progress after a checkpoint (core's OpenOptions.progress, drawn by the CLI on a
// terminal): phase "load" over the checkpoint snapshot's versions file, read twice (the
// whole-file CRC pass, then decoding), then phase "replay" over the WAL past it, then phase
// "index" (two steps per live document), then one stop.
// Each phase's advances add up to its total.
import { progressRecorder, SimFileSystem } from "@aerodb/base";
import { describe, expect, it } from "vitest";
import { open } from "../src/index.js";

const DATA_DIR = "/db";
const CONFIG = { core: { data_dir: DATA_DIR, wal_segment_bytes: 64 * 1024 } };
const DEAD_OWNER = () => false;
const NOTES = {
  format_version: 1,
  schema_id: "notes",
  schema_version: "v1",
  fields: { _id: { type: "int", required: true }, text: { type: "string", required: true } },
  indexes: [],
};

describe("recovery progress after a checkpoint", () => {
  it("load (twice the versions file) then replay (the WAL), each adding up, then one stop", async () => {
    const fs = new SimFileSystem();
    const db = await open(CONFIG, {
      fs,
      processProbe: DEAD_OWNER,
      initialize: true,
      randomBytes: () => new Uint8Array(16).fill(7),
    });
    await db.registerSchema(NOTES);
    const note = (i: number) =>
      db.insert({ schema_id: "notes", schema_version: "v1", document: { _id: i, text: "t".repeat(3000) } });
    for (let i = 1; i <= 120; i++) await note(i);
    const { snapshot_id } = await db.checkpoint();
    for (let i = 121; i <= 160; i++) await note(i);
    await db.close();

    const versionsSize = (await fs.stat(`${DATA_DIR}/snapshots/${snapshot_id}/versions`))?.size as number;
    let walSize = 0;
    for (const name of await fs.readdir(`${DATA_DIR}/wal`)) {
      walSize += (await fs.stat(`${DATA_DIR}/wal/${name}`))?.size ?? 0;
    }
    expect(versionsSize).toBeGreaterThan(120 * 3000);

    const { sink, phases, stops } = progressRecorder();
    const reopened = await open(CONFIG, { fs, processProbe: DEAD_OWNER, progress: sink });
    expect(phases.map((p) => [p.phase, p.unit, p.total, p.done])).toEqual([
      ["load", "bytes", 2 * versionsSize, 2 * versionsSize],
      ["replay", "bytes", walSize, walSize],
      ["index", "steps", 2 * 160, 2 * 160],
    ]);
    expect(stops()).toBe(1);
    expect(reopened.recoveryReport().checkpoint?.snapshot_id).toBe(snapshot_id);
    expect(
      reopened.query({ schema_id: "notes", schema_version: "v1", filter: { _id: 160 }, limit: 1 }).data,
    ).toHaveLength(1);
    await reopened.close();
  });
});
