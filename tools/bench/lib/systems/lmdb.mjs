// LMDB through lmdb-js with its default, durable settings (overlappingSync on Linux: a commit's
// promise resolves at commit, `flushed` when the fdatasync is done, so every write awaits both).
// Two named databases in one environment: docs (id -> JSON) and by_age ([age, id] -> empty).
import * as fs from "node:fs";
import * as path from "node:path";
import { open, version } from "lmdb";
import { benchDir } from "../common.mjs";

export function versions() {
  const pkg = JSON.parse(fs.readFileSync(path.join(benchDir, "node_modules/lmdb/package.json"), "utf8"));
  return { package: `lmdb@${pkg.version}`, engine: version.versionString };
}

const EMPTY = new Uint8Array(0);

export async function openStore(dir, { create }) {
  if (create) fs.mkdirSync(dir, { recursive: true });
  const root = open({ path: dir });
  const docs = root.openDB({ name: "docs", encoding: "string" });
  const byAge = root.openDB({ name: "by_age", encoding: "binary" });
  const durable = async (work) => {
    await root.transaction(work);
    await root.flushed;
  };
  return {
    insert: (doc) =>
      durable(() => {
        docs.put(doc._id, JSON.stringify(doc));
        byAge.put([doc.age, doc._id], EMPTY);
      }),
    insertBatch: (batch) =>
      durable(() => {
        for (const doc of batch) {
          docs.put(doc._id, JSON.stringify(doc));
          byAge.put([doc.age, doc._id], EMPTY);
        }
      }),
    get: (id) => {
      const body = docs.get(id);
      return body === undefined ? undefined : JSON.parse(body);
    },
    range: (lo, hi, limit) => {
      const out = [];
      for (const key of byAge.getKeys({ start: [lo], end: [hi + 1], limit })) {
        out.push(JSON.parse(docs.get(key[1])));
      }
      return out;
    },
    close: () => root.close(),
    settings: () => ({
      open_options: "defaults (path only)",
      overlappingSync: "default (on for Linux); writes await the commit and then root.flushed",
      eventTurnBatching: "default (on): writes issued in one event-loop turn share one transaction",
      layout: "docs: id -> JSON string; by_age: [age, id] -> empty",
    }),
  };
}
