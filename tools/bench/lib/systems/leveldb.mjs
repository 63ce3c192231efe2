// LevelDB through classic-level: default options, every write a batch (document + index entry)
// with sync: true. Keys: "d!<id>" -> JSON, "a!<age, 3 digits>!<id>" -> "".
import * as fs from "node:fs";
import * as path from "node:path";
import { ClassicLevel } from "classic-level";
import { benchDir } from "../common.mjs";

export function versions() {
  const pkg = JSON.parse(
    fs.readFileSync(path.join(benchDir, "node_modules/classic-level/package.json"), "utf8"),
  );
  return { package: `classic-level@${pkg.version}`, engine: "LevelDB 1.20 (bundled in classic-level)" };
}

const ageKey = (age, id) => `a!${String(age).padStart(3, "0")}!${id}`;
const ops = (doc) => [
  { type: "put", key: `d!${doc._id}`, value: JSON.stringify(doc) },
  { type: "put", key: ageKey(doc.age, doc._id), value: "" },
];
const SYNC = { sync: true };

export async function openStore(dir, { create }) {
  const db = new ClassicLevel(dir, { keyEncoding: "utf8", valueEncoding: "utf8", createIfMissing: create });
  await db.open();
  return {
    insert: (doc) => db.batch(ops(doc), SYNC),
    insertBatch: (docs) => db.batch(docs.flatMap(ops), SYNC),
    get: (id) => {
      const body = db.getSync(`d!${id}`);
      return body === undefined ? undefined : JSON.parse(body);
    },
    range: async (lo, hi, limit) => {
      const keys = await db
        .keys({
          gte: `a!${String(lo).padStart(3, "0")}!`,
          lt: `a!${String(hi + 1).padStart(3, "0")}!`,
          limit,
        })
        .all();
      return keys.map((key) => JSON.parse(db.getSync(`d!${key.slice(6)}`)));
    },
    close: () => db.close(),
    settings: () => ({
      open_options: "defaults (keyEncoding/valueEncoding utf8)",
      write_options: "{ sync: true } on every batch",
      reads: "getSync (no thread-pool hop); ranges through an async key iterator",
      layout: "d!<id> -> JSON; a!<age>!<id> -> empty",
    }),
  };
}
