import { AeroError, seedList, withSeed } from "@aerodb/base";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { IndexCatalog } from "../src/index/index-catalog.js";
import { OrderedIndex } from "../src/index/ordered-index.js";
import { compareIds, compareScalars } from "../src/index/scalar-order.js";
import type { IndexBounds, IndexEntry, SortOrder } from "../src/query/types.js";
import type { DocId, ScalarValue, SchemaDefinition } from "../src/schema/types.js";

const all = (
  index: OrderedIndex,
  bounds: IndexBounds,
  order: SortOrder = "asc",
): Array<[ScalarValue, DocId]> => [...index.scan(bounds, order)].map((e) => [e.value, e.id]);
const incl = (value: ScalarValue) => ({ value, inclusive: true });
const excl = (value: ScalarValue) => ({ value, inclusive: false });
const UNBOUNDED: IndexBounds = { lower: null, upper: null };

describe("compareScalars / compareIds", () => {
  it("orders bool < number < string, false < true, numbers numerically", () => {
    const sorted: ScalarValue[] = [false, true, -1e9, -1, 0, 0.5, 2, 10, "", "10", "2", "A", "a"];
    const shuffled = [...sorted].reverse();
    expect(shuffled.sort(compareScalars)).toEqual(sorted);
    expect(compareScalars(1, "1")).toBeLessThan(0);
    expect(compareScalars(true, 0)).toBeLessThan(0);
    expect(compareScalars(0, -0)).toBe(0);
  });

  it("compares strings by UTF-16 code unit, not by locale or code point", () => {
    // U+1F600 is the surrogate pair D83D DE00: below U+FFFF by code unit, above it by code point.
    expect(compareScalars("\u{1F600}", "\uFFFF")).toBeLessThan(0);
    expect(compareScalars("Z", "a")).toBeLessThan(0);
    expect(compareScalars("a", "ä")).toBeLessThan(0);
    expect(compareScalars("ä", "b")).toBeGreaterThan(0); // localeCompare would say < 0
  });

  it("orders ids with ints before strings", () => {
    const ids: DocId[] = ["b", 10, "a", 2, "10"];
    expect(ids.sort(compareIds)).toEqual([2, 10, "10", "a", "b"]);
  });
});

