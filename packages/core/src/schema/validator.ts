/**
 * Document validation (core.md §3.2, §3.6): runs on every write, before the WAL.
 *
 * Semantics, decided here:
 * - Fields are checked in UTF-16 code unit order of the union of declared and present names,
 *   depth first; the first violation throws AERO_SCHEMA_VALIDATION_FAILED with
 *   `details {path, reason}`.
 * - "Present" means an own enumerable string key (what Object.keys and canonical JSON see).
 *   A present key holding `undefined` is `wrong_type` (undefined is not a JSON value; it is
 *   not silently dropped), so a document validates iff its canonical JSON says the same.
 * - Objects must be plain (prototype Object.prototype or null); anything else is `wrong_type`.
 * - null anywhere -> `null_value` (checked before the type).
 * - int: a number that is not finite -> `not_finite`; finite but not an integer ->
 *   `wrong_type`; an integer outside the safe range (e.g. 2^53) -> `not_safe_integer`.
 * - float: any finite number (integers included); NaN/±Infinity -> `not_finite`.
 * - Arrays: every element matches `items`; a hole is `wrong_type`.
 * - `_id` of type string must be non-empty: "" is `wrong_type` (the type is "non-empty
 *   string"; the closed reason list has nothing closer).
 *
 * Paths: "" is the document itself; field names are joined by "." and array positions are
 * written "[i]": "age", "addr.city", "tags[2]", "matrix[0][1]", "addrs[3].city". For an
 * unknown field the path names that field. A name longer than 128 code units (never a
 * declared name) is cut to its first 128 followed by "...", so hostile keys stay short.
 *
 * Recursion follows the schema, never the document: it only descends where the schema
 * declares an object or array node, so depth is bounded by the schema's (<= 8). Extra nesting
 * in a document is an unknown_field or wrong_type before anything recurses into it.
 *
 * The validator reads each property once, but getters could answer differently on a second
 * read: callers must encode exactly the value they validated (or validate a parsed copy).
 * A value that throws while being read fails as `wrong_type` at the path being read.
 */
import { AeroError, compareCodeUnits } from "@aerodb/base";
import type { FieldType, ItemNode, SchemaDefinition, ValidationReason } from "./types.js";

/** Every reason a validation failure can carry (core.md §3.6), in the spec's order. */
export const VALIDATION_REASONS: readonly ValidationReason[] = Object.freeze([
  "missing_field",
  "unknown_field",
  "wrong_type",
  "null_value",
  "not_safe_integer",
  "not_finite",
]);

const K_STRING = 0;
const K_INT = 1;
const K_FLOAT = 2;
const K_BOOL = 3;
const K_OBJECT = 4;
const K_ARRAY = 5;

const KIND_OF: Readonly<Record<FieldType, number>> = {
  string: K_STRING,
  int: K_INT,
  float: K_FLOAT,
  bool: K_BOOL,
  object: K_OBJECT,
  array: K_ARRAY,
};

/** Guards compilation of hand-built (unparsed) definitions against cycles. */
const MAX_COMPILE_DEPTH = 64;

interface CompiledNode {
  readonly kind: number;
  readonly required: boolean;
  /** A top-level `_id` of type string: must also be non-empty. */
  readonly nonEmpty: boolean;
  readonly object: CompiledObject | null;
  readonly items: CompiledNode | null;
}

interface CompiledObject {
  /** Declared names in UTF-16 code unit order. */
  readonly names: readonly string[];
  readonly nodes: readonly CompiledNode[];
  readonly position: ReadonlyMap<string, number>;
}

const compiled = new WeakMap<SchemaDefinition, CompiledObject>();

function compileNode(node: ItemNode, required: boolean, nonEmpty: boolean, depth: number): CompiledNode {
  if (depth > MAX_COMPILE_DEPTH) {
    throw new AeroError("AERO_INTERNAL_INVARIANT", "schema definition nests too deeply to validate against");
  }
  const kind = KIND_OF[node.type];
  if (kind === undefined) {
    throw new AeroError("AERO_INTERNAL_INVARIANT", "schema definition has an unknown field type");
  }
  let object: CompiledObject | null = null;
  let items: CompiledNode | null = null;
  if (kind === K_OBJECT) object = compileObject(node.fields ?? {}, false, depth + 1);
  if (kind === K_ARRAY) {
    if (node.items === undefined) throw new AeroError("AERO_INTERNAL_INVARIANT", "array node without items");
    items = compileNode(node.items, true, false, depth + 1);
  }
  return { kind, required, nonEmpty, object, items };
}

function compileObject(
  fields: Readonly<Record<string, { readonly required: boolean } & ItemNode>>,
  topLevel: boolean,
  depth: number,
): CompiledObject {
  const names = Object.keys(fields).sort(compareCodeUnits);
  const nodes: CompiledNode[] = [];
  const position = new Map<string, number>();
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    const node = fields[name];
    if (node === undefined) throw new AeroError("AERO_INTERNAL_INVARIANT", "schema field without a node");
    const nonEmpty = topLevel && name === "_id" && node.type === "string";
    nodes.push(compileNode(node, node.required, nonEmpty, depth));
    position.set(name, i);
  }
  return { names, nodes, position };
}

