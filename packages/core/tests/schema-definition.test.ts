import { AeroError, seedList } from "@aerodb/base";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../src/canonical-json.js";
import {
  canonicalSchemaText,
  DEFINITION_REASONS,
  type DefinitionReason,
  MAX_SCHEMA_DEPTH,
  MAX_SCHEMA_FIELDS,
  MAX_SCHEMA_INDEXES,
  parseSchemaDefinition,
  schemaFieldType,
} from "../src/schema/definition.js";
import type { SchemaDefinition } from "../src/schema/types.js";

// core.md §3.1–3.4: the definition format, every rule, and hostile inputs.

const runs = (base: number): number => base * Math.max(1, Number(process.env.AERODB_RUNS ?? "1") || 1);
const seedOf = (name: string): number => seedList(name, 1)[0] as number;

const USERS_TEXT = `{"format_version":1, "schema_id":"users", "schema_version":"v1",
 "fields":{"_id":{"type":"string","required":true}, "age":{"type":"int","required":false},
   "tags":{"type":"array","required":true,"items":{"type":"string"}},
   "addr":{"type":"object","required":false,"fields":{"city":{"type":"string","required":true}}}},
 "indexes":["age"]}`;

/** Test fixtures are edited freely (deep property writes, deletes). */
// biome-ignore lint/suspicious/noExplicitAny: fixtures are untyped JSON that tests mutate at any depth.
type Loose = Record<string, any>;

/** A fresh, mutable copy of the §3 example. */
function users(): Loose {
  return JSON.parse(USERS_TEXT) as Loose;
}

/** A minimal valid definition with the given extra top-level fields. */
function withFields(fields: Record<string, unknown>, indexes: unknown[] = []): Loose {
  return {
    format_version: 1,
    schema_id: "t",
    schema_version: "v1",
    fields: { _id: { type: "string", required: true }, ...fields },
    indexes,
  };
}

function refusal(input: unknown): { path: string; reason: string; message: string } {
  try {
    parseSchemaDefinition(input);
  } catch (err) {
    expect(err).toBeInstanceOf(AeroError);
    const e = err as AeroError;
    expect(e.code).toBe("AERO_SCHEMA_INVALID_DEFINITION");
    expect(e.severity).toBe("REJECT");
    const details = e.details as { path: unknown; reason: unknown };
    expect(typeof details.path).toBe("string");
    expect(DEFINITION_REASONS).toContain(details.reason);
    return { path: details.path as string, reason: details.reason as string, message: e.message };
  }
  throw new Error(`expected a refusal, the definition parsed: ${JSON.stringify(input)}`);
}

function expectRefused(input: unknown, path: string, reason: DefinitionReason): void {
  const r = refusal(input);
  expect({ path: r.path, reason: r.reason }).toEqual({ path, reason });
}

/** An object field nested `depth` levels deep: the innermost node is at depth `depth`. */
function nestedObjects(depth: number): Record<string, unknown> {
  let node: Record<string, unknown> = { type: "string", required: true };
  for (let d = depth; d > 1; d--) node = { type: "object", required: true, fields: { n: node } };
  return node;
}

function nestedPath(depth: number): string {
  return `fields.n${".fields.n".repeat(depth - 1)}`;
}

