import * as fs from "node:fs/promises";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  assertBuilt,
  initDb,
  insertUser,
  parseCanonical,
  recoveryReport,
  removeTempDirs,
  runAerodb,
  snapshotTree,
  USERS_SCHEMA,
} from "./helpers.js";

beforeAll(assertBuilt);
afterAll(removeTempDirs);

describe("aerodb schema add", () => {
  it("registers a schema offline, refuses it again, and types unreadable or non-JSON files", async () => {
    const { cwd, data } = await initDb();
    await fs.writeFile(path.join(cwd, "users.json"), JSON.stringify(USERS_SCHEMA));
    await fs.writeFile(path.join(cwd, "broken.json"), "{]");
    await fs.writeFile(
      path.join(cwd, "invalid.json"),
      JSON.stringify({ ...USERS_SCHEMA, schema_id: "Bad Id" }),
    );

    const added = await runAerodb(["schema", "add", "--file", "users.json", "--data", data], { cwd });
    expect(added.code, added.stderr).toBe(0);
    expect(added.lines).toEqual(['{"commit_id":1,"data":[],"status":"ok"}']);
    const file = path.join(data, "metadata", "schemas", "users", "v1.json");
    expect(JSON.parse(await fs.readFile(file, "utf8"))).toMatchObject({
      schema_id: "users",
      indexes: ["age"],
    });

    // Both fail before the database is opened (no lock taken), so they may run side by side.
    const [missing, notJson] = await Promise.all([
      runAerodb(["schema", "add", "--file", "nope.json", "--data", data], { cwd }),
      runAerodb(["schema", "add", "--file", "broken.json", "--data", data], { cwd }),
    ]);
    expect(missing.code).toBe(1);
    expect(parseCanonical(missing.lines[0] as string)).toMatchObject({
      code: "AERO_SCHEMA_INVALID_DEFINITION",
      details: { reason: "unreadable" },
    });
    expect(notJson.code).toBe(1);
    expect(parseCanonical(notJson.lines[0] as string)).toMatchObject({
      code: "AERO_SCHEMA_INVALID_DEFINITION",
      details: { reason: "not_json" },
    });

    const againSerial = await runAerodb(["schema", "add", "--file", "users.json", "--data", data], { cwd });
    expect(againSerial.code).toBe(1);
    expect(parseCanonical(againSerial.lines[0] as string)).toMatchObject({ code: "AERO_SCHEMA_IMMUTABLE" });
    const invalidSerial = await runAerodb(["schema", "add", "--file", "invalid.json", "--data", data], {
      cwd,
    });
    expect(invalidSerial.code).toBe(1);
    expect(parseCanonical(invalidSerial.lines[0] as string)).toMatchObject({
      code: "AERO_SCHEMA_INVALID_DEFINITION",
    });
  });
});

describe("aerodb stats", () => {
  it("prints the statistics of a closed database", async () => {
    const { cwd, data } = await initDb();
    const input = `${[{ op: "register_schema", schema: USERS_SCHEMA }, insertUser("a", 1), insertUser("b", 2)]
      .map((r) => JSON.stringify(r))
      .join("\n")}\n`;
    expect((await runAerodb(["start", "--data", data], { cwd, input })).code).toBe(0);
    const stats = await runAerodb(["stats", "--data", data], { cwd });
    expect(stats.code, stats.stderr).toBe(0);
    expect(parseCanonical(stats.lines[0] as string)).toMatchObject({
      status: "ok",
      data: { commit_high_water: 3, documents: 2, schemas: 1, versions: 2 },
    });
    expect(recoveryReport(stats.stderr)).toMatchObject({ commit_high_water: 3 });

    const uninitialized = await runAerodb(["stats", "--data", path.join(cwd, "nothing")], { cwd });
    expect(uninitialized.code).toBe(1);
    expect(parseCanonical(uninitialized.lines[0] as string)).toMatchObject({
      code: "AERO_STORAGE_NOT_INITIALIZED",
    });
  });
});

