/**
 * The query planner (core.md §5): turns a request into a proven-bounded QueryPlan or a
 * PlanRejection. It never throws for any input (a bug aside) and never executes anything.
 *
 * Checks run in this order; the first failure wins:
 *  1. shape: a plain object whose keys are among op, txn, schema_id, schema_version, filter,
 *     limit, sort (anything else: QUERY_INVALID); `op`, if present, is "query" or "explain";
 *     `txn` is reserved for Phase 2A: a string is accepted and ignored, anything else is
 *     QUERY_INVALID; schema_id / schema_version, when given, are strings (QUERY_INVALID).
 *  2. schema_id present (SCHEMA_REQUIRED), schema_version present (SCHEMA_VERSION_REQUIRED);
 *     missing, null and "" count as absent.
 *  3. both known: SCHEMA_UNKNOWN, then SCHEMA_UNKNOWN_VERSION.
 *  4. limit: an integer >= 1 (a JSON number; no coercion) else QUERY_LIMIT_REQUIRED; above
 *     limits.maxQueryLimit: QUERY_LIMIT_TOO_LARGE.
 *  5. filter fields and types (QUERY_INVALID): filter, when present, is a plain object; each
 *     field (in UTF-16 code-unit order) is a top-level scalar field of the schema; its operand is
 *     a scalar (= `$eq`) or an object with `$eq` alone or at most one lower (`$gt`|`$gte`) and
 *     one upper (`$lt`|`$lte`) bound; a bool field takes `$eq` only; every value has the
 *     field's exact type: string; bool; int = a safe integer; float = any finite number (JSON
 *     cannot tell 3 from 3.0, so an integral literal is a float too). null, an unknown operator,
 *     `{}`, arrays and objects as values are refused.
 *  6. filter fields indexed (QUERY_UNINDEXED_FIELD); `_id` always is.
 *  7. sort (QUERY_INVALID for a malformed one, QUERY_SORT_NOT_INDEXED for an unindexed field):
 *     `[{"field":f,"order":"asc"|"desc"}]` (exactly those two keys), or the string "f" / "-f",
 *     bare or as the single element of an array. Exactly one key; `[]`, two keys, null,
 *     an unknown or non-scalar field are QUERY_INVALID.
 *  8. filter non-empty (QUERY_UNBOUNDED); an absent filter counts as empty.
 *
 * Scan choice: `_id` `$eq` -> PK_LOOKUP (max_scan 1); else the first field (code-unit order)
 * with `$eq` -> INDEX_EQ; else INDEX_RANGE on the first field (every remaining field has a
 * bound); max_scan = limits.maxScanCandidates for both. Predicates are sorted by field, then
 * operator. All iteration is over explicitly sorted keys, never insertion order.
 */
import { compareCodeUnits, type ErrorCode } from "@aerodb/base";
import type { FieldType, SchemaDefinition } from "../schema/types.js";
import type {
  Bound,
  CompareOp,
  IndexBounds,
  PlanRejection,
  Predicate,
  QueryLimits,
  QueryPlan,
  SchemaLookup,
  SortSpec,
} from "./types.js";

/** The request fields a query or explain may carry (`txn`: reserved for Phase 2A, ignored). */
export const QUERY_REQUEST_FIELDS: readonly string[] = [
  "filter",
  "limit",
  "op",
  "schema_id",
  "schema_version",
  "sort",
  "txn",
];

const REQUEST_FIELDS: ReadonlySet<string> = new Set(QUERY_REQUEST_FIELDS);
const OPERATORS: ReadonlySet<string> = new Set(["$eq", "$gt", "$gte", "$lt", "$lte"]);
const SCALAR_TYPES: ReadonlySet<FieldType> = new Set<FieldType>(["string", "int", "float", "bool"]);

/** True when the planner refused the request. */
export function isPlanRejection(result: QueryPlan | PlanRejection): result is PlanRejection {
  return Object.hasOwn(result, "code");
}

