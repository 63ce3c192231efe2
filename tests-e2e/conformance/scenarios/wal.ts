/** core.md §13, WAL: scenarios 1–9. */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { expect } from "vitest";
import {
  expectCommit,
  expectError,
  expectRows,
  type Scenario,
  type ScenarioContext,
  sequence,
} from "./context.js";
import {
  copyTree,
  decodeVersion,
  dropPadding,
  encodeFrame,
  Kind,
  manifestDatabaseId,
  onlySegment,
  readLog,
  SEGMENT_HEADER_BYTES,
  segmentPath,
  tree,
  versionRecords,
} from "./disk.js";
import {
  insertUser,
  register,
  remove,
  USERS_V1,
  update,
  updateUser,
  user,
  userById,
  usersByAge,
} from "./fixtures.js";

/** A database holding users v1 (commit 1) and `count` users u1.. (commits 2..count+1), closed. */
async function usersDatabase(ctx: ScenarioContext, count: number): Promise<string> {
  const dir = await ctx.freshDatabase();
  await ctx.withSession(dir, async (s) => {
    expectCommit(await s.request(register(USERS_V1)), 1);
    for (let i = 1; i <= count; i++) expectCommit(await s.request(insertUser(`u${i}`, 20 + i)), i + 1);
  });
  return dir;
}

const wal1: Scenario = {
  id: "1",
  title: "10 commits, reopen: LSNs and CommitIds continue",
  async run(ctx) {
    const dir = await usersDatabase(ctx, 9);
    const s = await ctx.start(dir);
    expect(await s.recoveryReport()).toMatchObject({
      commit_high_water: 10,
      wal: { segments: 1, first_lsn: 1, last_lsn: 30, records_verified: 30, units_replayed: 10 },
      torn_tail: null,
    });
    expectCommit(await s.request(insertUser("u10", 40)), 11);
    await s.close();

    const log = await readLog(dir);
    expect(log.frames.map((f) => f.lsn)).toEqual(Array.from({ length: 33 }, (_, i) => i + 1));
    expect(log.units.map((u) => u.commitId)).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
    for (const unit of log.units) {
      expect(unit.begin.payload.readUInt32LE(8)).toBe(1);
      expect(unit.records).toHaveLength(1);
      expect(Number(unit.commit.payload.readBigUInt64LE(0))).toBe(unit.commitId);
    }
    expect(await ctx.reportOf(dir)).toMatchObject({
      commit_high_water: 11,
      wal: { first_lsn: 1, last_lsn: 33, units_replayed: 11 },
    });
  },
};

const wal2: Scenario = {
  id: "2",
  title: "the first LSN and CommitId are 1; a record is readable once appended",
  async run(ctx) {
    const dir = await ctx.freshDatabase();
    const s = await ctx.start(dir);
    expectCommit(await s.request(register(USERS_V1)), 1);
    const name = await onlySegment(dir);
    expect(name).toBe("00000000000000000001.wal");
    const log = await readLog(dir);
    const segment = log.segments[0]!;
    expect(segment.header).toEqual({
      magic: "AEROWAL\u0000",
      formatVersion: 1,
      headerSize: 48,
      databaseId: await manifestDatabaseId(dir),
      firstLsn: 1,
      previousFrameCrc: 0,
    });
    expect(log.frames.map((f) => [f.kind, f.lsn])).toEqual([
      [Kind.BEGIN, 1],
      [Kind.SCHEMA, 2],
      [Kind.COMMIT, 3],
    ]);
    expect(log.units[0]?.commitId).toBe(1);

    expectCommit(await s.request(insertUser("first", 30)), 2);
    expectRows(await s.request(userById("first")), [user("first", 30)], 2);
    expectRows(await s.request(usersByAge(30)), [user("first", 30)], 2);
    await s.close();
  },
};

