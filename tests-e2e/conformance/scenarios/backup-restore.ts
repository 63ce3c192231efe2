/**
 * core.md §13, Persistence: scenarios 33–37 (backup and restore, core.md §11,
 * docs/formats/backup.md). Archives are read and damaged from the documented format (ustar
 * headers, backup_manifest.json sealed with a CRC-32), not with the implementation's
 * decoders. Restores go through the driver's offline `restore` (the embedded API's
 * restoreBackup, or `aerodb restore`). I/O faults other than the ones a real disk can be
 * made to give (a missing directory, a directory in the way) and a crash at every operation
 * run on the simulated file system in @aerodb/snapshot's tests; a real SIGKILL during
 * `aerodb restore` is tests-e2e/kill/restore-kill.test.ts.
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { canonicalJson } from "@aerodb/core";
import { crc32 } from "@aerodb/wal";
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
import { copyTree, exists, tree } from "./disk.js";
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

// ---- the documented archive format ----------------------------------------------------

interface Entry {
  name: string;
  header: Buffer;
  content: Buffer;
}

/** The entries of a ustar archive up to its end blocks (docs/formats/backup.md). */
function entriesOf(archive: Buffer): Entry[] {
  const out: Entry[] = [];
  for (let at = 0; ; ) {
    const header = archive.subarray(at, at + 512);
    if (header.every((b) => b === 0)) return out;
    const text = (from: number, len: number) => {
      const raw = header.subarray(from, from + len);
      const nul = raw.indexOf(0);
      return raw.subarray(0, nul < 0 ? len : nul).toString("latin1");
    };
    const size = Number.parseInt(text(124, 12), 8);
    const prefix = text(345, 155);
    out.push({
      name: prefix === "" ? text(0, 100) : `${prefix}/${text(0, 100)}`,
      header: Buffer.from(header),
      content: Buffer.from(archive.subarray(at + 512, at + 512 + size)),
    });
    at += 512 + Math.ceil(size / 512) * 512;
  }
}

