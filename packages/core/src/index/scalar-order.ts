/**
 * The one total order of indexed values (core.md §5 "Key order"): bool < number < string;
 * false < true; numbers numerically; strings by UTF-16 code unit (never localeCompare, so the
 * order does not depend on the host's locale or ICU data). Indexes, the planner's bounds and
 * the executor's predicate checks and sorts all compare through here, so they cannot disagree.
 */
import type { DocId, ScalarValue } from "../schema/types.js";

/** 0 for booleans, 1 for numbers, 2 for strings: the cross-type part of the order. */
export function scalarRank(value: ScalarValue): 0 | 1 | 2 {
  switch (typeof value) {
    case "boolean":
      return 0;
    case "number":
      return 1;
    default:
      return 2;
  }
}

/**
 * Negative if a < b, 0 if equal, positive if a > b. Values of different types never compare
 * equal (`1` vs `"1"`, `true` vs `1`), so the order is total over ScalarValue. -0 and 0 are
 * equal (JSON text cannot tell them apart either). NaN is never a valid scalar (float fields
 * are finite) and must not reach an index.
 */
export function compareScalars(a: ScalarValue, b: ScalarValue): number {
  const ra = scalarRank(a);
  const rb = scalarRank(b);
  if (ra !== rb) return ra - rb;
  // Same type: booleans (false < true), numbers and strings (UTF-16 code units) all order
  // correctly under JS relational operators.
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The order of document ids: the same as compareScalars (ints before strings). */
export function compareIds(a: DocId, b: DocId): number {
  return compareScalars(a, b);
}

/** Same type and equal under compareScalars: the equality `$eq` means (no coercion). */
export function sameScalar(a: ScalarValue, b: ScalarValue): boolean {
  return typeof a === typeof b && compareScalars(a, b) === 0;
}

/** A value an index can hold: a string, a boolean or a finite number. */
export function isScalarValue(value: unknown): value is ScalarValue {
  return (
    typeof value === "string" ||
    typeof value === "boolean" ||
    (typeof value === "number" && Number.isFinite(value))
  );
}

/** A value that can be a document id: a string or a safe integer. */
export function isDocId(value: unknown): value is DocId {
  return typeof value === "string" || (typeof value === "number" && Number.isSafeInteger(value));
}
