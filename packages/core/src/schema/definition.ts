/**
 * Parsing of schema definitions (core.md §3.1–3.4). The input is untrusted (a request, a CLI
 * file, a WAL SCHEMA record): every failure becomes AERO_SCHEMA_INVALID_DEFINITION with
 * `details {path, reason}`, and nothing else ever escapes (no ZodError, no TypeError).
 *
 * Rules beyond the letter of §3, decided here:
 * - Depth: the top-level `fields` entries are at depth 1; the nodes of a nested object's
 *   `fields` and an array's `items` node are one deeper than their parent. A node deeper than
 *   MAX_SCHEMA_DEPTH (8) is refused (`too_deep`). Depth therefore bounds every recursion here
 *   and in the validator.
 * - Size: at most MAX_SCHEMA_FIELDS (1024) field nodes in the whole tree (entries of every
 *   `fields` map; `items` nodes are not fields and are bounded by depth) and at most
 *   MAX_SCHEMA_INDEXES (256) entries in `indexes`.
 * - `_id` is always indexed, so listing it in `indexes` is refused (`id_always_indexed`):
 *   one definition has one spelling, and no index is built twice.
 * - The field name `__proto__` matches the name pattern but is refused (`reserved_name`): too
 *   much JavaScript treats it specially. Other names inherited by plain objects
 *   (`constructor`, `toString`, ...) are ordinary names; the parsed `fields` maps have a null
 *   prototype so a lookup by such a name never finds an inherited value.
 * - Inputs must be plain data: objects whose prototype is Object.prototype or null, with only
 *   own, enumerable, string-keyed data properties (no getters, no symbols); a property
 *   holding `undefined` is refused like any other non-JSON value. The parser reads each
 *   property exactly once.
 *
 * Paths name the offending place in the definition, segments joined by "." with array
 * positions as numbers: "" (the definition itself), "schema_id", "fields.addr.fields.city.type",
 * "fields.tags.items.type", "indexes.2". A key longer than 128 code units (never a valid
 * name) is cut to its first 128 followed by "...", so hostile keys stay short.
 *
 * The result is deep-frozen and uses null-prototype objects for every `fields` map.
 */
import { AeroError, compareCodeUnits } from "@aerodb/base";
import { z } from "zod";
import { canonicalJson } from "../canonical-json.js";
import type { FieldNode, FieldType, ItemNode, SchemaDefinition } from "./types.js";

export const MAX_SCHEMA_DEPTH = 8;
export const MAX_SCHEMA_FIELDS = 1024;
export const MAX_SCHEMA_INDEXES = 256;

export const SCHEMA_ID_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
export const SCHEMA_VERSION_PATTERN = /^v[1-9][0-9]{0,8}$/;
export const FIELD_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

const FIELD_TYPES = [
  "string",
  "int",
  "float",
  "bool",
  "object",
  "array",
] as const satisfies readonly FieldType[];
const SCALAR_TYPES: ReadonlySet<FieldType> = new Set<FieldType>(["string", "int", "float", "bool"]);

/** Every reason AERO_SCHEMA_INVALID_DEFINITION's details can carry. */
export const DEFINITION_REASONS = Object.freeze([
  "not_object", // expected a plain object here
  "not_array", // expected an array here
  "not_plain_data", // symbol key, getter, non-enumerable property, array hole
  "unknown_key",
  "missing_key",
  "wrong_type", // a value of the wrong JSON type (including `undefined`)
  "bad_format", // a string that does not match its pattern
  "bad_value", // a value outside its closed set (format_version, type)
  "not_allowed", // `fields` on a non-object node, `items` on a non-array node
  "reserved_name", // the field name __proto__
  "too_deep",
  "too_many_fields",
  "too_many_indexes",
  "missing_id",
  "id_not_required",
  "bad_id_type",
  "id_always_indexed",
  "duplicate_index",
  "unknown_index_field",
  "index_not_scalar",
  "unreadable", // the input threw while being read (e.g. a revoked Proxy)
] as const);

/** Why a definition was refused: the `reason` of AERO_SCHEMA_INVALID_DEFINITION's details. */
export type DefinitionReason = (typeof DEFINITION_REASONS)[number];

