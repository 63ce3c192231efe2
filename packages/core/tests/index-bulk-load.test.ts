// Bulk loading (recovery's index rebuild): OrderedIndex.loadSorted and IndexCatalog.loadSorted
// must build exactly the index that adding the same entries one by one builds, and refuse
// (AERO_INTERNAL_INVARIANT, nothing changed) entries that are not strictly in index order.
//
// Replay one property: AERODB_SEED=<n> npx vitest run tests/index-bulk-load.test.ts
// More cases: AERODB_RUNS=<k> multiplies every property's runs.
import {
  AeroError,
  compareCodeUnits,
  runsMultiplier,
  SeededRandom,
  seededProperty,
  seedList,
  withSeed,
} from "@aerodb/base";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { IndexCatalog, type IndexedRow } from "../src/index/index-catalog.js";
import { indexedValuesOfDocument } from "../src/index/indexed-values.js";
import { OrderedIndex } from "../src/index/ordered-index.js";
import { compareIds, compareScalars } from "../src/index/scalar-order.js";
import { parseSchemaDefinition } from "../src/index.js";
import type { IndexBounds, IndexEntry, SortOrder } from "../src/query/types.js";
import type { DocId, ScalarValue, SchemaDefinition } from "../src/schema/types.js";

/** Runs a property under its named seed; a failure names the seed and the replay command. */
const check = <Ts extends [unknown, ...unknown[]]>(
  name: string,
  numRuns: number,
  property: fc.IProperty<Ts>,
) =>
  seededProperty(`index-bulk-load:${name}`, numRuns, (seed, runs) =>
    fc.assert(property, { seed, numRuns: runs }),
  );

function codeOf(fn: () => unknown): string | null {
  try {
    fn();
  } catch (err) {
    return err instanceof AeroError ? err.code : `not an AeroError: ${String(err)}`;
  }
  return null;
}

const UNBOUNDED: IndexBounds = { lower: null, upper: null };
const ORDERS: readonly SortOrder[] = ["asc", "desc"];
const scanAll = (
  index: { scan(b: IndexBounds, o: SortOrder): Iterable<IndexEntry> },
  b: IndexBounds,
  o: SortOrder,
) => [...index.scan(b, o)];

/** Index order: value (compareScalars), then id. */
const compareEntries = (a: readonly [ScalarValue, DocId], b: readonly [ScalarValue, DocId]): number =>
  compareScalars(a[0], b[0]) || compareIds(a[1], b[1]);

/** One key per entry as the index sees it: -0 and 0 are the same value. */
const entryKey = ([value, id]: readonly [ScalarValue, DocId]): string =>
  `${typeof value}:${Object.is(value, -0) ? "0" : String(value)}|${typeof id}:${String(id)}`;

// ---------------------------------------------------------------------------------------------
// Arbitraries.

const valueArb: fc.Arbitrary<ScalarValue> = fc.oneof(
  fc.boolean(),
  fc.integer({ min: -8, max: 8 }),
  fc.constantFrom(0, -0, 0.5, -1.25, 1e-9, 1e21, -1e300, Number.MAX_SAFE_INTEGER, Number.MIN_VALUE),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom("", "a", "A", "ab", "b", "é", "\u{1F600}", "\uFFFF", "\uE000", "10", "9"),
  fc.string({ maxLength: 3 }),
);
const idArb: fc.Arbitrary<DocId> = fc.oneof(
  fc.integer({ min: -30, max: 30 }),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER),
  fc.constantFrom("a", "b", "B", "_", "", "1", "\u{1F600}", "\uFFFF"),
  fc.string({ maxLength: 3 }),
);
const entriesArb = (maxLength: number) =>
  fc.uniqueArray(fc.tuple(valueArb, idArb), { selector: entryKey, maxLength });
const boundArb = fc.option(fc.record({ value: valueArb, inclusive: fc.boolean() }), { nil: null });
const boundsArb: fc.Arbitrary<IndexBounds> = fc.record({ lower: boundArb, upper: boundArb });

