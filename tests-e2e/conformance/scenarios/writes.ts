/** core.md §13, Writes: scenarios 18–20. */

import { canonicalJson } from "@aerodb/core";
import { expect } from "vitest";
import { expectCommit, expectError, expectRows, type Scenario } from "./context.js";
import { readLog, tree } from "./disk.js";
import {
  insert,
  insertUser,
  PEOPLE_V1,
  query,
  register,
  remove,
  USERS_V1,
  USERS_V2,
  update,
  updateUser,
  user,
  userById,
} from "./fixtures.js";

async function walTree(dir: string): Promise<Record<string, string>> {
  const all = await tree(dir);
  return Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith("wal/")));
}

async function lastLsn(dir: string): Promise<number> {
  const log = await readLog(dir);
  return log.frames[log.frames.length - 1]?.lsn ?? 0;
}

const writes18: Scenario = {
  id: "18",
  title: "a duplicate insert -> WRITE_DUPLICATE_ID, LSN unchanged",
  async run(ctx) {
    const dir = await ctx.freshDatabase();
    const s = await ctx.start(dir);
    expectCommit(await s.request(register(USERS_V1)), 1);
    expectCommit(await s.request(insertUser("a", 1)), 2);
    const lsn = await lastLsn(dir);
    const wal = await walTree(dir);
    const dup = { schema_id: "users", _id: "a" };
    expectError(await s.request(insertUser("a", 2)), "AERO_WRITE_DUPLICATE_ID", dup);
    expect(await lastLsn(dir)).toBe(lsn);
    expect(await walTree(dir)).toEqual(wal);
    // A live key blocks an insert under any version of its schema.
    expectCommit(await s.request(register(USERS_V2)), 3);
    expectError(
      await s.request(insert("users", "v2", { _id: "a", tags: [] })),
      "AERO_WRITE_DUPLICATE_ID",
      dup,
    );
    expectRows(await s.request(userById("a")), [user("a", 1)], 3);
    // Once deleted, the key can be inserted again.
    expectCommit(await s.request(remove("users", "v1", "a")), 4);
    expectCommit(await s.request(insertUser("a", 7)), 5);
    await s.close();

    const s2 = await ctx.start(dir);
    expectError(await s2.request(insertUser("a", 8)), "AERO_WRITE_DUPLICATE_ID", dup);
    expectRows(await s2.request(userById("a")), [user("a", 7)], 5);
    expectCommit(await s2.request(insertUser("b", 8)), 6);
    await s2.close();
  },
};

const writes19: Scenario = {
  id: "19",
  title: "update of a missing key -> WRITE_NOT_FOUND; delete of a missing key -> ok, nothing written",
  async run(ctx) {
    const dir = await ctx.freshDatabase();
    const s = await ctx.start(dir);
    expectCommit(await s.request(register(USERS_V1)), 1);
    expectCommit(await s.request(register(USERS_V2)), 2);
    expectCommit(await s.request(insertUser("a", 1)), 3);
    const wal = await walTree(dir);
    expectError(await s.request(updateUser("ghost", 1)), "AERO_WRITE_NOT_FOUND", {
      schema_id: "users",
      _id: "ghost",
    });
    expectCommit(await s.request(remove("users", "v1", "ghost")), null);
    expect(await walTree(dir)).toEqual(wal);

    // An update replaces the whole document and may change its version.
    expectCommit(await s.request(update("users", "v2", { _id: "a", tags: ["z"], email: "a@x" })), 4);
    expectRows(await s.request(query("users", "v2", { filter: { _id: "a" }, limit: 1 })), [
      { _id: "a", tags: ["z"], email: "a@x" },
    ]);
    expectRows(await s.request(userById("a")), [], 4); // no longer a v1 document
    expectCommit(await s.request(remove("users", "v1", "a")), 5);
    const wal2 = await walTree(dir);
    expectCommit(await s.request(remove("users", "v1", "a")), null);
    expectError(await s.request(updateUser("a", 2)), "AERO_WRITE_NOT_FOUND");
    expect(await walTree(dir)).toEqual(wal2);
    await s.close();

    const s2 = await ctx.start(dir);
    expect(await s2.recoveryReport()).toMatchObject({ commit_high_water: 5 });
    expectCommit(await s2.request(remove("users", "v2", "a")), null);
    expectError(await s2.request(updateUser("a", 2)), "AERO_WRITE_NOT_FOUND");
    await s2.close();
  },
};

const writes20: Scenario = {
  id: "20",
  title: "a document over core.max_document_bytes -> WRITE_TOO_LARGE",
  async run(ctx) {
    const dir = await ctx.freshDatabase();
    // The body is the document's canonical JSON; build one of exactly `bytes` bytes.
    const docOf = (id: string, bytes: number) => {
      const base = canonicalJson({ _id: id, note: "" }).length;
      return { _id: id, note: "n".repeat(bytes - base) };
    };
    const s = await ctx.start(dir, { config: { core: { max_document_bytes: 256 } } });
    expectCommit(await s.request(register(PEOPLE_V1)), 1);
    const wal = await walTree(dir);
    expectError(await s.request(insert("people", "v1", docOf("big", 257))), "AERO_WRITE_TOO_LARGE", {
      bytes: 257,
      max_document_bytes: 256,
    });
    expect(await walTree(dir)).toEqual(wal);
    expectCommit(await s.request(insert("people", "v1", docOf("fits", 256))), 2);
    expectError(await s.request(update("people", "v1", docOf("fits", 300))), "AERO_WRITE_TOO_LARGE", {
      bytes: 300,
      max_document_bytes: 256,
    });
    expectRows(await s.request(query("people", "v1", { filter: { _id: "fits" }, limit: 1 })), [
      docOf("fits", 256),
    ]);
    await s.close();

    // The default limit is 1 MiB.
    const s2 = await ctx.start(dir);
    expectError(
      await s2.request(insert("people", "v1", docOf("huge", 1024 * 1024 + 1))),
      "AERO_WRITE_TOO_LARGE",
      { bytes: 1024 * 1024 + 1, max_document_bytes: 1024 * 1024 },
    );
    expectCommit(await s2.request(update("people", "v1", docOf("fits", 1024 * 1024))), 3);
    await s2.close();
  },
};

export const writeScenarios: readonly Scenario[] = [writes18, writes19, writes20];
