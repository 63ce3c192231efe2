/**
 * core.md §13, Persistence: scenarios 29–32 (snapshots and checkpoints, core.md §10 and
 * docs/formats/snapshot.md). The crash states of scenario 31 are laid out on disk from real
 * runs (the directory before a checkpoint, plus what the checkpoint had made durable at each
 * step), so they run unchanged through every driver; the simulated-disk crash matrix of
 * @aerodb/snapshot covers every boundary operation.
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { expect } from "vitest";
import type { Response, Session } from "../driver.js";
import {
  expectCommit,
  expectError,
  expectRows,
  type Scenario,
  type ScenarioContext,
  sequence,
} from "./context.js";
import { copyTree, exists, flipBits, segmentNames, tree } from "./disk.js";
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

const CHECKPOINT = { op: "checkpoint" } as const;

/** Small segments, so a history of a few hundred KiB spans several and truncation removes some. */
const SMALL_SEGMENTS = { config: { core: { wal_segment_bytes: 65536 } } };

/**
 * Copies of a data directory must be opened at its own path (core.data_dir is persisted), so
 * scenarios save a directory aside and put a copy back in place.
 */
async function saveAside(ctx: ScenarioContext, dir: string): Promise<string> {
  const saved = path.join(await ctx.tempDir(), "saved");
  await copyTree(dir, saved);
  return saved;
}

async function putBack(saved: string, dir: string): Promise<void> {
  await fs.rm(dir, { recursive: true, force: true });
  await copyTree(saved, dir);
}

const snapshotName = (c: number) => `snap-${String(c).padStart(20, "0")}`;

/** A history of `n` commits (registration first): inserts, updates, deletes of bulky documents; returns V. */
async function history(s: Session, n: number): Promise<number> {
  const requests = [register(USERS_V1)];
  const live = new Set<string>();
  for (let k = 1; k < n; k++) {
    const id = `k${k % 23}`;
    const bulky = { addr: { city: `${"x".repeat(2500 + k)}` } };
    if (live.has(id) && k % 7 === 3) {
      requests.push(remove("users", "v1", id));
      live.delete(id);
    } else {
      requests.push(live.has(id) ? updateUser(id, k, bulky) : insertUser(id, k, bulky));
      live.add(id);
    }
  }
  const responses = await sequence(s, requests);
  responses.forEach((r, i) => {
    expectCommit(r, i + 1);
  });
  return n;
}

/** Everything the scenarios compare: every live user, and the age index end to end. */
async function everything(s: Session): Promise<Response[]> {
  return sequence(s, [usersByAge({ $gte: -1 }), query("_id", { $gte: "" })]);
}

function query(field: string, filter: unknown) {
  return { op: "query", schema_id: "users", schema_version: "v1", filter: { [field]: filter }, limit: 1000 };
}

function expectCheckpoint(r: Response, c: number): { lsn_boundary: number; segments_removed: number } {
  expect(r, JSON.stringify(r)).toMatchObject({
    status: "ok",
    data: { snapshot_id: snapshotName(c), commit_boundary: c },
  });
  const data = (r as { data: { lsn_boundary: number; segments_removed: number } }).data;
  expect(Object.keys(data).sort()).toEqual([
    "commit_boundary",
    "lsn_boundary",
    "segments_removed",
    "snapshot_id",
  ]);
  return data;
}

/** A database with a history of `n` commits, closed; returns its directory and V. */
async function closedHistory(
  ctx: ScenarioContext,
  n: number,
): Promise<{ dir: string; v: number; state: Response[] }> {
  const dir = await ctx.freshDatabase();
  const s = await ctx.start(dir, SMALL_SEGMENTS);
  const v = await history(s, n);
  const state = await everything(s);
  await s.close();
  return { dir, v, state };
}