describe("parseSchemaDefinition: valid definitions", () => {
  it("parses the §3 example to the same data, frozen, with canonical text", () => {
    const def = parseSchemaDefinition(users());
    expect(canonicalSchemaText(def)).toBe(canonicalJson(users()));
    expect(JSON.parse(canonicalSchemaText(def))).toEqual(users());
    expect(Object.isFrozen(def)).toBe(true);
    expect(Object.isFrozen(def.fields)).toBe(true);
    expect(Object.isFrozen(def.fields.addr)).toBe(true);
    expect(Object.isFrozen(def.fields.addr?.fields)).toBe(true);
    expect(Object.isFrozen(def.indexes)).toBe(true);
    expect(Object.getPrototypeOf(def.fields)).toBe(null);
    expect(def.indexes).toEqual(["age"]);
    expect(def.fields.tags?.items).toEqual({ type: "string" });
    expect("required" in (def.fields.tags?.items ?? {})).toBe(false);
  });

  it("does not alias its input: later changes to the input do not reach the definition", () => {
    const input = users();
    const def = parseSchemaDefinition(input);
    input.fields.age.type = "string";
    input.indexes.push("tags");
    expect(def.fields.age?.type).toBe("int");
    expect(def.indexes).toEqual(["age"]);
  });

  it("gives the same canonical text whatever the key order, and is a fixed point", () => {
    const a = parseSchemaDefinition(users());
    const shuffled = JSON.parse(
      `{"indexes":["age"],"fields":{"addr":{"fields":{"city":{"required":true,"type":"string"}},"type":"object","required":false},
       "tags":{"items":{"type":"string"},"required":true,"type":"array"},"age":{"required":false,"type":"int"},
       "_id":{"required":true,"type":"string"}},"schema_version":"v1","schema_id":"users","format_version":1}`,
    );
    const b = parseSchemaDefinition(shuffled);
    expect(canonicalSchemaText(b)).toBe(canonicalSchemaText(a));
    const again = parseSchemaDefinition(JSON.parse(canonicalSchemaText(a)));
    expect(canonicalSchemaText(again)).toBe(canonicalSchemaText(a));
  });

  it("accepts an optional string description and keeps it", () => {
    const def = parseSchemaDefinition({ ...users(), description: "People. ☃" });
    expect(def.description).toBe("People. ☃");
    expect(canonicalSchemaText(def)).toContain('"description":"People. ☃"');
    expect("description" in parseSchemaDefinition(users())).toBe(false);
  });

  it("accepts every field type, an empty nested object, int _id and every scalar index", () => {
    const def = parseSchemaDefinition({
      ...withFields({
        s: { type: "string", required: true },
        i: { type: "int", required: false },
        f: { type: "float", required: true },
        b: { type: "bool", required: false },
        o: { type: "object", required: false, fields: {} },
        a: { type: "array", required: false, items: { type: "array", items: { type: "float" } } },
      }),
      indexes: ["s", "i", "f", "b"],
    });
    expect(def.indexes).toEqual(["s", "i", "f", "b"]);
    expect(def.fields.a?.items?.items?.type).toBe("float");
    const intId = parseSchemaDefinition({
      ...withFields({}),
      fields: { _id: { type: "int", required: true } },
    });
    expect(intId.fields._id?.type).toBe("int");
  });

  it("accepts an empty index list and a null-prototype input", () => {
    const input = Object.assign(Object.create(null) as object, withFields({}));
    expect(parseSchemaDefinition(input).indexes).toEqual([]);
  });

  it("accepts names inherited by plain objects as ordinary field names", () => {
    const def = parseSchemaDefinition(
      withFields(
        {
          constructor: { type: "int", required: true },
          toString: { type: "string", required: false },
          hasOwnProperty: { type: "bool", required: false },
        },
        ["constructor"],
      ),
    );
    expect(schemaFieldType(def, "constructor")).toBe("int");
    expect(schemaFieldType(def, "toString")).toBe("string");
    expect(def.indexes).toEqual(["constructor"]);
  });
});

describe("parseSchemaDefinition: top-level keys", () => {
  it("refuses a non-object definition", () => {
    class Shape {
      format_version = 1;
    }
    for (const input of [null, undefined, 1, "x", true, [], [users()], new Date(0), new Map(), new Shape()]) {
      expectRefused(input, "", "not_object");
    }
  });

  it("refuses unknown keys, reporting the smallest in code unit order", () => {
    expectRefused({ ...users(), extra: 1 }, "extra", "unknown_key");
    expectRefused({ ...users(), zeta: 1, Alpha: 2, beta: 3 }, "Alpha", "unknown_key");
    expectRefused(JSON.parse(`{"__proto__":{"x":1},${USERS_TEXT.slice(1)}`), "__proto__", "unknown_key");
    expectRefused({ ...users(), required: true }, "required", "unknown_key");
  });

  it("refuses a missing required key", () => {
    for (const key of ["format_version", "schema_id", "schema_version", "fields", "indexes"]) {
      const input = users();
      delete input[key];
      expectRefused(input, key, "missing_key");
    }
  });

  it("requires format_version 1 exactly", () => {
    expect(parseSchemaDefinition({ ...users(), format_version: 1.0 }).format_version).toBe(1);
    for (const v of [0, 2, -1, 1.5])
      expectRefused({ ...users(), format_version: v }, "format_version", "bad_value");
    for (const v of ["1", true, null, [1], { v: 1 }]) {
      const r = refusal({ ...users(), format_version: v });
      expect(r.path).toBe("format_version");
      expect(["bad_value", "wrong_type"]).toContain(r.reason);
    }
  });

  it("checks schema_id against ^[a-z][a-z0-9_]{0,63}$", () => {
    for (const id of ["a", "a_1", "users", "z9", `a${"b".repeat(63)}`]) {
      expect(parseSchemaDefinition({ ...users(), schema_id: id }).schema_id).toBe(id);
    }
    for (const id of [
      "",
      "A",
      "Users",
      "1a",
      "_a",
      "a-b",
      "a b",
      "é",
      "a\n",
      `a${"b".repeat(64)}`,
      "__proto__",
    ]) {
      expectRefused({ ...users(), schema_id: id }, "schema_id", "bad_format");
    }
    for (const id of [1, null, true, ["a"], { a: 1 }]) {
      expectRefused({ ...users(), schema_id: id }, "schema_id", "wrong_type");
    }
  });

  it("checks schema_version against ^v[1-9][0-9]{0,8}$", () => {
    for (const v of ["v1", "v9", "v10", "v999999999", "v100000000"]) {
      expect(parseSchemaDefinition({ ...users(), schema_version: v }).schema_version).toBe(v);
    }
    for (const v of ["", "v", "v0", "v01", "V1", "1", "v1.0", "v-1", "v1234567890", " v1", "v1 "]) {
      expectRefused({ ...users(), schema_version: v }, "schema_version", "bad_format");
    }
    for (const v of [1, null, false, ["v1"]]) {
      expectRefused({ ...users(), schema_version: v }, "schema_version", "wrong_type");
    }
  });

  it("requires description, when present, to be a string", () => {
    for (const d of [1, null, true, ["x"], { x: 1 }]) {
      expectRefused({ ...users(), description: d }, "description", "wrong_type");
    }
    expectRefused({ ...users(), description: undefined }, "description", "wrong_type");
  });

  it("refuses wrong types for fields and indexes", () => {
    for (const v of [null, 1, "x", true, [], [{ type: "string", required: true }]]) {
      expectRefused({ ...users(), fields: v }, "fields", "not_object");
    }
    for (const v of [null, 1, "age", true, { 0: "age" }]) {
      expectRefused({ ...users(), indexes: v }, "indexes", "not_array");
    }
  });
});

