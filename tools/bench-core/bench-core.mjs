// Baseline engine figures on the real disk (not a test; numbers are machine-specific):
// durable sequential inserts, point reads by _id, and the restart of an N-document
// database against the naive floor of JSON.parse-ing every stored document.
// Usage: node tools/bench-core/bench-core.mjs [--docs 200000] [--commits 3000]
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { open } from "@aerodb/core";

const { values } = parseArgs({
  options: { docs: { type: "string", default: "200000" }, commits: { type: "string", default: "3000" } },
});
const docs = Number(values.docs);
const commits = Number(values.commits);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const work = path.join(root, ".bench-tmp", "core");
fs.rmSync(work, { recursive: true, force: true });
fs.mkdirSync(work, { recursive: true });

const schema = {
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
const doc = (i) => ({
  _id: `user-${String(i).padStart(8, "0")}`,
  email: `user${i}@example.com`,
  age: 18 + (i % 60),
  name: `User Number ${i}`,
  tags: ["alpha", "beta", i % 2 ? "odd" : "even"],
});
const write = (schemaVersion = "v1") => ({ schema_id: "users", schema_version: schemaVersion });
const results = {};
const config = (dir) => ({ core: { data_dir: dir } });

// 1. durable sequential inserts: each awaited (fsynced) before the next
{
  const db = await open(config(path.join(work, "seq")), { initialize: true });
  await db.registerSchema(schema);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < commits; i++) await db.insert({ ...write(), document: doc(i) });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const s = db.stats();
  results.durable_sequential_commits_per_s = Math.round(commits / secs);
  results.fsyncs_per_commit = +(s.wal.fsyncs / s.wal.units_appended).toFixed(3);
  results.wal_bytes_per_commit = Math.round(s.wal.bytes_written / s.wal.units_appended);
  await db.close();
}

// 2. load N documents (concurrent writers so the load finishes; still one fsync per commit)
const big = path.join(work, "big");
{
  const db = await open(config(big), { initialize: true });
  await db.registerSchema(schema);
  const t0 = process.hrtime.bigint();
  const inflight = new Set();
  for (let i = 0; i < docs; i++) {
    const p = db.insert({ ...write(), document: doc(i) }).finally(() => inflight.delete(p));
    inflight.add(p);
    if (inflight.size >= 256) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  results.load_docs_per_s = Math.round(docs / (Number(process.hrtime.bigint() - t0) / 1e9));
  // 3. point reads by _id on the warm store
  const reads = 200_000;
  let seed = 12345;
  const t1 = process.hrtime.bigint();
  for (let i = 0; i < reads; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const id = `user-${String(seed % docs).padStart(8, "0")}`;
    const r = db.query({ ...write(), filter: { _id: id }, limit: 1 });
    if (r.data.length !== 1) throw new Error(`missing ${id}`);
  }
  results.point_reads_per_s = Math.round(reads / (Number(process.hrtime.bigint() - t1) / 1e9));
  // 4. range queries
  const t2 = process.hrtime.bigint();
  const ranges = 2000;
  for (let i = 0; i < ranges; i++) {
    const a = 18 + (i % 50);
    db.query({ ...write(), filter: { age: { $gte: a, $lte: a + 5 } }, limit: 100 });
  }
  results.range_queries_per_s = Math.round(ranges / (Number(process.hrtime.bigint() - t2) / 1e9));
  await db.close();
}

// 5. restart vs the naive floor (parse every stored document once)
{
  const t0 = process.hrtime.bigint();
  const db = await open(config(big));
  db.query({ ...write(), filter: { _id: "user-00000001" }, limit: 1 });
  results.restart_ms = +(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(1);
  await db.close();
  const bodies = Array.from({ length: docs }, (_, i) => JSON.stringify(doc(i)));
  const t1 = process.hrtime.bigint();
  let n = 0;
  for (const b of bodies) n += JSON.parse(b).age;
  results.naive_parse_ms = +(Number(process.hrtime.bigint() - t1) / 1e6).toFixed(1);
  results.restart_over_naive_parse = +(results.restart_ms / results.naive_parse_ms).toFixed(2);
  if (n < 0) console.log(n);
}
results.documents = docs;
console.log(JSON.stringify(results, null, 2));
fs.rmSync(work, { recursive: true, force: true });
