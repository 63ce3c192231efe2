import { AeroError, seedList } from "@aerodb/base";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseSchemaDefinition } from "../src/schema/definition.js";
import type { FieldNode, ItemNode, SchemaDefinition, ValidationReason } from "../src/schema/types.js";
import { VALIDATION_REASONS, validateDocument } from "../src/schema/validator.js";

// core.md §3.2, §3.6 and scenarios 13–14: document validation.

const runs = (base: number): number => base * Math.max(1, Number(process.env.AERODB_RUNS ?? "1") || 1);
const seedOf = (name: string): number => seedList(name, 1)[0] as number;

const USERS = parseSchemaDefinition(
  JSON.parse(`{"format_version":1, "schema_id":"users", "schema_version":"v1",
 "fields":{"_id":{"type":"string","required":true}, "age":{"type":"int","required":false},
   "tags":{"type":"array","required":true,"items":{"type":"string"}},
   "addr":{"type":"object","required":false,"fields":{"city":{"type":"string","required":true}}}},
 "indexes":["age"]}`),
);

/** Every type, nesting, arrays of arrays and of objects, an int _id. */
const ALL = parseSchemaDefinition({
  format_version: 1,
  schema_id: "all",
  schema_version: "v3",
  fields: {
    _id: { type: "int", required: true },
    s: { type: "string", required: true },
    i: { type: "int", required: false },
    f: { type: "float", required: false },
    b: { type: "bool", required: false },
    o: {
      type: "object",
      required: false,
      fields: {
        _id: { type: "string", required: false },
        n: { type: "float", required: true },
        deep: { type: "object", required: false, fields: { x: { type: "bool", required: true } } },
      },
    },
    m: { type: "array", required: false, items: { type: "array", items: { type: "int" } } },
    rows: {
      type: "array",
      required: false,
      items: {
        type: "object",
        fields: { k: { type: "string", required: true }, v: { type: "int", required: false } },
      },
    },
    empty: { type: "object", required: false, fields: {} },
  },
  indexes: ["s", "i"],
});

/** Names whose code unit order differs from a naive one: "B" < "_id" < "a" < "constructor". */
const ORDER = parseSchemaDefinition({
  format_version: 1,
  schema_id: "order",
  schema_version: "v1",
  fields: {
    _id: { type: "string", required: true },
    B: { type: "int", required: true },
    a: { type: "int", required: true },
    constructor: { type: "string", required: false },
    toString: { type: "int", required: false },
  },
  indexes: [],
});

/** More than 31 fields at one level (the wide presence path). */
const WIDE = parseSchemaDefinition({
  format_version: 1,
  schema_id: "wide",
  schema_version: "v1",
  fields: {
    _id: { type: "string", required: true },
    ...Object.fromEntries(
      Array.from({ length: 40 }, (_, i) => [
        `f${String(i).padStart(2, "0")}`,
        { type: "int", required: i % 2 === 0 },
      ]),
    ),
  },
  indexes: [],
});

function failure(def: SchemaDefinition, doc: unknown): { path: string; reason: string } | null {
  try {
    validateDocument(def, doc);
    return null;
  } catch (err) {
    if (!(err instanceof AeroError)) throw err;
    expect(err.code).toBe("AERO_SCHEMA_VALIDATION_FAILED");
    expect(err.severity).toBe("REJECT");
    const details = err.details as { path: string; reason: string };
    expect(Object.keys(details).sort()).toEqual(["path", "reason"]);
    return { path: details.path, reason: details.reason };
  }
}

function expectFails(def: SchemaDefinition, doc: unknown, path: string, reason: ValidationReason): void {
  expect(failure(def, doc)).toEqual({ path, reason });
}

function expectValid(def: SchemaDefinition, doc: unknown): void {
  expect(failure(def, doc)).toBeNull();
}

// biome-ignore lint/suspicious/noExplicitAny: fixtures are untyped JSON that tests mutate at any depth.
type Loose = Record<string, any>;
const alice = (): Loose => ({ _id: "u1", age: 30, tags: ["a", "b"], addr: { city: "Oslo" } });

