// Backup (core.md §11, §13 scenarios 33 and 34): a deterministic archive of the snapshot at
// the last durable commit; the same state always gives the same bytes; every I/O failure is
// AERO_BACKUP_FAILED with nothing left behind and the database still serving.
import { execFileSync } from "node:child_process";
import * as nodeFs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type FaultKind, NodeFileSystem, type SimFileSystem, type SimOp } from "@aerodb/base";
import { handleRequest } from "@aerodb/core";
import { afterAll, describe, expect, it } from "vitest";
import { decodeBackupManifest } from "../src/backup-manifest.js";
import { open } from "../src/provider.js";
import { verifyBackup } from "../src/verify.js";
import {
  bytesOf,
  config,
  diskWith,
  dumpTree,
  fill,
  idBytes,
  openDb,
  type Shape,
  stateOf,
} from "./support/backup-fixtures.js";

const DB = "/data/db";
const OUT = "/out/backup.tar";

async function backupOf(fs: SimFileSystem, out = OUT): Promise<Buffer> {
  const db = await openDb(fs, DB);
  try {
    await db.backup(out);
  } finally {
    await db.close();
  }
  return bytesOf(fs, out);
}

async function withOut(fs: SimFileSystem): Promise<SimFileSystem> {
  if (!(await fs.stat("/out"))) {
    await fs.mkdir("/out");
    await fs.syncDir("/");
  }
  return fs;
}

/** The manifest (first entry) of an archive. */
function manifestOf(archive: Buffer) {
  const size = Number.parseInt(archive.toString("latin1", 124, 135), 8);
  return decodeBackupManifest(archive.subarray(512, 512 + size));
}

const SHAPES: Array<[string, Shape]> = [
  ["a few documents", { docs: 5 }],
  ["updates, deletes, three schemas", { docs: 40, churn: true, moreSchemas: true }],
  ["a checkpoint, then more commits", { docs: 30, churn: true, checkpointAfter: 12 }],
  ["a checkpoint at the last commit", { docs: 20, checkpointAfter: 20 }],
];

