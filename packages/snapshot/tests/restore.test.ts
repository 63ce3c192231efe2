// Restore (core.md §11; §13 scenarios 35, 36, 37): verify everything before touching the
// target, build the new database beside it, swap atomically; hostile and corrupted archives
// are refused with AERO_RESTORE_INVALID_BACKUP and the target left byte for byte as it was.
import {
  DelegatingFileSystem,
  type OpenMode,
  type OpenOptions,
  type SimFileSystem,
  SimulatedCrash,
} from "@aerodb/base";
import { handleRequest } from "@aerodb/core";
import { beforeAll, describe, expect, it } from "vitest";
import { type BackupManifest, decodeBackupManifest, encodeBackupManifest } from "../src/backup-manifest.js";
import { open } from "../src/provider.js";
import { restoreBackup } from "../src/restore.js";
import { encodeHeader } from "../src/tar/ustar.js";
import { verifyBackupArchive, verifyDataDir } from "../src/verify.js";
import {
  bytesOf,
  cloneDisk,
  codeOf,
  config,
  DEAD,
  diskWith,
  dumpTree,
  fill,
  idBytes,
  openDb,
  type Shape,
  stateOf,
  writeBytes,
} from "./support/backup-fixtures.js";
import { concat, END, joinArchive, nameOf, type Part, rawHeader, splitArchive } from "./support/tar-craft.js";

const SRC = "/src/db";
const TARGET = "/dst/db";
const ARCHIVE = "/backup.tar";
const SHAPE: Shape = { docs: 30, churn: true, moreSchemas: true, checkpointAfter: 10 };

/** A disk with the source database, its backup at ARCHIVE, and its served state. */
async function sourceDisk(shape: Shape = SHAPE, seed = 1) {
  const fs = await diskWith(SRC, shape, seed);
  const db = await openDb(fs, SRC, seed);
  const result = await db.backup(ARCHIVE);
  const state = stateOf(db);
  const stats = db.stats();
  await db.close();
  return { fs, result, state, stats, archive: await bytesOf(fs, ARCHIVE) };
}

async function restore(fs: SimFileSystem, archive = ARCHIVE, target = TARGET) {
  return restoreBackup(config(target), archive, { fs, processProbe: DEAD });
}

async function stateAt(fs: SimFileSystem, dir: string) {
  const db = await open(config(dir), { fs, processProbe: DEAD });
  try {
    return { state: stateOf(db), report: db.recoveryReport() };
  } finally {
    await db.close();
  }
}

/** A second, different database at TARGET (another id, other documents). */
async function addOldTarget(fs: SimFileSystem): Promise<Record<string, unknown>> {
  const db = await openDb(fs, TARGET, 9);
  await fill(db, { docs: 7, offset: 500 });
  const state = stateOf(db);
  await db.close();
  return state;
}