describe("parseSchemaDefinition: field names", () => {
  it("accepts names matching ^[A-Za-z_][A-Za-z0-9_]{0,63}$", () => {
    for (const name of [
      "a",
      "A",
      "_",
      "__",
      "_x",
      "a_B9",
      "Z",
      `a${"b".repeat(63)}`,
      "prototype",
      "valueOf",
    ]) {
      const def = parseSchemaDefinition(withFields({ [name]: { type: "int", required: false } }));
      expect(schemaFieldType(def, name)).toBe("int");
    }
  });

  it("refuses other names with bad_format", () => {
    const long = `a${"b".repeat(64)}`;
    for (const name of [
      "",
      "9a",
      "a-b",
      "a.b",
      " a",
      "a ",
      "é",
      "日本",
      "a\u0000",
      "ﬀ",
      "a$",
      "$",
      "😀",
      long,
    ]) {
      expectRefused(withFields({ [name]: { type: "int", required: false } }), `fields.${name}`, "bad_format");
    }
    expectRefused(
      withFields({
        addr: { type: "object", required: true, fields: { "x-y": { type: "int", required: true } } },
      }),
      "fields.addr.fields.x-y",
      "bad_format",
    );
  });

  it("keeps hostile long names short in error paths", () => {
    const name = "x".repeat(100_000);
    const r = refusal(withFields({ [name]: { type: "int", required: false } }));
    expect(r.reason).toBe("bad_format");
    expect(r.path).toBe(`fields.${"x".repeat(128)}...`);
    expect(r.message.length).toBeLessThan(400);
  });

  it("refuses __proto__ as a field name, from JSON text or defineProperty", () => {
    const text = `{"format_version":1,"schema_id":"t","schema_version":"v1","indexes":[],
      "fields":{"_id":{"type":"string","required":true},"__proto__":{"type":"int","required":true}}}`;
    const parsed = JSON.parse(text);
    expect(Object.hasOwn(parsed.fields, "__proto__")).toBe(true);
    expectRefused(parsed, "fields.__proto__", "reserved_name");
    const nested = JSON.parse(
      `{"format_version":1,"schema_id":"t","schema_version":"v1","indexes":[],
        "fields":{"_id":{"type":"string","required":true},
          "o":{"type":"object","required":true,"fields":{"__proto__":{"type":"int","required":true}}}}}`,
    );
    expectRefused(nested, "fields.o.fields.__proto__", "reserved_name");
    const fields: Record<string, unknown> = { _id: { type: "string", required: true } };
    Object.defineProperty(fields, "__proto__", {
      value: { type: "int", required: true },
      enumerable: true,
      configurable: true,
      writable: true,
    });
    expectRefused({ ...withFields({}), fields }, "fields.__proto__", "reserved_name");
    // Polluting attempts never reach Object.prototype.
    expect(({} as Record<string, unknown>).type).toBeUndefined();
  });

  it("checks names in code unit order: the smallest bad name is reported", () => {
    const input = withFields({
      "b-b": { type: "int", required: true },
      "A-A": { type: "int", required: true },
      a: { type: "nope", required: true },
    });
    expectRefused(input, "fields.A-A", "bad_format");
  });
});