describe("scenario 13: a valid document validates, every time", () => {
  it("validates the same document 100 times", () => {
    const doc = alice();
    for (let i = 0; i < 100; i++) validateDocument(USERS, doc);
  });

  it("validates 100 distinct valid documents", () => {
    for (let i = 0; i < 100; i++) {
      expectValid(USERS, { _id: `u${i}`, age: i, tags: Array.from({ length: i % 5 }, (_, k) => `t${k}`) });
    }
  });

  it("accepts omitted optional fields and empty arrays", () => {
    expectValid(USERS, { _id: "u1", tags: [] });
    expectValid(USERS, { _id: "u1", tags: [], addr: { city: "" } });
    expectValid(USERS, JSON.parse('{"tags":["x"],"_id":"k"}'));
  });

  it("accepts null-prototype objects", () => {
    const doc = Object.assign(Object.create(null) as object, { _id: "u1", tags: [] });
    expectValid(USERS, doc);
  });
});

describe("scenario 14: each violation fails with its path and reason", () => {
  it("a missing required field", () => {
    const doc = alice();
    delete doc.tags;
    expectFails(USERS, doc, "tags", "missing_field");
  });

  it("a missing _id", () => {
    const doc = alice();
    delete doc._id;
    expectFails(USERS, doc, "_id", "missing_field");
  });

  it("an extra field", () => {
    expectFails(USERS, { ...alice(), extra: 1 }, "extra", "unknown_field");
    expectFails(USERS, { ...alice(), addr: { city: "Oslo", zip: "0150" } }, "addr.zip", "unknown_field");
  });

  it("a wrong type", () => {
    expectFails(USERS, { ...alice(), age: "30" }, "age", "wrong_type");
    expectFails(USERS, { ...alice(), tags: "a" }, "tags", "wrong_type");
    expectFails(USERS, { ...alice(), addr: "Oslo" }, "addr", "wrong_type");
    expectFails(USERS, { ...alice(), addr: ["Oslo"] }, "addr", "wrong_type");
    expectFails(USERS, { ...alice(), addr: { city: 7 } }, "addr.city", "wrong_type");
  });

  it("a null", () => {
    expectFails(USERS, { ...alice(), age: null }, "age", "null_value");
    expectFails(USERS, { ...alice(), addr: null }, "addr", "null_value");
    expectFails(USERS, { ...alice(), addr: { city: null } }, "addr.city", "null_value");
    expectFails(USERS, { ...alice(), tags: ["a", null] }, "tags[1]", "null_value");
    expectFails(USERS, { ...alice(), _id: null }, "_id", "null_value");
  });

  it("a bad array element", () => {
    expectFails(USERS, { ...alice(), tags: ["a", "b", 3] }, "tags[2]", "wrong_type");
    expectFails(USERS, { ...alice(), tags: [["a"]] }, "tags[0]", "wrong_type");
  });

  it("2^53 as an int", () => {
    expectFails(USERS, { ...alice(), age: 2 ** 53 }, "age", "not_safe_integer");
    expectFails(USERS, { ...alice(), age: -(2 ** 53) }, "age", "not_safe_integer");
    expectFails(USERS, { ...alice(), age: 1e300 }, "age", "not_safe_integer");
    expectValid(USERS, { ...alice(), age: 2 ** 53 - 1 });
    expectValid(USERS, { ...alice(), age: -(2 ** 53 - 1) });
  });

  it("a nested missing field", () => {
    expectFails(USERS, { ...alice(), addr: {} }, "addr.city", "missing_field");
  });
});

