/** core.md §13, Storage: scenarios 10–12. */
import { expect } from "vitest";
import { expectCommit, expectError, expectRows, expectStopped, type Scenario, sequence } from "./context.js";
import { flipBits, readLog, segmentPath, tree, versionRecords } from "./disk.js";
import {
  insertUser,
  register,
  remove,
  USERS_V1,
  updateUser,
  user,
  userById,
  usersByAge,
} from "./fixtures.js";

const storage10: Scenario = {
  id: "10",
  title: "three versions of a key -> the newest is read",
  async run(ctx) {
    const dir = await ctx.freshDatabase();
    const s = await ctx.start(dir);
    const writes = await sequence(s, [
      register(USERS_V1),
      insertUser("k", 1),
      updateUser("k", 2, { addr: { city: "Lund" } }),
      updateUser("k", 3),
    ]);
    writes.forEach((r, i) => {
      expectCommit(r, i + 1);
    });
    const reads = [userById("k"), usersByAge(1), usersByAge(2), usersByAge(3), usersByAge({ $gte: 0 })];
    const expected = [[user("k", 3)], [], [], [user("k", 3)], [user("k", 3)]];
    (await sequence(s, reads)).forEach((r, i) => {
      expectRows(r, expected[i]!, 4);
    });
    await s.close();

    const s2 = await ctx.start(dir);
    expect(await s2.recoveryReport()).toMatchObject({ versions_verified: 3, commit_high_water: 4 });
    (await sequence(s2, reads)).forEach((r, i) => {
      expectRows(r, expected[i]!, 4);
    });
    await s2.close();
  },
};

const storage11: Scenario = {
  id: "11",
  title: "a flipped bit in a stored document -> FATAL DATA_CORRUPTION on read (and FATAL at the next start)",
  async run(ctx) {
    const dir = await ctx.freshDatabase();
    const s = await ctx.start(dir);
    const writes = await sequence(s, [
      register(USERS_V1),
      insertUser("d1", 1),
      insertUser("d2", 2, { addr: { city: "Bergen" } }),
      insertUser("d3", 3),
    ]);
    writes.forEach((r, i) => {
      expectCommit(r, i + 1);
    });
    expectRows(await s.request(userById("d2")), [user("d2", 2, { addr: { city: "Bergen" } })], 4);

    // Damage d2's body on disk while the database serves: one bit inside "Bergen".
    const record = versionRecords(await readLog(dir)).find((r) => r.id === "d2")!;
    const bodyStart = record.frame.offset + 13 + record.frame.payload.length - Buffer.byteLength(record.body);
    const at = bodyStart + record.body.indexOf("Bergen") + 2;
    await flipBits(segmentPath(dir, record.frame.segment), at, 0x01);

    const fatal = expectError(await s.request(userById("d2")), "AERO_DATA_CORRUPTION", {
      segment: record.frame.segment,
      offset: record.frame.offset,
    });
    await expectStopped(s, fatal, userById("d1"));
    await s.close();

    // The next start verifies every frame: the damaged record sits inside a unit whose
    // COMMIT follows, which wal.md §9 names WAL_UNIT_INCOMPLETE.
    const before = await tree(dir);
    expectError(await ctx.startFails(dir), "AERO_WAL_UNIT_INCOMPLETE", {
      segment: record.frame.segment,
      offset: record.frame.offset,
      commit_id: 3,
    });
    expect(await tree(dir)).toEqual(before);
  },
};

const storage12: Scenario = {
  id: "12",
  title: "three restarts -> every store file byte-identical",
  async run(ctx) {
    const dir = await ctx.freshDatabase();
    await ctx.withSession(dir, async (s) => {
      const writes = await sequence(s, [
        register(USERS_V1),
        insertUser("a", 1),
        insertUser("b", 2),
        updateUser("a", 5),
        remove("users", "v1", "b"),
      ]);
      writes.forEach((r, i) => {
        expectCommit(r, i + 1);
      });
    });
    const files = await tree(dir);
    expect(Object.keys(files).some((k) => k.startsWith("wal/") && k.endsWith(".wal"))).toBe(true);
    const reports: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      await ctx.withSession(dir, async (s) => {
        reports.push(await s.recoveryReport());
        expectRows(await s.request(usersByAge({ $gte: 0 })), [user("a", 5)], 5);
      });
      expect(await tree(dir)).toEqual(files);
    }
    expect(reports[1]).toEqual(reports[0]);
    expect(reports[2]).toEqual(reports[0]);
  },
};

export const storageScenarios: readonly Scenario[] = [storage10, storage11, storage12];
