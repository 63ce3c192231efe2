import { type ErrorCode, isErrorCode, seedList, withSeed } from "@aerodb/base";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../src/canonical-json.js";
import { explainPlan } from "../src/query/explain.js";
import { isPlanRejection, planQuery } from "../src/query/planner.js";
import type { PlanRejection, QueryLimits, QueryPlan, SchemaLookup } from "../src/query/types.js";
import type { SchemaDefinition } from "../src/schema/types.js";

const usersV1: SchemaDefinition = {
  format_version: 1,
  schema_id: "users",
  schema_version: "v1",
  fields: {
    _id: { type: "string", required: true },
    age: { type: "int", required: false },
    name: { type: "string", required: true },
    score: { type: "float", required: false },
    active: { type: "bool", required: false },
    city: { type: "string", required: false },
    tags: { type: "array", required: true, items: { type: "string" } },
    addr: { type: "object", required: false, fields: { city: { type: "string", required: true } } },
  },
  indexes: ["age", "name", "score", "active"],
};
const usersV2: SchemaDefinition = { ...usersV1, schema_version: "v2", indexes: ["city"] };
const items: SchemaDefinition = {
  format_version: 1,
  schema_id: "items",
  schema_version: "v1",
  fields: { _id: { type: "int", required: true }, qty: { type: "int", required: true } },
  indexes: ["qty"],
};

function lookupOf(...defs: SchemaDefinition[]): SchemaLookup {
  const byId = new Map<string, Map<string, SchemaDefinition>>();
  for (const def of defs) {
    const versions = byId.get(def.schema_id) ?? new Map<string, SchemaDefinition>();
    versions.set(def.schema_version, def);
    byId.set(def.schema_id, versions);
  }
  return { versions: (id) => byId.get(id) ?? null };
}

const schemas = lookupOf(usersV1, usersV2, items);
const limits: QueryLimits = { maxQueryLimit: 1000, maxScanCandidates: 100_000 };
const base = { op: "query", schema_id: "users", schema_version: "v1", limit: 10 };

function plan(request: unknown): QueryPlan {
  const result = planQuery(request, schemas, limits);
  if (isPlanRejection(result))
    throw new Error(`expected a plan, got ${result.code} ${JSON.stringify(result.details)}`);
  return result;
}
function rejection(request: unknown): PlanRejection {
  const result = planQuery(request, schemas, limits);
  if (!isPlanRejection(result))
    throw new Error(`expected a rejection, got a plan: ${JSON.stringify(result)}`);
  return result;
}
const code = (request: unknown): ErrorCode => rejection(request).code;
const q = (extra: Record<string, unknown>) => ({ ...base, ...extra });