describe("OrderedIndex", () => {
  const build = () => {
    const index = new OrderedIndex();
    for (const [v, id] of [
      [30, "c"],
      [10, "a"],
      [20, "b"],
      [20, "a"],
      [30, "a"],
      [20, "c"],
      [40, "z"],
    ] as const) {
      index.add(v, id);
    }
    return index;
  };

  it("adds, removes and counts; (value, id) is a set", () => {
    const index = new OrderedIndex();
    expect(index.add(1, "a")).toBe(true);
    expect(index.add(1, "a")).toBe(false);
    expect(index.add(1, "b")).toBe(true);
    expect(index.add("1", "a")).toBe(true);
    expect(index.size).toBe(3);
    expect(index.has(1, "a")).toBe(true);
    expect(index.remove(1, "a")).toBe(true);
    expect(index.remove(1, "a")).toBe(false);
    expect(index.remove(2, "b")).toBe(false);
    expect(index.size).toBe(2);
    expect(all(index, UNBOUNDED)).toEqual([
      [1, "b"],
      ["1", "a"],
    ]);
  });

  it("refuses NaN, non-scalar values and invalid ids", () => {
    const index = new OrderedIndex();
    expect(() => index.add(Number.NaN, 1)).toThrow(AeroError);
    expect(() => index.add(Number.POSITIVE_INFINITY, 1)).toThrow(AeroError);
    expect(() => index.add(null as unknown as ScalarValue, 1)).toThrow(AeroError);
    expect(() => index.add(1, 1.5)).toThrow(AeroError);
    expect(index.size).toBe(0);
  });

  it("scans ascending by value, ties by id", () => {
    expect(all(build(), UNBOUNDED)).toEqual([
      [10, "a"],
      [20, "a"],
      [20, "b"],
      [20, "c"],
      [30, "a"],
      [30, "c"],
      [40, "z"],
    ]);
  });

  it("scans descending by value, ties still by id ascending", () => {
    expect(all(build(), UNBOUNDED, "desc")).toEqual([
      [40, "z"],
      [30, "a"],
      [30, "c"],
      [20, "a"],
      [20, "b"],
      [20, "c"],
      [10, "a"],
    ]);
  });

  it("respects inclusive and exclusive bounds exactly, in both orders", () => {
    const index = build();
    const values = (bounds: IndexBounds, order: SortOrder = "asc") =>
      all(index, bounds, order).map(([v]) => v);
    expect(values({ lower: incl(20), upper: incl(30) })).toEqual([20, 20, 20, 30, 30]);
    expect(values({ lower: excl(20), upper: incl(30) })).toEqual([30, 30]);
    expect(values({ lower: incl(20), upper: excl(30) })).toEqual([20, 20, 20]);
    expect(values({ lower: excl(20), upper: excl(30) })).toEqual([]);
    expect(values({ lower: excl(10), upper: excl(40) })).toEqual([20, 20, 20, 30, 30]);
    expect(values({ lower: incl(15), upper: incl(35) })).toEqual([20, 20, 20, 30, 30]);
    expect(values({ lower: null, upper: excl(20) })).toEqual([10]);
    expect(values({ lower: excl(30), upper: null })).toEqual([40]);
    expect(values({ lower: incl(20), upper: incl(20) })).toEqual([20, 20, 20]);
    expect(values({ lower: incl(20), upper: excl(20) })).toEqual([]);
    expect(values({ lower: incl(35), upper: incl(15) })).toEqual([]);
    expect(values({ lower: incl(20), upper: incl(30) }, "desc")).toEqual([30, 30, 20, 20, 20]);
    expect(values({ lower: excl(20), upper: incl(30) }, "desc")).toEqual([30, 30]);
    expect(values({ lower: incl(20), upper: excl(30) }, "desc")).toEqual([20, 20, 20]);
    expect(values({ lower: excl(10), upper: excl(40) }, "desc")).toEqual([30, 30, 20, 20, 20]);
    expect(values({ lower: null, upper: excl(20) }, "desc")).toEqual([10]);
    expect(values({ lower: excl(30), upper: null }, "desc")).toEqual([40]);
    expect(values({ lower: incl(20), upper: incl(20) }, "desc")).toEqual([20, 20, 20]);
    expect(values({ lower: incl(35), upper: incl(15) }, "desc")).toEqual([]);
    expect(values({ lower: incl(100), upper: null }, "desc")).toEqual([]);
  });

  it("orders mixed types bool < number < string and bounds across types sensibly", () => {
    const index = new OrderedIndex();
    const values: ScalarValue[] = ["b", 3, true, "A", -2, false, "", 0.5, "\u{1F600}", "\uFFFF"];
    for (const [i, v] of values.entries()) index.add(v, i);
    expect(all(index, UNBOUNDED).map(([v]) => v)).toEqual([
      false,
      true,
      -2,
      0.5,
      3,
      "",
      "A",
      "b",
      "\u{1F600}",
      "\uFFFF",
    ]);
    // A string lower bound lies above every number; a bool upper bound below every number.
    expect(all(index, { lower: incl(""), upper: null }).map(([v]) => v)).toEqual([
      "",
      "A",
      "b",
      "\u{1F600}",
      "\uFFFF",
    ]);
    expect(all(index, { lower: null, upper: incl(true) }, "desc").map(([v]) => v)).toEqual([true, false]);
    expect(all(index, { lower: incl(0), upper: excl("") }).map(([v]) => v)).toEqual([0.5, 3]);
  });

  it("is lazy: a scan reads only what the consumer takes", () => {
    const index = new OrderedIndex();
    for (let i = 0; i < 2000; i++) index.add(i % 7, i);
    for (const order of ["asc", "desc"] as const) {
      const it = index.scan({ lower: incl(2), upper: incl(5) }, order);
      const first = it.next();
      expect(first.done).toBe(false);
      expect(first.value).toEqual({ value: order === "asc" ? 2 : 5, id: order === "asc" ? 2 : 5 });
    }
  });

  // A naive model: an array of entries kept sorted by an independently written comparator.
  const rank = (v: ScalarValue) => (typeof v === "boolean" ? 0 : typeof v === "number" ? 1 : 2);
  const codeUnits = (a: string, b: string) => {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const d = a.charCodeAt(i) - b.charCodeAt(i);
      if (d !== 0) return d;
    }
    return a.length - b.length;
  };
  const modelCompare = (a: ScalarValue, b: ScalarValue): number => {
    if (rank(a) !== rank(b)) return rank(a) - rank(b);
    if (typeof a === "string" && typeof b === "string") return codeUnits(a, b);
    return Number(a) - Number(b);
  };
  const modelScan = (model: IndexEntry[], bounds: IndexBounds, order: SortOrder): IndexEntry[] => {
    const inRange = model.filter((e) => {
      if (bounds.lower) {
        const c = modelCompare(e.value, bounds.lower.value);
        if (c < 0 || (c === 0 && !bounds.lower.inclusive)) return false;
      }
      if (bounds.upper) {
        const c = modelCompare(e.value, bounds.upper.value);
        if (c > 0 || (c === 0 && !bounds.upper.inclusive)) return false;
      }
      return true;
    });
    const sign = order === "asc" ? 1 : -1;
    return inRange.sort((a, b) => sign * modelCompare(a.value, b.value) || modelCompare(a.id, b.id));
  };

  const valueArb: fc.Arbitrary<ScalarValue> = fc.oneof(
    fc.boolean(),
    fc.integer({ min: -6, max: 6 }),
    fc.constantFrom(-0.5, 1.25, 1e-9, -1e300),
    fc.constantFrom("", "a", "A", "ab", "b", "\u{1F600}", "\uFFFF", "10", "9"),
  );
  const idArb: fc.Arbitrary<DocId> = fc.oneof(
    fc.integer({ min: 0, max: 25 }),
    fc.constantFrom("a", "b", "B", "_", ""),
  );
  const boundArb = fc.option(fc.record({ value: valueArb, inclusive: fc.boolean() }), { nil: null });
  type Op =
    | { t: "add"; value: ScalarValue; id: DocId }
    | { t: "remove"; value: ScalarValue; id: DocId }
    | { t: "scan"; bounds: IndexBounds; order: SortOrder; take: number };
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ t: fc.constant("add" as const), value: valueArb, id: idArb }) },
    { weight: 3, arbitrary: fc.record({ t: fc.constant("remove" as const), value: valueArb, id: idArb }) },
    {
      weight: 1,
      arbitrary: fc.record({
        t: fc.constant("scan" as const),
        bounds: fc.record({ lower: boundArb, upper: boundArb }),
        order: fc.constantFrom("asc" as const, "desc" as const),
        take: fc.integer({ min: 1, max: 400 }),
      }),
    },
  );

  const runOps = (ops: Op[]) => {
    const index = new OrderedIndex();
    let model: IndexEntry[] = [];
    const same = (e: IndexEntry, value: ScalarValue, id: DocId) =>
      modelCompare(e.value, value) === 0 && modelCompare(e.id, id) === 0;
    for (const op of ops) {
      if (op.t === "add") {
        const present = model.some((e) => same(e, op.value, op.id));
        expect(index.add(op.value, op.id)).toBe(!present);
        if (!present) model.push({ value: op.value, id: op.id });
      } else if (op.t === "remove") {
        const present = model.some((e) => same(e, op.value, op.id));
        expect(index.remove(op.value, op.id)).toBe(present);
        model = model.filter((e) => !same(e, op.value, op.id));
      } else {
        const expected = modelScan(model, op.bounds, op.order).slice(0, op.take);
        const got: IndexEntry[] = [];
        for (const e of index.scan(op.bounds, op.order)) {
          got.push(e);
          if (got.length >= op.take) break;
        }
        expect(got).toEqual(expected);
      }
      expect(index.size).toBe(model.length);
    }
    expect([...index.scan(UNBOUNDED, "asc")]).toEqual(modelScan(model, UNBOUNDED, "asc"));
    expect([...index.scan(UNBOUNDED, "desc")]).toEqual(modelScan(model, UNBOUNDED, "desc"));
  };

  it("matches a sorted-array model over many short random op sequences (100 x 100 ops)", async () => {
    for (const seed of seedList("ordered-index-model-short", 1)) {
      await withSeed(seed, () =>
        fc.assert(fc.property(fc.array(opArb, { maxLength: 100 }), runOps), { seed, numRuns: 100 }),
      );
    }
  });

  it("matches a sorted-array model over 10,000 random ops in one sequence", async () => {
    for (const seed of seedList("ordered-index-model-long", 1)) {
      await withSeed(seed, () =>
        fc.assert(fc.property(fc.array(opArb, { minLength: 10_000, maxLength: 10_000 }), runOps), {
          seed,
          numRuns: 2,
        }),
      );
    }
  });
});

