/**
 * One in-memory secondary (or primary) index: a sorted set of (value, id) entries over a B+
 * tree (sorted-btree). Keying by the composite (value, id) makes every entry unique and orders
 * equal values by id, so scans are deterministic (CORE-Q-2).
 *
 * Scan order. "asc" yields entries by value ascending, then id ascending. "desc" yields values
 * from high to low but keeps the entries of one value in ascending id order, so a query's
 * results tie-break by `_id` ascending in both directions (core.md §5 "ties by `_id`"), exactly
 * as the executor's collect-and-sort path does.
 *
 * Scans are lazy: nothing is read before the consumer asks for it, and the executor stops
 * early (at `limit`, or when a scan passes `max_scan`). Memory per scan is O(1) in both
 * directions: a descending scan seeks to each distinct value's first entry and walks that group
 * forwards, instead of buffering groups. Do not mutate an index while a scan of it is open.
 *
 * Values are ordered by compareScalars (bool < number < string). The planner only ever bounds
 * an index with values of its field's type, but mixed types still behave: a string bound on a
 * number index simply lies above every number.
 */
import { AeroError } from "@aerodb/base";
import btreeModule from "sorted-btree";
import { bulkLoad } from "sorted-btree/extended/bulkLoad.js";
import type { IndexBounds, IndexEntry, SortOrder } from "../query/types.js";
import type { DocId, ScalarValue } from "../schema/types.js";
import { compareIds, compareScalars, isDocId, isScalarValue } from "./scalar-order.js";

/** Sorts below (LOW) or above (HIGH) every id of the same value: seek positions, never stored. */
const LOW = 0;
const HIGH = 1;

interface Key {
  readonly value: ScalarValue;
  /** A stored entry's id; a seek key carries a sentinel instead. */
  readonly id: DocId;
  readonly sentinel?: typeof LOW | typeof HIGH;
}

function compareKeys(a: Key, b: Key): number {
  const byValue = compareScalars(a.value, b.value);
  if (byValue !== 0) return byValue;
  if (a.sentinel !== undefined || b.sentinel !== undefined) {
    if (a.sentinel === b.sentinel) return 0;
    if (a.sentinel === LOW || b.sentinel === HIGH) return -1;
    return 1;
  }
  return compareIds(a.id, b.id);
}

function seek(value: ScalarValue, sentinel: typeof LOW | typeof HIGH): Key {
  return { value, id: 0, sentinel };
}

// sorted-btree is CommonJS with `exports.default = BTree`. Under Node's ESM loader the default
// import is the whole `module.exports`; a bundler/transform may hand over the class itself.
// Accept both so the same code runs built (node) and under vitest.
type BTreeInstance = import("sorted-btree").default<Key, undefined>;
type BTreeClass = new (
  entries?: [Key, undefined][],
  compare?: (a: Key, b: Key) => number,
  maxNodeSize?: number,
) => BTreeInstance;
const BTree: BTreeClass = (() => {
  const mod = btreeModule as unknown as { default?: unknown };
  const ctor = typeof mod === "function" ? mod : mod.default;
  if (typeof ctor !== "function") throw new Error("sorted-btree: unexpected module shape");
  return ctor as BTreeClass;
})();

/** sorted-btree's default node size, named so that bulk-loaded trees match inserted ones. */
const NODE_SIZE = 32;

export class OrderedIndex {
  #tree: BTreeInstance = new BTree(undefined, compareKeys, NODE_SIZE);