/** Plans a query or explain request (see the module comment for the rules and their order). */
export function planQuery(
  request: unknown,
  schemas: SchemaLookup,
  limits: QueryLimits,
): QueryPlan | PlanRejection {
  return planPrimaryKeyLookup(request, schemas, limits) ?? planQueryInFull(request, schemas, limits);
}

/** The planner with every check run in order: what planQuery answers for any request. */
export function planQueryInFull(
  request: unknown,
  schemas: SchemaLookup,
  limits: QueryLimits,
): QueryPlan | PlanRejection {
  try {
    return plan(request, schemas, limits);
  } catch (err) {
    if (err instanceof Refusal) return err.rejection;
    throw err;
  }
}

/**
 * The plan of the commonest request, `{schema_id, schema_version, filter: {_id: v}, limit}`
 * (optionally with op and txn), when every check of the full planner would pass: then the full
 * planner's answer is this PK_LOOKUP plan, and the checks below are exactly the ones that can
 * still fail for that shape. null for any other shape or any doubt; the caller then runs the
 * full planner, which also produces every rejection. A property test holds the two equal.
 */
export function planPrimaryKeyLookup(
  request: unknown,
  schemas: SchemaLookup,
  limits: QueryLimits,
): QueryPlan | null {
  if (!isPlainObject(request)) return null;
  let keys = 0;
  for (const key in request) {
    if (!Object.hasOwn(request, key)) return null;
    keys++;
    if (key === "op") {
      if (request.op !== "query" && request.op !== "explain") return null;
    } else if (key === "txn") {
      if (typeof request.txn !== "string") return null;
    } else if (key !== "schema_id" && key !== "schema_version" && key !== "filter" && key !== "limit") {
      return null;
    }
  }
  // for...in skips own non-enumerable and symbol keys, which Object.keys also skips; the full
  // planner reads op, txn and sort as own properties even when not enumerable: defer to it.
  if (keys !== Object.keys(request).length) return null;
  for (const key of ["op", "txn", "sort"]) {
    if (Object.hasOwn(request, key) && !Object.prototype.propertyIsEnumerable.call(request, key)) return null;
  }
  const own = (key: string): unknown => (Object.hasOwn(request, key) ? request[key] : undefined);
  const schemaId = own("schema_id");
  const schemaVersion = own("schema_version");
  const limit = own("limit");
  const filter = own("filter");
  if (typeof schemaId !== "string" || schemaId === "") return null;
  if (typeof schemaVersion !== "string" || schemaVersion === "") return null;
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > limits.maxQueryLimit) {
    return null;
  }
  if (!isPlainObject(filter)) return null;
  let filterKeys = 0;
  for (const key in filter) {
    if (key !== "_id" || !Object.hasOwn(filter, key)) return null;
    filterKeys++;
  }
  if (filterKeys !== 1 || Object.keys(filter).length !== 1) return null;
  const value = Object.hasOwn(filter, "_id") ? filter._id : undefined;
  const def = schemas.versions(schemaId)?.get(schemaVersion);
  if (def === undefined) return null;
  const idType = Object.hasOwn(def.fields, "_id") ? def.fields._id?.type : undefined;
  if (idType === "string" ? typeof value !== "string" : !(idType === "int" && Number.isSafeInteger(value))) {
    return null;
  }
  return choosePlan(
    schemaId,
    schemaVersion,
    [{ field: "_id", op: "$eq", value: value as string | number }],
    null,
    limit,
    limits,
  );
}

/** Internal control flow only: carries a rejection to planQuery, never escapes it. */
class Refusal {
  readonly rejection: PlanRejection;
  constructor(code: ErrorCode, message: string, details: Record<string, unknown>) {
    this.rejection = Object.freeze({ code, message, details: Object.freeze(details) });
  }
}

function refuse(code: ErrorCode, message: string, details: Record<string, unknown> = {}): never {
  throw new Refusal(code, message, details);
}