describe("§13.35 restore, then start", () => {
  it("serves every acknowledged commit, and LSN and CommitId continue from the backup", async () => {
    const { fs, result, state, stats } = await sourceDisk();
    const restored = await restore(fs);
    expect(restored).toMatchObject({
      data_dir: TARGET,
      backup_id: result.backup_id,
      commit_boundary: result.commit_boundary,
      lsn_boundary: result.lsn_boundary,
      replaced: false,
    });
    const db = await open(config(TARGET), { fs, processProbe: DEAD });
    expect(stateOf(db)).toEqual(state);
    expect(db.recoveryReport()).toMatchObject({
      checkpoint: {
        snapshot_id: result.snapshot_id,
        commit_boundary: result.commit_boundary,
        lsn_boundary: result.lsn_boundary,
      },
      commit_high_water: result.commit_boundary,
      stale_lock: false,
      torn_tail: null,
    });
    expect(db.stats().last_lsn).toBe(stats.last_lsn);
    const next = await db.insert({
      schema_id: "users",
      schema_version: "v1",
      document: { _id: "new", n: 1 },
    });
    expect(next.commit_id).toBe(result.commit_boundary + 1);
    expect(db.stats().last_lsn).toBe(result.lsn_boundary + 3); // BEGIN, VERSION, COMMIT
    await db.close();
    // ... and after a restart, with the WAL past the restored boundary replayed.
    const again = await stateAt(fs, TARGET);
    expect(again.state.commit_high_water).toBe(result.commit_boundary + 1);
    expect((await verifyDataDir(fs, TARGET)).problems).toEqual([]);
  });

  it("restoring twice gives the same directory, byte for byte, and leaves no siblings", async () => {
    const { fs } = await sourceDisk();
    await restore(fs);
    const first = await dumpTree(fs, TARGET);
    // Use it in between: the second restore replaces whatever it became.
    const db = await open(config(TARGET), { fs, processProbe: DEAD });
    await db.insert({ schema_id: "users", schema_version: "v1", document: { _id: "between", n: 2 } });
    await db.close();
    const second = await restore(fs);
    expect(second.replaced).toBe(true);
    expect(await dumpTree(fs, TARGET)).toEqual(first);
    expect(await fs.readdir("/dst")).toEqual(["db"]);
    // The layout of core.md §11.
    expect(
      first.map(([p]) => p).filter((p) => !/schemas\/./.test(p) && !p.startsWith("snapshots/snap")),
    ).toEqual([
      "MANIFEST",
      "checkpoint.json",
      "metadata/",
      "metadata/schemas/",
      "metadata/state.json",
      "snapshots/",
      "wal/",
    ]);
  });

  it("replaces a different database, or fills an empty directory", async () => {
    const { fs, state } = await sourceDisk();
    const old = await addOldTarget(fs);
    expect(old.database_id).not.toBe(state.database_id);
    expect((await restore(fs)).replaced).toBe(true);
    expect((await stateAt(fs, TARGET)).state).toEqual(state);
    await fs.mkdir("/empty");
    await fs.syncDir("/");
    await restore(fs, ARCHIVE, "/empty");
    expect((await stateAt(fs, "/empty")).state).toEqual(state);
    // A missing parent is created.
    await restore(fs, ARCHIVE, "/a/b/c/db");
    expect((await stateAt(fs, "/a/b/c/db")).state).toEqual(state);
  });

  it("a backup of the restored database equals the original backup", async () => {
    const { fs, archive } = await sourceDisk();
    await restore(fs);
    const db = await open(config(TARGET), { fs, processProbe: DEAD });
    await db.backup("/again.tar");
    await db.close();
    expect((await bytesOf(fs, "/again.tar")).equals(archive)).toBe(true);
  });

  it("refuses a target that is a file or a directory of other files, changing nothing", async () => {
    const { fs } = await sourceDisk();
    await fs.rename(ARCHIVE, `${SRC}/inside.tar`);
    await expect(restore(fs, `${SRC}/inside.tar`, SRC)).rejects.toMatchObject({
      code: "AERO_RESTORE_FAILED",
      details: { reason: "archive_inside_target" },
    });
    await fs.rename(`${SRC}/inside.tar`, ARCHIVE);
    await fs.mkdir("/dst");
    await writeBytes(fs, "/dst/db", new Uint8Array([1, 2, 3]));
    expect(await codeOf(restore(fs))).toBe("AERO_RESTORE_FAILED");
    await fs.unlink("/dst/db");
    await fs.mkdir(TARGET);
    await writeBytes(fs, `${TARGET}/notes.txt`, new Uint8Array([4]));
    const before = await dumpTree(fs, "/dst");
    await expect(restore(fs)).rejects.toMatchObject({
      code: "AERO_RESTORE_FAILED",
      details: { reason: "target_not_database" },
    });
    expect(await dumpTree(fs, "/dst")).toEqual(before);
  });
});