describe("types", () => {
  const base = (): Record<string, unknown> => ({ _id: 1, s: "x" });

  it("int: a safe integer; fractions are wrong_type, non-finite not_finite", () => {
    for (const v of [0, -0, 1, -1, 42, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 1e15, 2.0]) {
      expectValid(ALL, { ...base(), i: v });
    }
    for (const v of [1.5, -0.5, 1e-9, Number.EPSILON])
      expectFails(ALL, { ...base(), i: v }, "i", "wrong_type");
    for (const v of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expectFails(ALL, { ...base(), i: v }, "i", "not_finite");
    }
    for (const v of [2 ** 53, 2 ** 53 + 2, -(2 ** 60), Number.MAX_VALUE]) {
      expectFails(ALL, { ...base(), i: v }, "i", "not_safe_integer");
    }
    for (const v of ["1", true, 1n, [1], { v: 1 }, new Number(1), undefined]) {
      expectFails(ALL, { ...base(), i: v }, "i", "wrong_type");
    }
  });

  it("float: any finite number", () => {
    for (const v of [0, -0, 1, 1.5, -1e-300, 1e308, 2 ** 53, Number.MAX_VALUE, Number.MIN_VALUE]) {
      expectValid(ALL, { ...base(), f: v });
    }
    for (const v of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expectFails(ALL, { ...base(), f: v }, "f", "not_finite");
    }
    for (const v of ["1.5", false, 1n, [1.5], new Number(1.5)])
      expectFails(ALL, { ...base(), f: v }, "f", "wrong_type");
  });

  it("bool and string: exact JS types, no coercion", () => {
    expectValid(ALL, { ...base(), b: true });
    expectValid(ALL, { ...base(), b: false });
    for (const v of [0, 1, "true", "", new Boolean(true)])
      expectFails(ALL, { ...base(), b: v }, "b", "wrong_type");
    for (const v of ["", "x", "☃", "\u0000", "\ud800", "a".repeat(10_000)])
      expectValid(ALL, { ...base(), s: v });
    for (const v of [1, true, ["x"], { s: "x" }, new String("x"), Symbol("x")]) {
      expectFails(ALL, { ...base(), s: v }, "s", "wrong_type");
    }
  });

  it("_id: a non-empty string or a safe integer; the empty string is wrong_type", () => {
    expectFails(USERS, { ...alice(), _id: "" }, "_id", "wrong_type");
    expectFails(USERS, { ...alice(), _id: 1 }, "_id", "wrong_type");
    expectValid(USERS, { ...alice(), _id: " " });
    for (const id of [0, -1, Number.MAX_SAFE_INTEGER]) expectValid(ALL, { _id: id, s: "" });
    expectFails(ALL, { _id: "1", s: "" }, "_id", "wrong_type");
    expectFails(ALL, { _id: 1.5, s: "" }, "_id", "wrong_type");
    expectFails(ALL, { _id: 2 ** 53, s: "" }, "_id", "not_safe_integer");
    // A nested field named _id is an ordinary string field: empty is fine.
    expectValid(ALL, { _id: 1, s: "", o: { _id: "", n: 1 } });
  });

  it("objects must be plain", () => {
    class Addr {
      city = "Oslo";
    }
    for (const v of [
      new Addr(),
      new Map([["city", "Oslo"]]),
      new Date(0),
      /city/,
      () => 1,
      [{ city: "Oslo" }],
    ]) {
      expectFails(USERS, { ...alice(), addr: v }, "addr", "wrong_type");
    }
    expectValid(USERS, { ...alice(), addr: Object.assign(Object.create(null) as object, { city: "Oslo" }) });
    expectValid(ALL, { _id: 1, s: "", empty: {} });
    expectFails(ALL, { _id: 1, s: "", empty: { x: 1 } }, "empty.x", "unknown_field");
  });

  it("arrays: homogeneous, nested, of objects; holes are wrong_type", () => {
    expectValid(ALL, { _id: 1, s: "", m: [[], [1, 2], [3]] });
    expectFails(ALL, { _id: 1, s: "", m: [[1], [2, "3"]] }, "m[1][1]", "wrong_type");
    expectFails(ALL, { _id: 1, s: "", m: [[1], 2] }, "m[1]", "wrong_type");
    expectFails(ALL, { _id: 1, s: "", m: [[1], [2 ** 53]] }, "m[1][0]", "not_safe_integer");
    expectValid(ALL, { _id: 1, s: "", rows: [{ k: "a" }, { k: "b", v: 2 }] });
    expectFails(ALL, { _id: 1, s: "", rows: [{ k: "a" }, { v: 2 }] }, "rows[1].k", "missing_field");
    expectFails(ALL, { _id: 1, s: "", rows: [{ k: "a", w: 1 }] }, "rows[0].w", "unknown_field");
    expectFails(ALL, { _id: 1, s: "", rows: [null] }, "rows[0]", "null_value");
    const holey: unknown[] = ["a"];
    holey[2] = "c";
    expectFails(USERS, { ...alice(), tags: holey }, "tags[1]", "wrong_type");
    expectFails(USERS, { ...alice(), tags: ["a", undefined] }, "tags[1]", "wrong_type");
  });

  it("deep paths name every level", () => {
    expectFails(ALL, { _id: 1, s: "", o: { n: 1, deep: { x: "no" } } }, "o.deep.x", "wrong_type");
    expectFails(ALL, { _id: 1, s: "", o: { n: 1, deep: {} } }, "o.deep.x", "missing_field");
    expectFails(ALL, { _id: 1, s: "", o: { n: Number.NaN } }, "o.n", "not_finite");
  });
});