describe("planner: refusals, each with its code (§5, §13 scenario 22)", () => {
  it("1. shape: a non-object, an extra field, a bad op or txn, a non-string schema_id -> QUERY_INVALID", () => {
    for (const request of [null, 5, "query", [], [base], true])
      expect(code(request)).toBe("AERO_QUERY_INVALID");
    expect(rejection(q({ filter: { age: 1 }, extra: 1 })).details).toEqual({
      field: "extra",
      reason: "unknown_request_field",
    });
    // Shape is checked before everything else: no schema, no limit, but an extra field.
    expect(code({ bogus: true })).toBe("AERO_QUERY_INVALID");
    expect(code({ ...q({ filter: { age: 1 } }), op: "insert" })).toBe("AERO_QUERY_INVALID");
    expect(code({ ...q({ filter: { age: 1 } }), op: 1 })).toBe("AERO_QUERY_INVALID");
    expect(code(q({ filter: { age: 1 }, txn: 7 }))).toBe("AERO_QUERY_INVALID");
    expect(code({ schema_id: 5, filter: { age: 1 } })).toBe("AERO_QUERY_INVALID");
    expect(code({ schema_id: "users", schema_version: ["v1"] })).toBe("AERO_QUERY_INVALID");
    // Accepted: op absent, op "explain", a string txn (reserved for Phase 2A, ignored).
    const { op: _op, ...noOp } = q({ filter: { age: 1 } });
    expect(plan(noOp).scan_type).toBe("INDEX_EQ");
    expect(plan({ ...noOp, op: "explain" }).scan_type).toBe("INDEX_EQ");
    expect(plan(q({ filter: { age: 1 }, txn: "t1" }))).toEqual(plan(q({ filter: { age: 1 } })));
  });

  it("2. schema_id then schema_version present -> SCHEMA_REQUIRED / SCHEMA_VERSION_REQUIRED", () => {
    expect(code({ op: "query" })).toBe("AERO_SCHEMA_REQUIRED");
    expect(code({ schema_id: null, schema_version: "v1", filter: { age: 1 }, limit: 1 })).toBe(
      "AERO_SCHEMA_REQUIRED",
    );
    expect(code({ schema_id: "", schema_version: "v1", filter: { age: 1 }, limit: 1 })).toBe(
      "AERO_SCHEMA_REQUIRED",
    );
    expect(code({ schema_version: "v1", filter: { age: 1 }, limit: 1 })).toBe("AERO_SCHEMA_REQUIRED");
    // Presence of both is checked before either is looked up.
    expect(code({ schema_id: "nope", filter: { age: 1 }, limit: 1 })).toBe("AERO_SCHEMA_VERSION_REQUIRED");
    expect(code({ schema_id: "users", schema_version: null })).toBe("AERO_SCHEMA_VERSION_REQUIRED");
  });

  it("3. both known -> SCHEMA_UNKNOWN / SCHEMA_UNKNOWN_VERSION, before the limit", () => {
    expect(rejection({ schema_id: "nope", schema_version: "v1" })).toMatchObject({
      code: "AERO_SCHEMA_UNKNOWN",
      details: { schema_id: "nope" },
    });
    expect(rejection({ schema_id: "users", schema_version: "v9" })).toMatchObject({
      code: "AERO_SCHEMA_UNKNOWN_VERSION",
      details: { schema_id: "users", schema_version: "v9" },
    });
    // Prototype names are not schemas.
    expect(code({ schema_id: "constructor", schema_version: "v1" })).toBe("AERO_SCHEMA_UNKNOWN");
    expect(code({ schema_id: "users", schema_version: "constructor" })).toBe("AERO_SCHEMA_UNKNOWN_VERSION");
  });

  it("4. limit: missing / non-integer / < 1 -> LIMIT_REQUIRED; > max -> LIMIT_TOO_LARGE; before the filter", () => {
    const noLimit = { op: "query", schema_id: "users", schema_version: "v1", filter: { age: 1 } };
    expect(code(noLimit)).toBe("AERO_QUERY_LIMIT_REQUIRED");
    for (const limit of [null, "10", 2.5, 0, -1, true, [5], { n: 5 }, Number.NaN]) {
      expect(code({ ...noLimit, limit })).toBe("AERO_QUERY_LIMIT_REQUIRED");
    }
    expect(rejection({ ...noLimit, limit: 1001 })).toMatchObject({
      code: "AERO_QUERY_LIMIT_TOO_LARGE",
      details: { limit: 1001, max_query_limit: 1000 },
    });
    expect(code({ ...noLimit, limit: 1e21 })).toBe("AERO_QUERY_LIMIT_TOO_LARGE");
    expect(plan({ ...noLimit, limit: 1000 }).limit).toBe(1000);
    expect(plan({ ...noLimit, limit: 1 }).limit).toBe(1);
    // An unknown filter field and no limit: the limit is checked first.
    expect(code({ ...noLimit, filter: { nope: 1 } })).toBe("AERO_QUERY_LIMIT_REQUIRED");
    expect(code({ ...noLimit, filter: { nope: 1 }, limit: 5000 })).toBe("AERO_QUERY_LIMIT_TOO_LARGE");
  });

  it("5. filter fields and types -> QUERY_INVALID", () => {
    const bad: Array<[unknown, string]> = [
      [{ nope: 1 }, "unknown_field"],
      [{ "addr.city": "x" }, "unknown_field"],
      [{ constructor: 1 }, "unknown_field"],
      [{ toString: "x" }, "unknown_field"],
      [JSON.parse('{"__proto__": 1}'), "unknown_field"],
      [{ tags: "a" }, "not_scalar_field"],
      [{ addr: { city: "x" } }, "not_scalar_field"],
      [{ age: null }, "null_value"],
      [{ age: { $eq: null } }, "null_value"],
      [{ age: {} }, "empty_operand"],
      [{ age: { $in: [1, 2] } }, "unknown_operator"],
      [{ age: { $ne: 1 } }, "unknown_operator"],
      [{ age: { $gt: 1, $foo: 2 } }, "unknown_operator"],
      [{ age: { constructor: 1 } }, "unknown_operator"],
      [{ age: { $eq: 1, $gt: 0 } }, "eq_not_alone"],
      [{ age: { $gt: 1, $gte: 0 } }, "two_lower_bounds"],
      [{ age: { $lt: 1, $lte: 0 } }, "two_upper_bounds"],
      [{ active: { $gt: false } }, "bool_range"],
      [{ active: { $eq: true, $lt: true } }, "eq_not_alone"],
      [{ age: "30" }, "wrong_type"],
      [{ age: 30.5 }, "not_safe_integer"],
      [{ age: 2 ** 53 }, "not_safe_integer"],
      [{ age: true }, "wrong_type"],
      [{ age: [30] }, "wrong_type"],
      [{ age: { $eq: [1] } }, "wrong_type"],
      [{ age: { $eq: { $eq: 1 } } }, "wrong_type"],
      [{ name: 5 }, "wrong_type"],
      [{ score: "1.5" }, "wrong_type"],
      [{ active: 1 }, "wrong_type"],
      [{ active: "true" }, "wrong_type"],
      [{ _id: 5 }, "wrong_type"],
    ];
    for (const [filter, reason] of bad) {
      const r = rejection(q({ filter }));
      expect([r.code, r.details.reason], JSON.stringify(filter)).toEqual(["AERO_QUERY_INVALID", reason]);
    }
    expect(rejection(q({ filter: { nope: 1 } })).details).toEqual({ field: "nope", reason: "unknown_field" });
    for (const filter of [null, [], "age", 5, [{ age: 1 }]]) {
      expect(rejection(q({ filter })).details).toEqual({ field: "filter", reason: "not_object" });
    }
    // Fields are checked in code-unit order: the first failing one is reported.
    expect(rejection(q({ filter: { zz: 1, age: "x" } })).details.field).toBe("age");
    // A float field accepts any finite number, integral literals included.
    expect(plan(q({ filter: { score: 3 } })).predicates).toEqual([{ field: "score", op: "$eq", value: 3 }]);
    expect(plan(q({ filter: { score: { $gt: -0.5, $lte: 1e300 } } })).scan_type).toBe("INDEX_RANGE");
    expect(plan(q({ filter: { active: false } })).predicates).toEqual([
      { field: "active", op: "$eq", value: false },
    ]);
    expect(plan({ ...q({ filter: { _id: 7 } }), schema_id: "items" }).scan_type).toBe("PK_LOOKUP");
    expect(code({ ...q({ filter: { _id: "7" } }), schema_id: "items" })).toBe("AERO_QUERY_INVALID");
  });

  it("6. filter fields indexed -> QUERY_UNINDEXED_FIELD (after types, before sort)", () => {
    expect(rejection(q({ filter: { city: "x" } }))).toMatchObject({
      code: "AERO_QUERY_UNINDEXED_FIELD",
      details: { field: "city" },
    });
    expect(code(q({ filter: { city: "x", age: 1 } }))).toBe("AERO_QUERY_UNINDEXED_FIELD");
    // Types before indexing: a bad value on an indexed field wins over an unindexed field.
    expect(code(q({ filter: { city: "x", age: "1" } }))).toBe("AERO_QUERY_INVALID");
    // Indexing before sort: a malformed sort does not hide the unindexed field.
    expect(code(q({ filter: { city: "x" }, sort: ["age", "name"] }))).toBe("AERO_QUERY_UNINDEXED_FIELD");
    // Indexes are per schema version: city is indexed in v2, age is not.
    expect(plan(q({ schema_version: "v2", filter: { city: "x" } })).chosen_index).toBe("city");
    expect(code(q({ schema_version: "v2", filter: { age: 1 } }))).toBe("AERO_QUERY_UNINDEXED_FIELD");
  });

  it("7. sort: malformed -> QUERY_INVALID; unindexed -> QUERY_SORT_NOT_INDEXED", () => {
    expect(rejection(q({ filter: { age: 1 }, sort: "city" }))).toMatchObject({
      code: "AERO_QUERY_SORT_NOT_INDEXED",
      details: { field: "city" },
    });
    expect(code(q({ filter: { age: 1 }, sort: [{ field: "city", order: "desc" }] }))).toBe(
      "AERO_QUERY_SORT_NOT_INDEXED",
    );
    const malformed: Array<[unknown, string]> = [
      [["age", "name"], "multiple_sort_keys"],
      [
        [
          { field: "age", order: "asc" },
          { field: "name", order: "asc" },
        ],
        "multiple_sort_keys",
      ],
      [[], "empty_sort"],
      [null, "invalid_sort"],
      [5, "invalid_sort"],
      [{ field: "age", order: "asc" }, "invalid_sort"],
      [[{ field: "age" }], "invalid_sort"],
      [[{ field: "age", order: "up" }], "invalid_sort"],
      [[{ field: "age", order: "asc", x: 1 }], "invalid_sort"],
      [[{ field: 5, order: "asc" }], "invalid_sort"],
      [[5], "invalid_sort"],
      ["", "invalid_sort"],
      ["-", "invalid_sort"],
      ["nope", "unknown_field"],
      ["+age", "unknown_field"],
      ["--age", "unknown_field"],
      ["constructor", "unknown_field"],
      ["tags", "not_scalar_field"],
      [[{ field: "addr", order: "asc" }], "not_scalar_field"],
    ];
    for (const [sort, reason] of malformed) {
      const r = rejection(q({ filter: { age: 1 }, sort }));
      expect([r.code, r.details.reason], JSON.stringify(sort)).toEqual(["AERO_QUERY_INVALID", reason]);
    }
  });

  it("8. an empty or absent filter -> QUERY_UNBOUNDED, checked last", () => {
    expect(code(q({ filter: {} }))).toBe("AERO_QUERY_UNBOUNDED");
    expect(code(base)).toBe("AERO_QUERY_UNBOUNDED");
    expect(code(q({ filter: {}, sort: "city" }))).toBe("AERO_QUERY_SORT_NOT_INDEXED");
    expect(code(q({ filter: {}, sort: ["age", "name"] }))).toBe("AERO_QUERY_INVALID");
    expect(code(q({ filter: {}, sort: "-age" }))).toBe("AERO_QUERY_UNBOUNDED");
  });

  it("rejections carry a client-safe message and plain details", () => {
    const r = rejection(q({ filter: { age: { $in: [1] } } }));
    expect(r.message).toMatch(/operator/);
    expect(r.details).toEqual({ field: "age", op: "$in", reason: "unknown_operator" });
  });
});