describe("§13.36 refusals leave the target unchanged", () => {
  let base: Awaited<ReturnType<typeof sourceDisk>>;
  let parts: Part[];
  let manifest: BackupManifest;
  beforeAll(async () => {
    base = await sourceDisk();
    parts = splitArchive(base.archive);
    manifest = decodeBackupManifest(parts[0]?.content as Uint8Array);
  });

  /** Restores `archive` over an existing database; expects the refusal and an untouched target. */
  async function refused(archive: Uint8Array, reason: string | RegExp, code = "AERO_RESTORE_INVALID_BACKUP") {
    const fs = await cloneDisk(base.fs);
    await addOldTarget(fs);
    await writeBytes(fs, "/hostile.tar", archive);
    const before = await dumpTree(fs, "/dst");
    type Refusal = { code?: string; details?: { reason?: string } };
    const error = await restore(fs, "/hostile.tar").then(
      () => null as Refusal | null,
      (err: unknown) => err as Refusal,
    );
    expect(error?.code, JSON.stringify(error)).toBe(code);
    if (typeof reason === "string") expect(error?.details?.reason).toBe(reason);
    else expect(error?.details?.reason).toMatch(reason);
    expect(await dumpTree(fs, "/dst")).toEqual(before);
    return error;
  }

  const withManifest = (m: BackupManifest, rest: Part[] = parts.slice(1)) => {
    const content = encodeBackupManifest(m);
    return joinArchive([
      { header: encodeHeader({ path: "backup_manifest.json", type: "file", size: content.length }), content },
      ...rest,
    ]);
  };
  const indexOf = (name: string) => parts.findIndex((p) => nameOf(p) === name);
  const insertAfter = (name: string, ...extra: Part[]) => {
    const at = indexOf(name) + 1;
    return joinArchive([...parts.slice(0, at), ...extra, ...parts.slice(at)]);
  };
  const hostile = (fields: Parameters<typeof rawHeader>[0], content = new Uint8Array(0)): Part => ({
    header: rawHeader({ ...fields, size: content.length }),
    content,
  });

  it("the untampered archive restores (control)", async () => {
    const fs = await cloneDisk(base.fs);
    await restore(fs);
    expect((await stateAt(fs, TARGET)).state).toEqual(base.state);
  });

  it("a missing part", async () => {
    const without = (name: string) => joinArchive(parts.filter((p) => nameOf(p) !== name));
    await refused(without("snapshot/versions"), "missing_entry");
    await refused(without("MANIFEST"), "out_of_order");
    await refused(without("snapshot/schemas/users/v1.json"), "out_of_order");
    await refused(joinArchive(parts.slice(1)), "missing_manifest");
    await refused(new Uint8Array(0), "truncated");
    await refused(END, "missing_manifest");
  });

  it("an unknown format", async () => {
    await refused(withManifest({ ...manifest, format_version: 2 }), "unsupported_format");
    await refused(withManifest({ ...manifest, format_version: 0 }), "unsupported_format");
    const gz = new Uint8Array([0x1f, 0x8b, 8, 0, ...new Uint8Array(1020)]);
    await refused(gz, "bad_header_checksum");
  });

  it("a bad CRC in any file, or in either manifest", async () => {
    for (const name of [
      "MANIFEST",
      "snapshot/versions",
      "snapshot/manifest.json",
      "snapshot/schemas/items/v1.json",
    ]) {
      const copy = parts.map((p) => ({ header: p.header, content: p.content.slice() }));
      const part = copy[indexOf(name)] as Part;
      const mid = Math.floor(part.content.length / 2);
      part.content[mid] = (part.content[mid] as number) ^ 0x10;
      await refused(joinArchive(copy), "bad_crc");
    }
    const copy = parts.map((p) => ({ header: p.header, content: p.content.slice() }));
    const text = Buffer.from(copy[0]?.content as Uint8Array)
      .toString("utf8")
      .replace(
        `"commit_boundary":${manifest.commit_boundary}`,
        `"commit_boundary":${manifest.commit_boundary + 1}`,
      );
    const content = new TextEncoder().encode(text);
    await refused(
      joinArchive([
        {
          header: encodeHeader({ path: "backup_manifest.json", type: "file", size: content.length }),
          content,
        },
        ...copy.slice(1),
      ]),
      "manifest_checksum",
    );
  });

  it("a lock held on the target", async () => {
    const fs = await cloneDisk(base.fs);
    await addOldTarget(fs);
    const db = await open(config(TARGET), { fs, processProbe: DEAD });
    const before = await dumpTree(fs, "/dst");
    expect(await codeOf(restore(fs))).toBe("AERO_STORAGE_LOCKED");
    expect(await dumpTree(fs, "/dst")).toEqual(before);
    await db.close();
    // Held by another live process (its LOCK names a pid the probe says runs).
    await writeBytes(fs, `${TARGET}/LOCK`, new TextEncoder().encode('{"database_id":null,"pid":424242}\n'));
    const live = (pid: number) => pid === 424242;
    await expect(restoreBackup(config(TARGET), ARCHIVE, { fs, processProbe: live })).rejects.toMatchObject({
      code: "AERO_STORAGE_LOCKED",
      details: { pid: 424242 },
    });
    // A dead owner's lock is taken over and the restore goes through.
    await restoreBackup(config(TARGET), ARCHIVE, { fs, processProbe: DEAD });
    expect((await stateAt(fs, TARGET)).state).toEqual(base.state);
  });

  it("a simulated crash while the archive is opened or stat'ed stays a crash (never 'unreadable')", async () => {
    for (const op of ["stat", "open"] as const) {
      const fs = await cloneDisk(base.fs);
      const crashing = new (class extends DelegatingFileSystem {
        override stat(path: string) {
          if (op === "stat" && path === ARCHIVE) return Promise.reject(new SimulatedCrash(1));
          return super.stat(path);
        }
        override open(path: string, mode: OpenMode, options?: OpenOptions) {
          if (op === "open" && path === ARCHIVE) return Promise.reject(new SimulatedCrash(1));
          return super.open(path, mode, options);
        }
      })(fs);
      await expect(
        restoreBackup(config(TARGET), ARCHIVE, { fs: crashing, processProbe: DEAD }),
      ).rejects.toMatchObject({ name: "SimulatedCrash" });
    }
  });

  it("a live restore's temporary directory locks the target out too", async () => {
    const fs = await cloneDisk(base.fs);
    await fs.mkdir("/dst");
    await fs.mkdir(`${TARGET}.restore-tmp`);
    await writeBytes(
      fs,
      `${TARGET}.restore-tmp/LOCK`,
      new TextEncoder().encode('{"database_id":null,"pid":515151}\n'),
    );
    await expect(
      restoreBackup(config(TARGET), ARCHIVE, { fs, processProbe: (pid) => pid === 515151 }),
    ).rejects.toMatchObject({ code: "AERO_STORAGE_LOCKED" });
  });

  describe("hostile entries (issue 4 item 1)", () => {
    const evil = new TextEncoder().encode("pwned\n");
    const cases: Array<[string, () => Uint8Array, string]> = [
      [
        "an absolute path",
        () => insertAfter("MANIFEST", hostile({ name: "/etc/cron.d/x" }, evil)),
        "absolute_path",
      ],
      [
        "a .. segment",
        () => insertAfter("MANIFEST", hostile({ name: "snapshot/../../x" }, evil)),
        "parent_segment",
      ],
      [
        "a symlink in place of a file",
        () => {
          const at = indexOf("snapshot/versions");
          return joinArchive([
            ...parts.slice(0, at),
            hostile({ name: "snapshot/versions", type: "2", linkname: "/etc/passwd" }),
            ...parts.slice(at + 1),
          ]);
        },
        "symlink",
      ],
      [
        "a symlink",
        () => insertAfter("snapshot", hostile({ name: "snapshot/link", type: "2", linkname: "../../" })),
        "symlink",
      ],
      [
        "a hard link",
        () => insertAfter("snapshot", hostile({ name: "snapshot/hl", type: "1", linkname: "MANIFEST" })),
        "hard_link",
      ],
      [
        "a character device",
        () => insertAfter("snapshot", hostile({ name: "snapshot/tty", type: "3" })),
        "device",
      ],
      [
        "a block device",
        () => insertAfter("snapshot", hostile({ name: "snapshot/sda", type: "4" })),
        "device",
      ],
      ["a FIFO", () => insertAfter("snapshot", hostile({ name: "snapshot/fifo", type: "6" })), "fifo"],
      [
        "a pax header",
        () =>
          insertAfter(
            "MANIFEST",
            hostile({ name: "PaxHeaders/x", type: "x" }, new TextEncoder().encode("30 path=/etc/passwd\n")),
          ),
        "unsupported_entry",
      ],
      [
        "a GNU long name",
        () =>
          insertAfter(
            "MANIFEST",
            hostile({ name: "././@LongLink", type: "L" }, new TextEncoder().encode("../".repeat(40))),
          ),
        "unsupported_entry",
      ],
      [
        "a duplicate name",
        () => insertAfter("MANIFEST", parts[indexOf("MANIFEST")] as Part),
        "duplicate_entry",
      ],
      [
        "a duplicate at the end",
        () => joinArchive([...parts, parts[indexOf("snapshot/versions")] as Part]),
        "duplicate_entry",
      ],
      ["a duplicate of the manifest", () => joinArchive([...parts, parts[0] as Part]), "duplicate_entry"],
      [
        "an extra file the manifest does not list",
        () => joinArchive([...parts, hostile({ name: "snapshot/zzz" }, evil)]),
        "unexpected_entry",
      ],
      [
        "an extra file in the middle",
        () => insertAfter("MANIFEST", hostile({ name: "extra" }, evil)),
        "unexpected_entry",
      ],
      [
        "a size that does not match the manifest",
        () =>
          withManifest({
            ...manifest,
            files: manifest.files.map((f) =>
              f.path === "snapshot/versions" ? { ...f, size: f.size + 1 } : f,
            ),
          }),
        "size_mismatch",
      ],
      [
        "a header size larger than the manifest's (content swallowing the next entries)",
        () => {
          const at = indexOf("MANIFEST");
          const p = parts[at] as Part;
          const grown = {
            header: encodeHeader({ path: "MANIFEST", type: "file", size: p.content.length + 600 }),
            content: concat(p.content, new Uint8Array(600)),
          };
          return joinArchive([...parts.slice(0, at), grown, ...parts.slice(at + 1)]);
        },
        "size_mismatch",
      ],
      [
        "trailing data after the end blocks",
        () => concat(base.archive, new TextEncoder().encode("tail")),
        "trailing_data",
      ],
      [
        "extra zero blocks (larger than the manifest claims)",
        () => concat(base.archive, new Uint8Array(512 * 18)),
        "trailing_data",
      ],
      ["a second archive appended", () => concat(base.archive, base.archive), "trailing_data"],
      [
        "a bad header checksum",
        () => {
          const copy = parts.map((p) => ({ header: p.header.slice(), content: p.content }));
          (copy[2] as Part).header[148] = 0x37;
          return joinArchive(copy);
        },
        "bad_header_checksum",
      ],
      [
        "truncation inside the versions file",
        () => base.archive.subarray(0, base.archive.length - 1024 - 300),
        "truncated",
      ],
      [
        "truncation before the end blocks",
        () => base.archive.subarray(0, base.archive.length - 1024),
        "truncated",
      ],
      [
        "a non-canonical header (owner and mode)",
        () => {
          const at = indexOf("MANIFEST");
          const p = parts[at] as Part;
          return joinArchive([
            ...parts.slice(0, at),
            {
              header: rawHeader({
                name: "MANIFEST",
                size: p.content.length,
                mode: "0004777\0",
                uid: "0000000\0",
              }),
              content: p.content,
            },
            ...parts.slice(at + 1),
          ]);
        },
        "non_canonical_header",
      ],
      [
        "entries out of order",
        () => {
          const a = indexOf("snapshot/manifest.json");
          const b = indexOf("snapshot/versions");
          const copy = [...parts];
          [copy[a], copy[b]] = [copy[b] as Part, copy[a] as Part];
          return joinArchive(copy);
        },
        "out_of_order",
      ],
      [
        "a manifest that lists an unsafe path",
        () =>
          withManifest({
            ...manifest,
            files: [...manifest.files, { path: "snapshot/../../x", size: 1, crc32: 0 }],
          }),
        "manifest_invalid",
      ],
    ];
    it.each(cases)("refuses %s", async (_what, build, reason) => {
      await refused(build(), reason);
    });
  });

  describe("corrupted backups", () => {
    it("every single-bit flip anywhere in the archive is refused", async () => {
      // Structural verification of every flip (fast), then full restores of a sample.
      const archive = base.archive;
      const fs = await cloneDisk(base.fs);
      const offsets: number[] = [];
      for (let i = 0; i < archive.length; i += 1) offsets.push(i);
      let refusedCount = 0;
      for (const offset of offsets) {
        const copy = Buffer.from(archive);
        copy[offset] = (copy[offset] as number) ^ (1 << (offset % 8));
        await writeBytes(fs, "/flip.tar", copy);
        const code = await codeOf(verifyBackupArchive(fs, "/flip.tar"));
        expect(code, `flip at ${offset}`).toBe("AERO_RESTORE_INVALID_BACKUP");
        refusedCount++;
      }
      expect(refusedCount).toBe(archive.length);
      for (let i = 0; i < 40; i++) {
        const offset = Math.floor((((i * 7919) % 997) / 997) * archive.length);
        const copy = Buffer.from(archive);
        copy[offset] = (copy[offset] as number) ^ 0x04;
        await refused(copy, /./);
      }
    });

    it("truncation at every block boundary is refused", async () => {
      for (let at = 0; at < base.archive.length; at += 512) {
        await refused(base.archive.subarray(0, at), /truncated|missing_manifest/);
      }
    });

    it("swapped files: another backup's snapshot, MANIFEST or body under a consistent outer manifest", async () => {
      // A later backup of the same database.
      const fs = await cloneDisk(base.fs);
      const db = await openDb(fs, SRC);
      await db.insert({ schema_id: "users", schema_version: "v1", document: { _id: "later", n: 5 } });
      await db.backup("/later.tar");
      await db.close();
      const later = splitArchive(await bytesOf(fs, "/later.tar"));
      const laterManifest = decodeBackupManifest(later[0]?.content as Uint8Array);
      // Outer manifest of one backup, files of the other: sizes or CRCs disagree.
      await refused(joinArchive([parts[0] as Part, ...later.slice(1)]), /size_mismatch|bad_crc/);
      // Files of the later backup resealed under the earlier boundaries: the snapshot inside
      // contradicts the outer manifest.
      await refused(
        withManifest(
          {
            ...laterManifest,
            commit_boundary: manifest.commit_boundary,
            backup_id: manifest.backup_id,
            snapshot_id: manifest.snapshot_id,
            lsn_boundary: manifest.lsn_boundary,
            boundary_frame_crc: manifest.boundary_frame_crc,
          },
          later.slice(1),
        ),
        "snapshot_invalid",
      );
      // Another database's MANIFEST, resealed into the manifest's file list.
      const other = await sourceDisk({ docs: 2 }, 5);
      const otherParts = splitArchive(other.archive);
      const otherManifestFile = otherParts.find((p) => nameOf(p) === "MANIFEST") as Part;
      const { crc32 } = await import("@aerodb/wal");
      const swapped = parts.map((p) => (nameOf(p) === "MANIFEST" ? otherManifestFile : p));
      await refused(
        withManifest(
          {
            ...manifest,
            files: manifest.files.map((f) =>
              f.path === "MANIFEST"
                ? {
                    path: "MANIFEST",
                    size: otherManifestFile.content.length,
                    crc32: crc32(otherManifestFile.content),
                  }
                : f,
            ),
          },
          swapped.slice(1),
        ),
        "database_id_mismatch",
      );
    });
  });
});

