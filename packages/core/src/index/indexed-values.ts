/**
 * The values a document gives its indexes: for each indexed field (the catalog's sorted list,
 * `_id` included) the top-level value when it is a scalar, else undefined (no entry).
 *
 * Recovery and the commit path take them from the stored body, the canonical JSON the WAL
 * holds, so that a restart rebuilds exactly the entries the commits made. Parsing the whole
 * body only to read two or three top-level scalars dominated restart time (a full JSON.parse
 * and its garbage per version), so `indexedValuesOfBody` reads the fields straight from the
 * UTF-8 bytes of a canonical body: it walks the top-level keys, which canonical JSON sorts and
 * never repeats, skips the values it does not need, decodes the wanted scalars, and stops after
 * the last wanted field. What follows that field is not examined here: every read of the
 * document parses the whole body. Anything that is not canonical up to that point (whitespace,
 * keys out of order or repeated, escaped keys) makes it give up (null), and the caller parses.
 * For any JSON object without duplicate keys its answer equals JSON.parse's (a property test
 * holds it so).
 */
import { AeroError } from "@aerodb/base";
import type { DocId, ScalarValue } from "../schema/types.js";
import { isScalarValue } from "./scalar-order.js";

/** One value per indexed field, aligned with the field list; undefined = no entry. */
export type IndexedValues = readonly (ScalarValue | undefined)[];

/** The values of a parsed document. */
export function indexedValuesOfDocument(
  doc: Readonly<Record<string, unknown>>,
  fields: readonly string[],
): IndexedValues {
  const out: (ScalarValue | undefined)[] = new Array(fields.length);
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i] as string;
    const value = Object.hasOwn(doc, field) ? doc[field] : undefined;
    out[i] = isScalarValue(value) ? value : undefined;
  }
  return out;
}

/**
 * The values of a stored body (canonical JSON written by the commit path), whose `_id` must be
 * the record's id. A body that is not a JSON object, or names another `_id`, is
 * AERO_DATA_CORRUPTION: its CRC held, so the bytes are what was written, and what was written
 * is wrong.
 */
export function indexedValuesOfStoredBody(
  body: Uint8Array,
  fields: readonly string[],
  id: DocId,
): IndexedValues {
  let values = indexedValuesOfBody(body, fields);
  if (values === null) {
    let doc: unknown;
    try {
      doc = JSON.parse(utf8(body, 0, body.length));
    } catch {
      doc = undefined;
    }
    if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
      throw new AeroError("AERO_DATA_CORRUPTION", "A stored document is not a JSON object.", {
        reason: "body",
      });
    }
    values = indexedValuesOfDocument(doc as Record<string, unknown>, fields);
  }
  const idSlot = fields.indexOf("_id");
  if (idSlot >= 0 && values[idSlot] !== id) {
    throw new AeroError("AERO_DATA_CORRUPTION", "A stored document's _id is not its record's.", {
      reason: "id",
    });
  }
  return values;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/** The wanted names as bytes, per field list (the catalog's lists live as long as it); null: not walkable. */
const wantedCache = new WeakMap<readonly string[], readonly Uint8Array[] | null>();
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function wantedBytes(fields: readonly string[]): readonly Uint8Array[] | null {
  let wanted = wantedCache.get(fields);
  if (wanted === undefined) {
    wanted =
      fields.length <= 30 && fields.every((field) => IDENTIFIER.test(field))
        ? fields.map((field) => Buffer.from(field, "latin1"))
        : null;
    wantedCache.set(fields, wanted);
  }
  return wanted;
}

/** Thrown inside the walk when the bytes are not what the fast path handles; never escapes. */
const GIVE_UP = Symbol("give up");

/**
 * The values of the canonical JSON object in `body` (UTF-8), or null when the fast path
 * cannot tell (not an object, whitespace, keys out of order, malformed text...): parse it
 * instead. Canonical JSON sorts keys and never repeats one (docs/formats/version-record.md),
 * so the walk stops at the last wanted field, and gives up on a key that is not above the
 * previous one rather than trust an order it did not see.
 */
export function indexedValuesOfBody(body: Uint8Array, fields: readonly string[]): IndexedValues | null {
  // The walk tracks found fields in a 31-bit mask, and compares raw key bytes with field names,
  // which only identifiers (every schema field name) spell the same way escaped or not.
  const wanted = wantedBytes(fields);
  if (wanted === null) return null;
  try {
    return walk(body, wanted, fields.length);
  } catch (err) {
    if (err === GIVE_UP) return null;
    throw err;
  }
}

function walk(b: Uint8Array, wanted: readonly Uint8Array[], count: number): IndexedValues {
  const n = b.length;
  const out: (ScalarValue | undefined)[] = new Array(count).fill(undefined);
  const all = (1 << count) - 1;
  let found = 0;
  if (n < 2 || b[0] !== OPEN_OBJECT) throw GIVE_UP;
  let at = 1;
  if (b[at] === CLOSE_OBJECT) {
    if (at + 1 !== n) throw GIVE_UP;
    return out;
  }
  let previousStart = -1;
  let previousEnd = -1;
  for (;;) {
    // Key.
    if (b[at] !== QUOTE) throw GIVE_UP;
    const keyStart = at + 1;
    const keyEnd = stringEnd(b, keyStart);
    if (previousStart >= 0 && !bytesAbove(b, keyStart, keyEnd, previousStart, previousEnd)) throw GIVE_UP;
    previousStart = keyStart;
    previousEnd = keyEnd;
    at = keyEnd + 1;
    if (b[at] !== COLON) throw GIVE_UP;
    at++;
    const slot = matchField(b, keyStart, keyEnd, wanted);
    if (slot >= 0) {
      const end = valueEnd(b, at);
      // A wanted value must be a whole token: the object's next separator follows it.
      if (b[end] !== COMMA && b[end] !== CLOSE_OBJECT) throw GIVE_UP;
      out[slot] = scalarAt(b, at, end);
      found |= 1 << slot;
      if (found === all) return out;
      at = end;
    } else {
      at = valueEnd(b, at);
    }
    const c = b[at];
    if (c === COMMA) {
      at++;
      continue;
    }
    if (c === CLOSE_OBJECT && at + 1 === n) return out;
    throw GIVE_UP;
  }
}

