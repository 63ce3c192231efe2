// What a serving database keeps in memory after recovery: the versions' locations and index
// values, never the bytes recovery scanned. A replay reads each WAL segment into one buffer and
// hands out views of it; a view kept by anything that outlives recovery (the final unit, a decoder
// cache) keeps the whole segment alive for the life of the process.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as nodePath from "node:path";
import * as v8 from "node:v8";
import * as vm from "node:vm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { open } from "../src/engine/database.js";
import { NOTES } from "./support/notes-schema.js";

const DOCS = 1000;
const TEXT_BYTES = 4000;

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;
const arrayBufferBytes = () => {
  gc();
  gc();
  return process.memoryUsage().arrayBuffers;
};

describe("a database serving after recovery", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(nodePath.join(tmpdir(), "aerodb-recovery-memory-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("does not keep the WAL bytes it replayed", async () => {
    const config = { core: { data_dir: nodePath.join(dir, "db") } };
    const db = await open(config, { initialize: true });
    await db.registerSchema(NOTES);
    for (let i = 1; i <= DOCS; i++) {
      await db.insert({
        schema_id: "notes",
        schema_version: "v1",
        document: { _id: i, text: "n".repeat(TEXT_BYTES) },
      });
    }
    const walBytes = db.stats().wal.bytes_written;
    expect(walBytes).toBeGreaterThan(DOCS * TEXT_BYTES);
    await db.close();

    const before = arrayBufferBytes();
    const reopened = await open(config);
    const held = arrayBufferBytes() - before;
    expect(reopened.recoveryReport().wal.units_replayed).toBe(DOCS + 1);
    // Every document is still served, from its frame on disk.
    expect(
      reopened.query({ schema_id: "notes", schema_version: "v1", filter: { _id: DOCS }, limit: 1 }).data,
    ).toHaveLength(1);
    await reopened.close();
    expect(held).toBeLessThan(walBytes / 8);
  });
});