describe("§13.37 a restore killed mid-swap", () => {
  /** Runs the restore until the simulated crash at boundary op `k`; returns the crashed disk. */
  async function crashAt(fs: SimFileSystem, k: number, seed: number): Promise<SimFileSystem> {
    fs.crashAfter(k);
    try {
      await restore(fs);
    } catch (err) {
      if (!(err instanceof SimulatedCrash)) throw err;
    }
    return fs.crash(seed);
  }

  it("start refuses with AERO_RECOVERY_RESTORE_INCOMPLETE until the restore is re-run", async () => {
    const { fs, state } = await sourceDisk();
    await addOldTarget(fs);
    // Find the boundary operation of the first swap rename: run once, counting.
    const probe = await cloneDisk(fs);
    const start = probe.boundaryOpCount;
    const renames: number[] = [];
    const realRename = probe.rename.bind(probe);
    probe.rename = async (from: string, to: string) => {
      if (from === TARGET) renames.push(probe.boundaryOpCount - start + 1);
      return realRename(from, to);
    };
    await restore(probe);
    const k = renames[0] as number;
    expect(k).toBeGreaterThan(1);
    // Crash right after <dd> -> <dd>.restore-old (the next operation is the second rename):
    // every crash fate that keeps the first rename refuses to start.
    let refusedStarts = 0;
    for (let seed = 0; seed < 12; seed++) {
      const disk = await crashAt(await cloneDisk(fs), k + 1, seed);
      const code = await codeOf(
        open(config(TARGET), { fs: disk, processProbe: DEAD }).then((db) => db.close()),
      );
      if ((await disk.stat(`${TARGET}.restore-old`)) !== null) {
        expect(code).toBe("AERO_RECOVERY_RESTORE_INCOMPLETE");
        expect(await codeOf(verifyDataDir(disk, TARGET))).toBe("AERO_RECOVERY_RESTORE_INCOMPLETE");
        refusedStarts++;
      }
      await restore(disk);
      expect((await stateAt(disk, TARGET)).state).toEqual(state);
      expect(await disk.readdir("/dst")).toEqual(["db"]);
    }
    expect(refusedStarts).toBeGreaterThan(0);
  });

  it("the envelope refuses a restore op (restore is offline only)", async () => {
    const { fs } = await sourceDisk({ docs: 1 });
    const db = await open(config(SRC), { fs, processProbe: DEAD, initialize: true, randomBytes: idBytes(1) });
    const response = await handleRequest(db, { op: "restore", path: ARCHIVE });
    expect(response).toMatchObject({ status: "error", code: "AERO_QUERY_INVALID" });
    await db.close();
  });
});