/** Large entry sets (multi-level trees), drawn from a seed. */
function bigEntries(seed: number, count: number): Array<[ScalarValue, DocId]> {
  const rnd = new SeededRandom(seed);
  const seen = new Set<string>();
  const out: Array<[ScalarValue, DocId]> = [];
  while (out.length < count) {
    const value: ScalarValue = rnd.pick([
      () => rnd.bool(),
      () => rnd.int(-50, 50),
      () => rnd.int(-1e6, 1e6) / 7,
      () => `s${rnd.int(0, 200)}`,
    ])();
    const id: DocId = rnd.bool() ? rnd.int(-1e9, 1e9) : `id${rnd.int(0, 1e6)}`;
    const key = entryKey([value, id]);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push([value, id]);
  }
  return out;
}

function addedOneByOne(entries: readonly (readonly [ScalarValue, DocId])[]): OrderedIndex {
  const index = new OrderedIndex();
  for (const [value, id] of entries) expect(index.add(value, id)).toBe(true);
  return index;
}

function bulkLoaded(entries: readonly (readonly [ScalarValue, DocId])[]): OrderedIndex {
  const sorted = [...entries].sort(compareEntries);
  const index = new OrderedIndex();
  index.loadSorted(
    sorted.map(([v]) => v),
    sorted.map(([, id]) => id),
  );
  return index;
}

function expectSameIndex(
  loaded: OrderedIndex,
  added: OrderedIndex,
  entries: readonly (readonly [ScalarValue, DocId])[],
  bounds: readonly IndexBounds[],
): void {
  expect(loaded.size).toBe(added.size);
  expect(loaded.size).toBe(entries.length);
  for (const [value, id] of entries)
    expect(loaded.has(value, id), `has(${String(value)}, ${String(id)})`).toBe(true);
  for (const order of ORDERS) {
    expect(scanAll(loaded, UNBOUNDED, order)).toEqual(scanAll(added, UNBOUNDED, order));
    for (const b of bounds)
      expect(scanAll(loaded, b, order), JSON.stringify(b)).toEqual(scanAll(added, b, order));
  }
}

// ---------------------------------------------------------------------------------------------

