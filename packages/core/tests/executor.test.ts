import { AeroError, seedList, withSeed } from "@aerodb/base";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { IndexCatalog } from "../src/index/index-catalog.js";
import { executeQuery, matches } from "../src/query/executor.js";
import { isPlanRejection, planQuery } from "../src/query/planner.js";
import type {
  IndexBounds,
  IndexEntry,
  QueryLimits,
  QueryPlan,
  QuerySource,
  SchemaLookup,
  SortOrder,
  VisibleDocument,
} from "../src/query/types.js";
import type { DocId, SchemaDefinition } from "../src/schema/types.js";

type Doc = Record<string, unknown>;

const fields = {
  _id: { type: "string", required: true },
  age: { type: "int", required: false },
  name: { type: "string", required: true },
  score: { type: "float", required: false },
  active: { type: "bool", required: false },
  city: { type: "string", required: false },
} as const;
const usersV1: SchemaDefinition = {
  format_version: 1,
  schema_id: "users",
  schema_version: "v1",
  fields,
  indexes: ["age", "name", "score", "active"],
};
const usersV2: SchemaDefinition = { ...usersV1, schema_version: "v2" };

/**
 * An in-memory QuerySource: an IndexCatalog plus a Map of visible versions. `stale` writes
 * leave the previous version's index entries behind, as a lagging index would: the visible
 * version must still decide.
 */
class MemoryDb implements QuerySource {
  readonly indexes = new IndexCatalog();
  readonly visible = new Map<string, { schemaId: string; doc: VisibleDocument }>();
  readonly schemas = new Map<string, Map<string, SchemaDefinition>>();
  scanned = 0;
  reads = 0;

  constructor(...defs: SchemaDefinition[]) {
    for (const def of defs) {
      this.indexes.ensure(def);
      const versions = this.schemas.get(def.schema_id) ?? new Map<string, SchemaDefinition>();
      versions.set(def.schema_version, def);
      this.schemas.set(def.schema_id, versions);
    }
  }

  get lookup(): SchemaLookup {
    return { versions: (id) => this.schemas.get(id) ?? null };
  }

  static key(schemaId: string, id: DocId): string {
    return `${schemaId}\u0000${typeof id}:${String(id)}`;
  }

  put(schemaId: string, schemaVersion: string, doc: Doc, opts: { stale?: boolean } = {}): void {
    const key = MemoryDb.key(schemaId, doc._id as DocId);
    const previous = this.visible.get(key);
    if (previous && !opts.stale)
      this.indexes.remove(schemaId, previous.doc.schemaVersion, previous.doc.document);
    this.indexes.add(schemaId, schemaVersion, doc);
    this.visible.set(key, { schemaId, doc: { schemaVersion, document: doc } });
  }

  delete(schemaId: string, id: DocId, opts: { stale?: boolean } = {}): void {
    const key = MemoryDb.key(schemaId, id);
    const previous = this.visible.get(key);
    if (previous && !opts.stale)
      this.indexes.remove(schemaId, previous.doc.schemaVersion, previous.doc.document);
    this.visible.delete(key);
  }

  *scan(
    schemaId: string,
    schemaVersion: string,
    field: string,
    bounds: IndexBounds,
    order: SortOrder,
  ): IterableIterator<IndexEntry> {
    for (const entry of this.indexes.scan(schemaId, schemaVersion, field, bounds, order)) {
      this.scanned += 1;
      yield entry;
    }
  }

  readVisible(schemaId: string, id: DocId): VisibleDocument | null {
    this.reads += 1;
    return this.visible.get(MemoryDb.key(schemaId, id))?.doc ?? null;
  }
}

const limits: QueryLimits = { maxQueryLimit: 1000, maxScanCandidates: 100_000 };

function planOf(db: MemoryDb, request: Record<string, unknown>, lim: QueryLimits = limits): QueryPlan {
  const result = planQuery(
    { op: "query", schema_id: "users", schema_version: "v1", ...request },
    db.lookup,
    lim,
  );
  if (isPlanRejection(result)) throw new Error(`unexpected rejection ${result.code}`);
  return result;
}
function run(db: MemoryDb, request: Record<string, unknown>, lim: QueryLimits = limits): Doc[] {
  return executeQuery(planOf(db, request, lim), db);
}
const ids = (rows: Doc[]) => rows.map((r) => r._id);