/**
 * Is key b[s1, e1) strictly above key b[s2, e2)? Compared as bytes, which is the canonical
 * (UTF-16 code unit) order for keys without escapes below U+E000 and only those: anything
 * else gives up.
 */
function bytesAbove(b: Uint8Array, s1: number, e1: number, s2: number, e2: number): boolean {
  const n = Math.min(e1 - s1, e2 - s2);
  for (let i = 0; i < n; i++) {
    const x = b[s1 + i] as number;
    const y = b[s2 + i] as number;
    if (x >= 0xee || y >= 0xee || x === BACKSLASH || y === BACKSLASH) throw GIVE_UP;
    if (x !== y) return x > y;
  }
  return e1 - s1 > e2 - s2;
}

/** Index of the closing quote of the string whose contents start at `from`. */
function stringEnd(b: Uint8Array, from: number): number {
  const n = b.length;
  for (let i = from; i < n; i++) {
    const c = b[i] as number;
    if (c === QUOTE) return i;
    if (c === BACKSLASH) i++;
    else if (c < 0x20) throw GIVE_UP;
  }
  throw GIVE_UP;
}

/** The slot of the wanted field whose name is exactly the key's bytes (no escapes), or -1. */
function matchField(b: Uint8Array, start: number, end: number, wanted: readonly Uint8Array[]): number {
  const length = end - start;
  outer: for (let w = 0; w < wanted.length; w++) {
    const name = wanted[w] as Uint8Array;
    if (name.length !== length) continue;
    for (let i = 0; i < length; i++) if (b[start + i] !== name[i]) continue outer;
    return w;
  }
  // A key written with escapes may still spell a wanted name: only JSON.parse can tell.
  for (let i = start; i < end; i++) if (b[i] === BACKSLASH) throw GIVE_UP;
  return -1;
}

/** The index just past the JSON value starting at `at` (strings, containers, literals). */
function valueEnd(b: Uint8Array, at: number): number {
  const n = b.length;
  const c = b[at];
  if (c === QUOTE) return stringEnd(b, at + 1) + 1;
  if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
    let depth = 0;
    for (let i = at; i < n; i++) {
      const d = b[i] as number;
      if (d === QUOTE) i = stringEnd(b, i + 1);
      else if (d === OPEN_OBJECT || d === OPEN_ARRAY) depth++;
      else if (d === CLOSE_OBJECT || d === CLOSE_ARRAY) {
        depth--;
        if (depth === 0) return i + 1;
      }
    }
    throw GIVE_UP;
  }
  // A number or a literal: runs to the next separator of the enclosing object, which must be
  // there (a body cut inside a number must not read as a shorter number).
  let i = at;
  while (i < n && b[i] !== COMMA && b[i] !== CLOSE_OBJECT) i++;
  if (i === at || i === n) throw GIVE_UP;
  return i;
}

/** The scalar value of b[start, end), or undefined for null, objects and arrays. */
function scalarAt(b: Uint8Array, start: number, end: number): ScalarValue | undefined {
  const c = b[start] as number;
  if (c === QUOTE) {
    for (let i = start + 1; i < end - 1; i++) {
      if (b[i] === BACKSLASH) return parsed(b, start, end) as string;
    }
    return utf8(b, start + 1, end - 1);
  }
  if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
    // Must still be valid JSON: the walk only matched brackets.
    parsed(b, start, end);
    return undefined;
  }
  const integer = smallInteger(b, start, end);
  if (integer !== null) return integer;
  const value = parsed(b, start, end);
  if (value === null) return undefined;
  if (typeof value === "boolean") return value;
  if (typeof value === "number") return isScalarValue(value) ? value : undefined;
  throw GIVE_UP;
}

/** -?(0|[1-9][0-9]*) with at most 15 digits (exact as a double), else null. */
function smallInteger(b: Uint8Array, start: number, end: number): number | null {
  const negative = b[start] === 0x2d;
  const from = negative ? start + 1 : start;
  const digits = end - from;
  if (digits < 1 || digits > 15 || (digits > 1 && b[from] === 0x30)) return null;
  let value = 0;
  for (let i = from; i < end; i++) {
    const d = (b[i] as number) - 0x30;
    if (d < 0 || d > 9) return null;
    value = value * 10 + d;
  }
  // "-0" parses to -0, as JSON.parse gives.
  return negative ? -value : value;
}

function parsed(b: Uint8Array, start: number, end: number): unknown {
  try {
    return JSON.parse(utf8(b, start, end));
  } catch {
    throw GIVE_UP;
  }
}

function utf8(b: Uint8Array, start: number, end: number): string {
  return Buffer.isBuffer(b)
    ? b.toString("utf8", start, end)
    : Buffer.from(b.buffer, b.byteOffset + start, end - start).toString("utf8");
}
