// The README's main job: drive the real `aerodb` binary on ./aerodb-data — init, register
// a schema with indexes, insert and query documents, explain a plan, get an unbounded query
// refused, then SIGKILL the server mid-stream and restart it to show the recovery report.
// Usage: node tools/demo/demo.mjs [--data <dir>]   (the demo's data dir is emptied first)
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { data: { type: "string", default: "./aerodb-data" } },
});
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const bin = path.join(root, "packages/cli/dist/bin.js");
const dataDir = path.resolve(values.data);
if (!fs.existsSync(bin)) {
  console.error("packages/cli/dist/bin.js is missing: run `pnpm build` first.");
  process.exit(1);
}

const step = (title) => console.log(`\n\x1b[1m== ${title}\x1b[0m`);
const aerodb = (args, input) =>
  spawnSync(process.execPath, [bin, ...args, "--data", dataDir], { input, encoding: "utf8" });

fs.rmSync(dataDir, { recursive: true, force: true });
step(`aerodb init --data ${values.data}`);
process.stdout.write(aerodb(["init"]).stdout);

const schema = {
  format_version: 1,
  schema_id: "users",
  schema_version: "v1",
  fields: {
    _id: { type: "string", required: true },
    email: { type: "string", required: true },
    age: { type: "int", required: true },
    tags: { type: "array", required: true, items: { type: "string" } },
  },
  indexes: ["age", "email"],
};
const run = "u";
const requests = [
  { op: "register_schema", schema },
  ...[31, 27, 45, 27].map((age, i) => ({
    op: "insert",
    schema_id: "users",
    schema_version: "v1",
    document: { _id: `${run}-${i}`, email: `user${i}.${run}@example.com`, age, tags: ["demo"] },
  })),
  {
    op: "query",
    schema_id: "users",
    schema_version: "v1",
    filter: { age: { $gte: 27, $lt: 40 } },
    sort: "-age",
    limit: 10,
  },
  {
    op: "explain",
    schema_id: "users",
    schema_version: "v1",
    filter: { age: { $gte: 27, $lt: 40 } },
    sort: "-age",
    limit: 10,
  },
  { op: "query", schema_id: "users", schema_version: "v1", filter: {}, limit: 10 },
];

step("aerodb start — one JSON request per line on stdin, one response per line on stdout");
const session = aerodb(["start"], `${requests.map((r) => JSON.stringify(r)).join("\n")}\n`);
const lines = session.stdout.trim().split("\n");
requests.forEach((r, i) => {
  console.log(`> ${JSON.stringify(r).slice(0, 110)}`);
  console.log(`< ${lines[i]}`);
});

step("SIGKILL while inserts stream in, then restart");
const child = spawn(process.execPath, [bin, "start", "--data", dataDir], { stdio: ["pipe", "pipe", "pipe"] });
let acknowledged = 0;
let buffered = "";
child.stdout.on("data", (chunk) => {
  buffered += chunk;
  acknowledged = buffered.split("\n").filter((l) => l.includes('"commit_id"')).length;
  if (acknowledged >= 50 && !child.killed) child.kill("SIGKILL");
});
for (let i = 0; i < 500; i++) {
  const doc = { _id: `${run}-bulk-${i}`, email: `bulk${i}.${run}@example.com`, age: 20 + (i % 50), tags: [] };
  child.stdin.write(
    `${JSON.stringify({ op: "insert", schema_id: "users", schema_version: "v1", document: doc })}\n`,
  );
}
await new Promise((resolve) => child.on("exit", resolve));
console.log(`killed with SIGKILL after ${acknowledged} acknowledged inserts`);

const restart = aerodb(["start"], "");
const report = restart.stderr
  .split("\n")
  .map((l) => {
    try {
      return JSON.parse(l);
    } catch {
      return null;
    }
  })
  .find((l) => l && l.event === "RECOVERY_COMPLETE");
console.log("recovery report:");
console.log(JSON.stringify(report?.report ?? report, null, 2));