describe("the document itself", () => {
  it("must be a plain object", () => {
    expectFails(USERS, null, "", "null_value");
    for (const v of [undefined, 1, "doc", true, [], [alice()], new Date(0), new Map(), 1n]) {
      expectFails(USERS, v, "", "wrong_type");
    }
    class Doc {
      _id = "u1";
      tags = [];
    }
    expectFails(USERS, new Doc(), "", "wrong_type");
  });

  it("an empty object lacks the first required field in order", () => {
    expectFails(USERS, {}, "_id", "missing_field");
  });
});

describe("order: the first violation in UTF-16 code unit order wins, depth first", () => {
  it("uses code unit order over the union of declared and present names", () => {
    // "B" < "_id" < "a" < "constructor" < "toString".
    expectFails(ORDER, { a: 1 }, "B", "missing_field");
    expectFails(ORDER, { B: 1, a: 1 }, "_id", "missing_field");
    expectFails(ORDER, { A: 1, _id: "x", a: 1 }, "A", "unknown_field");
    expectFails(ORDER, { Z: 1 }, "B", "missing_field");
    expectFails(ORDER, { C: 1, a: 1 }, "B", "missing_field");
    expectFails(ORDER, { B: 1, C: 1 }, "C", "unknown_field");
    expectFails(ORDER, { B: 1, _id: "x", a: "no", b: 1 }, "a", "wrong_type");
    expectFails(ORDER, { B: 1, _id: "x", a: 1, b: 1 }, "b", "unknown_field");
    expectFails(ORDER, { B: 1, _id: "x", a: 1, zz: 1, yy: 2 }, "yy", "unknown_field");
    expectFails(ORDER, { B: 1, _id: "x", a: 1, "\u00e9": 1, z: 2 }, "z", "unknown_field");
    expectValid(ORDER, { B: 1, _id: "x", a: 1 });
  });

  it("goes depth first: a nested violation before a later sibling's", () => {
    // "addr" < "age" < "tags"
    expectFails(USERS, { _id: "u", addr: {}, age: "x" }, "addr.city", "missing_field");
    expectFails(USERS, { _id: "u", addr: { city: "c" }, age: "x" }, "age", "wrong_type");
    expectFails(USERS, { _id: "u", addr: { city: "c" }, age: 1 }, "tags", "missing_field");
    expectFails(USERS, { _id: "u", tags: [1, null] }, "tags[0]", "wrong_type");
  });

  it("is independent of the document's key insertion order", () => {
    const a = { zz: 1, _id: "u", addr: { q: 1, city: 2 }, tags: [] };
    const b = { tags: [], addr: { city: 2, q: 1 }, _id: "u", zz: 1 };
    expect(failure(USERS, a)).toEqual({ path: "addr.city", reason: "wrong_type" });
    expect(failure(USERS, b)).toEqual(failure(USERS, a));
  });

  it("works past 31 fields at one level", () => {
    const doc: Record<string, unknown> = { _id: "w" };
    for (let i = 0; i < 40; i += 2) doc[`f${String(i).padStart(2, "0")}`] = i;
    expectValid(WIDE, doc);
    expectValid(WIDE, { ...doc, f39: 1, f33: 2 });
    const missing = { ...doc };
    delete missing.f36;
    expectFails(WIDE, missing, "f36", "missing_field");
    expectFails(WIDE, { ...doc, f35: "x", f37: "y" }, "f35", "wrong_type");
    expectFails(WIDE, { ...doc, f355: 1 }, "f355", "unknown_field");
    expectFails(WIDE, { ...doc, f38: null }, "f38", "null_value");
  });
});

