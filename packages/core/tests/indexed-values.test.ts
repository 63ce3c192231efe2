// indexedValuesOfBody reads the indexed top-level scalars straight from a stored body's bytes
// (src/index/indexed-values.ts). It may give up (null) whenever it likes. When it answers:
//  - for any JSON object without repeated keys, the answer is exactly what JSON.parse +
//    indexedValuesOfDocument gives (canonical bodies, what the commit path writes, included);
//  - it stops after the last wanted field and does not validate the values it skips, so for
//    text that is not JSON it may still answer: then each value is the one the text spells for
//    its key (checked against the body before it was damaged). Reads parse the whole body.
//  - a key repeated before the walk stops makes it give up.
//
// Replay one property: AERODB_SEED=<n> npx vitest run tests/indexed-values.test.ts
// More cases: AERODB_RUNS=<k> multiplies every property's runs.
import { AeroError, compareCodeUnits, seededProperty } from "@aerodb/base";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../src/canonical-json.js";
import {
  type IndexedValues,
  indexedValuesOfBody,
  indexedValuesOfDocument,
  indexedValuesOfStoredBody,
} from "../src/index/indexed-values.js";
import type { DocId } from "../src/schema/types.js";

/** Runs a property under its named seed; a failure names the seed and the replay command. */
const check = <Ts extends [unknown, ...unknown[]]>(
  name: string,
  numRuns: number,
  property: fc.IProperty<Ts>,
) =>
  seededProperty(`indexed-values:${name}`, numRuns, (seed, runs) =>
    fc.assert(property, { seed, numRuns: runs }),
  );

/** The reference answer: JSON.parse of the bytes; null when they are not a JSON object. */
function reference(body: Uint8Array, fields: readonly string[]): IndexedValues | null {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.length).toString("utf8"));
  } catch {
    return null;
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return null;
  return indexedValuesOfDocument(doc as Record<string, unknown>, fields);
}

const show = (values: IndexedValues | null): string =>
  values === null
    ? "null"
    : `[${values.map((v) => (v === undefined ? "undefined" : Object.is(v, -0) ? "-0" : JSON.stringify(v))).join(",")}]`;

/**
 * The fast path's answer must be null (gave up) or the reference's, element by element with
 * Object.is. When the bytes are no JSON object, only null is right: the caller's JSON.parse
 * must see them and call them corrupt. Returns a description of a disagreement, or null.
 */
function disagreement(
  body: Uint8Array,
  fields: readonly string[],
  /** For damaged text: the values of the body before the damage, also acceptable. */
  original?: IndexedValues,
): string | null {
  const fast = indexedValuesOfBody(body, fields);
  if (fast === null) return null;
  const same = (a: IndexedValues) => a.length === fast.length && a.every((v, i) => Object.is(v, fast[i]));
  const expected = reference(body, fields);
  if (expected !== null && same(expected)) return null;
  // Not JSON: the fast path does not look past the last wanted field nor into skipped values.
  if (expected === null && (original === undefined || same(original))) return null;
  const text = JSON.stringify(Buffer.from(body).toString("utf8"));
  return (
    `body ${text} fields ${JSON.stringify(fields)}: fast path ${show(fast)}, ` +
    `JSON.parse ${expected === null ? "refuses the text (not a JSON object)" : show(expected)}`
  );
}

function expectAgrees(
  body: Uint8Array,
  fields: readonly string[],
  original?: IndexedValues,
): IndexedValues | null {
  expect(disagreement(body, fields, original)).toBeNull();
  return indexedValuesOfBody(body, fields);
}

const isIdentifier = (field: string) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(field);

// ---------------------------------------------------------------------------------------------
// Arbitraries.

const KEY_POOL = [
  "_id",
  "age",
  "a",
  "b",
  "ab",
  "A",
  "Z",
  "é",
  "\u00ff",
  "日本",
  "😀",
  "\uffff",
  "\ue000",
  'q"uote',
  "back\\slash",
  "\n",
  "\u0000",
  "\u007f",
  "constructor",
  "__proto__",
] as const;
const poolKey = fc.constantFrom(...KEY_POOL);
const anyKey = fc.oneof(
  { weight: 4, arbitrary: poolKey },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
);