describe("parseSchemaDefinition: field nodes", () => {
  it("requires type and required on a field node", () => {
    expectRefused(withFields({ a: { required: true } }), "fields.a.type", "missing_key");
    expectRefused(withFields({ a: { type: "int" } }), "fields.a.required", "missing_key");
    expectRefused(withFields({ a: {} }), "fields.a.type", "missing_key");
  });

  it("refuses a type outside the closed set", () => {
    for (const t of ["String", "integer", "number", "null", "date", "", "any"]) {
      expectRefused(withFields({ a: { type: t, required: true } }), "fields.a.type", "bad_value");
    }
    for (const t of [1, null, true, ["string"], { type: "string" }]) {
      const r = refusal(withFields({ a: { type: t, required: true } }));
      expect(r.path).toBe("fields.a.type");
      expect(["bad_value", "wrong_type"]).toContain(r.reason);
    }
  });

  it("refuses a non-boolean required", () => {
    for (const v of ["true", 1, 0, null, [], {}]) {
      expectRefused(withFields({ a: { type: "int", required: v } }), "fields.a.required", "wrong_type");
    }
  });

  it("refuses a node that is not an object", () => {
    for (const v of ["int", 1, null, true, [], [{ type: "int", required: true }]]) {
      expectRefused(withFields({ a: v }), "fields.a", "not_object");
    }
  });

  it("refuses unknown keys in a node", () => {
    expectRefused(
      withFields({ a: { type: "int", required: true, default: 0 } }),
      "fields.a.default",
      "unknown_key",
    );
    expectRefused(
      withFields({ a: { type: "int", required: true, nullable: true } }),
      "fields.a.nullable",
      "unknown_key",
    );
  });

  it("requires fields iff object and items iff array", () => {
    expectRefused(withFields({ o: { type: "object", required: true } }), "fields.o.fields", "missing_key");
    expectRefused(withFields({ a: { type: "array", required: true } }), "fields.a.items", "missing_key");
    expectRefused(
      withFields({ s: { type: "string", required: true, fields: {} } }),
      "fields.s.fields",
      "not_allowed",
    );
    expectRefused(
      withFields({ s: { type: "int", required: true, items: { type: "int" } } }),
      "fields.s.items",
      "not_allowed",
    );
    expectRefused(
      withFields({ o: { type: "object", required: true, fields: {}, items: { type: "int" } } }),
      "fields.o.items",
      "not_allowed",
    );
    expectRefused(
      withFields({ a: { type: "array", required: true, items: { type: "int" }, fields: {} } }),
      "fields.a.fields",
      "not_allowed",
    );
    expectRefused(
      withFields({ o: { type: "object", required: true, fields: [] } }),
      "fields.o.fields",
      "not_object",
    );
    expectRefused(
      withFields({ o: { type: "object", required: true, fields: null } }),
      "fields.o.fields",
      "not_object",
    );
    expectRefused(
      withFields({ a: { type: "array", required: true, items: "int" } }),
      "fields.a.items",
      "not_object",
    );
    expectRefused(
      withFields({ a: { type: "array", required: true, items: [] } }),
      "fields.a.items",
      "not_object",
    );
  });

  it("refuses required (or anything else) in an items node", () => {
    expectRefused(
      withFields({ a: { type: "array", required: true, items: { type: "int", required: true } } }),
      "fields.a.items.required",
      "unknown_key",
    );
    expectRefused(
      withFields({
        a: {
          type: "array",
          required: true,
          items: { type: "array", items: { type: "int", required: false } },
        },
      }),
      "fields.a.items.items.required",
      "unknown_key",
    );
    expectRefused(
      withFields({ a: { type: "array", required: true, items: {} } }),
      "fields.a.items.type",
      "missing_key",
    );
    expectRefused(
      withFields({ a: { type: "array", required: true, items: { type: "integer" } } }),
      "fields.a.items.type",
      "bad_value",
    );
  });

  it("validates nodes under items: objects in arrays need fields with required", () => {
    const ok = parseSchemaDefinition(
      withFields({
        a: {
          type: "array",
          required: true,
          items: { type: "object", fields: { x: { type: "int", required: true } } },
        },
      }),
    );
    expect(ok.fields.a?.items?.fields?.x?.required).toBe(true);
    expectRefused(
      withFields({
        a: { type: "array", required: true, items: { type: "object", fields: { x: { type: "int" } } } },
      }),
      "fields.a.items.fields.x.required",
      "missing_key",
    );
  });

  it("accepts arrays of arrays of arrays", () => {
    const def = parseSchemaDefinition(
      withFields({
        m: {
          type: "array",
          required: true,
          items: { type: "array", items: { type: "array", items: { type: "int" } } },
        },
      }),
    );
    expect(def.fields.m?.items?.items?.items?.type).toBe("int");
  });
});

