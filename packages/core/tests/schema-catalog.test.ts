import { AeroError, type ErrorCode } from "@aerodb/base";
import { describe, expect, it } from "vitest";
import type { SchemaLookup } from "../src/query/types.js";
import { resolveWriteSchema, SchemaCatalog } from "../src/schema/catalog.js";
import { parseSchemaDefinition } from "../src/schema/definition.js";
import type { SchemaDefinition } from "../src/schema/types.js";

// core.md §3.4, CORE-S-1, CORE-S-3 and scenarios 15–16: the registered versions.

function def(schemaId: string, schemaVersion: string, extra: Record<string, unknown> = {}): SchemaDefinition {
  return parseSchemaDefinition({
    format_version: 1,
    schema_id: schemaId,
    schema_version: schemaVersion,
    fields: { _id: { type: "string", required: true }, ...extra },
    indexes: [],
  });
}

function codeOf(fn: () => unknown): { code: ErrorCode; details: unknown } {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AeroError);
    const e = err as AeroError;
    expect(e.severity).toBe("REJECT");
    return { code: e.code, details: e.details };
  }
  throw new Error("expected an AeroError");
}

describe("SchemaCatalog", () => {
  it("starts empty", () => {
    const c = new SchemaCatalog();
    expect(c.count).toBe(0);
    expect(c.all()).toEqual([]);
    expect(c.has("users", "v1")).toBe(false);
    expect(c.get("users", "v1")).toBeNull();
    expect(c.versions("users")).toBeNull();
  });

  it("adds, finds and counts definitions", () => {
    const c = new SchemaCatalog();
    const v1 = def("users", "v1");
    const v2 = def("users", "v2", { age: { type: "int", required: false } });
    const o1 = def("orders", "v1");
    c.add(v1);
    c.add(v2);
    c.add(o1);
    expect(c.count).toBe(3);
    expect(c.has("users", "v1")).toBe(true);
    expect(c.has("users", "v3")).toBe(false);
    expect(c.has("orders", "v2")).toBe(false);
    expect(c.get("users", "v2")).toBe(v2);
    expect(c.get("orders", "v1")).toBe(o1);
    expect(c.get("nope", "v1")).toBeNull();
    const versions = c.versions("users");
    expect(versions).not.toBeNull();
    expect([...(versions ?? new Map()).keys()]).toEqual(["v1", "v2"]);
    expect(versions?.get("v1")).toBe(v1);
    expect(c.versions("orders")?.size).toBe(1);
  });

  it("satisfies the planner's SchemaLookup", () => {
    const c = new SchemaCatalog();
    c.add(def("users", "v1"));
    const lookup: SchemaLookup = c;
    expect(lookup.versions("users")?.has("v1")).toBe(true);
    expect(lookup.versions("other")).toBeNull();
  });

  it("refuses re-registering an (id, version) with SCHEMA_IMMUTABLE (scenario 16), identical or not", () => {
    const c = new SchemaCatalog();
    const v1 = def("users", "v1");
    c.add(v1);
    for (const again of [
      v1,
      def("users", "v1"),
      def("users", "v1", { x: { type: "bool", required: true } }),
    ]) {
      expect(codeOf(() => c.add(again))).toEqual({
        code: "AERO_SCHEMA_IMMUTABLE",
        details: { schema_id: "users", schema_version: "v1" },
      });
    }
    expect(c.count).toBe(1);
    expect(c.get("users", "v1")).toBe(v1);
    c.add(def("users", "v2"));
    expect(c.count).toBe(2);
  });

  it("lists all definitions sorted by (schema_id, schema_version) in code unit order", () => {
    const c = new SchemaCatalog();
    for (const [id, v] of [
      ["users", "v2"],
      ["b_x", "v1"],
      ["users", "v10"],
      ["a", "v3"],
      ["users", "v1"],
      ["b", "v1"],
    ] as const) {
      c.add(def(id, v));
    }
    expect(c.all().map((d) => `${d.schema_id}/${d.schema_version}`)).toEqual([
      "a/v3",
      "b/v1",
      "b_x/v1",
      "users/v1",
      "users/v10",
      "users/v2",
    ]);
    // A fresh array each time: callers cannot disturb the catalog.
    const list = c.all();
    list.pop();
    expect(c.all()).toHaveLength(6);
  });
});

describe("resolveWriteSchema", () => {
  const catalog = new SchemaCatalog();
  const v1 = def("users", "v1");
  const v2 = def("users", "v2");
  catalog.add(v1);
  catalog.add(v2);

  it("returns the named definition", () => {
    expect(resolveWriteSchema(catalog, "users", "v1")).toBe(v1);
    expect(resolveWriteSchema(catalog, "users", "v2")).toBe(v2);
  });

  it("refuses a missing or non-string schema_id with SCHEMA_REQUIRED, before anything else", () => {
    for (const id of [undefined, null, 1, true, ["users"], { id: "users" }]) {
      expect(codeOf(() => resolveWriteSchema(catalog, id, "v1")).code).toBe("AERO_SCHEMA_REQUIRED");
      expect(codeOf(() => resolveWriteSchema(catalog, id, undefined)).code).toBe("AERO_SCHEMA_REQUIRED");
    }
  });

  it("refuses a missing or non-string schema_version with SCHEMA_VERSION_REQUIRED, before lookup", () => {
    for (const v of [undefined, null, 1, false, ["v1"]]) {
      expect(codeOf(() => resolveWriteSchema(catalog, "users", v)).code).toBe("AERO_SCHEMA_VERSION_REQUIRED");
      expect(codeOf(() => resolveWriteSchema(catalog, "nope", v)).code).toBe("AERO_SCHEMA_VERSION_REQUIRED");
    }
  });

  it("refuses an unknown id with SCHEMA_UNKNOWN and an unknown version with SCHEMA_UNKNOWN_VERSION (scenario 15)", () => {
    expect(codeOf(() => resolveWriteSchema(catalog, "orders", "v1"))).toEqual({
      code: "AERO_SCHEMA_UNKNOWN",
      details: { schema_id: "orders" },
    });
    expect(codeOf(() => resolveWriteSchema(catalog, "users", "v3"))).toEqual({
      code: "AERO_SCHEMA_UNKNOWN_VERSION",
      details: { schema_id: "users", schema_version: "v3" },
    });
    for (const id of ["", "Users", "__proto__", "constructor", "toString"]) {
      expect(codeOf(() => resolveWriteSchema(catalog, id, "v1")).code).toBe("AERO_SCHEMA_UNKNOWN");
    }
    for (const v of ["", "V1", "v01", "__proto__", "constructor", "size"]) {
      expect(codeOf(() => resolveWriteSchema(catalog, "users", v)).code).toBe("AERO_SCHEMA_UNKNOWN_VERSION");
    }
  });

  it("keeps hostile names short in details", () => {
    const long = "x".repeat(100_000);
    const { details } = codeOf(() => resolveWriteSchema(catalog, long, "v1"));
    expect((details as { schema_id: string }).schema_id.length).toBeLessThanOrEqual(131);
  });
});