const SPECIAL_STRINGS = [
  "",
  '"',
  "\\",
  "\\u0061",
  "\n\r\t\b\f",
  "\u0000\u001f",
  "\u2028\u2029",
  "\ud800",
  "\udfff",
  "x\ud83d",
  "😀",
  "日本語",
  ",}]",
  '{"a":1}',
];
const codeUnitString = fc.string({
  unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  maxLength: 8,
});
const stringValue = fc.oneof(
  fc.constantFrom(...SPECIAL_STRINGS),
  fc.string({ maxLength: 10 }),
  fc.string({ unit: "binary", maxLength: 6 }),
  codeUnitString,
);
const SPECIAL_NUMBERS = [
  0,
  -0,
  1,
  -1,
  0.1,
  -1.5e-7,
  1e21,
  1e-7,
  123456789012345,
  -123456789012345,
  1234567890123456,
  2 ** 53,
  -(2 ** 53) - 2,
  Number.MAX_SAFE_INTEGER,
  Number.MIN_SAFE_INTEGER,
  12345678901234567000, // written "12345678901234567000" (20 digits, through JSON.parse)
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  5e-324,
  Number.POSITIVE_INFINITY,
  Number.NaN,
];
const numberValue = fc.oneof(
  fc.constantFrom(...SPECIAL_NUMBERS),
  fc.integer(),
  fc.maxSafeInteger(),
  fc.double(),
);
const scalarValue = fc.oneof(stringValue, numberValue, fc.boolean(), fc.constant(null));

/** A document value: mostly scalars, sometimes nested objects and arrays of anything. */
const { value: anyValue } = fc.letrec<{ value: unknown; object: Record<string, unknown> }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    { weight: 6, arbitrary: scalarValue },
    { weight: 1, arbitrary: tie("object") },
    { weight: 1, arbitrary: fc.array(tie("value"), { maxLength: 3 }) },
  ),
  object: fc
    .array(fc.tuple(anyKey, tie("value")), { maxLength: 4 })
    .map((entries) => Object.fromEntries(entries) as Record<string, unknown>),
}));

/** A top-level document (keys may include "__proto__": Object.fromEntries makes it own). */
const documentOf = (key: fc.Arbitrary<string>) =>
  fc
    .array(fc.tuple(key, anyValue), { maxLength: 10 })
    .map((entries) => Object.fromEntries(entries) as Record<string, unknown>);

/** A catalog-like field list: distinct, sorted by UTF-16 code unit. */
const fieldsOf = (pool: readonly string[]) =>
  fc.subarray([...pool]).map((fields) => [...fields].sort(compareCodeUnits));

const IDENT_POOL = ["_id", "a", "age", "b", "city", "name", "score", "tags", "x1", "zz"];
const identKey = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...IDENT_POOL) },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,12}$/) },
);

/** The same bytes as a Buffer, a plain Uint8Array, or a view into a bigger buffer. */
const container = fc.constantFrom("buffer", "uint8array", "view");
function inContainer(bytes: Uint8Array, kind: string): Uint8Array {
  if (kind === "buffer") return Buffer.from(bytes);
  if (kind === "uint8array") return Uint8Array.from(bytes);
  const outer = new Uint8Array(bytes.length + 7);
  outer.fill(0x7d);
  outer.set(bytes, 3);
  return outer.subarray(3, 3 + bytes.length);
}

// ---------------------------------------------------------------------------------------------
// A hostile serializer: valid JSON, but not canonical. Whitespace between tokens, keys in the
// given order (duplicates kept), keys and strings spelled with escapes, numbers spelled in
// other ways that JSON.parse reads back the same.