describe("parseSchemaDefinition: depth and size bounds", () => {
  it(`accepts depth ${MAX_SCHEMA_DEPTH} and refuses depth ${MAX_SCHEMA_DEPTH + 1} (nested objects)`, () => {
    expect(MAX_SCHEMA_DEPTH).toBe(8);
    const ok = parseSchemaDefinition(withFields({ n: nestedObjects(8) }));
    let node = ok.fields.n;
    for (let d = 1; d < 8; d++) node = node?.fields?.n;
    expect(node?.type).toBe("string");
    expectRefused(withFields({ n: nestedObjects(9) }), nestedPath(9), "too_deep");
  });

  it("counts array items levels as depth too", () => {
    const chain = (levels: number): Record<string, unknown> => {
      // A top-level array (depth 1) whose items chain reaches depth `levels`.
      let items: Record<string, unknown> = { type: "int" };
      for (let d = levels; d > 2; d--) items = { type: "array", items };
      return { type: "array", required: true, items };
    };
    expect(parseSchemaDefinition(withFields({ m: chain(8) })).fields.m?.type).toBe("array");
    expectRefused(withFields({ m: chain(9) }), `fields.m${".items".repeat(8)}`, "too_deep");
    // Mixed: object (1) -> array (2) -> items object (3) -> ... a node at depth 9 is refused.
    const mixed = {
      type: "object",
      required: true,
      fields: {
        a: { type: "array", required: true, items: { type: "object", fields: { n: nestedObjects(6) } } },
      },
    };
    expectRefused(
      withFields({ o: mixed }),
      `fields.o.fields.a.items.fields.n${".fields.n".repeat(5)}`,
      "too_deep",
    );
    const mixedOk = {
      ...mixed,
      fields: { a: { ...mixed.fields.a, items: { type: "object", fields: { n: nestedObjects(5) } } } },
    };
    expect(parseSchemaDefinition(withFields({ o: mixedOk })).fields.o?.type).toBe("object");
  });

  it("refuses hostile 100,000-deep nesting without overflowing the stack", () => {
    let node: Record<string, unknown> = { type: "string", required: true };
    for (let d = 0; d < 100_000; d++) node = { type: "object", required: true, fields: { n: node } };
    expectRefused(withFields({ n: node }), nestedPath(9), "too_deep");
    let items: Record<string, unknown> = { type: "int" };
    for (let d = 0; d < 100_000; d++) items = { type: "array", items };
    expectRefused(
      withFields({ m: { type: "array", required: true, items } }),
      `fields.m${".items".repeat(8)}`,
      "too_deep",
    );
  });

  it(`accepts ${MAX_SCHEMA_FIELDS} fields in all and refuses one more, anywhere in the tree`, () => {
    expect(MAX_SCHEMA_FIELDS).toBe(1024);
    const fields = (n: number, prefix: string): Record<string, unknown> =>
      Object.fromEntries(
        Array.from({ length: n }, (_, i) => [`${prefix}${i}`, { type: "int", required: false }]),
      );
    // _id + 1023 top-level = 1024.
    expect(Object.keys(parseSchemaDefinition(withFields(fields(1023, "f"))).fields)).toHaveLength(1024);
    expectRefused(withFields(fields(1024, "f")), "fields", "too_many_fields");
    // _id + o + 500 top + 522 nested = 1024; one more nested is refused at the nested map.
    const spread = (nested: number) =>
      withFields({ ...fields(500, "f"), o: { type: "object", required: true, fields: fields(nested, "g") } });
    expect(parseSchemaDefinition(spread(522)).fields.o?.type).toBe("object");
    expectRefused(spread(523), "fields.o.fields", "too_many_fields");
  });

  it("refuses 10,000 and 100,000 fields quickly", () => {
    for (const n of [10_000, 100_000]) {
      const many: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) many[`f${i}`] = { type: "int", required: false };
      const input = withFields(many);
      const start = performance.now();
      expectRefused(input, "fields", "too_many_fields");
      expect(performance.now() - start).toBeLessThan(2000);
    }
  });

  it("refuses a node with 100,000 unknown keys quickly, naming the smallest", () => {
    const node: Record<string, unknown> = { type: "int", required: true };
    for (let i = 0; i < 100_000; i++) node[`k${i}`] = i;
    const input = withFields({ a: node });
    const start = performance.now();
    expectRefused(input, "fields.a.k0", "unknown_key");
    expect(performance.now() - start).toBeLessThan(2000);
  });
});