describe("§13.33 backup determinism", () => {
  it.each(SHAPES)("backing up %s twice gives the same bytes, and the archive verifies", async (_n, shape) => {
    const fs = await withOut(await diskWith(DB, shape));
    const first = await backupOf(fs, "/out/one.tar");
    const second = await backupOf(fs, "/out/two.tar");
    expect(first.equals(second)).toBe(true);
    const report = await verifyBackup(fs, "/out/one.tar");
    expect(report.problems).toEqual([]);
    const m = manifestOf(first);
    expect(report.commit_boundary).toBe(m.commit_boundary);
    expect(m.backup_id).toBe(`${m.database_id}-${m.commit_boundary}`);
  });

  it("an empty database backs up as a snapshot at 0", async () => {
    const fs = await withOut(await diskWith(DB, { docs: 0 }));
    // diskWith registers a schema: start again from a truly empty database.
    const empty = await withOut(
      await (async () => {
        const { SimFileSystem } = await import("@aerodb/base");
        const disk = new SimFileSystem();
        const db = await openDb(disk, DB);
        await db.close();
        return disk;
      })(),
    );
    const a = await backupOf(empty);
    const m = manifestOf(a);
    expect(m.commit_boundary).toBe(0);
    expect(m.lsn_boundary).toBe(0);
    expect(m.boundary_frame_crc).toBe(0);
    expect(m.snapshot_id).toBe("snap-00000000000000000000");
    expect(m.files.map((f) => f.path)).toEqual(["MANIFEST", "snapshot/manifest.json", "snapshot/versions"]);
    expect(m.files.find((f) => f.path === "snapshot/versions")?.size).toBe(0);
    expect((await verifyBackup(empty, OUT)).problems).toEqual([]);
    expect(a.equals(await backupOf(empty, "/out/again.tar"))).toBe(true);
    // One registration later the boundary moves.
    expect(manifestOf(await backupOf(fs)).commit_boundary).toBe(1);
  });

  it("the checkpoint's snapshot and a private one give the same archive", async () => {
    const fs = await withOut(await diskWith(DB, { docs: 25, churn: true }));
    const viaPrivate = await backupOf(fs, "/out/private.tar");
    const db = await openDb(fs, DB);
    await db.checkpoint();
    await db.backup("/out/reused.tar");
    await db.close();
    expect((await bytesOf(fs, "/out/reused.tar")).equals(viaPrivate)).toBe(true);
  });

  it("restarts, the envelope op and db.backup agree byte for byte", async () => {
    const fs = await withOut(await diskWith(DB, { docs: 10, moreSchemas: true }));
    const db = await openDb(fs, DB);
    const viaApi = await db.backup("/out/api.tar");
    const viaOp = await handleRequest(db, { op: "backup", path: "/out/op.tar" });
    await db.close();
    expect(viaOp).toEqual({ status: "ok", data: viaApi });
    expect((await bytesOf(fs, "/out/op.tar")).equals(await bytesOf(fs, "/out/api.tar"))).toBe(true);
    expect(viaApi.bytes).toBe((await bytesOf(fs, "/out/api.tar")).length);
    expect((await backupOf(fs, "/out/after-restart.tar")).equals(await bytesOf(fs, "/out/api.tar"))).toBe(
      true,
    );
  });

  it("a backup changes nothing in the data directory and leaves nothing beside its file", async () => {
    const fs = await withOut(await diskWith(DB, { docs: 12, churn: true }));
    const db = await openDb(fs, DB);
    const before = await dumpTree(fs, DB);
    await db.backup(OUT);
    expect(await dumpTree(fs, DB)).toEqual(before);
    expect(await fs.readdir("/out")).toEqual(["backup.tar"]);
    // Writes go on after it, and the next backup has the new boundary.
    await db.insert({ schema_id: "users", schema_version: "v1", document: { _id: "late", n: 1 } });
    const next = await db.backup("/out/next.tar");
    await db.close();
    expect(next.commit_boundary).toBe(manifestOf(await bytesOf(fs, OUT)).commit_boundary + 1);
  });

  it("replaces an existing file atomically, and refuses a directory", async () => {
    const fs = await withOut(await diskWith(DB, { docs: 3 }));
    const db = await openDb(fs, DB);
    await db.backup(OUT);
    await db.insert({ schema_id: "users", schema_version: "v1", document: { _id: "x", n: 1 } });
    await db.backup(OUT);
    expect(manifestOf(await bytesOf(fs, OUT)).commit_boundary).toBe(5);
    await expect(db.backup("/out")).rejects.toMatchObject({
      code: "AERO_BACKUP_FAILED",
      details: { reason: "is_directory" },
    });
    await expect(db.backup("/missing-dir/b.tar")).rejects.toMatchObject({ code: "AERO_BACKUP_FAILED" });
    expect(db.lifecycleState).toBe("SERVING");
    await db.close();
  });
});