describe("planner: scan choice (§13 scenario 21)", () => {
  it("_id $eq -> PK_LOOKUP with max_scan 1, whatever else is filtered", () => {
    const p = plan(q({ filter: { name: "ann", _id: "u1", age: { $gt: 3 } } }));
    expect(p).toEqual({
      schema_id: "users",
      schema_version: "v1",
      chosen_index: "_id",
      scan_type: "PK_LOOKUP",
      index_bounds: { lower: { value: "u1", inclusive: true }, upper: { value: "u1", inclusive: true } },
      predicates: [
        { field: "_id", op: "$eq", value: "u1" },
        { field: "age", op: "$gt", value: 3 },
        { field: "name", op: "$eq", value: "ann" },
      ],
      sort: null,
      limit: 10,
      max_scan: 1,
    });
  });

  it("a=1, b=2 -> INDEX_EQ on the first field name; $eq beats a range on an earlier name", () => {
    const p = plan(q({ filter: { name: "ann", age: 2 } }));
    expect([p.scan_type, p.chosen_index, p.max_scan]).toEqual(["INDEX_EQ", "age", 100_000]);
    expect(p.index_bounds).toEqual({
      lower: { value: 2, inclusive: true },
      upper: { value: 2, inclusive: true },
    });
    const p2 = plan(q({ filter: { age: { $gte: 1 }, name: "ann" } }));
    expect([p2.scan_type, p2.chosen_index]).toEqual(["INDEX_EQ", "name"]);
    expect(plan(q({ filter: { active: true, age: 3 } })).chosen_index).toBe("active");
  });

  it("ranges -> INDEX_RANGE on the first field name, bounds inclusive/exclusive as written", () => {
    const p = plan(q({ filter: { score: { $lt: 5 }, age: { $lte: 40, $gt: 18 } } }));
    expect([p.scan_type, p.chosen_index, p.max_scan]).toEqual(["INDEX_RANGE", "age", 100_000]);
    expect(p.index_bounds).toEqual({
      lower: { value: 18, inclusive: false },
      upper: { value: 40, inclusive: true },
    });
    expect(p.predicates).toEqual([
      { field: "age", op: "$gt", value: 18 },
      { field: "age", op: "$lte", value: 40 },
      { field: "score", op: "$lt", value: 5 },
    ]);
    expect(plan(q({ filter: { name: { $gte: "m" } } })).index_bounds).toEqual({
      lower: { value: "m", inclusive: true },
      upper: null,
    });
    expect(plan(q({ filter: { _id: { $lt: "m" } } }))).toMatchObject({
      scan_type: "INDEX_RANGE",
      chosen_index: "_id",
      index_bounds: { lower: null, upper: { value: "m", inclusive: false } },
    });
  });

  it("max_scan comes from the limits", () => {
    const small = { maxQueryLimit: 5, maxScanCandidates: 7 };
    expect(planQuery(q({ filter: { age: { $gt: 1 } }, limit: 5 }), schemas, small)).toMatchObject({
      max_scan: 7,
      limit: 5,
    });
    expect(planQuery(q({ filter: { _id: "u" }, limit: 5 }), schemas, small)).toMatchObject({ max_scan: 1 });
  });
});