const TOP_KEYS: ReadonlySet<string> = new Set([
  "format_version",
  "schema_id",
  "schema_version",
  "description",
  "fields",
  "indexes",
]);
const FIELD_NODE_KEYS: ReadonlySet<string> = new Set(["type", "required", "fields", "items"]);
const ITEM_NODE_KEYS: ReadonlySet<string> = new Set(["type", "fields", "items"]);

// zod checks the scalar members; the tree, the indexes and the cross-field rules are walked
// by hand below so that paths are exact and recursion is bounded before it starts.
const TopShape = z.strictObject({
  format_version: z.literal(1),
  schema_id: z.string().regex(SCHEMA_ID_PATTERN),
  schema_version: z.string().regex(SCHEMA_VERSION_PATTERN),
  description: z.string().optional(),
  fields: z.unknown().optional(),
  indexes: z.unknown().optional(),
});
const FieldNodeShape = z.strictObject({
  type: z.enum(FIELD_TYPES),
  required: z.boolean(),
  fields: z.unknown().optional(),
  items: z.unknown().optional(),
});
const ItemNodeShape = z.strictObject({
  type: z.enum(FIELD_TYPES),
  fields: z.unknown().optional(),
  items: z.unknown().optional(),
});

class DefinitionFailure {
  constructor(
    readonly path: string,
    readonly reason: DefinitionReason,
    readonly text: string,
  ) {}
}

function fail(path: string, reason: DefinitionReason, text: string): never {
  throw new DefinitionFailure(path, reason, text);
}

function toAeroError(failure: DefinitionFailure): AeroError {
  const where = failure.path === "" ? "the definition" : failure.path;
  return new AeroError(
    "AERO_SCHEMA_INVALID_DEFINITION",
    `invalid schema definition at ${where}: ${failure.text}`,
    { path: failure.path, reason: failure.reason },
  );
}

/** A path segment for a key that may be hostile (long): kept short in error details. */
function segment(key: string): string {
  return key.length > 128 ? `${key.slice(0, 128)}...` : key;
}

function join(path: string, key: string | number): string {
  const seg = typeof key === "number" ? String(key) : segment(key);
  return path === "" ? seg : `${path}.${seg}`;
}

function isPlainObject(value: unknown): value is object {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Reads a plain object's own properties once into a null-prototype record, refusing anything
 * that is not plain data. With `allowed`, the smallest (UTF-16 code unit order) key outside
 * it is refused as `unknown_key`; with `maxKeys`, more keys than that is `too_many_fields`.
 * Both checks run in one linear pass before any property value is read.
 */
function readRecord(
  value: unknown,
  path: string,
  what: string,
  limit: { readonly allowed: ReadonlySet<string> } | { readonly maxKeys: number },
): Record<string, unknown> {
  if (!isPlainObject(value)) fail(path, "not_object", `${what} must be a plain JSON object`);
  const keys = Reflect.ownKeys(value);
  if ("maxKeys" in limit && keys.length > limit.maxKeys) {
    fail(path, "too_many_fields", `a schema has at most ${MAX_SCHEMA_FIELDS} fields in all`);
  }
  const allowed = "allowed" in limit ? limit.allowed : null;
  let firstUnknown: string | undefined;
  for (const key of keys) {
    if (typeof key !== "string") fail(path, "not_plain_data", `${what} has a symbol key`);
    if (allowed !== null && !allowed.has(key) && (firstUnknown === undefined || key < firstUnknown)) {
      firstUnknown = key;
    }
  }
  if (firstUnknown !== undefined) {
    fail(join(path, firstUnknown), "unknown_key", `unknown key '${segment(firstUnknown)}'`);
  }
  const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const key of keys as string[]) {
    const desc = Object.getOwnPropertyDescriptor(value, key);
    if (desc === undefined || !("value" in desc) || desc.enumerable !== true) {
      fail(join(path, key), "not_plain_data", "must be an ordinary enumerable data property");
    }
    if (desc.value === undefined) fail(join(path, key), "wrong_type", "undefined is not a JSON value");
    out[key] = desc.value;
  }
  return out;
}