describe("parseSchemaDefinition: _id", () => {
  it("requires _id to be declared at the top level", () => {
    const input = withFields({ a: { type: "int", required: true } });
    delete input.fields._id;
    expectRefused(input, "fields._id", "missing_id");
    expectRefused(
      {
        ...input,
        fields: {
          a: { type: "object", required: true, fields: { _id: { type: "string", required: true } } },
        },
      },
      "fields._id",
      "missing_id",
    );
    expectRefused({ ...input, fields: {} }, "fields._id", "missing_id");
  });

  it("requires _id to be required, of type string or int", () => {
    expectRefused(
      { ...withFields({}), fields: { _id: { type: "string", required: false } } },
      "fields._id.required",
      "id_not_required",
    );
    for (const type of ["float", "bool"]) {
      expectRefused(
        { ...withFields({}), fields: { _id: { type, required: true } } },
        "fields._id.type",
        "bad_id_type",
      );
    }
    expectRefused(
      { ...withFields({}), fields: { _id: { type: "object", required: true, fields: {} } } },
      "fields._id.type",
      "bad_id_type",
    );
    expectRefused(
      { ...withFields({}), fields: { _id: { type: "array", required: true, items: { type: "string" } } } },
      "fields._id.type",
      "bad_id_type",
    );
  });
});

describe("parseSchemaDefinition: indexes", () => {
  const fields = {
    s: { type: "string", required: true },
    i: { type: "int", required: false },
    o: { type: "object", required: false, fields: { c: { type: "int", required: true } } },
    a: { type: "array", required: false, items: { type: "int" } },
  };

  it("refuses listing _id: it is always indexed", () => {
    expectRefused(withFields(fields, ["_id"]), "indexes.0", "id_always_indexed");
    expectRefused(withFields(fields, ["s", "_id"]), "indexes.1", "id_always_indexed");
  });

  it("refuses an index on an object or array field (scenario 16)", () => {
    expectRefused(withFields(fields, ["o"]), "indexes.0", "index_not_scalar");
    expectRefused(withFields(fields, ["s", "a"]), "indexes.1", "index_not_scalar");
    expectRefused({ ...users(), indexes: ["addr"] }, "indexes.0", "index_not_scalar");
  });

  it("refuses duplicates, undeclared, nested and non-string entries", () => {
    expectRefused(withFields(fields, ["s", "i", "s"]), "indexes.2", "duplicate_index");
    expectRefused(withFields(fields, ["nope"]), "indexes.0", "unknown_index_field");
    expectRefused(withFields(fields, ["o.c"]), "indexes.0", "unknown_index_field");
    expectRefused(withFields(fields, ["c"]), "indexes.0", "unknown_index_field");
    expectRefused(withFields(fields, ["constructor"]), "indexes.0", "unknown_index_field");
    expectRefused(withFields(fields, ["__proto__"]), "indexes.0", "unknown_index_field");
    expectRefused(withFields(fields, [""]), "indexes.0", "unknown_index_field");
    for (const v of [1, null, true, ["s"], { s: 1 }]) {
      expectRefused(withFields(fields, ["s", v]), "indexes.1", "wrong_type");
    }
  });

  it("refuses holes in the index array", () => {
    const sparse: unknown[] = ["s"];
    sparse[2] = "i";
    expectRefused(withFields(fields, sparse), "indexes.1", "not_plain_data");
  });

  it(`accepts ${MAX_SCHEMA_INDEXES} indexes and refuses more`, () => {
    expect(MAX_SCHEMA_INDEXES).toBe(256);
    const many = Object.fromEntries(
      Array.from({ length: 300 }, (_, i) => [`f${i}`, { type: "int", required: false }]),
    );
    const names = Object.keys(many);
    expect(parseSchemaDefinition(withFields(many, names.slice(0, 256))).indexes).toHaveLength(256);
    expectRefused(withFields(many, names.slice(0, 257)), "indexes", "too_many_indexes");
    const input = withFields(many, new Array(1_000_000).fill("f1"));
    const start = performance.now();
    expectRefused(input, "indexes", "too_many_indexes");
    expect(performance.now() - start).toBeLessThan(2000);
  });

  it("keeps the declared index order", () => {
    expect(parseSchemaDefinition(withFields(fields, ["i", "s"])).indexes).toEqual(["i", "s"]);
  });
});