describe("planner: forms (§13 scenario 23)", () => {
  it('{"age":30} is $eq', () => {
    expect(plan(q({ filter: { age: 30 } }))).toEqual(plan(q({ filter: { age: { $eq: 30 } } })));
  });

  it('"-age" = desc, "age" = asc, bare or in a one-element array', () => {
    const desc = plan(q({ filter: { name: "a" }, sort: "-age" }));
    expect(desc.sort).toEqual({ field: "age", order: "desc" });
    expect(plan(q({ filter: { name: "a" }, sort: ["-age"] }))).toEqual(desc);
    expect(plan(q({ filter: { name: "a" }, sort: [{ field: "age", order: "desc" }] }))).toEqual(desc);
    expect(plan(q({ filter: { name: "a" }, sort: "age" })).sort).toEqual({ field: "age", order: "asc" });
    expect(plan(q({ filter: { name: "a" }, sort: [{ order: "asc", field: "_id" }] })).sort).toEqual({
      field: "_id",
      order: "asc",
    });
  });

  it("2 sort keys or $in -> QUERY_INVALID", () => {
    expect(code(q({ filter: { age: 1 }, sort: ["age", "-name"] }))).toBe("AERO_QUERY_INVALID");
    expect(code(q({ filter: { age: { $in: [1, 2] } } }))).toBe("AERO_QUERY_INVALID");
  });
});

