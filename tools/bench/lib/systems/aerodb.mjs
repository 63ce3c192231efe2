// AeroDB through its embedded API (@aerodb/core, built dist/): one schema, an index on age.
import * as fs from "node:fs";
import * as path from "node:path";
import { open } from "@aerodb/core";
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

export function versions() {
  const pkg = JSON.parse(
    fs.readFileSync(path.join(benchDir, "node_modules/@aerodb/core/package.json"), "utf8"),
  );
  return { package: `@aerodb/core@${pkg.version}`, engine: "workspace build (packages/core/dist)" };
}

/** `perf` is the config's perf section (flags); every flag is off unless --aerodb-perf names it. */
export async function openStore(dir, { create, perf }) {
  const config = { core: { data_dir: dir }, ...(perf ? { perf } : {}) };
  const db = await open(config, create ? { initialize: true } : {});
  if (create) await db.registerSchema(SCHEMA);
  return {
    insert: (doc) => db.insert({ ...W, document: doc }),
    // No multi-document transaction exists yet: each document is its own durable commit, all
    // of the batch issued at once and awaited together.
    insertBatch: (docs) => Promise.all(docs.map((doc) => db.insert({ ...W, document: doc }))),
    get: (id) => db.query({ ...W, filter: { _id: id }, limit: 1 }).data[0],
    range: (lo, hi, limit) => db.query({ ...W, filter: { age: { $gte: lo, $lte: hi } }, limit }).data,
    close: () => db.close(),
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