function archiveOf(entries: readonly Entry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    parts.push(e.header, e.content, Buffer.alloc((512 - (e.content.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** A file header of the fixed form: mode 0644, owner 0, mtime 0, checksum recomputed. */
function fileHeader(name: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, "latin1");
  h.write("0000644\0", 100, "latin1");
  h.write("0000000\0", 108, "latin1");
  h.write("0000000\0", 116, "latin1");
  h.write(`${size.toString(8).padStart(11, "0")}\0`, 124, "latin1");
  h.write("00000000000\0", 136, "latin1");
  h.write("0", 156, "latin1");
  h.write("ustar\u000000", 257, "latin1");
  h.write("0000000\0", 329, "latin1");
  h.write("0000000\0", 337, "latin1");
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
  return h;
}

/** backup_manifest.json re-sealed after `change` (checksum = CRC-32 of the rest, canonical). */
function resealManifest(entry: Entry, change: (m: Record<string, unknown>) => void): Entry {
  const { checksum: _old, ...rest } = JSON.parse(entry.content.toString("utf8")) as Record<string, unknown>;
  change(rest);
  const body = canonicalJson(rest);
  const content = Buffer.from(`${canonicalJson({ ...rest, checksum: crc32(Buffer.from(body)) })}\n`);
  return { name: entry.name, header: fileHeader(entry.name, content.length), content };
}

// ---- helpers ---------------------------------------------------------------------------

const BACKUP = (file: string) => ({ op: "backup", path: file });

/** A few commits of every kind; returns V. */
async function someHistory(s: Session): Promise<number> {
  const responses = await sequence(s, [
    register(USERS_V1),
    insertUser("u1", 30),
    insertUser("u2", 41),
    insertUser("u3", 52),
    updateUser("u2", 42),
    remove("users", "v1", "u3"),
    insertUser("u4", 19),
  ]);
  responses.forEach((r, i) => {
    expectCommit(r, i + 1);
  });
  return responses.length;
}

const LIVE = [user("u4", 19), user("u1", 30), user("u2", 42)];

async function backupOk(s: Session, file: string): Promise<Record<string, unknown>> {
  const r = await s.request(BACKUP(file));
  expect(r.status, JSON.stringify(r)).toBe("ok");
  return (r as { data: Record<string, unknown> }).data;
}

function expectRestored(r: Response): Record<string, unknown> {
  expect(r.status, JSON.stringify(r)).toBe("ok");
  return (r as { data: Record<string, unknown> }).data;
}

/** A database with `someHistory`, its backup file, and the backup's response data. */
async function backedUp(
  ctx: ScenarioContext,
): Promise<{ dir: string; file: string; data: Record<string, unknown> }> {
  const dir = await ctx.freshDatabase();
  const file = path.join(await ctx.tempDir(), "backup.tar");
  const data = await ctx.withSession(dir, async (s) => {
    await someHistory(s);
    return backupOk(s, file);
  });
  return { dir, file, data };
}

/** The parent directory of a restore target holds exactly `names` (no `.restore-*` left). */
async function siblings(dir: string): Promise<string[]> {
  return (await fs.readdir(path.dirname(dir))).sort();
}

// ---- scenarios -------------------------------------------------------------------------

export const backupRestoreScenarios: readonly Scenario[] = [
  {
    id: "33",
    title: "backup twice -> same bytes; of an empty database -> a snapshot at 0",
    async run(ctx) {
      const dir = await ctx.freshDatabase();
      const out = await ctx.tempDir();
      const empty = await ctx.withSession(dir, (s) => backupOk(s, path.join(out, "empty.tar")));
      expect(empty).toMatchObject({
        commit_boundary: 0,
        lsn_boundary: 0,
        snapshot_id: "snap-00000000000000000000",
      });
      const emptyEntries = entriesOf(await fs.readFile(path.join(out, "empty.tar")));
      expect(emptyEntries.map((e) => e.name)).toEqual([
        "backup_manifest.json",
        "MANIFEST",
        "snapshot/",
        "snapshot/manifest.json",
        "snapshot/versions",
      ]);
      expect(emptyEntries.find((e) => e.name === "snapshot/versions")?.content.length).toBe(0);

      const [first, second] = await ctx.withSession(dir, async (s) => {
        const v = await someHistory(s);
        const a = await backupOk(s, path.join(out, "a.tar"));
        const b = await backupOk(s, path.join(out, "b.tar"));
        expect(a).toMatchObject({ commit_boundary: v });
        return [a, b];
      });
      expect(second).toEqual(first);
      const a = await fs.readFile(path.join(out, "a.tar"));
      expect(a.equals(await fs.readFile(path.join(out, "b.tar")))).toBe(true);
      expect(first.bytes).toBe(a.length);
      // After a restart (and through a checkpoint's snapshot) the same state gives the same bytes.
      await ctx.withSession(dir, async (s) => {
        await backupOk(s, path.join(out, "c.tar"));
        expect((await s.request({ op: "checkpoint" })).status).toBe("ok");
        await backupOk(s, path.join(out, "d.tar"));
      });
      expect(a.equals(await fs.readFile(path.join(out, "c.tar")))).toBe(true);
      expect(a.equals(await fs.readFile(path.join(out, "d.tar")))).toBe(true);
      // The archive: manifest first, fixed metadata, sorted entries.
      const entries = entriesOf(a);
      expect(entries[0]?.name).toBe("backup_manifest.json");
      const manifest = JSON.parse(entries[0]?.content.toString("utf8") ?? "{}") as Record<string, unknown>;
      expect(manifest).toMatchObject({
        format_version: 1,
        backup_id: `${manifest.database_id}-${first.commit_boundary}`,
        commit_boundary: first.commit_boundary,
        lsn_boundary: first.lsn_boundary,
      });
      for (const e of entries) {
        expect(e.header.toString("latin1", 108, 124), e.name).toBe("0000000\u00000000000\0");
        expect(e.header.toString("latin1", 136, 148), e.name).toBe("00000000000\0");
      }
      expect(await fs.readdir(out)).toEqual(["a.tar", "b.tar", "c.tar", "d.tar", "empty.tar"]);
    },
  },
  {
    id: "34",
    title: "a backup that fails -> BACKUP_FAILED, no leftovers, the database serves on",
    async run(ctx) {
      const dir = await ctx.freshDatabase();
      const out = await ctx.tempDir();
      await fs.mkdir(path.join(out, "in-the-way.tar"));
      await ctx.withSession(dir, async (s) => {
        await someHistory(s);
        const before = await tree(dir);
        expectError(await s.request(BACKUP(path.join(out, "missing", "b.tar"))), "AERO_BACKUP_FAILED");
        expectError(await s.request(BACKUP(path.join(out, "in-the-way.tar"))), "AERO_BACKUP_FAILED");
        expect(await fs.readdir(out)).toEqual(["in-the-way.tar"]);
        expect(await tree(dir)).toEqual(before);
        expectRows(await s.request(usersByAge({ $gte: 0 })), LIVE);
        expectCommit(await s.request(insertUser("u5", 60)), 8);
        expect(await backupOk(s, path.join(out, "ok.tar"))).toMatchObject({ commit_boundary: 8 });
      });
    },
  },
  {
    id: "35",
    title: "restore + start -> all acknowledged commits, ids continue; restore twice -> same dirs",
    async run(ctx) {
      const { file, data } = await backedUp(ctx);
      const target = path.join(await ctx.tempDir(), "restored");
      const restored = expectRestored(await ctx.driver.restore(file, target));
      expect(restored).toMatchObject({
        backup_id: data.backup_id,
        commit_boundary: data.commit_boundary,
        lsn_boundary: data.lsn_boundary,
        snapshot_id: data.snapshot_id,
      });
      const first = await tree(target);
      await ctx.withSession(target, async (s) => {
        const report = await s.recoveryReport();
        expect(report).toMatchObject({
          checkpoint: { commit_boundary: data.commit_boundary, lsn_boundary: data.lsn_boundary },
          commit_high_water: data.commit_boundary,
        });
        expectRows(await s.request(usersByAge({ $gte: 0 })), LIVE);
        expectRows(await s.request(userById("u3")), []);
        expectCommit(await s.request(insertUser("u9", 99)), (data.commit_boundary as number) + 1);
      });
      // The log continues at lsn_boundary + 1: the new unit's BEGIN is the first frame.
      const [segment] = (await fs.readdir(path.join(target, "wal"))).sort();
      expect(segment).toBe(`${String((data.lsn_boundary as number) + 1).padStart(20, "0")}.wal`);
      // A second restore over the used database gives the first one's directory again.
      expectRestored(await ctx.driver.restore(file, target));
      expect(await tree(target)).toEqual(first);
      expect(await siblings(target)).toEqual(["restored"]);
    },
  },
  {
    id: "36",
    title:
      "missing part, unknown format, bad CRC -> RESTORE_INVALID_BACKUP, target unchanged; lock held -> STORAGE_LOCKED",
    async run(ctx) {
      const { dir: target, file } = await backedUp(ctx);
      const archive = await fs.readFile(file);
      const entries = entriesOf(archive);
      const work = await ctx.tempDir();
      const before = await tree(target);
      const refused = async (name: string, bytes: Buffer, reason: string) => {
        const bad = path.join(work, name);
        await fs.writeFile(bad, bytes);
        expectError(await ctx.driver.restore(bad, target), "AERO_RESTORE_INVALID_BACKUP", { reason });
        expect(await tree(target), name).toEqual(before);
        expect(await siblings(target), name).toEqual(["db"]);
      };
      await refused(
        "missing-versions.tar",
        archiveOf(entries.filter((e) => e.name !== "snapshot/versions")),
        "missing_entry",
      );
      await refused("missing-manifest.tar", archiveOf(entries.slice(1)), "missing_manifest");
      await refused("truncated.tar", archive.subarray(0, archive.length - 2048), "truncated");
      await refused(
        "format-2.tar",
        archiveOf([
          resealManifest(entries[0] as Entry, (m) => {
            m.format_version = 2;
          }),
          ...entries.slice(1),
        ]),
        "unsupported_format",
      );
      const flipped = entries.map((e) => ({ ...e, content: Buffer.from(e.content) }));
      const versions = flipped.find((e) => e.name === "snapshot/versions") as Entry;
      versions.content[5] = (versions.content[5] as number) ^ 0x01;
      await refused("bad-crc.tar", archiveOf(flipped), "bad_crc");
      const hostileLink = Buffer.from(fileHeader("snapshot/evil", 0));
      hostileLink.write("2", 156, "latin1");
      hostileLink.write("/etc/passwd", 157, "latin1");
      hostileLink.fill(0x20, 148, 156);
      let sum = 0;
      for (const b of hostileLink) sum += b;
      hostileLink.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
      await refused(
        "symlink.tar",
        archiveOf([
          ...entries.slice(0, 2),
          { name: "snapshot/evil", header: hostileLink, content: Buffer.alloc(0) },
          ...entries.slice(2),
        ]),
        "symlink",
      );
      // A running instance holds the target's lock.
      const session = await ctx.start(target);
      const held = await tree(target);
      expectError(await ctx.driver.restore(file, target), "AERO_STORAGE_LOCKED");
      expect(await tree(target)).toEqual(held);
      expectRows(await session.request(usersByAge({ $gte: 0 })), LIVE);
      await session.close();
    },
  },
  {
    id: "37",
    title: "killed mid-swap -> RECOVERY_RESTORE_INCOMPLETE at start; re-running restore completes",
    async run(ctx) {
      const { file, data } = await backedUp(ctx);
      const target = await ctx.freshDatabase();
      await ctx.withSession(target, (s) => sequence(s, [register(USERS_V1), insertUser("old", 1)]));
      const oldCopy = path.join(await ctx.tempDir(), "old");
      await copyTree(target, oldCopy);
      // Lay out the swap's crash states (core.md §11) from real runs: the new database built
      // at the target's path, then moved to <dd>.restore-tmp; the old one at <dd>.restore-old.
      expectRestored(await ctx.driver.restore(file, target));
      const newCopy = path.join(await ctx.tempDir(), "new");
      await copyTree(target, newCopy);
      const states: Array<[string, () => Promise<void>]> = [
        [
          "after <dd> -> <dd>.restore-old",
          async () => {
            await fs.rm(target, { recursive: true, force: true });
            await copyTree(oldCopy, `${target}.restore-old`);
            await copyTree(newCopy, `${target}.restore-tmp`);
          },
        ],
        [
          "after tmp -> <dd>, before the old one is deleted",
          async () => {
            await fs.rm(target, { recursive: true, force: true });
            await copyTree(newCopy, target);
            await copyTree(oldCopy, `${target}.restore-old`);
          },
        ],
        [
          "half-way through deleting the old one",
          async () => {
            await fs.rm(target, { recursive: true, force: true });
            await copyTree(newCopy, target);
            await fs.mkdir(`${target}.restore-old`);
            await fs.mkdir(`${target}.restore-old/wal`);
          },
        ],
      ];
      for (const [state, layOut] of states) {
        await layOut();
        const error = await ctx.startFails(target);
        expect(error.code, state).toBe("AERO_RECOVERY_RESTORE_INCOMPLETE");
        expect(await exists(`${target}.restore-old`), state).toBe(true);
        expectRestored(await ctx.driver.restore(file, target));
        expect(await siblings(target), state).toEqual(["db"]);
        await ctx.withSession(target, async (s) => {
          expectRows(await s.request(usersByAge({ $gte: 0 })), LIVE);
          expectRows(await s.request(userById("old")), []);
          expect(await s.recoveryReport()).toMatchObject({ commit_high_water: data.commit_boundary });
        });
      }
    },
  },
];