/** Maps the first zod issue to a failure; `record` tells a missing key from a wrong value. */
function zodFailure(issue: z.core.$ZodIssue, record: Record<string, unknown>, path: string): never {
  const key = issue.path[0];
  const at = key === undefined ? path : join(path, typeof key === "number" ? key : String(key));
  if (typeof key === "string" && !Object.hasOwn(record, key)) {
    fail(at, "missing_key", `'${key}' is required`);
  }
  switch (issue.code) {
    case "invalid_format":
      return fail(at, "bad_format", "does not match its required pattern");
    case "invalid_value":
      return fail(at, "bad_value", `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`);
    case "invalid_type":
      return fail(at, "wrong_type", `expected ${issue.expected}`);
    case "unrecognized_keys":
      return fail(join(at, issue.keys[0] ?? ""), "unknown_key", "unknown key");
    default:
      return fail(at, "bad_value", "invalid value");
  }
}

interface Budget {
  fields: number;
}

function parseFields(
  raw: unknown,
  path: string,
  depth: number,
  budget: Budget,
): Readonly<Record<string, FieldNode>> {
  const record = readRecord(raw, path, "fields", { maxKeys: MAX_SCHEMA_FIELDS - budget.fields });
  const names = Object.keys(record).sort(compareCodeUnits);
  budget.fields += names.length;
  const out: Record<string, FieldNode> = Object.create(null) as Record<string, FieldNode>;
  for (const name of names) {
    const at = join(path, name);
    if (!FIELD_NAME_PATTERN.test(name)) {
      fail(at, "bad_format", "a field name must match ^[A-Za-z_][A-Za-z0-9_]{0,63}$");
    }
    if (name === "__proto__") fail(at, "reserved_name", "'__proto__' cannot be a field name");
    out[name] = parseNode(record[name], at, depth, false, budget) as FieldNode;
  }
  return Object.freeze(out);
}

function parseNode(raw: unknown, path: string, depth: number, isItem: boolean, budget: Budget): ItemNode {
  if (depth > MAX_SCHEMA_DEPTH) fail(path, "too_deep", `nesting deeper than ${MAX_SCHEMA_DEPTH} levels`);
  const allowed = isItem ? ITEM_NODE_KEYS : FIELD_NODE_KEYS;
  const record = readRecord(raw, path, isItem ? "an items node" : "a field node", { allowed });
  const parsed = (isItem ? ItemNodeShape : FieldNodeShape).safeParse(record);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue === undefined) fail(path, "bad_value", "invalid node");
    zodFailure(issue, record, path);
  }
  const type = record.type as FieldType;
  const hasFields = Object.hasOwn(record, "fields");
  const hasItems = Object.hasOwn(record, "items");
  if (type !== "object" && hasFields) {
    fail(join(path, "fields"), "not_allowed", "only an object node has 'fields'");
  }
  if (type !== "array" && hasItems) {
    fail(join(path, "items"), "not_allowed", "only an array node has 'items'");
  }
  let fields: Readonly<Record<string, FieldNode>> | undefined;
  let items: ItemNode | undefined;
  if (type === "object") {
    if (!hasFields) fail(join(path, "fields"), "missing_key", "an object node needs 'fields'");
    fields = parseFields(record.fields, join(path, "fields"), depth + 1, budget);
  } else if (type === "array") {
    if (!hasItems) fail(join(path, "items"), "missing_key", "an array node needs 'items'");
    items = parseNode(record.items, join(path, "items"), depth + 1, true, budget);
  }
  const node: { type: FieldType; required?: boolean; fields?: typeof fields; items?: ItemNode } = { type };
  if (!isItem) node.required = record.required as boolean;
  if (fields !== undefined) node.fields = fields;
  if (items !== undefined) node.items = items;
  return Object.freeze(node) as ItemNode;
}