interface Spelling {
  /** Whitespace strings, used in turn between tokens. */
  readonly ws: readonly string[];
  /** Bits choosing which characters to \u-escape, in turn. */
  readonly escapes: readonly boolean[];
  /** Choices of number spelling, in turn. */
  readonly numbers: readonly number[];
}

const spellingArb: fc.Arbitrary<Spelling> = fc.record({
  ws: fc.oneof(
    fc.constant([""]), // no whitespace at all: the fast path reads on
    fc.array(fc.constantFrom("", "", "", " ", "\n", "\t", "\r", "  \n "), { minLength: 1, maxLength: 16 }),
  ),
  escapes: fc.array(fc.boolean(), { minLength: 1, maxLength: 16 }),
  numbers: fc.array(fc.nat({ max: 5 }), { minLength: 1, maxLength: 8 }),
});

class HostileWriter {
  #w = 0;
  #e = 0;
  #n = 0;
  constructor(readonly spelling: Spelling) {}

  ws(): string {
    const list = this.spelling.ws;
    return list[this.#w++ % list.length] as string;
  }

  string(s: string): string {
    let out = '"';
    for (const ch of s) {
      const escapeIt = this.spelling.escapes[this.#e++ % this.spelling.escapes.length];
      if (escapeIt) {
        for (let i = 0; i < ch.length; i++) out += `\\u${ch.charCodeAt(i).toString(16).padStart(4, "0")}`;
      } else if (ch === "/") {
        out += "\\/";
      } else {
        out += JSON.stringify(ch).slice(1, -1);
      }
    }
    return `${out}"`;
  }

  number(n: number): string {
    const text = JSON.stringify(n);
    if (!Number.isFinite(n)) return text; // "null"
    const choice = this.spelling.numbers[this.#n++ % this.spelling.numbers.length];
    switch (choice) {
      case 1:
        return Number.isInteger(n) && Math.abs(n) < 1e21 ? `${text}.0` : text;
      case 2:
        return text.includes("e") ? text.toUpperCase() : `${text}e0`;
      case 3:
        return Object.is(n, 0) ? "-0" : `${text}E+0`; // -0 is a real -0 to JSON.parse
      case 4:
        return Number.isInteger(n) && Math.abs(n) < 1e15 ? `${n * 100}e-2` : text;
      default:
        return text;
    }
  }

  value(v: unknown): string {
    if (v === null || typeof v === "boolean") return String(v);
    if (typeof v === "number") return this.number(v);
    if (typeof v === "string") return this.string(v);
    if (Array.isArray(v)) {
      return `[${this.ws()}${v.map((x) => this.value(x)).join(`${this.ws()},${this.ws()}`)}${this.ws()}]`;
    }
    return this.object(Object.entries(v as Record<string, unknown>));
  }

  object(entries: readonly (readonly [string, unknown])[]): string {
    const parts = entries.map(
      ([k, v]) => `${this.ws()}${this.string(k)}${this.ws()}:${this.ws()}${this.value(v)}`,
    );
    return `{${parts.join(`${this.ws()},`)}${this.ws()}}`;
  }
}

// ---------------------------------------------------------------------------------------------

describe("indexedValuesOfBody on canonical bodies", () => {
  it("answers null or exactly what JSON.parse gives, for arbitrary documents and field lists", async () => {
    let answered = 0;
    let eligible = 0;
    await check(
      "canonical",
      3000,
      fc.property(documentOf(anyKey), fieldsOf(KEY_POOL), container, (doc, fields, kind) => {
        const body = inContainer(Buffer.from(canonicalJson(doc)), kind);
        // Field names that are not identifiers (no schema has them) always give up.
        if (fields.every(isIdentifier)) eligible++;
        else expect(indexedValuesOfBody(body, fields)).toBeNull();
        if (expectAgrees(body, fields) !== null) answered++;
      }),
    );
    process.stdout.write(`indexed-values canonical: answered ${answered} of ${eligible} eligible\n`);
    // Not vacuous: the fast path answers a good share (it gives up on keys with escapes or
    // characters at or above U+E000 before it has its fields, and on nothing else here).
    expect(answered).toBeGreaterThan(eligible / 5);
  });

  it("does not give up on canonical documents with identifier keys (the fast path is taken)", async () => {
    await check(
      "identifier-keys",
      2000,
      fc.property(documentOf(identKey), fieldsOf(IDENT_POOL), container, (doc, fields, kind) => {
        const body = inContainer(Buffer.from(canonicalJson(doc)), kind);
        const fast = indexedValuesOfBody(body, fields);
        expect(fast, canonicalJson(doc)).not.toBeNull();
        expect(fast).toEqual(indexedValuesOfDocument(JSON.parse(canonicalJson(doc)), fields));
      }),
    );
  });

  it("reads each kind of scalar, and no entry for null, objects, arrays and absent fields", () => {
    const doc = {
      _id: "k1",
      a: -0,
      b: 1e21,
      c: 0.1,
      d: -1.5e-7,
      e: 9007199254740991,
      f: true,
      g: false,
      h: null,
      i: { x: 1 },
      j: [1, "2"],
      k: 'q"\\\n\ud800😀é',
      l: "",
      m: 123456789012345,
      n: -1234567890123456,
    };
    const fields = ["_id", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "zz"];
    const fast = indexedValuesOfBody(Buffer.from(canonicalJson(doc)), fields);
    // canonical JSON writes -0 as 0, so JSON.parse (and the fast path) read 0.
    expect(fast).toEqual([
      "k1",
      0,
      1e21,
      0.1,
      -1.5e-7,
      9007199254740991,
      true,
      false,
      undefined,
      undefined,
      undefined,
      'q"\\\n\ud800😀é',
      "",
      123456789012345,
      -1234567890123456,
      undefined,
    ]);
    expect(indexedValuesOfBody(Buffer.from("{}"), ["_id"])).toEqual([undefined]);
    expect(indexedValuesOfBody(Buffer.from('{"a":1}'), [])).toEqual([]);
  });

  it("gives up beyond 30 fields rather than answer wrongly", () => {
    const fields = Array.from({ length: 31 }, (_, i) => `f${String(i).padStart(2, "0")}`);
    const doc = Object.fromEntries(fields.map((f, i) => [f, i]));
    expect(indexedValuesOfBody(Buffer.from(canonicalJson(doc)), fields)).toBeNull();
    expect(indexedValuesOfBody(Buffer.from(canonicalJson(doc)), fields.slice(0, 30))).toEqual(
      fields.slice(0, 30).map((_, i) => i),
    );
  });
});

describe("indexedValuesOfBody on non-canonical and hostile bytes: null or the JSON.parse answer, never a throw", () => {
  it("valid JSON with whitespace, keys in any order, escaped keys and strings, other number spellings", async () => {
    let answered = 0;
    await check(
      "hostile-valid",
      2000,
      fc.property(
        fc.uniqueArray(fc.tuple(anyKey, anyValue), { selector: ([k]) => k, maxLength: 8 }),
        fc.boolean(),
        spellingArb,
        fieldsOf(KEY_POOL),
        container,
        (unique, sorted, spelling, fields, kind) => {
          const entries = sorted ? [...unique].sort(([x], [y]) => compareCodeUnits(x, y)) : unique;
          const body = inContainer(Buffer.from(new HostileWriter(spelling).object(entries)), kind);
          if (expectAgrees(body, fields) !== null) answered++;
        },
      ),
    );
    process.stdout.write(`indexed-values hostile-valid: answered ${answered}\n`);
    expect(answered).toBeGreaterThan(0);
  });

  it("specific non-canonical and malformed texts", () => {
    const cases: Array<[string, string[]]> = [
      ['{"\\u0061ge":5}', ["age"]],
      ['{"a":1,"\\u0061ge":5}', ["age"]],
      ['{"b":1,"a":2}', ["a"]],
      ['{"b":1,"a":2}', ["a", "b"]],
      ['{ "a":1}', ["a"]],
      ['{"a" :1}', ["a"]],
      ['{"a": 1}', ["a"]],
      ['{"a":1 }', ["a"]],
      ['{"a": "x,y"}', ["a"]],
      ['{"a": "x}"}', ["a"]],
      ['{"z": "x,", "a": 1}', ["a"]],
      ['{"a":-0}', ["a"]],
      ['{"a":-0.0}', ["a"]],
      ['{"a":1E2}', ["a"]],
      ['{"a":01}', ["a"]],
      ['{"a":1.}', ["a"]],
      ['{"a":.5}', ["a"]],
      ['{"a":+1}', ["a"]],
      ['{"a":1e400}', ["a"]],
      ['{"a":-1e400}', ["a"]],
      ['{"a":tru}', ["a"]],
      ['{"a":nul}', ["a"]],
      ['{"a":"\\x"}', ["a"]],
      ['{"a":"\\u12"}', ["a"]],
      ['{"a":"tab\there"}', ["a"]],
      ['{"a":12345678901234567890}', ["a"]],
      ['{"a":[1,{"b":"]"}],"b":2}', ["b"]],
      ['{"a":{"b":1}}', ["a", "b"]],
      ['{"é":1,"a":2}', ["a", "é"]],
      ['{"😀":1,"\\uffff":2}', ["😀", "\uffff"]],
      ['{"\\ud83d\\ude00":1}', ["😀"]],
      ["{}", []],
      ["{}", ["a"]],
      ["{} ", ["a"]],
      [" {}", ["a"]],
      ["{", ["a"]],
      ['{"', ["a"]],
      ['{"a"', ["a"]],
      ['{"a":', ["a"]],
      ['{"a":1', ["a"]],
      ['{"a":1,}', ["a"]],
      ['{,"a":1}', ["a"]],
    ];
    const wrong = cases.flatMap(([text, fields]) =>
      ["buffer", "uint8array", "view"].map((kind) =>
        disagreement(inContainer(Buffer.from(text), kind), fields),
      ),
    );
    expect(wrong.filter((d) => d !== null)).toEqual([]);
    // The common escaped spellings are not answered wrongly: they give up (or agree).
    expect(indexedValuesOfBody(Buffer.from('{"\\u0061ge":5}'), ["age"])).toBeNull();
  });

  it("top-level arrays, strings, numbers, literals: null", async () => {
    for (const text of ["[]", '[{"a":1}]', '"a"', "1", "-0", "true", "null", "", " ", '"{\\"a\\":1}"']) {
      expect(indexedValuesOfBody(Buffer.from(text), ["a"]), text).toBeNull();
    }
    await check(
      "top-level-non-objects",
      500,
      fc.property(
        fc.oneof(fc.array(anyValue, { maxLength: 4 }), scalarValue),
        spellingArb,
        fieldsOf(KEY_POOL),
        (value, spelling, fields) => {
          const text = new HostileWriter(spelling).value(value);
          expect(indexedValuesOfBody(Buffer.from(text), fields), text).toBeNull();
        },
      ),
    );
  });

  it("random bytes", async () => {
    const prefixes = ["", "{", '{"', '{"a":', '{"_id":1,"a', '{"age":"', "{}"].map((p) => Buffer.from(p));
    await check(
      "random-bytes",
      3000,
      fc.property(
        fc.constantFrom(...prefixes),
        fc.uint8Array({ maxLength: 40 }),
        fc.boolean(),
        fieldsOf(KEY_POOL),
        (prefix, bytes, close, fields) => {
          const body = Buffer.concat([prefix, bytes, close ? Buffer.from("}") : Buffer.alloc(0)]);
          expectAgrees(body, fields);
        },
      ),
    );
  });

  // --- Bodies that are not JSON. The fast path stops at the last wanted field and never sees
  // the rest, nor checks the values it skips; these tests hold it to the contract anyway
  // ("gives up on ... malformed text"), since indexedValuesOfStoredBody relies on a null to
  // report AERO_DATA_CORRUPTION.

  it("truncated canonical bodies: null, or the values of the whole body", async () => {
    let answered = 0;
    await check(
      "truncated",
      2000,
      fc.property(documentOf(identKey), fieldsOf(IDENT_POOL), fc.nat(), (doc, fields, cut) => {
        const full = Buffer.from(canonicalJson(doc));
        const body = full.subarray(0, cut % full.length);
        const original = indexedValuesOfDocument(JSON.parse(canonicalJson(doc)), fields);
        if (expectAgrees(body, fields, original) !== null) answered++;
      }),
    );
    expect(answered).toBeGreaterThan(0);
  });

  it("canonical bodies with bytes flipped, inserted or deleted", async () => {
    await check(
      "byte-mutations",
      2000,
      fc.property(
        documentOf(anyKey),
        fieldsOf(KEY_POOL),
        fc.array(
          fc.tuple(fc.constantFrom("flip", "insert", "delete"), fc.nat(), fc.integer({ min: 0, max: 255 })),
          {
            minLength: 1,
            maxLength: 3,
          },
        ),
        (doc, fields, mutations) => {
          const original = indexedValuesOfDocument(JSON.parse(canonicalJson(doc)), fields);
          const bytes = [...Buffer.from(canonicalJson(doc))];
          for (const [what, at, byte] of mutations) {
            const i = at % (bytes.length + 1);
            if (what === "insert") bytes.splice(i, 0, byte);
            else if (i < bytes.length && what === "delete") bytes.splice(i, 1);
            else if (i < bytes.length) bytes[i] = byte;
          }
          // A mutation that keeps the text JSON must give JSON.parse's values; one that breaks it
          // may still be answered (after the last wanted field, or in a skipped value) only with
          // the values the text spells, i.e. the undamaged ones.
          // (With several mutations one may rename a key and another break the text: then only
          // the valid-JSON half of the contract can be checked.)
          expectAgrees(Buffer.from(bytes), fields, mutations.length === 1 ? original : undefined);
        },
      ),
    );
  });

  it("damage after the last wanted field or inside a skipped value is not examined", () => {
    // Documented limits of the fast path: these are not JSON, yet the wanted values are the
    // ones the text spells; every read of such a body fails (it parses the whole body).
    expect(indexedValuesOfBody(Buffer.from('{"age":1,"b'), ["age"])).toEqual([1]);
    expect(indexedValuesOfBody(Buffer.from('{"age":1}xyz'), ["age"])).toEqual([1]);
    expect(indexedValuesOfBody(Buffer.from('{"a":garbage,"b":1}'), ["b"])).toEqual([1]);
    expect(indexedValuesOfBody(Buffer.from('{"a":[1},"b":1}'), ["b"])).toEqual([1]);
    // Damage in a wanted value is always seen.
    expect(indexedValuesOfBody(Buffer.from('{"age":1x,"b":1}'), ["age"])).toBeNull();
    expect(indexedValuesOfBody(Buffer.from('{"age":tru,"b":1}'), ["age"])).toBeNull();
    expect(indexedValuesOfBody(Buffer.from('{"age":"a\tb"}'), ["age"])).toBeNull();
  });

  it("a key repeated before the walk stops: null", async () => {
    expect(indexedValuesOfBody(Buffer.from('{"age":1,"age":2}'), ["age", "b"])).toBeNull();
    expect(indexedValuesOfBody(Buffer.from('{"age":1,"\\u0061ge":2}'), ["age", "b"])).toBeNull();
    expect(
      indexedValuesOfBody(Buffer.from('{"_id":"a","age":1,"b":0,"age":2}'), ["_id", "age", "c"]),
    ).toBeNull();
    await check(
      "duplicate-keys",
      2000,
      fc.property(
        fc.uniqueArray(fc.tuple(identKey, scalarValue), { selector: ([k]) => k, minLength: 1, maxLength: 8 }),
        fc.nat(),
        fc.nat(),
        fc.boolean(),
        (unique, which, where, escaped) => {
          // Canonical order, then one key repeated later on with another value, spelled as it is
          // or with \u escapes; the wanted fields include that key and one at or after the repeat.
          const entries = [...unique].sort(([x], [y]) => compareCodeUnits(x, y));
          const from = which % entries.length;
          const [key] = entries[from] as [string, unknown];
          const at = from + 1 + (where % (entries.length - from));
          entries.splice(at, 0, [key, "dup"]);
          const writer = new HostileWriter({ ws: [""], escapes: [true], numbers: [0] });
          const text = `{${entries
            .map(
              ([k, v], i) =>
                `${escaped && i === at ? writer.string(k) : JSON.stringify(k)}:${canonicalJson(v)}`,
            )
            .join(",")}}`;
          const after = entries[at + 1]?.[0];
          const fields = [...new Set([key, after ?? "zzzzzzzzzzzzzz"])].sort(compareCodeUnits);
          expect(indexedValuesOfBody(Buffer.from(text), fields), text).toBeNull();
        },
      ),
    );
  });

  it("a field name that is the escaped spelling of another key (e.g. backslash-n vs newline): not that key's value", () => {
    // Canonical JSON writes the key "\n" (a newline) as the bytes \ n; the field named with a
    // backslash and an n is another name, absent from this document.
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ "\n": 5 }, "\\n"],
      [{ '"': 5 }, '\\"'],
      [{ "\\": 5 }, "\\\\"],
      [{ "\u0001": 5 }, "\\u0001"],
      [{ "\ud800": 5 }, "\\ud800"],
    ];
    const wrong = cases.map(([doc, field]) => {
      const body = Buffer.from(canonicalJson(doc));
      expect(reference(body, [field])).toEqual([undefined]);
      return disagreement(body, [field]);
    });
    expect(wrong.filter((d) => d !== null)).toEqual([]);
  });

  it("invalid UTF-8 in a key that decodes to a wanted name (U+FFFD): null or the JSON.parse answer", () => {
    // JSON.parse of the decoded text sees the key "\ufffd" (the replacement character).
    const wrong = [[0xff], [0xc0], [0x80], [0xf0, 0x9f]].map((raw) => {
      const body = Buffer.from([...Buffer.from('{"'), ...raw, ...Buffer.from('":1}')]);
      expect(reference(body, ["\ufffd"])).toEqual([1]);
      return disagreement(body, ["\ufffd"]);
    });
    expect(wrong.filter((d) => d !== null)).toEqual([]);
  });
});

