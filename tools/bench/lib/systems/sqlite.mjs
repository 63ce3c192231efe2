// SQLite through better-sqlite3: WAL, synchronous=FULL (read back), a WITHOUT ROWID table keyed by
// id holding the JSON document, and an index on age. One statement = one durable transaction.
import * as fs from "node:fs";
import * as path from "node:path";
import Database from "better-sqlite3";
import { benchDir } from "../common.mjs";

export function versions() {
  const pkg = JSON.parse(
    fs.readFileSync(path.join(benchDir, "node_modules/better-sqlite3/package.json"), "utf8"),
  );
  const db = new Database(":memory:");
  const sqlite = db.prepare("select sqlite_version() as v").get().v;
  db.close();
  return { package: `better-sqlite3@${pkg.version}`, engine: `SQLite ${sqlite}` };
}

export async function openStore(dir, { create }) {
  fs.mkdirSync(dir, { recursive: true });
  const db = new Database(path.join(dir, "bench.db"));
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  const journal = db.pragma("journal_mode", { simple: true });
  const synchronous = db.pragma("synchronous", { simple: true });
  if (journal !== "wal" || synchronous !== 2) {
    throw new Error(`SQLite did not take the settings: journal_mode=${journal} synchronous=${synchronous}`);
  }
  if (create) {
    db.exec(
      "CREATE TABLE IF NOT EXISTS docs (id TEXT PRIMARY KEY, age INTEGER NOT NULL, body TEXT NOT NULL) WITHOUT ROWID;" +
        "CREATE INDEX IF NOT EXISTS docs_age ON docs(age);",
    );
  }
  const ins = db.prepare("INSERT INTO docs (id, age, body) VALUES (?, ?, ?)");
  const sel = db.prepare("SELECT body FROM docs WHERE id = ?");
  const rng = db.prepare("SELECT body FROM docs WHERE age BETWEEN ? AND ? LIMIT ?");
  const many = db.transaction((docs) => {
    for (const doc of docs) ins.run(doc._id, doc.age, JSON.stringify(doc));
  });
  return {
    insert: (doc) => {
      ins.run(doc._id, doc.age, JSON.stringify(doc));
    },
    insertBatch: (docs) => {
      many(docs);
    },
    get: (id) => {
      const row = sel.get(id);
      return row === undefined ? undefined : JSON.parse(row.body);
    },
    range: (lo, hi, limit) => rng.all(lo, hi, limit).map((row) => JSON.parse(row.body)),
    close: async () => {
      db.close();
    },
    settings: () => ({
      journal_mode: journal,
      synchronous: `${synchronous} (FULL)`,
      page_size: db.pragma("page_size", { simple: true }),
      cache_size: db.pragma("cache_size", { simple: true }),
      wal_autocheckpoint: db.pragma("wal_autocheckpoint", { simple: true }),
      locking_mode: db.pragma("locking_mode", { simple: true }),
      schema: "docs(id TEXT PRIMARY KEY, age INTEGER, body TEXT) WITHOUT ROWID; INDEX docs_age(age)",
      plan_range: db
        .prepare("EXPLAIN QUERY PLAN SELECT body FROM docs WHERE age BETWEEN ? AND ? LIMIT ?")
        .all(30, 32, 100)
        .map((r) => r.detail)
        .join("; "),
    }),
  };
}