function parseIndexes(raw: unknown, fields: Readonly<Record<string, FieldNode>>): readonly string[] {
  if (!Array.isArray(raw) || Object.getPrototypeOf(raw) !== Array.prototype) {
    fail("indexes", "not_array", "indexes must be an array of field names");
  }
  const list: readonly unknown[] = raw;
  const length = list.length;
  if (length > MAX_SCHEMA_INDEXES) {
    fail("indexes", "too_many_indexes", `a schema has at most ${MAX_SCHEMA_INDEXES} indexes`);
  }
  const seen = new Set<string>();
  const out: string[] = [];
  for (let i = 0; i < length; i++) {
    const at = join("indexes", i);
    const desc = Object.getOwnPropertyDescriptor(list, i);
    if (desc === undefined || !("value" in desc))
      fail(at, "not_plain_data", "holes and getters are not allowed");
    const name: unknown = desc.value;
    if (typeof name !== "string") fail(at, "wrong_type", "an index entry is a field name string");
    if (name === "_id") fail(at, "id_always_indexed", "'_id' is always indexed; do not list it");
    if (seen.has(name)) fail(at, "duplicate_index", `'${segment(name)}' is listed twice`);
    seen.add(name);
    if (!Object.hasOwn(fields, name)) {
      fail(at, "unknown_index_field", `'${segment(name)}' is not a declared top-level field`);
    }
    const node = fields[name] as FieldNode;
    if (!SCALAR_TYPES.has(node.type)) {
      fail(
        at,
        "index_not_scalar",
        `'${name}' has type ${node.type}; only string, int, float, bool are indexable`,
      );
    }
    out.push(name);
  }
  return Object.freeze(out);
}

function parseDefinition(input: unknown): SchemaDefinition {
  const record = readRecord(input, "", "a schema definition", { allowed: TOP_KEYS });
  const parsed = TopShape.safeParse(record);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue === undefined) fail("", "bad_value", "invalid definition");
    zodFailure(issue, record, "");
  }
  if (!Object.hasOwn(record, "fields")) fail("fields", "missing_key", "'fields' is required");
  if (!Object.hasOwn(record, "indexes")) fail("indexes", "missing_key", "'indexes' is required");

  const fields = parseFields(record.fields, "fields", 1, { fields: 0 });
  const id = Object.hasOwn(fields, "_id") ? fields._id : undefined;
  if (id === undefined) fail("fields._id", "missing_id", "every schema declares '_id'");
  if (!id.required) fail("fields._id.required", "id_not_required", "'_id' must be required");
  if (id.type !== "string" && id.type !== "int") {
    fail("fields._id.type", "bad_id_type", "'_id' must be of type string or int");
  }
  const indexes = parseIndexes(record.indexes, fields);

  const def: {
    format_version: 1;
    schema_id: string;
    schema_version: string;
    description?: string;
    fields: Readonly<Record<string, FieldNode>>;
    indexes: readonly string[];
  } = {
    format_version: 1,
    schema_id: record.schema_id as string,
    schema_version: record.schema_version as string,
    fields,
    indexes,
  };
  if (typeof record.description === "string") def.description = record.description;
  return Object.freeze(def);
}

/**
 * Parses and checks an untrusted schema definition (core.md §3). Returns a deep-frozen
 * SchemaDefinition; throws AERO_SCHEMA_INVALID_DEFINITION with `details {path, reason}`.
 */
export function parseSchemaDefinition(input: unknown): SchemaDefinition {
  try {
    return parseDefinition(input);
  } catch (err) {
    if (err instanceof DefinitionFailure) throw toAeroError(err);
    throw new AeroError(
      "AERO_SCHEMA_INVALID_DEFINITION",
      "invalid schema definition: the input could not be read as plain data",
      { path: "", reason: "unreadable" },
      { cause: err },
    );
  }
}

/** The definition's canonical JSON text: what the SCHEMA record and the schema file hold. */
export function canonicalSchemaText(def: SchemaDefinition): string {
  return canonicalJson(def);
}

/** The type of a top-level field, or null if the schema does not declare it. */
export function schemaFieldType(def: SchemaDefinition, field: string): FieldType | null {
  if (!Object.hasOwn(def.fields, field)) return null;
  return def.fields[field]?.type ?? null;
}
