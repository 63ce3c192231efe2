// planQuery takes a shortcut for the commonest request, a primary-key lookup
// ({schema_id, schema_version, filter: {_id: v}, limit}): planPrimaryKeyLookup answers it, or
// says null and the full planner runs. The shortcut must never change an answer: for any
// request, planQuery equals planQueryInFull (same plan or same rejection), and whenever the
// shortcut answers, its plan is the full planner's (the same objects frozen or not).
//
// Replay one property: AERODB_SEED=<n> npx vitest run tests/planner-fast-path.test.ts
// More cases: AERODB_RUNS=<k> multiplies every property's runs.
import { seededProperty } from "@aerodb/base";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isPlanRejection, planPrimaryKeyLookup, planQuery, planQueryInFull } from "../src/query/planner.js";
import type { QueryLimits, QueryPlan, SchemaLookup } from "../src/query/types.js";
import { parseSchemaDefinition } from "../src/schema/definition.js";
import type { SchemaDefinition } from "../src/schema/types.js";

/** Runs a property under its named seed; a failure names the seed and the replay command. */
const check = <Ts extends [unknown, ...unknown[]]>(
  name: string,
  numRuns: number,
  property: fc.IProperty<Ts>,
) =>
  seededProperty(`planner-fast-path:${name}`, numRuns, (seed, runs) =>
    fc.assert(property, { seed, numRuns: runs }),
  );

// Schemas: a string _id and an int _id (both shapes the shortcut handles), and two that no
// registered definition could be but a SchemaLookup may still hand over (a float _id, none).
const users = parseSchemaDefinition({
  format_version: 1,
  schema_id: "users",
  schema_version: "v1",
  fields: {
    _id: { type: "string", required: true },
    name: { type: "string", required: true },
    age: { type: "int", required: false },
  },
  indexes: ["name", "age"],
});
const usersV2 = parseSchemaDefinition({
  format_version: 1,
  schema_id: "users",
  schema_version: "v2",
  fields: { _id: { type: "string", required: true }, name: { type: "string", required: true } },
  indexes: [],
});
const items = parseSchemaDefinition({
  format_version: 1,
  schema_id: "items",
  schema_version: "v1",
  fields: { _id: { type: "int", required: true }, qty: { type: "int", required: true } },
  indexes: ["qty"],
});
const floaty: SchemaDefinition = {
  format_version: 1,
  schema_id: "floaty",
  schema_version: "v1",
  fields: { _id: { type: "float", required: true } },
  indexes: [],
};
const noId: SchemaDefinition = {
  format_version: 1,
  schema_id: "noid",
  schema_version: "v1",
  fields: { name: { type: "string", required: true } },
  indexes: [],
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

const schemas = lookupOf(users, usersV2, items, floaty, noId);
const limits: QueryLimits = { maxQueryLimit: 1000, maxScanCandidates: 100_000 };

/** Frozen-ness of every object in the value, by path: both planners' answers must agree. */
function frozenShape(value: unknown, path = "", out: Record<string, boolean> = {}): Record<string, boolean> {
  if (typeof value !== "object" || value === null) return out;
  out[path] = Object.isFrozen(value);
  for (const [key, inner] of Object.entries(value)) frozenShape(inner, `${path}.${key}`, out);
  return out;
}

/** The property: planQuery = planQueryInFull; a shortcut answer is the full planner's plan. */
function expectSameAnswer(request: unknown): QueryPlan | null {
  const full = planQueryInFull(request, schemas, limits);
  const answer = planQuery(request, schemas, limits);
  expect(answer).toStrictEqual(full);
  expect(frozenShape(answer)).toEqual(frozenShape(full));
  const fast = planPrimaryKeyLookup(request, schemas, limits);
  if (fast !== null) {
    expect(isPlanRejection(full), `the full planner refused: ${JSON.stringify(full)}`).toBe(false);
    expect(fast).toStrictEqual(full);
    expect(frozenShape(fast)).toEqual(frozenShape(full));
  }
  return fast;
}

// ---------------------------------------------------------------------------------------------
// Requests near the primary-key shape.

const ABSENT = Symbol("absent");
type Slot = unknown; // a value, or ABSENT for "no such key"

const often = <T>(common: fc.Arbitrary<T>, rare: fc.Arbitrary<unknown>, weight = 4): fc.Arbitrary<Slot> =>
  fc.oneof({ weight, arbitrary: common }, { weight: 1, arbitrary: rare });

const idValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 4 }),
  fc.constantFrom("", "1", "7", "__proto__"),
  fc.integer({ min: -5, max: 5 }),
  fc.maxSafeInteger(),
  fc.constantFrom(
    0,
    -0,
    2 ** 53,
    -(2 ** 53),
    2 ** 53 + 2,
    1.5,
    -0.5,
    1e21,
    Number.NaN,
    Number.POSITIVE_INFINITY,
  ),
  fc.constantFrom(true, false, null, undefined, 1n, [], ["a"], {}, { $eq: "a" }, { $eq: 1 }, { $gt: 1 }),
  fc.double(),
);