describe("explain (§13 scenario 24)", () => {
  const request = q({
    op: "explain",
    filter: { score: { $lt: 5 }, age: { $lte: 40, $gt: 18 } },
    sort: "-age",
  });

  it("prints the bounded plan; twice -> the same bytes; key order of the request does not matter", () => {
    const a = canonicalJson(explainPlan(planQuery(request, schemas, limits), request));
    const b = canonicalJson(explainPlan(planQuery(request, schemas, limits), request));
    expect(a).toBe(b);
    expect(a).toBe(
      '{"bounded":true,"chosen_index":"age","index_bounds":{"lower":{"inclusive":false,"value":18},' +
        '"upper":{"inclusive":true,"value":40}},"limit":10,"max_scan":100000,"predicates":[' +
        '{"field":"age","op":"$gt","value":18},{"field":"age","op":"$lte","value":40},' +
        '{"field":"score","op":"$lt","value":5}],"scan_type":"INDEX_RANGE","schema_id":"users","schema_version":"v1",' +
        '"sort":{"field":"age","order":"desc"}}',
    );
    const reordered = {
      sort: [{ order: "desc", field: "age" }],
      filter: { age: { $gt: 18, $lte: 40 }, score: { $lt: 5 } },
      limit: 10,
      schema_version: "v1",
      schema_id: "users",
      op: "explain",
    };
    expect(canonicalJson(explainPlan(planQuery(reordered, schemas, limits), reordered))).toBe(a);
  });

  it("explain equals the executed plan (CORE-Q-4)", () => {
    const p = plan(request);
    expect(explainPlan(p, request)).toEqual({ bounded: true, ...p });
  });

  it("prints a refusal as bounded:false with the rejection's code and details", () => {
    const refused = q({ op: "explain", filter: { city: "x" } });
    const text = canonicalJson(explainPlan(planQuery(refused, schemas, limits), refused));
    expect(text).toBe(
      '{"bounded":false,"rejection":{"code":"AERO_QUERY_UNINDEXED_FIELD","details":{"field":"city"}},' +
        '"schema_id":"users","schema_version":"v1"}',
    );
    expect(canonicalJson(explainPlan(planQuery(refused, schemas, limits), refused))).toBe(text);
    const noSchema = { op: "explain", filter: {} };
    expect(explainPlan(planQuery(noSchema, schemas, limits), noSchema)).toEqual({
      bounded: false,
      rejection: { code: "AERO_SCHEMA_REQUIRED", details: {} },
    });
    expect(explainPlan(planQuery("x", schemas, limits), "x")).toEqual({
      bounded: false,
      rejection: { code: "AERO_QUERY_INVALID", details: { reason: "not_object" } },
    });
  });
});