function seeded(): MemoryDb {
  const db = new MemoryDb(usersV1, usersV2);
  const people: Array<[string, number | undefined, string]> = [
    ["u5", 30, "eve"],
    ["u1", 30, "ann"],
    ["u3", 20, "cat"],
    ["u2", 40, "bob"],
    ["u4", undefined, "dan"],
    ["u6", 30, "fay"],
    ["u0", 10, "abe"],
  ];
  for (const [id, age, name] of people)
    db.put("users", "v1", { _id: id, name, ...(age === undefined ? {} : { age }) });
  return db;
}

describe("executor (§13 scenarios 25-28)", () => {
  it("25. v2 documents are not in a v1 query; nothing matching -> []", () => {
    const db = seeded();
    db.put("users", "v2", { _id: "w1", name: "zed", age: 30 });
    // u5 moves to v2: its v1 entries are removed (and in a second db, left stale).
    db.put("users", "v2", { _id: "u5", name: "eve", age: 30 });
    expect(ids(run(db, { filter: { age: 30 }, limit: 10 }))).toEqual(["u1", "u6"]);
    expect(ids(run(db, { schema_version: "v2", filter: { age: 30 }, limit: 10 }))).toEqual(["u5", "w1"]);
    const stale = seeded();
    stale.put("users", "v2", { _id: "u5", name: "eve", age: 30 }, { stale: true });
    expect(ids(run(stale, { filter: { age: 30 }, limit: 10 }))).toEqual(["u1", "u6"]);
    expect(run(db, { filter: { age: 99 }, limit: 10 })).toEqual([]);
    expect(run(new MemoryDb(usersV1), { filter: { age: { $gt: 0 } }, limit: 10 })).toEqual([]);
  });

  it("26. results order by key, then _id; $gt/$lt are exclusive, $gte/$lte inclusive", () => {
    const db = seeded();
    expect(ids(run(db, { filter: { age: { $gte: 10 } }, limit: 10 }))).toEqual([
      "u0",
      "u3",
      "u1",
      "u5",
      "u6",
      "u2",
    ]);
    expect(ids(run(db, { filter: { age: { $gt: 10, $lt: 40 } }, limit: 10 }))).toEqual([
      "u3",
      "u1",
      "u5",
      "u6",
    ]);
    expect(ids(run(db, { filter: { age: { $gte: 10, $lte: 40 } }, limit: 10 }))).toEqual([
      "u0",
      "u3",
      "u1",
      "u5",
      "u6",
      "u2",
    ]);
    expect(ids(run(db, { filter: { age: { $gt: 20, $lt: 30 } }, limit: 10 }))).toEqual([]);
    expect(ids(run(db, { filter: { age: 30 }, limit: 2 }))).toEqual(["u1", "u5"]);
    expect(ids(run(db, { filter: { name: { $lt: "cat" } }, limit: 10 }))).toEqual(["u0", "u1", "u2"]);
    expect(ids(run(db, { filter: { _id: { $gt: "u1", $lte: "u4" } }, limit: 10 }))).toEqual([
      "u2",
      "u3",
      "u4",
    ]);
  });

  it("desc on the scan field: values high to low, ties by _id ascending, stopping at limit", () => {
    const db = seeded();
    expect(ids(run(db, { filter: { age: { $gte: 10 } }, sort: "-age", limit: 10 }))).toEqual([
      "u2",
      "u1",
      "u5",
      "u6",
      "u3",
      "u0",
    ]);
    db.scanned = 0;
    expect(ids(run(db, { filter: { age: { $gte: 10 } }, sort: "-age", limit: 2 }))).toEqual(["u2", "u1"]);
    expect(db.scanned).toBe(2);
    expect(ids(run(db, { filter: { age: 30 }, sort: [{ field: "age", order: "desc" }], limit: 10 }))).toEqual(
      ["u1", "u5", "u6"],
    );
  });

  it("sort on another field: collect, sort, ties by _id; absent values last in both directions", () => {
    const db = seeded();
    expect(ids(run(db, { filter: { name: { $gte: "a" } }, sort: "age", limit: 10 }))).toEqual([
      "u0",
      "u3",
      "u1",
      "u5",
      "u6",
      "u2",
      "u4",
    ]);
    expect(ids(run(db, { filter: { name: { $gte: "a" } }, sort: "-age", limit: 10 }))).toEqual([
      "u2",
      "u1",
      "u5",
      "u6",
      "u3",
      "u0",
      "u4",
    ]);
    expect(ids(run(db, { filter: { name: { $gte: "a" } }, sort: "-age", limit: 3 }))).toEqual([
      "u2",
      "u1",
      "u5",
    ]);
    expect(ids(run(db, { filter: { age: { $gt: 10 } }, sort: "-name", limit: 10 }))).toEqual([
      "u6",
      "u5",
      "u3",
      "u2",
      "u1",
    ]);
  });

  it("27. an updated-away value stops matching: the visible version decides, even over stale entries", () => {
    for (const stale of [false, true]) {
      const db = seeded();
      db.put("users", "v1", { _id: "u1", name: "ann", age: 50 }, { stale });
      expect(ids(run(db, { filter: { age: 30 }, limit: 10 }))).toEqual(["u5", "u6"]);
      // A range covering both the old and the new value returns u1 once, at its new value.
      expect(ids(run(db, { filter: { age: { $gte: 30 } }, limit: 10 }))).toEqual(["u5", "u6", "u2", "u1"]);
      expect(ids(run(db, { filter: { age: { $gte: 30 } }, sort: "name", limit: 10 }))).toEqual([
        "u1",
        "u2",
        "u5",
        "u6",
      ]);
      db.delete("users", "u6", { stale });
      expect(ids(run(db, { filter: { age: 30 }, limit: 10 }))).toEqual(["u5"]);
      expect(run(db, { filter: { _id: "u6" }, limit: 1 })).toEqual([]);
      // An optional field removed by an update: absent never matches.
      db.put("users", "v1", { _id: "u5", name: "eve" }, { stale });
      expect(ids(run(db, { filter: { age: 30 }, limit: 10 }))).toEqual([]);
    }
  });

  it("28. a range past max_scan -> AERO_EXECUTION_LIMIT (ERROR), no rows", () => {
    const db = new MemoryDb(usersV1);
    for (let i = 0; i < 10; i++) db.put("users", "v1", { _id: `d${i}`, name: `n${i}`, age: i });
    const small = { maxQueryLimit: 100, maxScanCandidates: 5 };
    const attempt = (request: Record<string, unknown>) => {
      try {
        return run(db, request, small);
      } catch (err) {
        return err;
      }
    };
    const err = attempt({ filter: { age: { $gte: 0 } }, limit: 10 });
    expect(err).toBeInstanceOf(AeroError);
    expect((err as AeroError).code).toBe("AERO_EXECUTION_LIMIT");
    expect((err as AeroError).severity).toBe("ERROR");
    expect((err as AeroError).details).toMatchObject({
      max_scan: 5,
      chosen_index: "age",
      scan_type: "INDEX_RANGE",
    });
    // Collect-and-sort walks the whole range: over the bound even for limit 1.
    expect((attempt({ filter: { age: { $gte: 0 } }, sort: "name", limit: 1 }) as AeroError).code).toBe(
      "AERO_EXECUTION_LIMIT",
    );
    // Within the bound: a scan-order query stops at its limit before max_scan.
    expect(ids(attempt({ filter: { age: { $gte: 0 } }, limit: 5 }) as Doc[])).toEqual([
      "d0",
      "d1",
      "d2",
      "d3",
      "d4",
    ]);
    expect(ids(attempt({ filter: { age: { $gte: 5 } }, sort: "-name", limit: 10 }) as Doc[])).toEqual([
      "d9",
      "d8",
      "d7",
      "d6",
      "d5",
    ]);
    // Entries that do not match still count: 6 walked, 0 kept.
    expect((attempt({ filter: { age: { $gte: 4 }, name: { $gt: "zz" } }, limit: 1 }) as AeroError).code).toBe(
      "AERO_EXECUTION_LIMIT",
    );
  });

  it("PK_LOOKUP reads at most one entry", () => {
    const db = seeded();
    db.reads = 0;
    db.scanned = 0;
    expect(run(db, { filter: { _id: "u3" }, limit: 5 })).toEqual([{ _id: "u3", name: "cat", age: 20 }]);
    // At most one index entry (the executor may go to the key directly) and exactly one read.
    expect(db.scanned).toBeLessThanOrEqual(1);
    expect(db.reads).toBe(1);
    expect(run(db, { filter: { _id: "u3", age: 21 }, limit: 5 })).toEqual([]);
    expect(run(db, { filter: { _id: "zz" }, limit: 5 })).toEqual([]);
  });

  it("predicates compare exact types with no coercion; null and absent never match", () => {
    const doc = { _id: 1, a: 30, s: "30", b: true, n: null, f: 1.5 };
    expect(matches(doc, { field: "a", op: "$eq", value: 30 })).toBe(true);
    expect(matches(doc, { field: "s", op: "$eq", value: 30 })).toBe(false);
    expect(matches(doc, { field: "a", op: "$eq", value: "30" })).toBe(false);
    expect(matches(doc, { field: "s", op: "$gt", value: 5 })).toBe(false);
    expect(matches(doc, { field: "b", op: "$eq", value: 1 })).toBe(false);
    expect(matches(doc, { field: "b", op: "$eq", value: true })).toBe(true);
    expect(matches(doc, { field: "n", op: "$lt", value: 0 })).toBe(false);
    expect(matches(doc, { field: "zz", op: "$lt", value: 0 })).toBe(false);
    expect(matches(doc, { field: "f", op: "$gt", value: 1 })).toBe(true);
    expect(matches(doc, { field: "f", op: "$lte", value: 1.5 })).toBe(true);
    expect(matches(doc, { field: "f", op: "$lt", value: 1.5 })).toBe(false);
    expect(matches(doc, { field: "toString", op: "$eq", value: "x" })).toBe(false);
  });

  it("int ids order numerically, in both directions", () => {
    const def: SchemaDefinition = {
      format_version: 1,
      schema_id: "users",
      schema_version: "v1",
      fields: { _id: { type: "int", required: true }, k: { type: "string", required: true } },
      indexes: ["k"],
    };
    const db = new MemoryDb(def);
    for (const id of [10, 2, 33, 1]) db.put("users", "v1", { _id: id, k: "x" });
    expect(ids(run(db, { filter: { k: "x" }, limit: 10 }))).toEqual([1, 2, 10, 33]);
    expect(ids(run(db, { filter: { k: "x" }, sort: "-_id", limit: 10 }))).toEqual([33, 10, 2, 1]);
  });
});