const wal3: Scenario = {
  id: "3",
  title: "insert, update, insert, delete, update are replayed in the same order",
  async run(ctx) {
    const dir = await ctx.freshDatabase();
    const s = await ctx.start(dir);
    const responses = await sequence(s, [
      register(USERS_V1),
      insertUser("a", 1),
      updateUser("a", 2),
      insertUser("b", 5),
      remove("users", "v1", "a"),
      updateUser("b", 6),
    ]);
    responses.forEach((r, i) => {
      expectCommit(r, i + 1);
    });
    const before = await sequence(s, [userById("a"), userById("b"), usersByAge({ $gte: 0 })]);
    await s.close();

    const records = versionRecords(await readLog(dir)).map(
      ({ id, tombstone, body, commitId, schemaVersion }) => ({
        id,
        tombstone,
        body,
        commitId,
        schemaVersion,
      }),
    );
    expect(records).toEqual([
      { id: "a", tombstone: false, body: '{"_id":"a","age":1,"tags":[]}', commitId: 2, schemaVersion: "v1" },
      { id: "a", tombstone: false, body: '{"_id":"a","age":2,"tags":[]}', commitId: 3, schemaVersion: "v1" },
      { id: "b", tombstone: false, body: '{"_id":"b","age":5,"tags":[]}', commitId: 4, schemaVersion: "v1" },
      { id: "a", tombstone: true, body: "", commitId: 5, schemaVersion: "v1" },
      { id: "b", tombstone: false, body: '{"_id":"b","age":6,"tags":[]}', commitId: 6, schemaVersion: "v1" },
    ]);

    const s2 = await ctx.start(dir);
    expect(await s2.recoveryReport()).toMatchObject({
      commit_high_water: 6,
      versions_verified: 5,
      wal: { units_replayed: 6 },
    });
    const after = await sequence(s2, [userById("a"), userById("b"), usersByAge({ $gte: 0 })]);
    expect(after).toEqual(before);
    expectRows(after[0]!, [], 6);
    expectRows(after[1]!, [user("b", 6)], 6);
    expectRows(after[2]!, [user("b", 6)], 6);
    await s2.close();
  },
};

const wal4: Scenario = {
  id: "4",
  title: "a flipped bit before valid records -> FATAL WAL_CORRUPTION naming segment and offset",
  async run(ctx) {
    const dir = await usersDatabase(ctx, 3);
    const log = await readLog(dir);
    const target = log.units[1]!.begin; // commit 2's BEGIN, followed by valid frames
    await flipByteAt(dir, target.segment, target.offset + 13 + 2);
    const before = await tree(dir);
    const error = await ctx.startFails(dir);
    expectError(error, "AERO_WAL_CORRUPTION", {
      segment: target.segment,
      offset: target.offset,
      phase: "wal",
      last_good_lsn: 3,
    });
    expect(await tree(dir)).toEqual(before);
  },
};

const wal5: Scenario = {
  id: "5",
  title: "last unit 10 bytes short, or 5 junk bytes at the end -> torn tail cut and reported, rest intact",
  async run(ctx) {
    // (a) the last unit 10 bytes short.
    const dir = await usersDatabase(ctx, 3);
    const name = await onlySegment(dir);
    const file = segmentPath(dir, name);
    await dropPadding(dir, name);
    const length = (await fs.stat(file)).size;
    const last = (await readLog(dir)).units[3]!;
    expect(last.end).toBe(length);
    await fs.truncate(file, length - 10);
    const s = await ctx.start(dir);
    expect(await s.recoveryReport()).toMatchObject({
      torn_tail: { segment: name, offset: last.offset, bytes_cut: length - 10 - last.offset, records_cut: 2 },
      commit_high_water: 3,
      wal: { last_lsn: 9, units_replayed: 3 },
      versions_verified: 2,
    });
    expect((await fs.stat(file)).size).toBe(last.offset);
    expectRows(await s.request(usersByAge({ $gte: 0 })), [user("u1", 21), user("u2", 22)], 3);
    expectRows(await s.request(userById("u3")), [], 3);
    expectCommit(await s.request(insertUser("u3", 99)), 4);
    await s.close();
    expect(await ctx.reportOf(dir)).toMatchObject({ torn_tail: null, commit_high_water: 4 });

    // (b) five junk bytes after the last unit.
    const dir2 = await usersDatabase(ctx, 3);
    const name2 = await onlySegment(dir2);
    const file2 = segmentPath(dir2, name2);
    await dropPadding(dir2, name2);
    const intact = await fs.readFile(file2);
    await fs.appendFile(file2, Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x42]));
    const s2 = await ctx.start(dir2);
    expect(await s2.recoveryReport()).toMatchObject({
      torn_tail: { segment: name2, offset: intact.length, bytes_cut: 5, records_cut: 0 },
      commit_high_water: 4,
      wal: { last_lsn: 12, units_replayed: 4 },
    });
    expect(await fs.readFile(file2)).toEqual(intact);
    expectRows(
      await s2.request(usersByAge({ $gte: 0 })),
      [user("u1", 21), user("u2", 22), user("u3", 23)],
      4,
    );
    await s2.close();
    expect(await ctx.reportOf(dir2)).toMatchObject({ torn_tail: null, commit_high_water: 4 });
  },
};