describe("parseSchemaDefinition: non-plain inputs", () => {
  it("refuses symbol keys, getters, non-enumerable properties and undefined values", () => {
    const sym = users();
    (sym as Record<symbol, unknown>)[Symbol("x")] = 1;
    expectRefused(sym, "", "not_plain_data");

    const getter = users();
    Object.defineProperty(getter.fields, "age", {
      get: () => ({ type: "int", required: false }),
      enumerable: true,
    });
    expectRefused(getter, "fields.age", "not_plain_data");

    const hidden = users();
    Object.defineProperty(hidden.fields, "x", { value: { type: "int", required: true }, enumerable: false });
    expectRefused(hidden, "fields.x", "not_plain_data");

    expectRefused(withFields({ a: undefined }), "fields.a", "wrong_type");
    expectRefused(
      withFields({ a: { type: "int", required: true, fields: undefined } }),
      "fields.a.fields",
      "wrong_type",
    );
  });

  it("refuses class instances and exotic objects as nodes", () => {
    class Node {
      type = "int";
      required = true;
    }
    expectRefused(withFields({ a: new Node() }), "fields.a", "not_object");
    expectRefused(withFields({ a: new Map([["type", "int"]]) }), "fields.a", "not_object");
  });

  it("turns a throwing Proxy into INVALID_DEFINITION, never a TypeError", () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expectRefused(proxy, "", "unreadable");
    const hostile = new Proxy(users(), {
      ownKeys() {
        throw new RangeError("boom");
      },
    });
    expectRefused(hostile, "", "unreadable");
    const cause = (() => {
      try {
        parseSchemaDefinition(hostile);
      } catch (err) {
        return (err as AeroError).cause;
      }
      return undefined;
    })();
    expect(cause).toBeInstanceOf(RangeError);
  });
});