describe("names inherited from Object.prototype and __proto__", () => {
  it("never finds a declared field through the prototype", () => {
    expectValid(ORDER, { B: 1, _id: "x", a: 1, constructor: "c", toString: 3 });
    expectFails(ORDER, { B: 1, _id: "x", a: 1, constructor: 5 }, "constructor", "wrong_type");
    expectFails(ORDER, { B: 1, _id: "x", a: 1, toString: () => 1 }, "toString", "wrong_type");
    // Undeclared names that plain objects inherit are still unknown when present.
    expectFails(USERS, { ...alice(), hasOwnProperty: 1 }, "hasOwnProperty", "unknown_field");
  });

  it("refuses an own __proto__ key (as JSON.parse makes it) as unknown", () => {
    const doc = JSON.parse('{"_id":"u","tags":[],"__proto__":{"age":"x"}}');
    expectFails(USERS, doc, "__proto__", "unknown_field");
    const nested = JSON.parse('{"_id":"u","tags":[],"addr":{"city":"c","__proto__":1}}');
    expectFails(USERS, nested, "addr.__proto__", "unknown_field");
  });

  it("validates only own enumerable string keys, like canonical JSON", () => {
    const hidden = { _id: "u" } as Record<string, unknown>;
    Object.defineProperty(hidden, "tags", { value: [], enumerable: false });
    expectFails(USERS, hidden, "tags", "missing_field");
    const inherited = Object.create({ tags: [] }) as Record<string, unknown>;
    expectFails(USERS, inherited, "", "wrong_type");
    const sym = { ...alice(), [Symbol("x")]: 1 };
    expectValid(USERS, sym);
  });

  it("treats a present undefined as wrong_type, not as absent", () => {
    expectFails(USERS, { ...alice(), age: undefined }, "age", "wrong_type");
    expectFails(USERS, { ...alice(), _id: undefined }, "_id", "wrong_type");
    expectFails(USERS, { ...alice(), other: undefined }, "other", "unknown_field");
  });
});

describe("hostile documents", () => {
  it("does not recurse into 100,000 levels of nesting", () => {
    let deep: unknown = "x";
    for (let i = 0; i < 100_000; i++) deep = { d: deep };
    let deepArray: unknown = "x";
    for (let i = 0; i < 100_000; i++) deepArray = [deepArray];
    expectFails(USERS, { ...alice(), zzz: deep }, "zzz", "unknown_field");
    expectFails(USERS, { ...alice(), addr: { city: "c", d: deep } }, "addr.d", "unknown_field");
    expectFails(USERS, { ...alice(), addr: deep }, "addr.city", "missing_field");
    expectFails(USERS, { ...alice(), age: deep }, "age", "wrong_type");
    expectFails(USERS, { ...alice(), tags: deepArray }, "tags[0]", "wrong_type");
    expectFails(ALL, { _id: 1, s: "", m: deepArray }, "m[0][0]", "wrong_type");
  });

  it("handles 100,000 unknown keys quickly, naming the smallest", () => {
    const doc: Record<string, unknown> = { ...alice() };
    for (let i = 0; i < 100_000; i++) doc[`x${i}`] = i;
    doc.b = 1;
    const start = performance.now();
    expectFails(USERS, doc, "b", "unknown_field");
    expect(performance.now() - start).toBeLessThan(2000);
  });

  it("handles a 1,000,000-element array", () => {
    const tags = new Array<string>(1_000_000).fill("t");
    expectValid(USERS, { ...alice(), tags });
    tags[999_999] = 1 as unknown as string;
    expectFails(USERS, { ...alice(), tags }, "tags[999999]", "wrong_type");
  });

  it("keeps a hostile long key short in the path", () => {
    const key = "k".repeat(1_000_000);
    const r = failure(USERS, { ...alice(), [key]: 1 });
    expect(r).toEqual({ path: `${"k".repeat(128)}...`, reason: "unknown_field" });
  });

  it("turns a throwing getter or revoked Proxy into wrong_type at its path", () => {
    const doc = alice();
    Object.defineProperty(doc.addr, "city", {
      get() {
        throw new TypeError("boom");
      },
      enumerable: true,
    });
    expectFails(USERS, doc, "addr.city", "wrong_type");
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expectFails(USERS, { ...alice(), addr: proxy }, "addr", "wrong_type");
    expectFails(USERS, proxy, "", "wrong_type");
  });
});