describe("indexedValuesOfStoredBody", () => {
  const fields = ["_id", "age", "name"];

  it("returns the values of a stored body whose _id is the record's", () => {
    expect(
      indexedValuesOfStoredBody(Buffer.from(canonicalJson({ _id: "u1", age: 30 })), fields, "u1"),
    ).toEqual(["u1", 30, undefined]);
    expect(indexedValuesOfStoredBody(Buffer.from(canonicalJson({ _id: 7, name: "n" })), fields, 7)).toEqual([
      7,
      undefined,
      "n",
    ]);
    // Non-canonical but valid JSON goes through JSON.parse and still answers.
    expect(indexedValuesOfStoredBody(Buffer.from('{ "name" : "n", "_id" : 7 }'), fields, 7)).toEqual([
      7,
      undefined,
      "n",
    ]);
    // Without `_id` among the fields there is nothing to check.
    expect(indexedValuesOfStoredBody(Buffer.from('{"age":1}'), ["age"], "anything")).toEqual([1]);
  });

  function codeOf(fn: () => unknown): string | null {
    try {
      fn();
    } catch (err) {
      return err instanceof AeroError ? err.code : `not an AeroError: ${String(err)}`;
    }
    return null;
  }

  function expectCorruption(body: Uint8Array, id: DocId, reason: string): void {
    let caught: unknown;
    try {
      indexedValuesOfStoredBody(body, fields, id);
    } catch (err) {
      caught = err;
    }
    expect(caught, Buffer.from(body).toString("utf8")).toBeInstanceOf(AeroError);
    expect((caught as AeroError).code).toBe("AERO_DATA_CORRUPTION");
    expect((caught as AeroError).details).toMatchObject({ reason });
  }

  it("a body that is not a JSON object: AERO_DATA_CORRUPTION", () => {
    for (const text of [
      "",
      "[]",
      '["u1"]',
      '"u1"',
      "1",
      "null",
      "true",
      "{",
      '{"_id":"u1"',
      "garbage",
      "{}x",
    ]) {
      expectCorruption(Buffer.from(text), "u1", "body");
    }
    expectCorruption(Uint8Array.from([0xff, 0xfe, 0x00]), "u1", "body");
  });

  it("a body whose _id is not the record's (including 1 vs '1', or none): AERO_DATA_CORRUPTION", () => {
    expectCorruption(Buffer.from('{"_id":"u2"}'), "u1", "id");
    expectCorruption(Buffer.from('{"_id":1}'), "1", "id");
    expectCorruption(Buffer.from('{"_id":"1"}'), 1, "id");
    expectCorruption(Buffer.from('{"_id":1.5}'), 1, "id");
    expectCorruption(Buffer.from('{"_id":true}'), 1, "id");
    expectCorruption(Buffer.from('{"_id":null}'), 1, "id");
    expectCorruption(Buffer.from('{"_id":{"x":1}}'), 1, "id");
    expectCorruption(Buffer.from('{"age":3}'), 1, "id");
    expectCorruption(Buffer.from("{}"), 1, "id");
    // The same through JSON.parse (non-canonical order).
    expectCorruption(Buffer.from('{"name":"n","_id":1}'), "1", "id");
  });

  it("a body malformed up to its last indexed field: AERO_DATA_CORRUPTION; after it, read-time", () => {
    expectCorruption(Buffer.from('{"_id":"u1","age":3x,"name":"n"}'), "u1", "body");
    expectCorruption(Buffer.from('{"_id":"u1","age":3,"name":"n'), "u1", "body");
    expectCorruption(Buffer.from('{"_id":"u1" "age":3}'), "u1", "body");
    // Past the last indexed field the walk has stopped: the values stand, and every read of the
    // document parses the whole body and reports it (VersionStore.readDocument).
    expect(indexedValuesOfStoredBody(Buffer.from('{"_id":"u1","age":3,"name":"n"}}'), fields, "u1")).toEqual([
      "u1",
      3,
      "n",
    ]);
  });

  it("agrees with JSON.parse on arbitrary canonical documents (values or the right corruption)", async () => {
    let corrupt = 0;
    await check(
      "stored-body",
      1000,
      fc.property(
        documentOf(anyKey),
        fc.oneof(fc.string({ maxLength: 4 }), fc.integer({ min: -5, max: 5 })),
        fc.constantFrom("same", "other-type", "absent", "as-generated"),
        fieldsOf(["_id", "age", "name", "é", "😀"]),
        (doc, id, idMode, someFields) => {
          if (idMode === "same") doc._id = id;
          else if (idMode === "other-type") doc._id = typeof id === "number" ? String(id) : `${id}!`;
          else if (idMode === "absent") delete doc._id;
          const body = Buffer.from(canonicalJson(doc));
          const wanted = [...new Set(["_id", ...someFields])].sort(compareCodeUnits);
          const expected = indexedValuesOfDocument(JSON.parse(body.toString("utf8")), wanted);
          if (expected[wanted.indexOf("_id")] === id) {
            expect(indexedValuesOfStoredBody(body, wanted, id)).toEqual(expected);
          } else {
            corrupt++;
            expect(codeOf(() => indexedValuesOfStoredBody(body, wanted, id))).toBe("AERO_DATA_CORRUPTION");
          }
        },
      ),
    );
    expect(corrupt).toBeGreaterThan(0);
  });
});