function invalid(message: string, details: Record<string, unknown>): never {
  return refuse("AERO_QUERY_INVALID", message, details);
}

function plan(request: unknown, schemas: SchemaLookup, limits: QueryLimits): QueryPlan {
  // 1. Shape.
  if (!isPlainObject(request)) invalid("A query request must be a JSON object.", { reason: "not_object" });
  for (const key of Object.keys(request).sort(compareCodeUnits)) {
    if (!REQUEST_FIELDS.has(key)) {
      invalid("The request has a field queries do not take.", {
        field: key,
        reason: "unknown_request_field",
      });
    }
  }
  const op = own(request, "op");
  if (op !== undefined && op !== "query" && op !== "explain") {
    invalid("The request's op must be 'query' or 'explain'.", { field: "op", reason: "unknown_op" });
  }
  const txn = own(request, "txn");
  if (txn !== undefined && typeof txn !== "string") {
    invalid("The request's txn must be a string.", { field: "txn", reason: "wrong_type" });
  }
  const rawSchemaId = own(request, "schema_id");
  const rawVersion = own(request, "schema_version");
  for (const [field, value] of [
    ["schema_id", rawSchemaId],
    ["schema_version", rawVersion],
  ] as const) {
    if (value !== undefined && value !== null && typeof value !== "string") {
      invalid(`The request's ${field} must be a string.`, { field, reason: "wrong_type" });
    }
  }

  // 2. Schema id and version present.
  if (typeof rawSchemaId !== "string" || rawSchemaId === "") {
    refuse("AERO_SCHEMA_REQUIRED", "The query names no schema_id.");
  }
  if (typeof rawVersion !== "string" || rawVersion === "") {
    refuse("AERO_SCHEMA_VERSION_REQUIRED", "The query names no schema_version.");
  }
  const schemaId = rawSchemaId;
  const schemaVersion = rawVersion;

  // 3. Both known.
  const versions = schemas.versions(schemaId);
  if (versions === null) {
    refuse("AERO_SCHEMA_UNKNOWN", "No schema with that id is registered.", { schema_id: schemaId });
  }
  const def = versions.get(schemaVersion);
  if (def === undefined) {
    refuse("AERO_SCHEMA_UNKNOWN_VERSION", "The schema has no such version.", {
      schema_id: schemaId,
      schema_version: schemaVersion,
    });
  }

  // 4. Limit.
  const limit = checkLimit(own(request, "limit"), limits);

  // 5. Filter fields and types.
  const predicates = parseFilter(own(request, "filter"), def);

  // 6. Filter fields indexed.
  const filterFields = [...new Set(predicates.map((p) => p.field))].sort(compareCodeUnits);
  for (const field of filterFields) {
    if (!isIndexed(def, field)) {
      refuse("AERO_QUERY_UNINDEXED_FIELD", "The query filters on a field with no index.", { field });
    }
  }

  // 7. Sort.
  const sort = parseSort(own(request, "sort"), def);

  // 8. Filter non-empty.
  if (predicates.length === 0) {
    refuse("AERO_QUERY_UNBOUNDED", "The query has no filter to bound it; filter on an indexed field.");
  }

  return choosePlan(schemaId, schemaVersion, predicates, sort, limit, limits);
}

function checkLimit(limit: unknown, limits: QueryLimits): number {
  if (limit === undefined || limit === null) {
    refuse("AERO_QUERY_LIMIT_REQUIRED", "The query needs a limit: an integer >= 1.", { reason: "missing" });
  }
  if (typeof limit !== "number" || !Number.isInteger(limit)) {
    refuse("AERO_QUERY_LIMIT_REQUIRED", "The query needs a limit: an integer >= 1.", {
      reason: "not_integer",
    });
  }
  if (limit < 1) {
    refuse("AERO_QUERY_LIMIT_REQUIRED", "The query needs a limit: an integer >= 1.", { reason: "below_one" });
  }
  if (limit > limits.maxQueryLimit) {
    refuse("AERO_QUERY_LIMIT_TOO_LARGE", "The query's limit exceeds core.max_query_limit.", {
      limit,
      max_query_limit: limits.maxQueryLimit,
    });
  }
  return limit;
}