const persistence29: Scenario = {
  id: "29",
  title: "two checkpoints of one state -> the same snapshot bytes",
  async run(ctx) {
    const { dir, v } = await closedHistory(ctx, 60);
    const saved = await saveAside(ctx, dir);
    const snapshots: Record<string, string>[] = [];
    const markers: Buffer[] = [];
    for (let round = 0; round < 2; round++) {
      if (round > 0) await putBack(saved, dir);
      const s = await ctx.start(dir, SMALL_SEGMENTS);
      expectCheckpoint(await s.request(CHECKPOINT), v);
      // A second checkpoint of the same state reuses the snapshot: same response, nothing removed.
      const again = await s.request(CHECKPOINT);
      expect(expectCheckpoint(again, v).segments_removed).toBe(0);
      await s.close();
      snapshots.push(await tree(path.join(dir, "snapshots")));
      markers.push(await fs.readFile(path.join(dir, "checkpoint.json")));
    }
    expect(Object.keys(snapshots[0]!)).toEqual([
      `${snapshotName(v)}/`,
      `${snapshotName(v)}/manifest.json`,
      `${snapshotName(v)}/schemas/`,
      `${snapshotName(v)}/schemas/users/`,
      `${snapshotName(v)}/schemas/users/v1.json`,
      `${snapshotName(v)}/versions`,
    ]);
    expect(snapshots[1]).toEqual(snapshots[0]);
    expect(markers[1]).toEqual(markers[0]);
  },
};

const persistence30: Scenario = {
  id: "30",
  title: "checkpoint + restart -> same results; LSNs and commit ids continue",
  async run(ctx) {
    const { dir, v, state } = await closedHistory(ctx, 80);
    const segmentsBefore = await segmentNames(dir);
    const s = await ctx.start(dir, SMALL_SEGMENTS);
    const cp = expectCheckpoint(await s.request(CHECKPOINT), v);
    expect(cp.segments_removed).toBeGreaterThan(0);
    expect(cp.segments_removed).toBe(segmentsBefore.length - (await segmentNames(dir)).length);
    // Reads right after the truncation come from the snapshot.
    expect(await everything(s)).toEqual(state);
    expectCommit(await s.request(insertUser("after", 7)), v + 1);
    await s.close();

    const s2 = await ctx.start(dir, SMALL_SEGMENTS);
    const report = await s2.recoveryReport();
    expect(report).toMatchObject({
      checkpoint: { snapshot_id: snapshotName(v), commit_boundary: v, lsn_boundary: cp.lsn_boundary },
      commit_high_water: v + 1,
      wal: { units_replayed: 1, last_lsn: cp.lsn_boundary + 3 },
      outcome: "RECOVERY_COMPLETE",
    });
    expectRows(await s2.request(userById("after")), [user("after", 7)], v + 1);
    const [byAge] = await everything(s2);
    expect((byAge as { data: unknown[] }).data).toContainEqual(user("after", 7));
    expectCommit(await s2.request(updateUser("after", 8)), v + 2);
    // A later checkpoint replaces the first: one snapshot left.
    expectCheckpoint(await s2.request(CHECKPOINT), v + 2);
    expect(await fs.readdir(path.join(dir, "snapshots"))).toEqual([snapshotName(v + 2)]);
    await s2.close();
    const s3 = await ctx.start(dir, SMALL_SEGMENTS);
    expect(await s3.recoveryReport()).toMatchObject({
      checkpoint: { commit_boundary: v + 2 },
      commit_high_water: v + 2,
    });
    expectRows(await s3.request(userById("after")), [user("after", 8)], v + 2);
    await s3.close();
  },
};