describe("OrderedIndex.loadSorted", () => {
  it("gives the index that add() one by one gives: size, has, scans in both orders within any bounds", async () => {
    let nonEmpty = 0;
    await check(
      "ordered-index-equivalence",
      1000,
      fc.property(
        entriesArb(120),
        fc.array(boundsArb, { maxLength: 8 }),
        fc.array(fc.tuple(valueArb, idArb), { maxLength: 8 }),
        fc.array(fc.tuple(fc.boolean(), valueArb, idArb), { maxLength: 20 }),
        (entries, bounds, probes, edits) => {
          if (entries.length > 0) nonEmpty++;
          const added = addedOneByOne(entries);
          const loaded = bulkLoaded(entries);
          expectSameIndex(loaded, added, entries, bounds);
          for (const [value, id] of probes) expect(loaded.has(value, id)).toBe(added.has(value, id));
          // The bulk-loaded tree stays a working tree: the same edits give the same index.
          for (const [isAdd, value, id] of edits) {
            if (isAdd) expect(loaded.add(value, id)).toBe(added.add(value, id));
            else expect(loaded.remove(value, id)).toBe(added.remove(value, id));
          }
          expect(loaded.size).toBe(added.size);
          for (const order of ORDERS) {
            expect(scanAll(loaded, UNBOUNDED, order)).toEqual(scanAll(added, UNBOUNDED, order));
            for (const b of bounds) expect(scanAll(loaded, b, order)).toEqual(scanAll(added, b, order));
          }
        },
      ),
    );
    expect(nonEmpty).toBeGreaterThan((1000 * runsMultiplier()) / 2);
  });

  it("large entry sets (multi-level trees), then edits through every part of the tree", async () => {
    for (const seed of seedList("index-bulk-load:big", 1)) {
      await withSeed(seed, () => {
        // Around sorted-btree's node size (32) and its powers, up to a three-level tree.
        for (const count of [1, 2, 25, 26, 27, 31, 32, 33, 64, 1024, 1025, 5000, 20_000]) {
          const entries = bigEntries(seed + count, count);
          const added = addedOneByOne(entries);
          const loaded = bulkLoaded(entries);
          const bounds: IndexBounds[] = [
            { lower: { value: -10, inclusive: true }, upper: { value: 10, inclusive: false } },
            { lower: { value: true, inclusive: false }, upper: { value: "s5", inclusive: true } },
            { lower: { value: "s150", inclusive: true }, upper: null },
            { lower: null, upper: { value: 0, inclusive: true } },
          ];
          expectSameIndex(loaded, added, entries, bounds);
          // Remove every other entry, then add fresh ones, on both.
          for (let i = 0; i < entries.length; i += 2) {
            const [value, id] = entries[i] as [ScalarValue, DocId];
            expect(loaded.remove(value, id)).toBe(true);
            added.remove(value, id);
          }
          for (const [value, id] of bigEntries(seed - count, Math.min(count, 2000))) {
            expect(loaded.add(value, id)).toBe(added.add(value, id));
          }
          expect(loaded.size).toBe(added.size);
          for (const order of ORDERS) {
            expect(scanAll(loaded, UNBOUNDED, order)).toEqual(scanAll(added, UNBOUNDED, order));
          }
        }
        process.stdout.write(`index-bulk-load big: seed ${seed}, 13 sizes up to 20000 entries\n`);
      });
    }
  });

  it("an empty load leaves an empty, working index", () => {
    const index = new OrderedIndex();
    index.loadSorted([], []);
    expect(index.size).toBe(0);
    expect(scanAll(index, UNBOUNDED, "desc")).toEqual([]);
    expect(index.add(1, 1)).toBe(true);
    expect(scanAll(index, UNBOUNDED, "asc")).toEqual([{ value: 1, id: 1 }]);
  });

  it("keeps -0 and 0 as the values they were loaded with, ordered as equal values by id", () => {
    const index = new OrderedIndex();
    index.loadSorted([false, -0, 0, -0, "0"], [1, "a", "b", "c", 0]);
    expect(scanAll(index, UNBOUNDED, "asc").map((e) => [e.value, e.id])).toEqual([
      [false, 1],
      [-0, "a"],
      [0, "b"],
      [-0, "c"],
      ["0", 0],
    ]);
    // (0, "a") is the entry (-0, "a"): the order treats them as one.
    expect(index.has(0, "a")).toBe(true);
  });

  /** A refused load: AERO_INTERNAL_INVARIANT, and the index holds what it held before. */
  function expectRefused(index: OrderedIndex, values: readonly ScalarValue[], ids: readonly DocId[]): void {
    const before = scanAll(index, UNBOUNDED, "asc");
    const size = index.size;
    expect(
      codeOf(() => index.loadSorted(values, ids)),
      `values ${String(values)} ids ${String(ids)}`,
    ).toBe("AERO_INTERNAL_INVARIANT");
    expect(index.size).toBe(size);
    expect(scanAll(index, UNBOUNDED, "asc")).toEqual(before);
    expect(scanAll(index, UNBOUNDED, "desc")).toEqual(
      [...before].sort((a, b) => compareScalars(b.value, a.value)),
    );
  }

  it("refuses unsorted input, duplicates, misaligned arrays, bad entries and a non-empty index; nothing changes", () => {
    // Unsorted: by value, by id within a value, across types.
    expectRefused(new OrderedIndex(), [2, 1], [1, 2]);
    expectRefused(new OrderedIndex(), [1, 1], [2, 1]);
    expectRefused(new OrderedIndex(), [1, 1], ["a", 1]); // ints before strings
    expectRefused(new OrderedIndex(), ["a", 1], [1, 1]); // numbers before strings
    expectRefused(new OrderedIndex(), [1, true], [1, 1]); // booleans before numbers
    expectRefused(new OrderedIndex(), ["b", "a"], [1, 1]);
    expectRefused(new OrderedIndex(), ["\uFFFF", "\u{1F600}"], [1, 1]); // code units, not code points
    // Duplicates (and -0 / 0, which the order calls equal).
    expectRefused(new OrderedIndex(), [1, 1], [1, 1]);
    expectRefused(new OrderedIndex(), [0, -0], [7, 7]);
    expectRefused(new OrderedIndex(), ["x", "y", "y"], [1, 2, 2]);
    // Misaligned.
    expectRefused(new OrderedIndex(), [1, 2], [1]);
    expectRefused(new OrderedIndex(), [1], [1, 2]);
    expectRefused(new OrderedIndex(), [], [1]);
    // Entries no index may hold.
    expectRefused(new OrderedIndex(), [Number.NaN], [1]);
    expectRefused(new OrderedIndex(), [Number.POSITIVE_INFINITY], [1]);
    expectRefused(new OrderedIndex(), [1, 2], [1, 1.5]);
    expectRefused(new OrderedIndex(), [1], [2 ** 53]);
    expectRefused(new OrderedIndex(), [null as unknown as ScalarValue], [1]);
    // A non-empty index, even with input that would sort fine; it keeps its entries.
    const full = new OrderedIndex();
    full.add(5, "x");
    full.add(true, 1);
    expectRefused(full, [1, 2], [1, 1]);
    expectRefused(full, [], []);
    expect(full.has(5, "x")).toBe(true);
    // A loaded index is non-empty too.
    const loaded = new OrderedIndex();
    loaded.loadSorted([1, 2], ["a", "a"]);
    expectRefused(loaded, [3], ["a"]);
    expect(scanAll(loaded, UNBOUNDED, "asc")).toEqual([
      { value: 1, id: "a" },
      { value: 2, id: "a" },
    ]);
  });

  it("after a refusal the index is still empty and usable: a valid load then succeeds", () => {
    const index = new OrderedIndex();
    expectRefused(index, [3, 2, 1], [1, 1, 1]);
    index.loadSorted([1, 2, 3], [1, 1, 1]);
    expect(scanAll(index, UNBOUNDED, "desc").map((e) => e.value)).toEqual([3, 2, 1]);
  });

  it("refuses any disorder in random sorted sets (one adjacent swap or one repeat), nothing changes", async () => {
    await check(
      "ordered-index-refusals",
      500,
      fc.property(entriesArb(60), fc.nat(), fc.boolean(), (entries, at, repeat) => {
        fc.pre(entries.length >= 2);
        const sorted = [...entries].sort(compareEntries);
        const i = at % (sorted.length - 1);
        if (repeat) sorted.splice(i + 1, 0, sorted[i] as [ScalarValue, DocId]);
        else
          [sorted[i], sorted[i + 1]] = [
            sorted[i + 1] as [ScalarValue, DocId],
            sorted[i] as [ScalarValue, DocId],
          ];
        expectRefused(
          new OrderedIndex(),
          sorted.map(([v]) => v),
          sorted.map(([, id]) => id),
        );
      }),
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe("IndexCatalog.loadSorted", () => {
  // "Zip" sorts before "_id" (upper case < "_"), so `_id` is not always the first slot.
  const definitionOf = (idType: "int" | "string", version: string): SchemaDefinition =>
    parseSchemaDefinition({
      format_version: 1,
      schema_id: "people",
      schema_version: version,
      fields: {
        _id: { type: idType, required: true },
        Zip: { type: "int", required: false }, // optional, often absent
        active: { type: "bool", required: true }, // two values
        city: { type: "string", required: false }, // low cardinality, optional
        email: { type: "string", required: true }, // unique per document
        score: { type: "float", required: false },
        note: { type: "string", required: false }, // not indexed
        tags: { type: "array", required: false, items: { type: "string" } },
      },
      indexes: ["email", "city", "active", "Zip", "score"],
    });
  const defs = [definitionOf("int", "v1"), definitionOf("string", "v2")];

  type Doc = Record<string, unknown> & { _id: DocId };

  const docArb = (idType: "int" | "string"): fc.Arbitrary<Doc> =>
    fc
      .record(
        {
          _id: idType === "int" ? fc.integer({ min: -1000, max: 1000 }) : fc.string({ maxLength: 4 }),
          Zip: fc.integer({ min: 0, max: 5 }),
          active: fc.boolean(),
          city: fc.constantFrom("Oslo", "Lima", "Pune", "é", ""),
          score: fc.oneof(
            fc.constantFrom(0, -0, 0.5, -1.5e-7, 1e21),
            fc.double({ noNaN: true, noDefaultInfinity: true }),
          ),
          note: fc.string({ maxLength: 4 }),
          tags: fc.array(fc.string({ maxLength: 2 }), { maxLength: 2 }),
        },
        { requiredKeys: ["_id", "active"] },
      )
      .map((doc) => ({ ...doc, email: `${typeof doc._id}:${String(doc._id)}@x` }) as Doc);

  const docsArb = (idType: "int" | "string") =>
    fc.uniqueArray(docArb(idType), { selector: (d) => d._id, maxLength: 60 });

  function catalogWith(): IndexCatalog {
    const catalog = new IndexCatalog();
    for (const def of defs) catalog.ensure(def);
    return catalog;
  }

  function rowsOf(catalog: IndexCatalog, version: string, docs: readonly Doc[]): IndexedRow[] {
    const fields = catalog.fields("people", version);
    if (fields === null) throw new Error("no fields");
    return [...docs]
      .sort((a, b) => compareIds(a._id, b._id))
      .map((doc) => ({ id: doc._id, values: indexedValuesOfDocument(doc, fields) }));
  }

  function expectSameCatalog(
    loaded: IndexCatalog,
    added: IndexCatalog,
    bounds: readonly IndexBounds[],
  ): void {
    expect(loaded.stats()).toEqual(added.stats());
    for (const def of defs) {
      const fields = loaded.fields("people", def.schema_version);
      expect(fields).toEqual(added.fields("people", def.schema_version));
      for (const field of fields ?? []) {
        for (const order of ORDERS) {
          const scan = (c: IndexCatalog, b: IndexBounds) => [
            ...c.scan("people", def.schema_version, field, b, order),
          ];
          expect(scan(loaded, UNBOUNDED), `${def.schema_version}.${field} ${order}`).toEqual(
            scan(added, UNBOUNDED),
          );
          for (const b of bounds) {
            expect(scan(loaded, b), `${def.schema_version}.${field} ${order} ${JSON.stringify(b)}`).toEqual(
              scan(added, b),
            );
          }
        }
      }
    }
  }

  it("fields are sorted by code unit with _id included", () => {
    const catalog = catalogWith();
    expect(catalog.fields("people", "v1")).toEqual(["Zip", "_id", "active", "city", "email", "score"]);
    expect(catalog.fields("people", "v1")).toEqual(
      [...(catalog.fields("people", "v1") ?? [])].sort(compareCodeUnits),
    );
  });

  it("gives the same stats and scans for every field as add(doc) for each document", async () => {
    const bound = fc.option(
      fc.record({
        value: fc.oneof(
          fc.integer({ min: -1000, max: 1000 }),
          fc.double({ noNaN: true, noDefaultInfinity: true }),
          fc.boolean(),
          fc.constantFrom("Lima", "Oslo", "é", "", "int:3@x", "string:a@x"),
          fc.string({ maxLength: 3 }),
        ),
        inclusive: fc.boolean(),
      }),
      { nil: null },
    );
    let entries = 0;
    await check(
      "catalog-equivalence",
      400,
      fc.property(
        docsArb("int"),
        docsArb("string"),
        fc.array(fc.record({ lower: bound, upper: bound }), { maxLength: 4 }),
        fc.array(fc.tuple(fc.boolean(), fc.nat()), { maxLength: 10 }),
        (intDocs, stringDocs, bounds, edits) => {
          const added = catalogWith();
          for (const doc of intDocs) added.add("people", "v1", doc);
          for (const doc of stringDocs) added.add("people", "v2", doc);
          const loaded = catalogWith();
          loaded.loadSorted("people", "v1", rowsOf(loaded, "v1", intDocs));
          loaded.loadSorted("people", "v2", rowsOf(loaded, "v2", stringDocs));
          entries += loaded.stats().entries;
          expectSameCatalog(loaded, added, bounds);
          // The commit path keeps working on a bulk-loaded catalog: remove and re-add documents.
          for (const [reAdd, pick] of edits) {
            if (intDocs.length === 0) break;
            const doc = intDocs[pick % intDocs.length] as Doc;
            for (const c of [loaded, added]) {
              c.remove("people", "v1", doc);
              if (reAdd) c.add("people", "v1", { ...doc, city: "Pune", Zip: 9 });
            }
          }
          expectSameCatalog(loaded, added, bounds);
        },
      ),
    );
    expect(entries).toBeGreaterThan(0);
  });

  it("a large rebuild (thousands of documents) matches too", async () => {
    for (const seed of seedList("index-bulk-load:catalog-big", 1)) {
      await withSeed(seed, () => {
        const rnd = new SeededRandom(seed);
        const docs: Doc[] = [];
        const ids = new Set<number>();
        for (let i = 0; i < 6000; i++) {
          const id = rnd.int(-1e9, 1e9);
          if (ids.has(id)) continue;
          ids.add(id);
          const doc: Doc = { _id: id, active: rnd.bool(), email: `${id}@x` };
          if (rnd.bool(0.3)) doc.Zip = rnd.int(0, 9);
          if (rnd.bool(0.8)) doc.city = rnd.pick(["Oslo", "Lima", "Pune"]);
          if (rnd.bool()) doc.score = rnd.int(-100, 100) / 4;
          docs.push(doc);
        }
        process.stdout.write(`index-bulk-load catalog-big: seed ${seed}, ${docs.length} documents\n`);
        const added = catalogWith();
        for (const doc of docs) added.add("people", "v1", doc);
        const loaded = catalogWith();
        loaded.loadSorted("people", "v1", rowsOf(loaded, "v1", docs));
        expectSameCatalog(loaded, added, [
          { lower: { value: "Lima", inclusive: true }, upper: { value: "Oslo", inclusive: false } },
          { lower: { value: -5, inclusive: false }, upper: { value: 5, inclusive: true } },
        ]);
      });
    }
  });

  it("an empty rebuild leaves empty indexes", () => {
    const catalog = catalogWith();
    catalog.loadSorted("people", "v1", []);
    expect(catalog.stats()).toEqual({ count: 12, entries: 0 });
  });

  it("refuses rows that are not sorted by id, or an unknown schema version", () => {
    const catalog = catalogWith();
    const rows = rowsOf(catalog, "v1", [
      { _id: 1, active: true, email: "a" },
      { _id: 2, active: false, email: "b" },
    ]);
    expect(codeOf(() => catalog.loadSorted("people", "v1", [...rows].reverse()))).toBe(
      "AERO_INTERNAL_INVARIANT",
    );
    expect(codeOf(() => catalog.loadSorted("people", "v9", rows))).toBe("AERO_INTERNAL_INVARIANT");
    expect(codeOf(() => catalog.loadSorted("nobody", "v1", rows))).toBe("AERO_INTERNAL_INVARIANT");
  });
});