describe("hand-built definitions", () => {
  it("validates against a definition that was not parsed (ordinary prototypes)", () => {
    const def: SchemaDefinition = {
      format_version: 1,
      schema_id: "hand",
      schema_version: "v1",
      fields: { _id: { type: "string", required: true }, n: { type: "int", required: false } },
      indexes: [],
    };
    expectValid(def, { _id: "a" });
    expectFails(def, { _id: "a", constructor: 1 }, "constructor", "unknown_field");
    expectFails(def, { _id: "" }, "_id", "wrong_type");
  });

  it("fails with an internal invariant (not a stack overflow) on a cyclic definition", () => {
    const node: { type: "object"; required: boolean; fields: Record<string, FieldNode> } = {
      type: "object",
      required: true,
      fields: {},
    };
    node.fields.self = node;
    const def: SchemaDefinition = {
      format_version: 1,
      schema_id: "cyc",
      schema_version: "v1",
      fields: { _id: { type: "string", required: true }, c: node },
      indexes: [],
    };
    expect(() => validateDocument(def, { _id: "a" })).toThrow(
      expect.objectContaining({ code: "AERO_INTERNAL_INVARIANT" }) as unknown as Error,
    );
  });
});

// ---------------------------------------------------------------------------------------
// Properties

/** A straightforward reference implementation of §3.6, to check the fast one against. */
function reference(def: SchemaDefinition, doc: unknown): { path: string; reason: ValidationReason } | null {
  const plain = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" &&
    v !== null &&
    !Array.isArray(v) &&
    (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);
  const join = (path: string, name: string) => (path === "" ? name : `${path}.${name}`);
  type R = { path: string; reason: ValidationReason } | null;
  const value = (node: ItemNode, v: unknown, path: string, isId: boolean): R => {
    if (v === null) return { path, reason: "null_value" };
    switch (node.type) {
      case "string":
        return typeof v === "string" && !(isId && v === "") ? null : { path, reason: "wrong_type" };
      case "int":
        if (typeof v !== "number") return { path, reason: "wrong_type" };
        if (!Number.isFinite(v)) return { path, reason: "not_finite" };
        if (!Number.isInteger(v)) return { path, reason: "wrong_type" };
        return Number.isSafeInteger(v) ? null : { path, reason: "not_safe_integer" };
      case "float":
        if (typeof v !== "number") return { path, reason: "wrong_type" };
        return Number.isFinite(v) ? null : { path, reason: "not_finite" };
      case "bool":
        return typeof v === "boolean" ? null : { path, reason: "wrong_type" };
      case "object":
        return plain(v) ? object(node.fields ?? {}, v, path, false) : { path, reason: "wrong_type" };
      case "array": {
        if (!Array.isArray(v)) return { path, reason: "wrong_type" };
        for (let i = 0; i < v.length; i++) {
          const r = value(node.items as ItemNode, v[i], `${path}[${i}]`, false);
          if (r !== null) return r;
        }
        return null;
      }
    }
  };
  const object = (
    fields: Readonly<Record<string, FieldNode>>,
    v: Record<string, unknown>,
    path: string,
    top: boolean,
  ): R => {
    const names = [...new Set([...Object.keys(fields), ...Object.keys(v)])].sort((a, b) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    for (const name of names) {
      const declared = Object.hasOwn(fields, name) ? fields[name] : undefined;
      const present = Object.keys(v).includes(name);
      if (declared === undefined) return { path: join(path, name), reason: "unknown_field" };
      if (!present) {
        if (declared.required) return { path: join(path, name), reason: "missing_field" };
        continue;
      }
      const r = value(declared, v[name], join(path, name), top && name === "_id");
      if (r !== null) return r;
    }
    return null;
  };
  if (doc === null) return { path: "", reason: "null_value" };
  if (!plain(doc)) return { path: "", reason: "wrong_type" };
  return object(def.fields, doc, "", true);
}

/** Documents matching a node: optional fields present or not. */
function matching(node: ItemNode): fc.Arbitrary<unknown> {
  switch (node.type) {
    case "string":
      return fc.string({ minLength: 1, maxLength: 6 });
    case "int":
      return fc.maxSafeInteger();
    case "float":
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case "bool":
      return fc.boolean();
    case "array":
      return fc.array(matching(node.items as ItemNode), { maxLength: 4 });
    case "object":
      return matchingObject(node.fields ?? {});
  }
}

function matchingObject(fields: Readonly<Record<string, FieldNode>>): fc.Arbitrary<Record<string, unknown>> {
  const names = Object.keys(fields);
  const shape = Object.fromEntries(names.map((n) => [n, matching(fields[n] as FieldNode)]));
  const required = names.filter((n) => fields[n]?.required);
  return fc.record(shape, { requiredKeys: required });
}

/** A matching document with one random local change (value swapped, key dropped or added). */
function mutated(def: SchemaDefinition): fc.Arbitrary<unknown> {
  const junk = fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(null, 2 ** 53, 1.5, Number.NaN, Number.POSITIVE_INFINITY, "", undefined, -0),
    // Fresh empty containers each time: a shared one could be edited into a cycle.
    fc.constantFrom("array", "object").map((kind) => (kind === "array" ? [] : {})),
  );
  const extraKey = fc.constantFrom(
    "zz",
    "A",
    "_",
    "b",
    "constructor",
    "__proto__",
    "city",
    "age",
    "tags",
    "o",
  );
  return fc
    .tuple(
      matchingObject(def.fields),
      fc.array(fc.tuple(fc.nat(), fc.nat(2), junk, extraKey), { maxLength: 3 }),
    )
    .map(([doc, edits]) => {
      for (const [pick, kind, v, key] of edits) {
        // Collect every object in the document, pick one, and change it.
        const objects: Record<string, unknown>[] = [];
        const walk = (x: unknown): void => {
          if (Array.isArray(x)) for (const y of x) walk(y);
          else if (typeof x === "object" && x !== null) {
            objects.push(x as Record<string, unknown>);
            for (const y of Object.values(x)) walk(y);
          }
        };
        walk(doc);
        const target = objects[pick % objects.length] as Record<string, unknown>;
        const keys = Object.keys(target);
        if (kind === 0 && keys.length > 0) target[keys[pick % keys.length] as string] = v;
        else if (kind === 1 && keys.length > 0) delete target[keys[pick % keys.length] as string];
        else
          Object.defineProperty(target, key, {
            value: v,
            enumerable: true,
            writable: true,
            configurable: true,
          });
      }
      return doc;
    });
}