const schemaIdSlot = often(
  fc.constantFrom("users", "items"),
  fc.constantFrom(
    ABSENT,
    "nope",
    "",
    null,
    undefined,
    5,
    ["users"],
    "constructor",
    "__proto__",
    "floaty",
    "noid",
  ),
);
const versionSlot = often(
  fc.constant("v1"),
  fc.constantFrom(ABSENT, "v2", "v9", "", null, undefined, 1, ["v1"], "constructor", "toString"),
);
const limitSlot = often(
  fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.constantFrom(1, 1000)),
  fc.constantFrom(
    ABSENT,
    0,
    -0,
    -1,
    1.5,
    1001,
    2 ** 53,
    1e300,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    "1",
    null,
    undefined,
    true,
    [1],
    { n: 1 },
    1n,
  ),
);
const opSlot = fc.constantFrom(
  ABSENT,
  ABSENT,
  ABSENT,
  "query",
  "explain",
  "insert",
  "",
  1,
  null,
  undefined,
  "QUERY",
);
const txnSlot = fc.constantFrom(ABSENT, ABSENT, ABSENT, "t1", "", 7, null, undefined, {}, ["t"]);
const sortSlot = fc.constantFrom(
  ABSENT,
  ABSENT,
  ABSENT,
  ABSENT,
  "_id",
  "-_id",
  "name",
  "-age",
  "qty",
  [{ field: "_id", order: "desc" }],
  [],
  null,
  "nope",
);

type FilterShape = "plain" | "null-proto" | "inherits" | "array" | "value";
const filterSlot: fc.Arbitrary<Slot> = fc
  .record({
    shape: fc.constantFrom<FilterShape>(
      "plain",
      "plain",
      "plain",
      "plain",
      "null-proto",
      "inherits",
      "array",
      "value",
    ),
    id: fc.oneof({ weight: 6, arbitrary: idValue }, { weight: 1, arbitrary: fc.constant(ABSENT) }),
    extra: fc.array(
      fc.tuple(fc.constantFrom("age", "name", "qty", "nope", "$eq", "__proto__", "_ID", " _id"), idValue),
      { maxLength: 2 },
    ),
    scalar: fc.constantFrom(ABSENT, null, "x", 1, [], [{ _id: "a" }]),
  })
  .map(({ shape, id, extra, scalar }): Slot => {
    if (scalar !== ABSENT && shape === "value") return scalar;
    const own: Array<[string, unknown]> = [];
    if (id !== ABSENT) own.push(["_id", id]);
    own.push(...extra);
    if (shape === "array") return Object.assign([], Object.fromEntries(own));
    let target: Record<string, unknown>;
    if (shape === "null-proto") target = Object.create(null);
    else if (shape === "inherits") target = Object.create({ _id: "inherited", age: 1 });
    else target = {};
    // defineProperty: "__proto__" becomes an own key, as JSON.parse makes it.
    for (const [k, v] of own) {
      Object.defineProperty(target, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
    return target;
  });

type RequestShape = "null-proto" | "inherits-empty" | "inherits-keys" | "array" | "json" | "frozen";
const MUTABLE = [
  "schema_id",
  "schema_version",
  "filter",
  "limit",
  "op",
  "txn",
  "sort",
  "extra",
  "shape",
] as const;

/**
 * A valid primary-key request (string or int _id, with or without op and txn), then up to
 * three of its parts replaced by something else: another value of the slot (often wrong,
 * sometimes still valid), an extra key, or another kind of object.
 */
const requestArb: fc.Arbitrary<unknown> = fc
  .record({
    schema: fc.constantFrom("users", "items"),
    stringId: fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom("", "1", "__proto__")),
    intId: fc.oneof(
      fc.integer({ min: -9, max: 9 }),
      fc.maxSafeInteger(),
      fc.constantFrom(-0, Number.MIN_SAFE_INTEGER),
    ),
    limit: fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.constantFrom(1, 1000)),
    op: fc.constantFrom(ABSENT, "query", "explain"),
    txn: fc.constantFrom(ABSENT, ABSENT, "t1", ""),
    mutated: fc.uniqueArray(fc.constantFrom(...MUTABLE), { maxLength: 3 }),
    other: fc.record({
      schema_id: schemaIdSlot,
      schema_version: versionSlot,
      filter: often(filterSlot, fc.constant(ABSENT), 8),
      limit: limitSlot,
      op: opSlot,
      txn: txnSlot,
      sort: sortSlot,
    }),
    extra: fc.array(
      fc.tuple(
        fc.constantFrom("extra", "__proto__", "constructor", "toString", "Filter", "limit ", "_id"),
        idValue,
      ),
      { minLength: 1, maxLength: 2 },
    ),
    shape: fc.constantFrom<RequestShape>(
      "null-proto",
      "inherits-empty",
      "inherits-keys",
      "array",
      "json",
      "frozen",
    ),
    order: fc.nat(),
  })
  .map(({ schema, stringId, intId, limit, op, txn, mutated, other, extra, shape, order }) => {
    const slots: Record<string, Slot> = {
      schema_id: schema,
      schema_version: "v1",
      filter: { _id: schema === "users" ? stringId : intId },
      limit,
      op,
      txn,
      sort: ABSENT,
    };
    for (const m of mutated) if (m !== "extra" && m !== "shape") slots[m] = other[m];
    const own: Array<[string, unknown]> = Object.entries(slots).filter(([, v]) => v !== ABSENT);
    if (mutated.includes("extra")) own.push(...extra);
    // Key order must not matter: rotate.
    const k = own.length === 0 ? 0 : order % own.length;
    const rotated = [...own.slice(k), ...own.slice(0, k)];
    const kind = mutated.includes("shape") ? shape : "plain";
    if (kind === "array") return Object.assign([], Object.fromEntries(rotated));
    let target: Record<string, unknown>;
    if (kind === "null-proto") target = Object.create(null);
    else if (kind === "inherits-empty") target = Object.create({});
    else if (kind === "inherits-keys") target = Object.create({ limit: 5, extra: 1, sort: "-_id" });
    else target = {};
    // defineProperty: "__proto__" becomes an own key, as JSON.parse makes it.
    for (const [key, v] of rotated) {
      Object.defineProperty(target, key, { value: v, enumerable: true, writable: true, configurable: true });
    }
    if (kind === "json") {
      try {
        return JSON.parse(JSON.stringify(target, (_k, v) => (typeof v === "bigint" ? Number(v) : v)));
      } catch {
        return target;
      }
    }
    if (kind === "frozen") return Object.freeze(target);
    return target;
  });