describe("executor: differential against brute force (property)", () => {
  const def: SchemaDefinition = {
    format_version: 1,
    schema_id: "t",
    schema_version: "v1",
    fields: {
      _id: { type: "int", required: true },
      a: { type: "int", required: false },
      b: { type: "string", required: false },
      c: { type: "float", required: false },
      d: { type: "bool", required: false },
    },
    indexes: ["a", "b", "c", "d"],
  };
  const defV2: SchemaDefinition = { ...def, schema_version: "v2" };

  const aArb = fc.integer({ min: -3, max: 3 });
  const bArb = fc.constantFrom("", "a", "ab", "b", "B", "\u{1F600}", "\uFFFF");
  const cArb = fc.constantFrom(-1.5, 0, 0.25, 1, 2.5);
  const dArb = fc.boolean();
  const docArb = fc.record(
    { _id: fc.integer({ min: 0, max: 30 }), a: aArb, b: bArb, c: cArb, d: dArb },
    { requiredKeys: ["_id"] },
  );
  type Write =
    | { t: "put"; version: "v1" | "v2"; doc: Doc; stale: boolean }
    | { t: "del"; id: number; stale: boolean };
  const writeArb: fc.Arbitrary<Write> = fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({
        t: fc.constant("put" as const),
        version: fc.constantFrom("v1" as const, "v1" as const, "v2" as const),
        doc: docArb,
        stale: fc.boolean(),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        t: fc.constant("del" as const),
        id: fc.integer({ min: 0, max: 30 }),
        stale: fc.boolean(),
      }),
    },
  );

  const valueFor: Record<string, fc.Arbitrary<unknown>> = {
    _id: fc.integer({ min: -1, max: 31 }),
    a: aArb,
    b: bArb,
    c: cArb,
  };
  const rangeFor = (field: string) =>
    fc
      .record(
        {
          lower: fc.record({
            op: fc.constantFrom("$gt", "$gte"),
            v: valueFor[field] as fc.Arbitrary<unknown>,
          }),
          upper: fc.record({
            op: fc.constantFrom("$lt", "$lte"),
            v: valueFor[field] as fc.Arbitrary<unknown>,
          }),
        },
        { requiredKeys: [] },
      )
      .filter((r) => r.lower !== undefined || r.upper !== undefined)
      .map((r) => ({
        ...(r.lower ? { [r.lower.op]: r.lower.v } : {}),
        ...(r.upper ? { [r.upper.op]: r.upper.v } : {}),
      }));
  const conditionFor = (field: string): fc.Arbitrary<unknown> =>
    field === "d"
      ? fc.oneof(
          dArb,
          dArb.map((v) => ({ $eq: v })),
        )
      : fc.oneof(
          valueFor[field] as fc.Arbitrary<unknown>,
          (valueFor[field] as fc.Arbitrary<unknown>).map((v) => ({ $eq: v })),
          rangeFor(field),
        );
  const filterArb = fc
    .subarray(["_id", "a", "b", "c", "d"], { minLength: 1, maxLength: 3 })
    .chain((names) => fc.tuple(...names.map((n) => conditionFor(n).map((c) => [n, c] as const))))
    .map((entries) => Object.fromEntries(entries));
  const queryArb = fc.record({
    schema_version: fc.constantFrom("v1", "v1", "v2"),
    filter: filterArb,
    sort: fc.option(
      fc.record({ field: fc.constantFrom("_id", "a", "b", "c", "d"), order: fc.constantFrom("asc", "desc") }),
      { nil: undefined },
    ),
    limit: fc.integer({ min: 1, max: 12 }),
    maxScan: fc.constantFrom(2, 3, 5, 10, 40, 1000),
  });

  // Independent reference: every visible doc of the version, filtered, sorted, cut.
  const rank = (v: unknown) => (typeof v === "boolean" ? 0 : typeof v === "number" ? 1 : 2);
  const cmp = (x: unknown, y: unknown): number => {
    if (rank(x) !== rank(y)) return rank(x) - rank(y);
    if (typeof x === "string" && typeof y === "string") return x === y ? 0 : x < y ? -1 : 1;
    return Number(x) - Number(y);
  };
  const holds = (doc: Doc, field: string, cond: unknown): boolean => {
    const ops = typeof cond === "object" && cond !== null ? (cond as Record<string, unknown>) : { $eq: cond };
    if (!(field in doc)) return false;
    const v = doc[field];
    return Object.entries(ops).every(([op, w]) => {
      if (typeof v !== typeof w) return false;
      const c = cmp(v, w);
      return op === "$eq"
        ? c === 0
        : op === "$gt"
          ? c > 0
          : op === "$gte"
            ? c >= 0
            : op === "$lt"
              ? c < 0
              : c <= 0;
    });
  };

  it("equals a brute-force filter + sort whenever no EXECUTION_LIMIT is raised (1,000 runs)", async () => {
    let compared = 0;
    let limited = 0;
    const property = fc.property(
      fc.array(writeArb, { maxLength: 60, size: "max" }),
      queryArb,
      (writes, query) => {
        const db = new MemoryDb(def, defV2);
        for (const w of writes) {
          if (w.t === "put") db.put("t", w.version, w.doc, { stale: w.stale });
          else db.delete("t", w.id, { stale: w.stale });
        }
        const request = {
          op: "query",
          schema_id: "t",
          schema_version: query.schema_version,
          filter: query.filter,
          limit: query.limit,
          ...(query.sort ? { sort: [query.sort] } : {}),
        };
        const result = planQuery(request, db.lookup, {
          maxQueryLimit: 100,
          maxScanCandidates: query.maxScan,
        });
        if (isPlanRejection(result)) throw new Error(`generator made an invalid query: ${result.code}`);
        const rangeSize = [
          ...db.indexes.scan("t", result.schema_version, result.chosen_index, result.index_bounds, "asc"),
        ].length;
        let rows: Doc[];
        try {
          rows = executeQuery(result, db);
        } catch (err) {
          expect(err).toBeInstanceOf(AeroError);
          expect((err as AeroError).code).toBe("AERO_EXECUTION_LIMIT");
          expect(rangeSize).toBeGreaterThan(result.max_scan);
          limited += 1;
          return;
        }
        const onScanField = result.sort === null || result.sort.field === result.chosen_index;
        if (!onScanField) expect(rangeSize).toBeLessThanOrEqual(result.max_scan);
        const sort = result.sort ?? { field: result.chosen_index, order: "asc" };
        const sign = sort.order === "asc" ? 1 : -1;
        const expected = [...db.visible.values()]
          .filter((e) => e.doc.schemaVersion === query.schema_version)
          .map((e) => e.doc.document as Doc)
          .filter((doc) => Object.entries(query.filter).every(([f, c]) => holds(doc, f, c)))
          .sort((x, y) => {
            const hx = sort.field in x;
            const hy = sort.field in y;
            if (hx !== hy) return hx ? -1 : 1;
            return (hx ? sign * cmp(x[sort.field], y[sort.field]) : 0) || cmp(x._id, y._id);
          })
          .slice(0, query.limit);
        expect(rows).toEqual(expected);
        compared += 1;
      },
    );
    for (const seed of seedList("executor-differential", 1)) {
      await withSeed(seed, () => fc.assert(property, { seed, numRuns: 1000 }));
    }
    // Both outcomes were exercised.
    process.stdout.write(`${JSON.stringify({ compared, limited })}\n`);
    expect(compared).toBeGreaterThan(500);
    expect(limited).toBeGreaterThan(30);
  });
});
