/**
 * Shared fixtures of the backup, restore and verify tests: databases on the simulated file
 * system, a copy-the-disk helper, tree dumps, and the state a database serves.
 */
import * as posixPath from "node:path/posix";
import { type FileSystem, SimFileSystem } from "@aerodb/base";
import type { Database } from "@aerodb/core";
import { open } from "../../src/provider.js";

export const USERS = {
  format_version: 1,
  schema_id: "users",
  schema_version: "v1",
  fields: {
    _id: { type: "string", required: true },
    n: { type: "int", required: true },
    tag: { type: "string", required: false },
  },
  indexes: ["n"],
};
export const USERS_V2 = {
  ...USERS,
  schema_version: "v2",
  fields: { ...USERS.fields, extra: { type: "bool", required: false } },
};
export const ITEMS = {
  format_version: 1,
  schema_id: "items",
  schema_version: "v1",
  fields: { _id: { type: "int", required: true }, n: { type: "int", required: true } },
  indexes: ["n"],
};

export const DEAD = () => false;

export function idBytes(seed: number): () => Uint8Array {
  return () => Uint8Array.from({ length: 16 }, (_, i) => (i * 31 + seed * 7 + 1) & 0xff);
}

export function config(dataDir: string) {
  return { core: { data_dir: dataDir, wal_segment_bytes: 64 * 1024 } };
}

export async function openDb(fs: FileSystem, dataDir: string, seed = 1): Promise<Database> {
  return open(config(dataDir), { fs, initialize: true, randomBytes: idBytes(seed), processProbe: DEAD });
}

export interface Shape {
  /** Documents inserted into users/v1 (ids u0..). */
  readonly docs: number;
  /** Then update every third and delete every fifth. */
  readonly churn?: boolean;
  /** Register users/v2 and items/v1 too, with a few documents. */
  readonly moreSchemas?: boolean;
  /** Checkpoint after this many inserts (the rest go to the WAL). */
  readonly checkpointAfter?: number;
  /** Add to every n (so two databases of one shape differ). */
  readonly offset?: number;
}

/** Fills an open database; returns nothing (read its state with `stateOf`). */
export async function fill(db: Database, shape: Shape): Promise<void> {
  const offset = shape.offset ?? 0;
  await db.registerSchema(USERS);
  for (let i = 0; i < shape.docs; i++) {
    if (shape.checkpointAfter === i) await db.checkpoint();
    await db.insert({
      schema_id: "users",
      schema_version: "v1",
      document: { _id: `u${i}`, n: i + offset, tag: `t${i % 7}` },
    });
  }
  if (shape.checkpointAfter === shape.docs) await db.checkpoint();
  if (shape.churn) {
    for (let i = 0; i < shape.docs; i += 3) {
      await db.update({ schema_id: "users", schema_version: "v1", document: { _id: `u${i}`, n: 1000 + i } });
    }
    for (let i = 0; i < shape.docs; i += 5) {
      await db.delete({ schema_id: "users", schema_version: "v1", _id: `u${i}` });
    }
  }
  if (shape.moreSchemas) {
    await db.registerSchema(USERS_V2);
    await db.registerSchema(ITEMS);
    for (let i = 0; i < 3; i++) {
      await db.insert({ schema_id: "items", schema_version: "v1", document: { _id: i, n: i * 10 } });
    }
    await db.update({
      schema_id: "users",
      schema_version: "v2",
      document: { _id: "u1", n: 77, extra: true },
    });
  }
}

/** Everything a database serves, as one comparable value. */
export function stateOf(db: Database): Record<string, unknown> {
  const stats = db.stats();
  const rows: Record<string, unknown> = {};
  for (const def of db.schemas()) {
    rows[`${def.schema_id}/${def.schema_version}`] = db.query({
      schema_id: def.schema_id,
      schema_version: def.schema_version,
      filter: { n: { $gte: -1_000_000 } },
      limit: 1000,
    }).data;
  }
  return {
    database_id: stats.database_id,
    commit_high_water: stats.commit_high_water,
    documents: stats.documents,
    schemas: db.schemas().map((d) => `${d.schema_id}/${d.schema_version}`),
    rows,
  };
}

/** A fresh database of `shape` at `dataDir` on a new simulated disk, closed, all durable. */
export async function diskWith(dataDir: string, shape: Shape, seed = 1): Promise<SimFileSystem> {
  const fs = new SimFileSystem();
  const db = await openDb(fs, dataDir, seed);
  await fill(db, shape);
  await db.close();
  return fs;
}

/**
 * A copy of a simulated disk's current tree as a new simulated disk on which everything is
 * durable (the copy a crash campaign starts each point from).
 */
export async function cloneDisk(src: FileSystem): Promise<SimFileSystem> {
  const dst = new SimFileSystem();
  const copy = async (path: string): Promise<void> => {
    for (const name of await src.readdir(path)) {
      const child = posixPath.join(path, name);
      const st = await src.stat(child);
      if (st?.isDirectory) {
        await dst.mkdir(child);
        await copy(child);
      } else {
        const handle = await dst.open(child, "wx");
        const bytes = await src.readFile(child);
        if (bytes.length > 0) await handle.write(bytes, 0, bytes.length, 0);
        await handle.sync();
        await handle.close();
      }
    }
    await dst.syncDir(path);
  };
  await copy("/");
  return dst;
}

export async function bytesOf(fs: FileSystem, path: string): Promise<Buffer> {
  return Buffer.from(await fs.readFile(path));
}

export async function writeBytes(fs: FileSystem, path: string, bytes: Uint8Array): Promise<void> {
  if (await fs.stat(path)) await fs.unlink(path);
  const handle = await fs.open(path, "wx");
  if (bytes.length > 0) await handle.write(bytes, 0, bytes.length, 0);
  await handle.sync();
  await handle.close();
  await fs.syncDir(posixPath.dirname(path));
}

/** The AeroError code of a rejection (or "none" when it resolved). */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "none";
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

export { dumpTree, isSimulatedCrash } from "@aerodb/base";