describe("§13.34 I/O failures in a backup", () => {
  /**
   * For every operation of every kind a backup performs, inject a failure at exactly that
   * operation: the backup fails with AERO_BACKUP_FAILED (ERROR: the database serves on), no
   * `<path>`, no `<path>.tmp`, no private snapshot and no data directory change remain, and
   * the next backup succeeds with the reference bytes.
   */
  const cases: Array<[string, Shape]> = [
    ["without a checkpoint", { docs: 8, churn: true, moreSchemas: true }],
    ["reusing the checkpoint's snapshot", { docs: 8, checkpointAfter: 8 }],
  ];
  it.each(cases)("every failure point %s", async (_name, shape) => {
    const template = await withOut(await diskWith(DB, shape));
    const reference = await backupOf(template, "/out/reference.tar");
    await template.unlink("/out/reference.tar");

    // Count the operations of one clean backup.
    const db0 = await openDb(template, DB);
    const kinds: SimOp[] = [
      "create",
      "write",
      "sync",
      "rename",
      "mkdir",
      "syncDir",
      "unlink",
      "rmdir",
      "open",
      "read",
    ];
    const before = new Map(kinds.map((k) => [k, template.opCount(k)]));
    await db0.backup(OUT);
    const counts = new Map(kinds.map((k) => [k, template.opCount(k) - (before.get(k) ?? 0)]));
    await template.unlink(OUT);
    await template.syncDir("/out");
    await db0.close();

    let points = 0;
    for (const op of kinds) {
      const total = counts.get(op) ?? 0;
      const faults: FaultKind[] = op === "write" ? ["EIO", "ENOSPC", "short"] : ["EIO"];
      for (const kind of faults) {
        for (let nth = 1; nth <= total; nth++) {
          const { cloneDisk } = await import("./support/backup-fixtures.js");
          const fs = await cloneDisk(template);
          const db = await openDb(fs, DB);
          const tree = await dumpTree(fs, DB);
          fs.injectFault({ op, nth, kind });
          let outcome: string;
          try {
            await db.backup(OUT);
            outcome = "ok";
          } catch (err) {
            outcome = (err as { code?: string }).code ?? String(err);
          }
          fs.clearFaults();
          const where = `${kind} at ${op} #${nth}`;
          if (kind === "short") {
            // A short write is retried by writeFully: nothing fails.
            expect(outcome, where).toBe("ok");
            expect((await bytesOf(fs, OUT)).equals(reference), where).toBe(true);
            await db.close();
            continue;
          }
          if (outcome === "ok") {
            // The fault hit an operation the backup tolerates (a failed cleanup read, say).
            expect((await bytesOf(fs, OUT)).equals(reference), where).toBe(true);
          } else {
            expect(outcome, where).toBe("AERO_BACKUP_FAILED");
            expect(await fs.readdir("/out"), where).toEqual([]);
            expect(await dumpTree(fs, DB), where).toEqual(tree);
            expect(db.lifecycleState, where).toBe("SERVING");
            await db.backup(OUT);
            expect((await bytesOf(fs, OUT)).equals(reference), where).toBe(true);
          }
          await db.close();
          points++;
        }
      }
    }
    process.stdout.write(`backup fault matrix (${_name}): ${points} injected faults\n`);
    expect(points).toBeGreaterThan(20);
  });
});

describe("backups on the real file system", () => {
  const roots: string[] = [];
  afterAll(() => {
    for (const r of roots) nodeFs.rmSync(r, { recursive: true, force: true });
  });

  it("writes the same bytes as on the simulated disk, and GNU tar reads them", async () => {
    const root = nodeFs.mkdtempSync(path.join(os.tmpdir(), "aerodb-backup-"));
    roots.push(root);
    const dataDir = path.join(root, "db");
    const real = new NodeFileSystem();
    const db = await open(config(dataDir), { fs: real, initialize: true, randomBytes: idBytes(3) });
    await fill(db, { docs: 15, churn: true, moreSchemas: true });
    const state = stateOf(db);
    await db.backup(path.join(root, "a.tar"));
    await db.close();
    const sim = await withOut(await diskWith(DB, { docs: 15, churn: true, moreSchemas: true }, 3));
    const simBytes = await backupOf(sim);
    // Same database id and history: the only difference is nothing (no path is archived).
    expect(nodeFs.readFileSync(path.join(root, "a.tar")).equals(simBytes)).toBe(true);
    expect(state.database_id).toBe(manifestOf(simBytes).database_id);
    let listing = "";
    try {
      listing = execFileSync("tar", ["-tf", path.join(root, "a.tar")], { encoding: "utf8" });
    } catch {
      return; // no tar binary here
    }
    expect(listing.split("\n").slice(0, 3)).toEqual(["backup_manifest.json", "MANIFEST", "snapshot/"]);
  });
});
