/** core.md §13, Schema: scenarios 13–17. */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { expect } from "vitest";
import {
  expectCommit,
  expectError,
  expectExplain,
  expectRows,
  pipeline,
  type Scenario,
  sequence,
} from "./context.js";
import { tree } from "./disk.js";
import {
  explain,
  insert,
  insertUser,
  query,
  register,
  remove,
  USERS_V1,
  USERS_V2,
  update,
  user,
  usersByAge,
} from "./fixtures.js";

async function walTree(dir: string): Promise<Record<string, string>> {
  const all = await tree(dir);
  return Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith("wal/")));
}

const schema13: Scenario = {
  id: "13",
  title: "a valid document is accepted 100 times",
  async run(ctx) {
    const dir = await ctx.freshDatabase();
    const s = await ctx.start(dir);
    expectCommit(await s.request(register(USERS_V1)), 1);
    const docs = Array.from({ length: 100 }, (_, i): Record<string, unknown> => {
      const n = String(i).padStart(3, "0");
      // Every tenth document omits the optional age (and so has no age index entry).
      const extra = i % 3 === 0 ? { addr: { city: `c${i}` } } : {};
      return { ...user(`doc-${n}`, i % 10 === 0 ? undefined : i % 7, extra), tags: [`t${i}`, "x"] };
    });
    const responses = await pipeline(
      s,
      docs.map((d) => insert("users", "v1", d)),
    );
    responses.forEach((r, i) => {
      expectCommit(r, i + 2);
    });
    const withAge = docs
      .filter((d) => d.age !== undefined)
      .sort(
        (x, y) => (x.age as number) - (y.age as number) || ((x._id as string) < (y._id as string) ? -1 : 1),
      );
    expectRows(await s.request(usersByAge({ $gte: 0 })), withAge, 101);
    await s.close();

    const s2 = await ctx.start(dir);
    expect(await s2.recoveryReport()).toMatchObject({
      commit_high_water: 101,
      versions_verified: 100,
      wal: { units_replayed: 101 },
      schemas: { registered: 1, files_written: 0 },
      indexes: { count: 2, entries: 100 + 90 },
    });
    expectRows(await s2.request(usersByAge({ $gte: 0 })), withAge, 101);
    await s2.close();
  },
};

const schema14: Scenario = {
  id: "14",
  title: "invalid documents -> VALIDATION_FAILED with path and reason; optional fields may be omitted",
  async run(ctx) {
    const dir = await ctx.freshDatabase();
    const s = await ctx.start(dir);
    expectCommit(await s.request(register(USERS_V1)), 1);
    expectCommit(await s.request(insertUser("live", 1)), 2);
    const walBefore = await walTree(dir);

    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ _id: "x" }, "tags", "missing_field"],
      [{ tags: [] }, "_id", "missing_field"],
      [{ _id: "x", tags: [], zzz: 1 }, "zzz", "unknown_field"],
      [{ _id: "x", tags: [], age: "3" }, "age", "wrong_type"],
      [{ _id: "x", tags: [], age: 1.5 }, "age", "wrong_type"],
      [{ _id: "x", tags: [], age: null }, "age", "null_value"],
      [{ _id: "x", tags: ["a", 2] }, "tags[1]", "wrong_type"],
      [{ _id: "x", tags: [null] }, "tags[0]", "null_value"],
      [{ _id: "x", tags: "a" }, "tags", "wrong_type"],
      [{ _id: "x", tags: [], age: 2 ** 53 }, "age", "not_safe_integer"],
      [{ _id: "x", tags: [], addr: {} }, "addr.city", "missing_field"],
      [{ _id: "x", tags: [], addr: { city: "c", zip: 1 } }, "addr.zip", "unknown_field"],
      [{ _id: "x", tags: [], addr: { city: 7 } }, "addr.city", "wrong_type"],
      [{ _id: 5, tags: [] }, "_id", "wrong_type"],
      [{ _id: null, tags: [] }, "_id", "null_value"],
      // The first violation in field order wins: _id < age < tags.
      [{ _id: 1, age: "x", tags: null }, "_id", "wrong_type"],
      [{ _id: "x", age: "x", tags: null }, "age", "wrong_type"],
    ];
    for (const [doc, pathName, reason] of cases) {
      const response = await s.request(insert("users", "v1", doc));
      expectError(response, "AERO_SCHEMA_VALIDATION_FAILED", { path: pathName, reason });
    }
    // Updates validate too.
    expectError(
      await s.request(update("users", "v1", { _id: "live", tags: [], age: "1" })),
      "AERO_SCHEMA_VALIDATION_FAILED",
      { path: "age", reason: "wrong_type" },
    );
    // Nothing invalid reached the WAL (CORE-S-2).
    expect(await walTree(dir)).toEqual(walBefore);

    // Optional fields omitted, and a document using every field.
    expectCommit(await s.request(insert("users", "v1", { _id: "min", tags: [] })), 3);
    const full = { _id: "max", tags: ["a", "b"], age: -(2 ** 53) + 1, addr: { city: "Åre" } };
    expectCommit(await s.request(insert("users", "v1", full)), 4);
    expectRows(await s.request(query("users", "v1", { filter: { _id: "min" }, limit: 1 })), [
      { _id: "min", tags: [] },
    ]);
    expectRows(await s.request(query("users", "v1", { filter: { _id: "max" }, limit: 1 })), [full]);
    await s.close();
  },
};