describe("planner: total over JSON (property)", () => {
  const check = (request: unknown) => {
    const result = planQuery(request, schemas, limits);
    if (isPlanRejection(result)) {
      expect(isErrorCode(result.code)).toBe(true);
      expect(typeof result.message).toBe("string");
      expect(() => canonicalJson(result.details)).not.toThrow();
    } else {
      expect(result.limit).toBeGreaterThanOrEqual(1);
      expect(result.predicates.length).toBeGreaterThan(0);
      expect(result.max_scan).toBe(result.scan_type === "PK_LOOKUP" ? 1 : limits.maxScanCandidates);
    }
    // Same input, same bytes.
    const again = planQuery(request, schemas, limits);
    expect(canonicalJson(explainPlan(again, request))).toBe(canonicalJson(explainPlan(result, request)));
  };

  it("any JSON value gives a plan or a registered rejection, never an exception (3,000 runs)", async () => {
    for (const seed of seedList("planner-any-json", 1)) {
      await withSeed(seed, () => fc.assert(fc.property(fc.jsonValue(), check), { seed, numRuns: 3000 }));
    }
  });

  it("near-valid requests reach every check and never throw (3,000 runs)", async () => {
    const field = fc.constantFrom(
      "_id",
      "age",
      "name",
      "score",
      "active",
      "city",
      "tags",
      "addr",
      "nope",
      "__proto__",
    );
    const scalar = fc.oneof(
      fc.integer({ min: -5, max: 5 }),
      fc.double(),
      fc.constantFrom("a", "", "-age", 2 ** 53, true, false, null),
      fc.jsonValue({ maxDepth: 1 }),
    );
    const op = fc.constantFrom("$eq", "$gt", "$gte", "$lt", "$lte", "$in", "constructor");
    const operand = fc.oneof(scalar, fc.dictionary(op, scalar, { maxKeys: 3 }));
    const sort = fc.oneof(
      fc.constantFrom("age", "-age", "city", "-nope", "", "tags"),
      fc.array(fc.record({ field, order: fc.constantFrom("asc", "desc", "up") }), { maxLength: 2 }),
      fc.array(fc.constantFrom("age", "-name"), { maxLength: 2 }),
      fc.jsonValue({ maxDepth: 1 }),
    );
    // Mostly well-formed, with a small chance of a fault at each step, so every check is reached.
    const mostly = <T, U>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<U>) =>
      fc.oneof({ weight: 9, arbitrary: good }, { weight: 1, arbitrary: bad });
    const absent = fc.constant(undefined);
    const request = fc
      .record({
        op: mostly(fc.constantFrom("query", "explain", undefined), fc.constantFrom("insert", 1)),
        schema_id: mostly(fc.constant("users"), fc.constantFrom("items", "nope", "", 5, null, undefined)),
        schema_version: mostly(fc.constantFrom("v1", "v2"), fc.constantFrom("v9", null, undefined)),
        filter: mostly(
          fc.dictionary(field, operand, { maxKeys: 3 }),
          fc.oneof(absent, fc.jsonValue({ maxDepth: 1 })),
        ),
        limit: mostly(
          fc.integer({ min: 1, max: 1000 }),
          fc.oneof(fc.integer({ min: -2, max: 2000 }), fc.double(), absent),
        ),
        sort: fc.oneof({ weight: 2, arbitrary: absent }, { weight: 3, arbitrary: sort }),
        txn: fc.constantFrom(undefined, undefined, undefined, "t", 1),
        extra: fc.constantFrom(undefined, undefined, undefined, undefined, 1),
      })
      .map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)));
    const seen = new Set<string>();
    for (const seed of seedList("planner-near-valid", 1)) {
      await withSeed(seed, () =>
        fc.assert(
          fc.property(request, (r) => {
            check(r);
            const result = planQuery(r, schemas, limits);
            seen.add(isPlanRejection(result) ? result.code : result.scan_type);
          }),
          { seed, numRuns: 3000 },
        ),
      );
    }
    // The generator reaches every outcome of the planner.
    expect([...seen].sort()).toEqual(
      [
        "AERO_QUERY_INVALID",
        "AERO_QUERY_LIMIT_REQUIRED",
        "AERO_QUERY_LIMIT_TOO_LARGE",
        "AERO_QUERY_SORT_NOT_INDEXED",
        "AERO_QUERY_UNBOUNDED",
        "AERO_QUERY_UNINDEXED_FIELD",
        "AERO_SCHEMA_REQUIRED",
        "AERO_SCHEMA_UNKNOWN",
        "AERO_SCHEMA_UNKNOWN_VERSION",
        "AERO_SCHEMA_VERSION_REQUIRED",
        "INDEX_EQ",
        "INDEX_RANGE",
        "PK_LOOKUP",
      ].sort(),
    );
  });
});
