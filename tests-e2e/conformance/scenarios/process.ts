/**
 * core.md §13, Process: scenarios 40–42.
 *
 * Not here: 38 and 39 (SIGKILL at crash points: the kill -9 tests) and 43 (fsync EIO: it
 * needs the simulated file system, so it lives with the crash/fault tests; a real disk
 * cannot be made to fail fsync on demand).
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { expect } from "vitest";
import { expectCommit, expectError, expectRows, type Scenario, sequence } from "./context.js";
import { exists, manifestDatabaseId, readJson, tree } from "./disk.js";
import { insertUser, register, remove, USERS_V1, updateUser, user, usersByAge } from "./fixtures.js";

const process40: Scenario = {
  id: "40",
  title: "a clean stop still replays the whole log",
  async run(ctx) {
    const dir = await ctx.freshDatabase();
    const state = path.join(dir, "metadata", "state.json");
    const s = await ctx.start(dir);
    expect(await readJson(state)).toMatchObject({ clean_shutdown: false });
    const writes = await sequence(s, [
      register(USERS_V1),
      insertUser("a", 1),
      insertUser("b", 2),
      updateUser("a", 3),
      remove("users", "v1", "b"),
    ]);
    writes.forEach((r, i) => {
      expectCommit(r, i + 1);
    });
    await s.close();
    expect(await readJson(state)).toMatchObject({ clean_shutdown: true });
    expect(await exists(path.join(dir, "LOCK"))).toBe(false);

    const s2 = await ctx.start(dir);
    expect(await s2.recoveryReport()).toEqual({
      format_version: 1,
      database_id: await manifestDatabaseId(dir),
      clean_shutdown_flag: true,
      stale_lock: false,
      checkpoint: null,
      wal: { segments: 1, first_lsn: 1, last_lsn: 15, records_verified: 15, units_replayed: 5 },
      torn_tail: null,
      commit_high_water: 5,
      schemas: { registered: 1, files_written: 0 },
      indexes: { count: 2, entries: 2 },
      versions_verified: 4,
      outcome: "RECOVERY_COMPLETE",
    });
    expectRows(await s2.request(usersByAge({ $gte: 0 })), [user("a", 3)], 5);
    await s2.close();
  },
};

const process41: Scenario = {
  id: "41",
  title: "unknown key, wal_sync_mode none, max_query_limit 0 -> FATAL; data_dir moved -> CONFIG_IMMUTABLE",
  async run(ctx) {
    const dir = await ctx.freshDatabase();
    await ctx.withSession(dir, async (s) => expectCommit(await s.request(register(USERS_V1)), 1));
    const before = await tree(dir);
    const refused: Array<[Record<string, unknown>, string, Record<string, unknown>]> = [
      [{ core: { unknown_key: 1 } }, "AERO_CONFIG_INVALID", { path: "core", keys: ["unknown_key"] }],
      [{ bogus_section: {} }, "AERO_CONFIG_INVALID", { keys: ["bogus_section"] }],
      [{ core: { wal_sync_mode: "none" } }, "AERO_CONFIG_UNSAFE", { path: "core.wal_sync_mode" }],
      [{ core: { max_query_limit: 0 } }, "AERO_CONFIG_INVALID", { path: "core.max_query_limit" }],
      [{ core: { max_query_limit: "10" } }, "AERO_CONFIG_INVALID", { path: "core.max_query_limit" }],
      [{ core: { wal_segment_bytes: 1024 } }, "AERO_CONFIG_INVALID", { path: "core.wal_segment_bytes" }],
    ];
    for (const [config, code, details] of refused) {
      expectError(await ctx.startFails(dir, { config }), code, details);
      // Refused before any data was touched: not even LOCK.
      expect(await tree(dir)).toEqual(before);
    }

    // Moving the directory changes core.data_dir, which is persisted.
    const moved = path.join(path.dirname(dir), "moved");
    await fs.rename(dir, moved);
    expectError(await ctx.startFails(moved), "AERO_CONFIG_IMMUTABLE", { field: "core.data_dir" });
    expect(await tree(moved)).toEqual(before);
    await fs.rename(moved, dir);

    const s = await ctx.start(dir, { config: { core: { max_query_limit: 2 } } });
    expectError(await s.request(usersByAge({ $gte: 0 }, 3)), "AERO_QUERY_LIMIT_TOO_LARGE", {
      max_query_limit: 2,
    });
    expectRows(await s.request(usersByAge({ $gte: 0 }, 2)), [], 1);
    await s.close();
  },
};

const process42: Scenario = {
  id: "42",
  title: "a second opener -> STORAGE_LOCKED; a dead owner's lock is taken over and reported",
  async run(ctx) {
    const dir = await ctx.freshDatabase();
    const lock = path.join(dir, "LOCK");

    // A second opener while the first serves.
    const s = await ctx.start(dir);
    expectCommit(await s.request(register(USERS_V1)), 1);
    expect(await exists(lock)).toBe(true);
    const lockBytes = await fs.readFile(lock);
    expectError(await ctx.startFails(dir), "AERO_STORAGE_LOCKED");
    expect(await fs.readFile(lock)).toEqual(lockBytes);
    expectCommit(await s.request(insertUser("a", 1)), 2); // the owner is unaffected
    await s.close();
    expect(await exists(lock)).toBe(false);
    expect(await ctx.reportOf(dir)).toMatchObject({ stale_lock: false });

    // A lock held by another live process.
    const sleeper = spawn(process.execPath, ["-e", "setTimeout(() => {}, 120000)"], { stdio: "ignore" });
    try {
      const pid = sleeper.pid as number;
      const liveLock = `${JSON.stringify({ database_id: null, pid })}\n`;
      await fs.writeFile(lock, liveLock);
      expectError(await ctx.startFails(dir), "AERO_STORAGE_LOCKED", { pid });
      expect(await fs.readFile(lock, "utf8")).toBe(liveLock);
    } finally {
      const gone = new Promise((resolve) => sleeper.once("exit", resolve));
      sleeper.kill("SIGKILL");
      await gone;
    }
    // ... which is now dead: taken over and reported.
    let s2 = await ctx.start(dir);
    expect(await s2.recoveryReport()).toMatchObject({ stale_lock: true, commit_high_water: 2 });
    expectRows(await s2.request(usersByAge(1)), [user("a", 1)], 2);
    await s2.close();
    expect(await exists(lock)).toBe(false);

    // A lock left by a process that ran and exited.
    const dead = spawn(process.execPath, ["-e", "0"], { stdio: "ignore" });
    const deadPid = dead.pid as number;
    await new Promise((resolve) => dead.once("exit", resolve));
    await fs.writeFile(lock, `${JSON.stringify({ database_id: null, pid: deadPid })}\n`);
    s2 = await ctx.start(dir);
    expect(await s2.recoveryReport()).toMatchObject({ stale_lock: true });
    expectCommit(await s2.request(insertUser("b", 2)), 3);
    await s2.close();
    expect(await exists(lock)).toBe(false);
    expect(await ctx.reportOf(dir)).toMatchObject({ stale_lock: false, commit_high_water: 3 });
  },
};

export const processScenarios: readonly Scenario[] = [process40, process41, process42];