const schema15: Scenario = {
  id: "15",
  title: "unknown schema id or version -> SCHEMA_UNKNOWN / SCHEMA_UNKNOWN_VERSION",
  async run(ctx) {
    const dir = await ctx.freshDatabase();
    const s = await ctx.start(dir);
    expectCommit(await s.request(register(USERS_V1)), 1);
    expectCommit(await s.request(insertUser("a", 1)), 2);
    const walBefore = await walTree(dir);
    for (const [schemaId, version, code] of [
      ["nobody", "v1", "AERO_SCHEMA_UNKNOWN"],
      ["users", "v2", "AERO_SCHEMA_UNKNOWN_VERSION"],
    ] as const) {
      const doc = user("a", 1);
      expectError(await s.request(insert(schemaId, version, doc)), code);
      expectError(await s.request(update(schemaId, version, doc)), code);
      expectError(await s.request(remove(schemaId, version, "a")), code);
      expectError(await s.request(query(schemaId, version, { filter: { _id: "a" }, limit: 1 })), code);
      expectExplain(await s.request(explain(schemaId, version, { filter: { _id: "a" }, limit: 1 })), {
        bounded: false,
        schema_id: schemaId,
        schema_version: version,
        rejection: {
          code,
          details:
            code === "AERO_SCHEMA_UNKNOWN"
              ? { schema_id: schemaId }
              : { schema_id: schemaId, schema_version: version },
        },
      });
    }
    expect(await walTree(dir)).toEqual(walBefore);
    expectRows(await s.request(usersByAge(1)), [user("a", 1)], 2);
    await s.close();
  },
};