const wal6: Scenario = {
  id: "6",
  title: "an unknown kind or an LSN jump mid-log -> FATAL, nothing changed",
  async run(ctx) {
    // (a) an unknown kind byte in the BEGIN of commit 2.
    const dir = await usersDatabase(ctx, 3);
    const target = (await readLog(dir)).units[1]!.begin;
    const file = segmentPath(dir, target.segment);
    const bytes = await fs.readFile(file);
    bytes.writeUInt8(9, target.offset + 4);
    await fs.writeFile(file, bytes);
    let before = await tree(dir);
    expectError(await ctx.startFails(dir), "AERO_WAL_CORRUPTION", {
      segment: target.segment,
      offset: target.offset,
      reason: "kind",
    });
    expect(await tree(dir)).toEqual(before);

    // (b) LSNs jump by one from commit 2 on (every frame re-encoded with a valid CRC).
    const dir2 = await usersDatabase(ctx, 3);
    const log = await readLog(dir2);
    const from = log.units[1]!.begin;
    const segment = log.segments[0]!;
    const rebuilt = Buffer.concat([
      segment.bytes.subarray(0, SEGMENT_HEADER_BYTES),
      ...segment.frames.map((f) => encodeFrame(f.kind, f.lsn >= from.lsn ? f.lsn + 1 : f.lsn, f.payload)),
    ]);
    await fs.writeFile(segmentPath(dir2, segment.name), rebuilt);
    before = await tree(dir2);
    expectError(await ctx.startFails(dir2), "AERO_WAL_CORRUPTION", {
      segment: segment.name,
      offset: from.offset,
      reason: "lsn_gap",
      expected_lsn: from.lsn,
      found_lsn: from.lsn + 1,
    });
    expect(await tree(dir2)).toEqual(before);
  },
};

const wal7: Scenario = {
  id: "7",
  title: "a fresh database recovers to high-water 0; without wal/ -> FATAL RECOVERY_FAILED",
  async run(ctx) {
    const dir = await ctx.freshDatabase();
    expect(await ctx.reportOf(dir)).toEqual({
      format_version: 1,
      database_id: await manifestDatabaseId(dir),
      clean_shutdown_flag: true,
      stale_lock: false,
      checkpoint: null,
      wal: { segments: 0, first_lsn: null, last_lsn: 0, records_verified: 0, units_replayed: 0 },
      torn_tail: null,
      commit_high_water: 0,
      schemas: { registered: 0, files_written: 0 },
      indexes: { count: 0, entries: 0 },
      versions_verified: 0,
      outcome: "RECOVERY_COMPLETE",
    });
    await fs.rm(path.join(dir, "wal"), { recursive: true });
    const before = await tree(dir);
    expectError(await ctx.startFails(dir), "AERO_RECOVERY_FAILED", { phase: "wal" });
    expect(await tree(dir)).toEqual(before);
  },
};