const SCHEMAS = [USERS, ALL, ORDER, WIDE];

function checkAgainstReference(def: SchemaDefinition, doc: unknown): void {
  const got = failure(def, doc);
  if (got !== null) expect(VALIDATION_REASONS).toContain(got.reason);
  expect(got).toEqual(reference(def, doc));
}

describe("validateDocument: properties", () => {
  it("any JSON value: passes or fails with a reason from the closed list (and agrees with the reference)", () => {
    fc.assert(
      fc.property(fc.constantFrom(...SCHEMAS), fc.jsonValue(), (def, doc) => checkAgainstReference(def, doc)),
      { numRuns: runs(2000), seed: seedOf("val-json") },
    );
  });

  it("any JSON object shaped like a document: same", () => {
    const docLike = fc.dictionary(
      fc.constantFrom("_id", "age", "tags", "addr", "s", "i", "f", "b", "o", "m", "rows", "B", "a", "zz"),
      fc.jsonValue({ maxDepth: 3 }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...SCHEMAS), docLike, (def, doc) => checkAgainstReference(def, doc)),
      { numRuns: runs(2000), seed: seedOf("val-doclike") },
    );
  });

  it("any value at all (non-JSON included): passes or fails with a closed-list reason", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SCHEMAS),
        fc.anything({ withNullPrototype: true, withBigInt: true }),
        (def, doc) => checkAgainstReference(def, doc),
      ),
      { numRuns: runs(2000), seed: seedOf("val-anything") },
    );
  });

  it("documents generated to match a schema always validate", () => {
    for (const def of SCHEMAS) {
      fc.assert(
        fc.property(matchingObject(def.fields), (doc) => {
          validateDocument(def, doc);
          validateDocument(def, JSON.parse(JSON.stringify(doc)));
        }),
        { numRuns: runs(500), seed: seedOf(`val-matching-${def.schema_id}`) },
      );
    }
  });

  it("mutated documents: the first violation agrees with the reference implementation", () => {
    for (const def of SCHEMAS) {
      let failed = 0;
      fc.assert(
        fc.property(mutated(def), (doc) => {
          checkAgainstReference(def, doc);
          if (failure(def, doc) !== null) failed++;
        }),
        { numRuns: runs(1000), seed: seedOf(`val-mutated-${def.schema_id}`) },
      );
      expect(failed).toBeGreaterThan(runs(1000) / 4);
    }
  });
});
