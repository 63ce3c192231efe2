// AeroDB through its embedded API, built dist/: one schema, an index on age. `open` comes from
// @aerodb/snapshot, the full Phase-1 engine: @aerodb/core's `open` (same signature, options and
// engine) with checkpoints and backups wired in, so that workload 6 can also reopen after a
// checkpoint. Nothing in workloads 1-5 checkpoints.
import * as fs from "node:fs";
import * as path from "node:path";
import { open } from "@aerodb/snapshot";
import { benchDir } from "../common.mjs";

const W = { schema_id: "users", schema_version: "v1" };
export const SCHEMA = {
  format_version: 1,
  schema_id: "users",
  schema_version: "v1",
  fields: {
    _id: { type: "string", required: true },
    email: { type: "string", required: true },
    age: { type: "int", required: true },
    name: { type: "string", required: true },
    tags: { type: "array", required: true, items: { type: "string" } },
  },
  indexes: ["age"],
};

const versionOf = (name) =>
  JSON.parse(fs.readFileSync(path.join(benchDir, "node_modules", name, "package.json"), "utf8")).version;

export function versions() {
  return {
    package: `@aerodb/core@${versionOf("@aerodb/core")}`,
    engine: `workspace build (packages/core/dist), opened through @aerodb/snapshot@${versionOf("@aerodb/snapshot")}`,
  };
}

/** `perf` is the config's perf section (flags); every flag is off unless --aerodb-perf names it. */
export async function openStore(dir, { create, perf }) {
  const config = { core: { data_dir: dir }, ...(perf ? { perf } : {}) };
  const db = await open(config, create ? { initialize: true } : {});
  if (create) await db.registerSchema(SCHEMA);
  return {
    insert: (doc) => db.insert({ schema_id: "users", schema_version: "v1", document: doc }),
    // No multi-document transaction exists yet: each document is its own durable commit, all
    // of the batch issued at once and awaited together.
    insertBatch: (docs) =>
      Promise.all(docs.map((doc) => db.insert({ schema_id: "users", schema_version: "v1", document: doc }))),
    // Literal requests, as an application writes them (an object spread costs ~1 µs per call).
    get: (id) =>
      db.query({ schema_id: "users", schema_version: "v1", filter: { _id: id }, limit: 1 }).data[0],
    range: (lo, hi, limit) =>
      db.query({ schema_id: "users", schema_version: "v1", filter: { age: { $gte: lo, $lte: hi } }, limit })
        .data,
    close: () => db.close(),
    // Workload 6 only (AeroDB's extra row): a checkpoint writes the snapshot and truncates the WAL.
    checkpoint: () => db.checkpoint(),
    walStats: () => db.stats().wal,
    settings: () => ({
      config: { core: { data_dir: "<scratch>" }, perf: perf ?? "all flags off (defaults)" },
      wal_sync_mode: "fsync (the only mode)",
      write_unit: "one document per commit (no multi-document transaction yet)",
      plan_point_read: pick(db.explain({ ...W, filter: { _id: "user-00000001" }, limit: 1 })),
      plan_range: pick(db.explain({ ...W, filter: { age: { $gte: 30, $lte: 32 } }, limit: 100 })),
    }),
  };
}

const pick = (plan) => ({ scan_type: plan.scan_type, chosen_index: plan.chosen_index });