function parseFilter(filter: unknown, def: SchemaDefinition): Predicate[] {
  if (filter === undefined) return [];
  if (!isPlainObject(filter))
    invalid("The filter must be a JSON object.", { field: "filter", reason: "not_object" });
  const predicates: Predicate[] = [];
  for (const field of Object.keys(filter).sort(compareCodeUnits)) {
    const type = scalarFieldType(def, field, "The filter");
    const operand = filter[field];
    if (isPlainObject(operand)) {
      predicates.push(...parseOperators(field, type, operand));
    } else {
      predicates.push({ field, op: "$eq", value: checkValue(field, type, "$eq", operand) });
    }
  }
  return predicates.sort(comparePredicates);
}

function parseOperators(field: string, type: FieldType, operand: Record<string, unknown>): Predicate[] {
  const ops = Object.keys(operand).sort(compareCodeUnits);
  if (ops.length === 0) invalid("A filter operand must not be empty.", { field, reason: "empty_operand" });
  for (const op of ops) {
    if (!OPERATORS.has(op))
      invalid("The filter uses an unknown operator.", { field, op, reason: "unknown_operator" });
  }
  if (ops.includes("$eq") && ops.length > 1) {
    invalid("$eq cannot be combined with other operators.", { field, reason: "eq_not_alone" });
  }
  if (ops.includes("$gt") && ops.includes("$gte")) {
    invalid("A field takes at most one lower bound.", { field, reason: "two_lower_bounds" });
  }
  if (ops.includes("$lt") && ops.includes("$lte")) {
    invalid("A field takes at most one upper bound.", { field, reason: "two_upper_bounds" });
  }
  if (type === "bool" && !(ops.length === 1 && ops[0] === "$eq")) {
    invalid("A bool field takes $eq only.", { field, reason: "bool_range" });
  }
  return ops.map((op) => {
    const compareOp = op as CompareOp;
    return { field, op: compareOp, value: checkValue(field, type, compareOp, operand[op]) };
  });
}

/** The value if it has the field's exact type; QUERY_INVALID otherwise (no coercion). */
function checkValue(
  field: string,
  type: FieldType,
  op: CompareOp,
  value: unknown,
): string | number | boolean {
  const fail = (reason: string): never =>
    invalid("A filter value does not have the field's type.", { field, op, reason, expected: type });
  if (value === null) return fail("null_value");
  switch (type) {
    case "string":
      return typeof value === "string" ? value : fail("wrong_type");
    case "bool":
      return typeof value === "boolean" ? value : fail("wrong_type");
    case "int":
      if (typeof value !== "number") return fail("wrong_type");
      return Number.isSafeInteger(value) ? value : fail("not_safe_integer");
    default:
      if (typeof value !== "number") return fail("wrong_type");
      return Number.isFinite(value) ? value : fail("not_finite");
  }
}

function parseSort(sort: unknown, def: SchemaDefinition): SortSpec | null {
  if (sort === undefined) return null;
  let spec: SortSpec;
  if (typeof sort === "string") {
    spec = sortFromString(sort);
  } else if (Array.isArray(sort)) {
    if (sort.length !== 1) {
      invalid("A sort takes exactly one key.", {
        field: "sort",
        reason: sort.length === 0 ? "empty_sort" : "multiple_sort_keys",
      });
    }
    const entry: unknown = sort[0];
    if (typeof entry === "string") {
      spec = sortFromString(entry);
    } else if (isPlainObject(entry)) {
      spec = sortFromObject(entry);
    } else {
      invalid('A sort key is {field, order} or "f" / "-f".', { field: "sort", reason: "invalid_sort" });
    }
  } else {
    invalid('A sort is [{field, order}] or "f" / "-f".', { field: "sort", reason: "invalid_sort" });
  }
  scalarFieldType(def, spec.field, "The sort");
  if (!isIndexed(def, spec.field)) {
    refuse("AERO_QUERY_SORT_NOT_INDEXED", "The query sorts on a field with no index.", { field: spec.field });
  }
  return Object.freeze(spec);
}