  /**
   * Fills an empty index with entries already in index order, in O(n) (recovery's rebuild).
   * Entries out of order or repeated are a bug upstream: AERO_INTERNAL_INVARIANT, index unchanged.
   */
  loadSorted(values: readonly ScalarValue[], ids: readonly DocId[]): void {
    if (this.#tree.size !== 0 || values.length !== ids.length) {
      throw new AeroError(
        "AERO_INTERNAL_INVARIANT",
        "A bulk load needs an empty index and aligned entries.",
        {
          size: this.#tree.size,
          values: values.length,
          ids: ids.length,
        },
      );
    }
    const keys: Key[] = new Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const value = values[i] as ScalarValue;
      const id = ids[i] as DocId;
      checkEntry(value, id);
      keys[i] = { value, id };
    }
    try {
      this.#tree = bulkLoad(keys, new Array(keys.length).fill(undefined), NODE_SIZE, compareKeys);
    } catch (err) {
      throw new AeroError(
        "AERO_INTERNAL_INVARIANT",
        "Bulk-loaded index entries are not in strictly ascending order.",
        {},
        { cause: err },
      );
    }
  }

  /** Number of entries. */
  get size(): number {
    return this.#tree.size;
  }

  /** Adds (value, id); true if it was not present. */
  add(value: ScalarValue, id: DocId): boolean {
    checkEntry(value, id);
    return this.#tree.setIfNotPresent({ value, id }, undefined);
  }

  /** Removes (value, id); true if it was present. */
  remove(value: ScalarValue, id: DocId): boolean {
    checkEntry(value, id);
    return this.#tree.delete({ value, id });
  }

  has(value: ScalarValue, id: DocId): boolean {
    return this.#tree.has({ value, id });
  }

  /**
   * The entries within `bounds` (each side inclusive or exclusive, null = unbounded), lazily,
   * in `order` (see the module comment: "desc" keeps ties by id ascending). Bounds that admit
   * nothing (lower above upper, or equal with one side exclusive) yield nothing.
   */
  scan(bounds: IndexBounds, order: SortOrder): IterableIterator<IndexEntry> {
    return order === "asc" ? this.#scanAsc(bounds) : this.#scanDesc(bounds);
  }

  *#scanAsc(bounds: IndexBounds): IterableIterator<IndexEntry> {
    const { lower, upper } = bounds;
    const start = lower === null ? undefined : seek(lower.value, lower.inclusive ? LOW : HIGH);
    for (const [key] of this.#tree.entries(start)) {
      if (upper !== null && !belowUpper(key.value, upper.value, upper.inclusive)) return;
      yield { value: key.value, id: key.id };
    }
  }

  *#scanDesc(bounds: IndexBounds): IterableIterator<IndexEntry> {
    const { lower, upper } = bounds;
    // The highest entry within the upper bound: its value is the first group to emit.
    let top: Key | undefined =
      upper === null
        ? this.#tree.maxKey()
        : this.#tree.nextLowerKey(seek(upper.value, upper.inclusive ? HIGH : LOW));
    while (top !== undefined) {
      const value = top.value;
      if (lower !== null && !aboveLower(value, lower.value, lower.inclusive)) return;
      const groupStart = seek(value, LOW);
      for (const [key] of this.#tree.entries(groupStart)) {
        if (compareScalars(key.value, value) !== 0) break;
        yield { value: key.value, id: key.id };
      }
      // The last entry below this value's group: the next (lower) value to emit.
      top = this.#tree.nextLowerKey(groupStart);
    }
  }
}

function belowUpper(value: ScalarValue, upper: ScalarValue, inclusive: boolean): boolean {
  const c = compareScalars(value, upper);
  return inclusive ? c <= 0 : c < 0;
}

function aboveLower(value: ScalarValue, lower: ScalarValue, inclusive: boolean): boolean {
  const c = compareScalars(value, lower);
  return inclusive ? c >= 0 : c > 0;
}

function checkEntry(value: unknown, id: unknown): void {
  // A NaN or a non-scalar would break the tree's order for every later entry: refuse it.
  if (!isScalarValue(value) || !isDocId(id)) {
    throw new AeroError(
      "AERO_INTERNAL_INVARIANT",
      "An index entry must be a scalar value and a document id.",
      {
        value_type: typeof value,
        id_type: typeof id,
      },
    );
  }
}