describe("schemaFieldType", () => {
  const def = parseSchemaDefinition(users());

  it("gives top-level field types and null for anything else", () => {
    expect(schemaFieldType(def, "_id")).toBe("string");
    expect(schemaFieldType(def, "age")).toBe("int");
    expect(schemaFieldType(def, "tags")).toBe("array");
    expect(schemaFieldType(def, "addr")).toBe("object");
    for (const f of [
      "city",
      "addr.city",
      "nope",
      "",
      "constructor",
      "__proto__",
      "toString",
      "hasOwnProperty",
    ]) {
      expect(schemaFieldType(def, f)).toBeNull();
    }
  });

  it("works on a hand-built definition with an ordinary prototype", () => {
    const hand: SchemaDefinition = {
      format_version: 1,
      schema_id: "h",
      schema_version: "v1",
      fields: { _id: { type: "int", required: true } },
      indexes: [],
    };
    expect(schemaFieldType(hand, "_id")).toBe("int");
    expect(schemaFieldType(hand, "constructor")).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------
// Properties

const FIELD_TYPES = ["string", "int", "float", "bool", "object", "array"] as const;
const SCALARS = ["string", "int", "float", "bool"] as const;

/** Mostly a good value, sometimes any JSON value. */
function chaos<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<unknown> {
  return fc.oneof({ arbitrary: arb, weight: 12 }, { arbitrary: fc.jsonValue({ maxDepth: 2 }), weight: 1 });
}

/** Usually null, once in a while a value. */
function rarely<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | null> {
  return fc.oneof({ arbitrary: fc.constant(null), weight: 15 }, { arbitrary: arb, weight: 1 });
}

/** Sometimes drops a key, sometimes adds one (as an own property, even __proto__). */
function mutateRecord(arb: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<unknown> {
  const extraKey = fc.oneof(
    fc.constantFrom("required", "fields", "items", "type", "extra", "__proto__", "description"),
    fc.string({ maxLength: 4 }),
  );
  return fc
    .tuple(arb, rarely(fc.nat()), rarely(fc.tuple(extraKey, fc.jsonValue({ maxDepth: 1 }))))
    .map(([record, drop, add]) => {
      const out: Record<string, unknown> = { ...record };
      const keys = Object.keys(out);
      if (drop !== null && keys.length > 0) delete out[keys[drop % keys.length] as string];
      if (add !== null) {
        Object.defineProperty(out, add[0], {
          value: add[1],
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    });
}

const nameArb = fc.oneof(
  { arbitrary: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,6}$/), weight: 10 },
  {
    arbitrary: fc.constantFrom("_id", "constructor", "__proto__", "", "9x", "a-b", "x".repeat(65), "é"),
    weight: 2,
  },
);

function fieldsArb(depth: number, maxKeys: number): fc.Arbitrary<unknown> {
  return chaos(
    fc.dictionary(nameArb, nodeArb(depth, false), { maxKeys, noNullPrototype: false }).map((d) => ({ ...d })),
  );
}

const nodeCache = new Map<string, fc.Arbitrary<unknown>>();
function nodeArb(depth: number, isItem: boolean): fc.Arbitrary<unknown> {
  const key = `${depth}/${isItem}`;
  const hit = nodeCache.get(key);
  if (hit !== undefined) return hit;
  const base = (type: fc.Arbitrary<unknown>, extra: Record<string, fc.Arbitrary<unknown>>) =>
    mutateRecord(
      fc.record<Record<string, unknown>>(
        isItem
          ? { type: chaos(type), ...extra }
          : { type: chaos(type), required: chaos(fc.boolean()), ...extra },
      ),
    );
  const leaf = base(fc.constantFrom(...SCALARS), {});
  const arb =
    depth >= 10
      ? leaf
      : fc.oneof(
          { arbitrary: leaf, weight: 4 },
          { arbitrary: base(fc.constant("object"), { fields: fieldsArb(depth + 1, 3) }), weight: 1 },
          { arbitrary: base(fc.constant("array"), { items: nodeArb(depth + 1, true) }), weight: 1 },
          { arbitrary: base(fc.constantFrom(...FIELD_TYPES), {}), weight: 1 },
        );
  nodeCache.set(key, arb);
  return arb;
}

/** Mostly `good`, sometimes `bad`. */
function mostly<T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<T>): fc.Arbitrary<T> {
  return fc.oneof({ arbitrary: good, weight: 10 }, { arbitrary: bad, weight: 1 });
}

const definitionArb: fc.Arbitrary<unknown> = fc
  .tuple(
    fc.dictionary(nameArb, nodeArb(1, false), { maxKeys: 5 }),
    mostly(fc.constantFrom("string", "int"), fc.constantFrom("float", "bool")),
    rarely(fc.array(fc.oneof(nameArb, fc.constant("_id")), { maxLength: 3 })),
  )
  .chain(([fields, idType, extraIndexes]) =>
    mutateRecord(
      fc.record({
        format_version: chaos(mostly(fc.constant(1), fc.constantFrom(0, 2))),
        schema_id: chaos(mostly(fc.constantFrom("users", "a_1", "z"), fc.constantFrom("Users", "", "1a"))),
        schema_version: chaos(mostly(fc.constantFrom("v1", "v22"), fc.constantFrom("v0", "1", "v01"))),
        fields: chaos(fc.constant({ _id: { type: idType, required: true }, ...fields })),
        indexes: chaos(
          fc
            .subarray(Object.keys(fields), { maxLength: Math.min(3, Object.keys(fields).length) })
            .map((names) => [...names, ...(extraIndexes ?? [])]),
        ),
      }),
    ),
  );

/** parseSchemaDefinition returns or throws INVALID_DEFINITION with a known reason; nothing else. */
function checkTotal(input: unknown): void {
  let def: SchemaDefinition;
  try {
    def = parseSchemaDefinition(input);
  } catch (err) {
    if (!(err instanceof AeroError)) throw new Error(`non-AeroError escaped: ${String(err)}`);
    expect(err.code).toBe("AERO_SCHEMA_INVALID_DEFINITION");
    const details = err.details as { path: unknown; reason: unknown };
    expect(typeof details.path).toBe("string");
    expect(DEFINITION_REASONS).toContain(details.reason);
    return;
  }
  // Accepted: the canonical text is a fixed point and the core invariants hold.
  const text = canonicalSchemaText(def);
  expect(canonicalSchemaText(parseSchemaDefinition(JSON.parse(text)))).toBe(text);
  expect(def.fields._id?.required).toBe(true);
  for (const name of def.indexes) expect(SCALARS).toContain(schemaFieldType(def, name));
}

describe("parseSchemaDefinition: properties", () => {
  it("any JSON value: returns or throws INVALID_DEFINITION, never anything else", () => {
    fc.assert(fc.property(fc.jsonValue(), checkTotal), { numRuns: runs(2000), seed: seedOf("def-json") });
  });

  it("any value at all (non-JSON included): same", () => {
    fc.assert(fc.property(fc.anything({ withNullPrototype: true, withObjectString: true }), checkTotal), {
      numRuns: runs(2000),
      seed: seedOf("def-anything"),
    });
  });

  it("near-valid definitions: same, and a fair share of them is accepted", () => {
    let accepted = 0;
    fc.assert(
      fc.property(definitionArb, (input) => {
        try {
          parseSchemaDefinition(input);
          accepted++;
        } catch {
          // checked by checkTotal below
        }
        checkTotal(input);
      }),
      { numRuns: runs(3000), seed: seedOf("def-near-valid") },
    );
    expect(accepted).toBeGreaterThan(runs(3000) / 10);
  });

  it("near-valid definitions as JSON text round trip: same", () => {
    fc.assert(
      fc.property(definitionArb, (input) => {
        checkTotal(JSON.parse(JSON.stringify(input)));
      }),
      { numRuns: runs(2000), seed: seedOf("def-near-valid-json") },
    );
  });
});