function compiledOf(def: SchemaDefinition): CompiledObject {
  let top = compiled.get(def);
  if (top === undefined) {
    top = compileObject(def.fields, true, 1);
    compiled.set(def, top);
  }
  return top;
}

type Segment = string | number;

function segmentText(name: string): string {
  return name.length > 128 ? `${name.slice(0, 128)}...` : name;
}

function pathText(stack: readonly Segment[], last?: string): string {
  let out = "";
  for (const seg of stack) {
    if (typeof seg === "number") out += `[${seg}]`;
    else out += out === "" ? segmentText(seg) : `.${segmentText(seg)}`;
  }
  if (last !== undefined) out += out === "" ? segmentText(last) : `.${segmentText(last)}`;
  return out;
}

class Failure {
  constructor(
    readonly path: string,
    readonly reason: ValidationReason,
  ) {}
}

function failAt(stack: readonly Segment[], reason: ValidationReason, last?: string): never {
  throw new Failure(pathText(stack, last), reason);
}

function isPlainObject(value: object): boolean {
  if (Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function checkValue(node: CompiledNode, value: unknown, stack: Segment[]): void {
  if (value === null) failAt(stack, "null_value");
  switch (node.kind) {
    case K_STRING:
      if (typeof value !== "string" || (node.nonEmpty && value.length === 0)) failAt(stack, "wrong_type");
      return;
    case K_INT:
      if (typeof value !== "number") failAt(stack, "wrong_type");
      if (!Number.isSafeInteger(value)) {
        if (!Number.isFinite(value)) failAt(stack, "not_finite");
        if (!Number.isInteger(value)) failAt(stack, "wrong_type");
        failAt(stack, "not_safe_integer");
      }
      return;
    case K_FLOAT:
      if (typeof value !== "number") failAt(stack, "wrong_type");
      if (!Number.isFinite(value)) failAt(stack, "not_finite");
      return;
    case K_BOOL:
      if (typeof value !== "boolean") failAt(stack, "wrong_type");
      return;
    case K_OBJECT:
      if (typeof value !== "object" || !isPlainObject(value)) failAt(stack, "wrong_type");
      checkObject(node.object as CompiledObject, value as Record<string, unknown>, stack);
      return;
    case K_ARRAY: {
      if (!Array.isArray(value)) failAt(stack, "wrong_type");
      const items = node.items as CompiledNode;
      const length = value.length;
      for (let i = 0; i < length; i++) {
        stack.push(i);
        checkValue(items, value[i], stack);
        stack.pop();
      }
      return;
    }
    default:
      failAt(stack, "wrong_type");
  }
}

function checkObject(schema: CompiledObject, value: Record<string, unknown>, stack: Segment[]): void {
  const names = schema.names;
  const count = names.length;
  const keys = Object.keys(value);
  // Which declared names are present: a bit mask up to 31 names, a byte array beyond.
  let mask = 0;
  const wide = count > 31 ? new Uint8Array(count) : null;
  let firstUnknown: string | undefined;
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k] as string;
    const at = schema.position.get(key);
    if (at === undefined) {
      if (firstUnknown === undefined || key < firstUnknown) firstUnknown = key;
    } else if (wide === null) {
      mask |= 1 << at;
    } else {
      wide[at] = 1;
    }
  }
  for (let i = 0; i < count; i++) {
    const name = names[i] as string;
    if (firstUnknown !== undefined && firstUnknown < name) failAt(stack, "unknown_field", firstUnknown);
    const node = schema.nodes[i] as CompiledNode;
    const present = wide === null ? (mask & (1 << i)) !== 0 : wide[i] === 1;
    if (!present) {
      if (node.required) failAt(stack, "missing_field", name);
      continue;
    }
    stack.push(name);
    checkValue(node, value[name], stack);
    stack.pop();
  }
  if (firstUnknown !== undefined) failAt(stack, "unknown_field", firstUnknown);
}

/**
 * Checks `doc` against `def` (core.md §3.2, §3.6). Returns nothing when it matches; throws
 * AERO_SCHEMA_VALIDATION_FAILED with `details {path, reason}` at the first violation.
 */
export function validateDocument(def: SchemaDefinition, doc: unknown): void {
  const schema = compiledOf(def);
  const stack: Segment[] = [];
  try {
    if (doc === null) failAt(stack, "null_value");
    if (typeof doc !== "object" || !isPlainObject(doc)) failAt(stack, "wrong_type");
    checkObject(schema, doc as Record<string, unknown>, stack);
  } catch (err) {
    // A value that throws while being read (a getter, a revoked Proxy) is not JSON data: it
    // fails as wrong_type where it was being read, never as a stray exception.
    const failure = err instanceof Failure ? err : new Failure(pathText(stack), "wrong_type");
    const where = failure.path === "" ? "the document" : failure.path;
    throw new AeroError(
      "AERO_SCHEMA_VALIDATION_FAILED",
      `document does not match schema ${def.schema_id}/${def.schema_version}: ${failure.reason} at ${where}`,
      { path: failure.path, reason: failure.reason },
      err instanceof Failure ? undefined : { cause: err },
    );
  }
}