const persistence31: Scenario = {
  id: "31",
  title: "a crash before the marker, before truncation, after it -> the same state",
  async run(ctx) {
    const { dir, v, state } = await closedHistory(ctx, 80);
    const before = await saveAside(ctx, dir);
    const s = await ctx.start(dir, SMALL_SEGMENTS);
    expectCheckpoint(await s.request(CHECKPOINT), v);
    await s.close();
    const after = await saveAside(ctx, dir);
    const snapshot = path.join(after, "snapshots", snapshotName(v));

    // What a crash leaves at each step, laid out from the directory before the checkpoint.
    const layouts: Array<{ name: string; from: number | null; make(): Promise<void> }> = [
      {
        name: "snapshot written under .tmp, not renamed",
        from: null,
        make: async () => {
          await putBack(before, dir);
          await copyTree(snapshot, path.join(dir, "snapshots", `${snapshotName(v)}.tmp`));
        },
      },
      {
        name: "snapshot renamed, no marker",
        from: null,
        make: async () => {
          await putBack(before, dir);
          await copyTree(snapshot, path.join(dir, "snapshots", snapshotName(v)));
        },
      },
      {
        name: "marker durable, nothing truncated",
        from: v,
        make: async () => {
          await putBack(before, dir);
          await copyTree(snapshot, path.join(dir, "snapshots", snapshotName(v)));
          await fs.copyFile(path.join(after, "checkpoint.json"), path.join(dir, "checkpoint.json"));
        },
      },
      { name: "after truncation", from: v, make: () => putBack(after, dir) },
    ];
    for (const layout of layouts) {
      await layout.make();
      const s2 = await ctx.start(dir, SMALL_SEGMENTS);
      const report = await s2.recoveryReport();
      const from =
        report.checkpoint === null
          ? null
          : (report.checkpoint as { commit_boundary: number }).commit_boundary;
      expect(from, layout.name).toBe(layout.from);
      expect(report.commit_high_water, layout.name).toBe(v);
      expect(await everything(s2), layout.name).toEqual(state);
      expectCommit(await s2.request(insertUser("next", 1)), v + 1);
      // The checkpoint that follows completes and leaves exactly its snapshot.
      expectCheckpoint(await s2.request(CHECKPOINT), v + 1);
      expect(await fs.readdir(path.join(dir, "snapshots")), layout.name).toEqual([snapshotName(v + 1)]);
      await s2.close();
    }
  },
};

const persistence32: Scenario = {
  id: "32",
  title:
    "marker without its snapshot -> RECOVERY_SNAPSHOT_MISSING; bad CRC -> SNAPSHOT_CORRUPTION; no manifest -> ignored",
  async run(ctx) {
    const { dir, v, state } = await closedHistory(ctx, 40);
    const s = await ctx.start(dir, SMALL_SEGMENTS);
    expectCheckpoint(await s.request(CHECKPOINT), v);
    await s.close();
    const snapshot = path.join(dir, "snapshots", snapshotName(v));

    // A snapshot directory without a manifest (a later id) is ignored.
    const stray = path.join(dir, "snapshots", snapshotName(v + 9));
    await copyTree(snapshot, stray);
    await fs.rm(path.join(stray, "manifest.json"));
    const s2 = await ctx.start(dir, SMALL_SEGMENTS);
    expect(await s2.recoveryReport()).toMatchObject({ checkpoint: { snapshot_id: snapshotName(v) } });
    expect(await everything(s2)).toEqual(state);
    await s2.close();
    await fs.rm(stray, { recursive: true });

    // A flipped bit in the versions file: FATAL SNAPSHOT_CORRUPTION naming the file.
    const good = await saveAside(ctx, dir);
    const versions = path.join(snapshot, "versions");
    await flipBits(versions, Math.floor((await fs.stat(versions)).size / 2), 0x04);
    const before = await tree(dir);
    expectError(await ctx.startFails(dir, SMALL_SEGMENTS), "AERO_SNAPSHOT_CORRUPTION", {
      snapshot_id: snapshotName(v),
      file: "versions",
    });
    expect(await tree(dir)).toEqual(before);

    // The marker's snapshot without its manifest, or gone: FATAL RECOVERY_SNAPSHOT_MISSING.
    await putBack(good, dir);
    await fs.rm(path.join(snapshot, "manifest.json"));
    expectError(await ctx.startFails(dir, SMALL_SEGMENTS), "AERO_RECOVERY_SNAPSHOT_MISSING", {
      snapshot_id: snapshotName(v),
    });
    await fs.rm(snapshot, { recursive: true });
    expect(await exists(snapshot)).toBe(false);
    expectError(await ctx.startFails(dir, SMALL_SEGMENTS), "AERO_RECOVERY_SNAPSHOT_MISSING", {
      snapshot_id: snapshotName(v),
    });
  },
};

export const persistenceScenarios: readonly Scenario[] = [
  persistence29,
  persistence30,
  persistence31,
  persistence32,
];