const schema16: Scenario = {
  id: "16",
  title: "re-registration -> SCHEMA_IMMUTABLE; an index on an object -> SCHEMA_INVALID_DEFINITION",
  async run(ctx) {
    const dir = await ctx.freshDatabase();
    const s = await ctx.start(dir);
    expectCommit(await s.request(register(USERS_V1)), 1);
    const walBefore = await walTree(dir);
    const immutable = { schema_id: "users", schema_version: "v1" };
    expectError(await s.request(register(USERS_V1)), "AERO_SCHEMA_IMMUTABLE", immutable);
    expectError(await s.request(register({ ...USERS_V1, indexes: [] })), "AERO_SCHEMA_IMMUTABLE", immutable);

    const invalid: unknown[] = [
      { ...USERS_V1, schema_version: "v3", indexes: ["addr"] }, // an index on an object
      { ...USERS_V1, schema_version: "v3", indexes: ["tags"] }, // on an array
      { ...USERS_V1, schema_version: "v3", indexes: ["nope"] }, // on an unknown field
      { ...USERS_V1, schema_version: "v3", indexes: ["age", "age"] }, // twice
      { ...USERS_V1, schema_version: "v3", extra: true }, // an unknown key
      { ...USERS_V1, schema_id: "Users" }, // a bad schema_id
      { ...USERS_V1, schema_version: "v0" }, // a bad schema_version
      { ...USERS_V1, schema_version: "v3", format_version: 2 },
      {
        ...USERS_V1,
        schema_version: "v3",
        fields: { ...USERS_V1.fields, _id: { type: "string", required: false } },
      },
      {
        ...USERS_V1,
        schema_version: "v3",
        fields: { ...USERS_V1.fields, n: { type: "null", required: false } },
      },
      {
        ...USERS_V1,
        schema_version: "v3",
        fields: {
          ...USERS_V1.fields,
          t: { type: "array", required: true, items: { type: "int", required: true } },
        },
      },
      {
        ...USERS_V1,
        schema_version: "v3",
        fields: { ...USERS_V1.fields, "bad-name": { type: "int", required: false } },
      },
    ];
    for (const definition of invalid) {
      expectError(await s.request(register(definition)), "AERO_SCHEMA_INVALID_DEFINITION");
    }
    expect(await walTree(dir)).toEqual(walBefore);
    expectCommit(await s.request(register(USERS_V2)), 2);
    await s.close();

    // Versions stay immutable across restarts.
    const s2 = await ctx.start(dir);
    expectError(await s2.request(register(USERS_V2)), "AERO_SCHEMA_IMMUTABLE", {
      schema_id: "users",
      schema_version: "v2",
    });
    expectCommit(await s2.request(insert("users", "v2", { _id: "e", tags: [], email: "e@x" })), 3);
    await s2.close();
  },
};

const schema17: Scenario = {
  id: "17",
  title: "a schema file edited, removed or added by hand -> FATAL at start",
  async run(ctx) {
    const dir = await ctx.freshDatabase();
    await ctx.withSession(dir, async (s) => {
      const writes = await sequence(s, [register(USERS_V1), insertUser("a", 1)]);
      writes.forEach((r, i) => {
        expectCommit(r, i + 1);
      });
    });
    const schemas = path.join(dir, "metadata", "schemas");
    const file = path.join(schemas, "users", "v1.json");
    const original = await fs.readFile(file);
    expect(original.toString("utf8").endsWith("\n")).toBe(true);
    expect(JSON.parse(original.toString("utf8"))).toEqual(USERS_V1);

    const failsWith = async (details: Record<string, unknown>) => {
      const before = await tree(dir);
      expectError(await ctx.startFails(dir), "AERO_METADATA_CORRUPTION", details);
      expect(await tree(dir)).toEqual(before);
    };

    // Edited: the same JSON value, other bytes.
    await fs.writeFile(file, `${JSON.stringify(USERS_V1, null, 2)}\n`);
    await failsWith({ file: "metadata/schemas/users/v1.json", reason: "modified" });
    await fs.writeFile(file, original);
    expect(await ctx.reportOf(dir)).toMatchObject({ schemas: { registered: 1, files_written: 0 } });

    // Removed.
    await fs.rm(file);
    await failsWith({ file: "metadata/schemas/users/v1.json", reason: "missing" });
    await fs.writeFile(file, original);

    // Added: a version nobody registered, and a schema nobody registered.
    await fs.writeFile(path.join(schemas, "users", "v2.json"), original);
    await failsWith({ file: "metadata/schemas/users/v2.json", reason: "unaccounted" });
    await fs.rm(path.join(schemas, "users", "v2.json"));
    await fs.mkdir(path.join(schemas, "ghost"));
    await fs.writeFile(path.join(schemas, "ghost", "v1.json"), original);
    await failsWith({ file: "metadata/schemas/ghost/v1.json", reason: "unaccounted" });
    await fs.rm(path.join(schemas, "ghost"), { recursive: true });

    const s = await ctx.start(dir);
    expect(await s.recoveryReport()).toMatchObject({ schemas: { registered: 1, files_written: 0 } });
    expectRows(await s.request(usersByAge(1)), [user("a", 1)], 2);
    await s.close();
    expect(await fs.readFile(file)).toEqual(original);
  },
};

export const schemaScenarios: readonly Scenario[] = [schema13, schema14, schema15, schema16, schema17];