const wal8: Scenario = {
  id: "8",
  title: "one WAL in two directories -> the same report and the same store bytes",
  async run(ctx) {
    const a = await ctx.freshDatabase();
    await ctx.withSession(a, async (s) => {
      const responses = await sequence(s, [
        register(USERS_V1),
        insertUser("x", 1),
        insertUser("y", 2),
        update("users", "v1", user("x", 3, { addr: { city: "Oslo" } })),
        remove("users", "v1", "y"),
        insertUser("z", 4),
      ]);
      responses.forEach((r, i) => {
        expectCommit(r, i + 1);
      });
    });
    // End the log in a torn tail, so both starts have something to cut.
    const name = await onlySegment(a);
    await dropPadding(a, name);
    const length = (await fs.stat(segmentPath(a, name))).size;
    await fs.truncate(segmentPath(a, name), length - 10);

    // The second directory: initialized by the driver, then given A's identity, WAL and schema files.
    const b = await ctx.freshDatabase();
    await fs.copyFile(path.join(a, "MANIFEST"), path.join(b, "MANIFEST"));
    await fs.rm(path.join(b, "wal"), { recursive: true });
    await copyTree(path.join(a, "wal"), path.join(b, "wal"));
    await fs.rm(path.join(b, "metadata", "schemas"), { recursive: true });
    await copyTree(path.join(a, "metadata", "schemas"), path.join(b, "metadata", "schemas"));

    const reads = [usersByAge({ $gte: 0 }), userById("x"), userById("y"), userById("z")];
    const runOn = async (dir: string) => {
      const s = await ctx.start(dir);
      const report = await s.recoveryReport();
      const rows = await sequence(s, reads);
      await s.close();
      return { report, rows };
    };
    const ra = await runOn(a);
    const rb = await runOn(b);
    expect(rb.report).toEqual(ra.report);
    expect(ra.report).toMatchObject({
      commit_high_water: 5,
      torn_tail: { segment: name, records_cut: 2 },
    });
    expect(rb.rows).toEqual(ra.rows);
    expectRows(ra.rows[0]!, [user("x", 3, { addr: { city: "Oslo" } })], 5);
    const storeOf = async (dir: string) => {
      const all = await tree(dir);
      return Object.fromEntries(
        Object.entries(all).filter(([k]) => k.startsWith("wal/") || k.startsWith("metadata/schemas/")),
      );
    };
    expect(await storeOf(b)).toEqual(await storeOf(a));
  },
};

const wal9: Scenario = {
  id: "9",
  title: "a COMMIT whose unit lacks its VERSION -> FATAL WAL_UNIT_INCOMPLETE",
  async run(ctx) {
    const dir = await usersDatabase(ctx, 3);
    const log = await readLog(dir);
    const segment = log.segments[0]!;
    const unit = log.units[2]!; // commit 3, mid-log
    const dropped = unit.records[0]!;
    // Drop the VERSION frame; renumber every later frame so that LSNs stay contiguous.
    const frames = segment.frames
      .filter((f) => f !== dropped)
      .map((f) => encodeFrame(f.kind, f.lsn > dropped.lsn ? f.lsn - 1 : f.lsn, f.payload));
    await fs.writeFile(
      segmentPath(dir, segment.name),
      Buffer.concat([segment.bytes.subarray(0, SEGMENT_HEADER_BYTES), ...frames]),
    );
    const before = await tree(dir);
    expectError(await ctx.startFails(dir), "AERO_WAL_UNIT_INCOMPLETE", {
      segment: segment.name,
      offset: dropped.offset, // where the COMMIT now sits
      commit_id: 3,
      expected_records: 1,
      found_records: 0,
    });
    expect(await tree(dir)).toEqual(before);
    // The damaged unit is really the one described.
    expect(decodeVersion(dropped.payload).id).toBe("u2");
  },
};

async function flipByteAt(dir: string, segment: string, offset: number): Promise<void> {
  const file = segmentPath(dir, segment);
  const bytes = await fs.readFile(file);
  bytes.writeUInt8((bytes.readUInt8(offset) ^ 0x10) & 0xff, offset);
  await fs.writeFile(file, bytes);
}

export const walScenarios: readonly Scenario[] = [wal1, wal2, wal3, wal4, wal5, wal6, wal7, wal8, wal9];