// ---------------------------------------------------------------------------------------------

describe("planner fast path (planPrimaryKeyLookup)", () => {
  it("is taken for the plain primary-key shape, with and without op and txn, string and int ids", () => {
    const requests: Array<Record<string, unknown>> = [
      { schema_id: "users", schema_version: "v1", filter: { _id: "u1" }, limit: 1 },
      { schema_id: "users", schema_version: "v2", filter: { _id: "" }, limit: 1000 },
      { op: "query", schema_id: "users", schema_version: "v1", filter: { _id: "u1" }, limit: 10 },
      { op: "explain", txn: "t1", schema_id: "items", schema_version: "v1", filter: { _id: 7 }, limit: 1 },
      { schema_id: "items", schema_version: "v1", filter: { _id: -0 }, limit: 1 },
      { schema_id: "items", schema_version: "v1", filter: { _id: Number.MAX_SAFE_INTEGER }, limit: 3 },
      JSON.parse('{"limit":1,"filter":{"_id":"x"},"schema_version":"v1","schema_id":"users"}'),
      Object.assign(Object.create(null), {
        schema_id: "users",
        schema_version: "v1",
        filter: { _id: "a" },
        limit: 1,
      }),
    ];
    for (const request of requests) {
      const fast = planPrimaryKeyLookup(request, schemas, limits);
      expect(fast, JSON.stringify(request)).not.toBeNull();
      expect(fast).toMatchObject({ scan_type: "PK_LOOKUP", chosen_index: "_id", max_scan: 1, sort: null });
      expect(fast?.limit).toBe(request.limit);
      expect(Object.is(fast?.index_bounds.lower?.value, (request.filter as { _id: unknown })._id)).toBe(true);
      expectSameAnswer(request);
    }
  });

  it("returns plans equal to the full planner's that share no object with the request", () => {
    const request = { schema_id: "users", schema_version: "v1", filter: { _id: "u1" }, limit: 5 };
    const fast = planPrimaryKeyLookup(request, schemas, limits) as QueryPlan;
    const full = planQueryInFull(request, schemas, limits) as QueryPlan;
    expect(fast).toStrictEqual(full);
    // Not the caller's objects: mutating the request afterwards changes nothing.
    (request.filter as { _id: string })._id = "changed";
    expect(fast.index_bounds.lower?.value).toBe("u1");
    expect(fast.predicates[0]?.value).toBe("u1");
  });

  it("declines (null) every shape it does not handle, and planQuery still answers as the full planner", () => {
    const base = { schema_id: "users", schema_version: "v1", filter: { _id: "u1" }, limit: 1 };
    const declined: unknown[] = [
      null,
      undefined,
      "query",
      5,
      [base],
      { ...base, sort: "-_id" },
      { ...base, extra: 1 },
      { ...base, op: "insert" },
      { ...base, txn: 7 },
      { ...base, limit: 0 },
      { ...base, limit: 1.5 },
      { ...base, limit: -1 },
      { ...base, limit: 1001 },
      { ...base, limit: "1" },
      { ...base, filter: { _id: 1 } }, // int for a string _id
      { ...base, schema_id: "items", filter: { _id: "1" } }, // string for an int _id
      { ...base, schema_id: "items", filter: { _id: 2 ** 53 } },
      { ...base, schema_id: "items", filter: { _id: 1.5 } },
      { ...base, filter: { _id: "u1", name: "n" } },
      { ...base, filter: { _id: { $eq: "u1" } } },
      { ...base, filter: {} },
      { ...base, filter: null },
      { ...base, filter: Object.create({ _id: "u1" }) },
      { ...base, schema_id: "nope" },
      { ...base, schema_version: "v9" },
      { ...base, schema_id: "" },
      { ...base, schema_id: null },
      { ...base, schema_id: "floaty", filter: { _id: 1 } },
      { ...base, schema_id: "noid" },
      Object.create(base),
    ];
    for (const request of declined) {
      expect(planPrimaryKeyLookup(request, schemas, limits), String(JSON.stringify(request))).toBeNull();
      expectSameAnswer(request);
    }
    // Valid for the full planner (an own op or txn that is undefined counts as absent): the
    // shortcut may take them or not, the answer must be the same.
    for (const request of [
      { ...base, op: undefined },
      { ...base, txn: undefined },
      { ...base, sort: undefined },
    ]) {
      expect(isPlanRejection(planQueryInFull(request, schemas, limits))).toBe(false);
      expectSameAnswer(request);
    }
  });

  it("property: planQuery = planQueryInFull for arbitrary requests near the primary-key shape", async () => {
    let taken = 0;
    let plans = 0;
    let total = 0;
    await check(
      "near-pk",
      4000,
      fc.property(requestArb, (request) => {
        total++;
        if (expectSameAnswer(request) !== null) taken++;
        if (!isPlanRejection(planQueryInFull(request, schemas, limits))) plans++;
      }),
    );
    process.stdout.write(
      `planner-fast-path near-pk: ${total} requests, ${plans} plans, ${taken} by the fast path\n`,
    );
    // Not vacuous: both the shortcut and the declines are exercised.
    expect(taken).toBeGreaterThan(total / 20);
    expect(taken).toBeLessThan(total);
    expect(plans).toBeGreaterThan(taken);
  });

  it("property: arbitrary JavaScript values as requests", async () => {
    await check(
      "anything",
      2000,
      fc.property(
        fc.anything({ maxDepth: 3, withNullPrototype: true, withBigInt: true, withObjectString: true }),
        (request) => {
          expectSameAnswer(request);
        },
      ),
    );
  });

  it("own non-enumerable op, txn or sort: the same answer as the full planner", () => {
    // The full planner reads op, txn and sort with Object.hasOwn (enumerable or not); the
    // shortcut counts keys with for...in and Object.keys (enumerable only). An embedded caller
    // can hand over such an object.
    const base = () => ({ schema_id: "users", schema_version: "v1", filter: { _id: "u1" }, limit: 1 });
    const cases: Array<[string, unknown]> = [
      ["op", "insert"],
      ["txn", 7],
      ["sort", "-name"],
      ["sort", "nope"],
    ];
    const wrong: string[] = [];
    for (const [key, value] of cases) {
      const request = base();
      Object.defineProperty(request, key, { value, enumerable: false });
      const answer = planQuery(request, schemas, limits);
      const full = planQueryInFull(request, schemas, limits);
      try {
        expect(answer).toStrictEqual(full);
      } catch {
        wrong.push(
          `non-enumerable ${key}: ${JSON.stringify(value)}: planQuery ${JSON.stringify(answer)}, ` +
            `planQueryInFull ${JSON.stringify(full)}`,
        );
      }
    }
    expect(wrong).toEqual([]);
  });
});