describe("IndexCatalog", () => {
  const def: SchemaDefinition = {
    format_version: 1,
    schema_id: "users",
    schema_version: "v1",
    fields: {
      _id: { type: "string", required: true },
      age: { type: "int", required: false },
      name: { type: "string", required: true },
      city: { type: "string", required: false },
    },
    indexes: ["name", "age"],
  };

  it("ensures _id plus each declared index, idempotently, and counts entries", () => {
    const catalog = new IndexCatalog();
    expect(catalog.stats()).toEqual({ count: 0, entries: 0 });
    catalog.ensure(def);
    catalog.ensure(def);
    expect(catalog.has("users", "v1")).toBe(true);
    expect(catalog.has("users", "v2")).toBe(false);
    expect(catalog.fields("users", "v1")).toEqual(["_id", "age", "name"]);
    expect(catalog.stats()).toEqual({ count: 3, entries: 0 });
    catalog.ensure({ ...def, schema_version: "v2", indexes: [] });
    expect(catalog.stats()).toEqual({ count: 4, entries: 0 });
  });

  it("indexes present scalar fields only; absent optional fields have no entry", () => {
    const catalog = new IndexCatalog();
    catalog.ensure(def);
    catalog.add("users", "v1", { _id: "u1", name: "ann", age: 30, city: "x" });
    catalog.add("users", "v1", { _id: "u2", name: "bob" });
    expect(catalog.stats()).toEqual({ count: 3, entries: 5 });
    const ids = (field: string) =>
      [...catalog.scan("users", "v1", field, UNBOUNDED, "asc")].map((e) => [e.value, e.id]);
    expect(ids("_id")).toEqual([
      ["u1", "u1"],
      ["u2", "u2"],
    ]);
    expect(ids("age")).toEqual([[30, "u1"]]);
    expect(ids("name")).toEqual([
      ["ann", "u1"],
      ["bob", "u2"],
    ]);
    catalog.remove("users", "v1", { _id: "u1", name: "ann", age: 30, city: "x" });
    expect(catalog.stats()).toEqual({ count: 3, entries: 2 });
    expect(ids("age")).toEqual([]);
  });

  it("refuses to scan an unindexed field or an unknown schema, and a def indexing a non-scalar", () => {
    const catalog = new IndexCatalog();
    catalog.ensure(def);
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return err instanceof AeroError ? err.code : "not an AeroError";
      }
      return "no error";
    };
    expect(code(() => catalog.scan("users", "v1", "city", UNBOUNDED, "asc"))).toBe("AERO_INTERNAL_INVARIANT");
    expect(code(() => catalog.scan("users", "v9", "_id", UNBOUNDED, "asc"))).toBe("AERO_INTERNAL_INVARIANT");
    expect(code(() => catalog.add("nope", "v1", { _id: "x" }))).toBe("AERO_INTERNAL_INVARIANT");
    expect(code(() => catalog.add("users", "v1", { name: "no id" }))).toBe("AERO_INTERNAL_INVARIANT");
    const bad: SchemaDefinition = {
      ...def,
      schema_version: "v3",
      fields: { ...def.fields, tags: { type: "array", required: true, items: { type: "string" } } },
      indexes: ["tags"],
    };
    expect(code(() => catalog.ensure(bad))).toBe("AERO_INTERNAL_INVARIANT");
    expect(catalog.has("users", "v3")).toBe(false);
  });
});