describe("aerodb verify", () => {
  async function populated() {
    const { cwd, data } = await initDb();
    const input = `${[
      { op: "register_schema", schema: USERS_SCHEMA },
      ...Array.from({ length: 20 }, (_, i) => insertUser(`v${i}`, i)),
    ]
      .map((r) => JSON.stringify(r))
      .join("\n")}\n`;
    const run = await runAerodb(["start", "--data", data], { cwd, input });
    expect(run.code, run.stderr).toBe(0);
    const walDir = path.join(data, "wal");
    const [segment] = await fs.readdir(walDir);
    return { cwd, data, segmentFile: path.join(walDir, segment as string) };
  }

  it("reports a healthy directory and does not change a byte of it", async () => {
    const { cwd, data } = await populated();
    const before = await snapshotTree(data);
    const result = await runAerodb(["verify", "--data", data], { cwd });
    expect(result.code, result.stdout).toBe(0);
    expect(parseCanonical(result.lines[0] as string)).toMatchObject({
      status: "ok",
      data: {
        clean_shutdown_flag: true,
        stale_lock: false,
        wal: {
          segments: 1,
          first_lsn: 1,
          last_lsn: 63,
          records_verified: 63,
          units: 21,
          commit_high_water: 21,
        },
        torn_tail: null,
        schemas: { registered: 1, files_verified: 1, files_pending: 0 },
        problems: [],
      },
    });
    expect(await snapshotTree(data)).toEqual(before);
  });

  it("reports a torn tail without cutting it, and WAL damage or an edited schema file as problems", async () => {
    const { cwd, data, segmentFile } = await populated();
    const original = await fs.readFile(segmentFile);
    await fs.appendFile(segmentFile, Buffer.from([1, 2, 3, 4, 5]));
    const before = await snapshotTree(data);
    const torn = await runAerodb(["verify", "--data", data], { cwd });
    expect(torn.code, torn.stdout).toBe(0);
    const tornReport = parseCanonical(torn.lines[0] as string) as { data: { torn_tail: { offset: number } } };
    expect(tornReport).toMatchObject({
      status: "ok",
      data: {
        // The junk follows the segment's preallocated zero padding: everything from the end of
        // the log to the end of the file would be cut.
        torn_tail: {
          segment: path.basename(segmentFile),
          bytes_cut: original.length + 5 - tornReport.data.torn_tail.offset,
          records_cut: 0,
        },
        problems: [],
      },
    });
    expect(tornReport.data.torn_tail.offset).toBeLessThan(original.length);
    expect(await snapshotTree(data)).toEqual(before);

    // A flipped byte in the first unit's SCHEMA record, with valid frames after it: damage, not a
    // torn tail; the damaged record belongs to a unit whose COMMIT is durable (WAL_UNIT_INCOMPLETE).
    const damaged = Buffer.from(original);
    const at = damaged.indexOf('"schema_id"');
    damaged[at] = (damaged[at] as number) ^ 0xff;
    await fs.writeFile(segmentFile, damaged);
    const schemaFile = path.join(data, "metadata", "schemas", "users", "v1.json");
    await fs.appendFile(schemaFile, " ");
    const corrupt = await runAerodb(["verify", "--data", data], { cwd });
    expect(corrupt.code).toBe(1);
    const error = parseCanonical(corrupt.lines[0] as string);
    expect(error).toMatchObject({ status: "error", code: "AERO_WAL_UNIT_INCOMPLETE", severity: "FATAL" });
    expect(corrupt.stdout).not.toContain(cwd);

    // WAL intact again: the edited schema file is the one problem.
    await fs.writeFile(segmentFile, original);
    const edited = await runAerodb(["verify", "--data", data], { cwd });
    expect(edited.code).toBe(1);
    expect(parseCanonical(edited.lines[0] as string)).toMatchObject({
      code: "AERO_METADATA_CORRUPTION",
      details: {
        report: {
          problems: [
            {
              code: "AERO_METADATA_CORRUPTION",
              details: { file: "metadata/schemas/users/v1.json", reason: "modified" },
            },
          ],
        },
      },
    });
  });
});