function sortFromString(text: string): SortSpec {
  const desc = text.startsWith("-");
  const field = desc ? text.slice(1) : text;
  if (field === "") invalid("A sort key names no field.", { field: "sort", reason: "invalid_sort" });
  return { field, order: desc ? "desc" : "asc" };
}

function sortFromObject(entry: Record<string, unknown>): SortSpec {
  const keys = Object.keys(entry).sort(compareCodeUnits);
  const field = entry.field;
  const order = entry.order;
  if (
    keys.length !== 2 ||
    keys[0] !== "field" ||
    keys[1] !== "order" ||
    typeof field !== "string" ||
    (order !== "asc" && order !== "desc")
  ) {
    invalid('A sort key is {"field": f, "order": "asc"|"desc"}.', { field: "sort", reason: "invalid_sort" });
  }
  return { field, order };
}

/** The type of a top-level scalar field; QUERY_INVALID for an unknown or non-scalar field. */
function scalarFieldType(def: SchemaDefinition, field: string, where: string): FieldType {
  const node = Object.hasOwn(def.fields, field) ? def.fields[field] : undefined;
  if (node === undefined) {
    invalid(`${where} names a field the schema does not define.`, { field, reason: "unknown_field" });
  }
  if (!SCALAR_TYPES.has(node.type)) {
    invalid(`${where} names a field that is not a scalar.`, { field, reason: "not_scalar_field" });
  }
  return node.type;
}

function isIndexed(def: SchemaDefinition, field: string): boolean {
  return field === "_id" || def.indexes.includes(field);
}

function choosePlan(
  schemaId: string,
  schemaVersion: string,
  predicates: readonly Predicate[],
  sort: SortSpec | null,
  limit: number,
  limits: QueryLimits,
): QueryPlan {
  // predicates are sorted by field, so the first match is the first field name in code-unit order.
  const eq =
    predicates.find((p) => p.field === "_id" && p.op === "$eq") ?? predicates.find((p) => p.op === "$eq");
  let chosen: string;
  let scanType: QueryPlan["scan_type"];
  let bounds: IndexBounds;
  if (eq !== undefined) {
    chosen = eq.field;
    scanType = eq.field === "_id" ? "PK_LOOKUP" : "INDEX_EQ";
    const bound: Bound = { value: eq.value, inclusive: true };
    bounds = { lower: bound, upper: bound };
  } else {
    // Every predicate is a range bound here; planQuery refused an empty filter.
    chosen = (predicates[0] as Predicate).field;
    let lower: Bound | null = null;
    let upper: Bound | null = null;
    for (const p of predicates) {
      if (p.field !== chosen) continue;
      const bound = { value: p.value, inclusive: p.op === "$gte" || p.op === "$lte" };
      if (p.op === "$gt" || p.op === "$gte") lower = bound;
      else upper = bound;
    }
    scanType = "INDEX_RANGE";
    bounds = { lower, upper };
  }
  // A plan is an internal value (readonly in its type, never handed to callers: explain builds
  // its own output), so it is not frozen at run time: freezing its five objects cost more than
  // the rest of planning a point read.
  return {
    schema_id: schemaId,
    schema_version: schemaVersion,
    chosen_index: chosen,
    scan_type: scanType,
    index_bounds: bounds,
    predicates: predicates.map((p) => ({ ...p })),
    sort,
    limit,
    max_scan: scanType === "PK_LOOKUP" ? 1 : limits.maxScanCandidates,
  };
}

function comparePredicates(a: Predicate, b: Predicate): number {
  return compareCodeUnits(a.field, b.field) || compareCodeUnits(a.op, b.op);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function own(obj: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}
