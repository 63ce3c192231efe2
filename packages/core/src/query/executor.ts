/**
 * The query executor (core.md §5): runs exactly the QueryPlan the planner proved bounded.
 *
 * 1. Walk the chosen index within index_bounds: ascending, or descending when the sort is
 *    "desc" on the scanned field. Every entry walked counts; the walk that would take entry
 *    max_scan + 1 throws AERO_EXECUTION_LIMIT instead, and no row is returned (CORE-Q-1).
 * 2. For each entry read the key's visible version (source.readVisible verifies checksums) and
 *    keep it iff it exists (not a tombstone), is of the plan's schema_version, still holds the
 *    entry's value in the scanned field (a stale entry, left by an update, is skipped, so a
 *    document is never returned twice) and matches every predicate: exact type, no coercion,
 *    absent and null never match, compared with compareScalars (CORE-Q-3). Indexes narrow,
 *    versions decide (CORE-Q-5).
 * 3. With no sort or a sort on the scanned field, the index order is the result order (value,
 *    then `_id` ascending, in both directions; see OrderedIndex) and the walk stops at `limit`
 *    rows. Otherwise all matches are collected and sorted by the sort field (documents lacking
 *    it come after those that have it, in both directions), ties by `_id` ascending; the first
 *    `limit` are returned.
 *
 * The returned rows are the source's document objects themselves: callers must not mutate them.
 */
import { AeroError } from "@aerodb/base";
import { compareIds, compareScalars, isDocId, isScalarValue, sameScalar } from "../index/scalar-order.js";
import type { DocId, ScalarValue } from "../schema/types.js";
import type { Predicate, QueryPlan, QuerySource, SortOrder, SortSpec } from "./types.js";

type Row = Readonly<Record<string, unknown>>;

export function executeQuery(plan: QueryPlan, source: QuerySource): Array<Record<string, unknown>> {
  const sort = plan.sort;
  const onScanField = sort === null || sort.field === plan.chosen_index;
  const order: SortOrder = sort !== null && onScanField ? sort.order : "asc";
  if (plan.scan_type === "PK_LOOKUP") return lookupByPrimaryKey(plan, source);
  const rows: Row[] = [];
  let walked = 0;
  for (const entry of source.scan(
    plan.schema_id,
    plan.schema_version,
    plan.chosen_index,
    plan.index_bounds,
    order,
  )) {
    walked += 1;
    if (walked > plan.max_scan) {
      throw new AeroError(
        "AERO_EXECUTION_LIMIT",
        "The query would scan more index entries than its bound allows.",
        {
          schema_id: plan.schema_id,
          schema_version: plan.schema_version,
          chosen_index: plan.chosen_index,
          scan_type: plan.scan_type,
          max_scan: plan.max_scan,
        },
      );
    }
    const visible = source.readVisible(plan.schema_id, entry.id);
    if (visible === null || visible.schemaVersion !== plan.schema_version) continue;
    const doc = visible.document;
    const scanned = fieldValue(doc, plan.chosen_index);
    if (scanned === undefined || !sameScalar(scanned, entry.value)) continue;
    if (!plan.predicates.every((p) => matches(doc, p))) continue;
    rows.push(doc);
    if (onScanField && rows.length >= plan.limit) break;
  }
  if (!onScanField && sort !== null) rows.sort(rowComparator(sort));
  return rows.slice(0, plan.limit) as Array<Record<string, unknown>>;
}

/**
 * PK_LOOKUP walks at most one entry: the `_id` index of a schema version holds an id exactly
 * when the key's live version is of that schema version, which the visible version tells
 * directly, so the lookup skips the index walk and applies the same checks.
 */
function lookupByPrimaryKey(plan: QueryPlan, source: QuerySource): Array<Record<string, unknown>> {
  const id = plan.index_bounds.lower?.value;
  if (!isDocId(id)) return [];
  const visible = source.readVisible(plan.schema_id, id);
  if (visible === null || visible.schemaVersion !== plan.schema_version) return [];
  const doc = visible.document;
  for (const p of plan.predicates) {
    // The lookup's own `_id` $eq holds when the stored _id is the key itself; test that cheaply.
    if (p.field === "_id" && p.op === "$eq" ? doc._id !== p.value : !matches(doc, p)) return [];
  }
  return [doc as Record<string, unknown>];
}

/** Does `doc` satisfy the predicate? Exact type, no coercion; absent and null never match. */
export function matches(doc: Row, predicate: Predicate): boolean {
  const value = fieldValue(doc, predicate.field);
  if (value === undefined || typeof value !== typeof predicate.value) return false;
  const c = compareScalars(value, predicate.value);
  switch (predicate.op) {
    case "$eq":
      return c === 0;
    case "$gt":
      return c > 0;
    case "$gte":
      return c >= 0;
    case "$lt":
      return c < 0;
    case "$lte":
      return c <= 0;
  }
}

/** The sort of the collect path: present values first (in `order`), then absent; ties by `_id` asc. */
function rowComparator(sort: SortSpec): (a: Row, b: Row) => number {
  const sign = sort.order === "asc" ? 1 : -1;
  return (a, b) => {
    const av = fieldValue(a, sort.field);
    const bv = fieldValue(b, sort.field);
    if (av === undefined || bv === undefined) {
      if (av !== bv) return av === undefined ? 1 : -1;
    } else {
      const c = compareScalars(av, bv);
      if (c !== 0) return sign * c;
    }
    return compareIds(rowId(a), rowId(b));
  };
}

/** A top-level scalar value of the document, or undefined when absent (or not a scalar). */
function fieldValue(doc: Row, field: string): ScalarValue | undefined {
  if (!Object.hasOwn(doc, field)) return undefined;
  const value = doc[field];
  return isScalarValue(value) ? value : undefined;
}

function rowId(doc: Row): DocId {
  const id = doc._id;
  if (!isDocId(id)) throw new AeroError("AERO_INTERNAL_INVARIANT", "A visible document has no valid _id.");
  return id;
}
