import { AeroError, SeededRandom, SimFileSystem, seedList } from "@aerodb/base";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, open } from "../src/engine/database.js";
import {
  handleRequest,
  parseRequestLine,
  type Response,
  serializeResponse,
} from "../src/envelope/handle-request.js";

// core.md §6 (envelope), §7 (severities), §3 (hostile schema definitions, documents of every
// wrong type): hostile requests run through handleRequest against an embedded database on
// the simulated file system. Every response must be `ok` or a REJECT error (never FATAL,
// never INTERNAL_INVARIANT), the database must stay SERVING, and a rejected request must not
// touch the file system (boundaryOpCount unchanged) nor advance the commit high-water.
//
// Replay: AERODB_SEED=<n> runs every property with that seed; AERODB_RUNS=<k> multiplies the
// number of cases.

const MULTIPLIER = Math.max(1, Number(process.env.AERODB_RUNS ?? "1") || 1);
const runs = (base: number): number => base * MULTIPLIER;
const seedOf = (name: string): number => seedList(name, 1)[0] as number;
const MAX_DOCUMENT_BYTES = 16 * 1024;

const FUZZ_SCHEMA = {
  format_version: 1,
  schema_id: "fz",
  schema_version: "v1",
  fields: {
    _id: { type: "string", required: true },
    s: { type: "string", required: true },
    i: { type: "int", required: false },
    f: { type: "float", required: false },
    b: { type: "bool", required: false },
    o: {
      type: "object",
      required: false,
      fields: { city: { type: "string", required: true }, n: { type: "int", required: false } },
    },
    a: { type: "array", required: false, items: { type: "string" } },
    m: { type: "array", required: false, items: { type: "array", items: { type: "int" } } },
    rows: {
      type: "array",
      required: false,
      items: { type: "object", fields: { k: { type: "string", required: true } } },
    },
  },
  indexes: ["b", "f", "i", "s"],
};

const NUMS_SCHEMA = {
  format_version: 1,
  schema_id: "nums",
  schema_version: "v1",
  fields: { _id: { type: "int", required: true }, v: { type: "float", required: true } },
  indexes: ["v"],
};

const ALL_OPS = [
  "insert",
  "update",
  "delete",
  "query",
  "explain",
  "register_schema",
  "checkpoint",
  "backup",
  "begin",
  "commit",
  "abort",
  "gc",
] as const;
const KNOWN_KEYS = [
  "op",
  "schema_id",
  "schema_version",
  "document",
  "filter",
  "limit",
  "sort",
  "schema",
  "txn",
  "path",
  "_id",
  "__proto__",
  "constructor",
] as const;

let sim: SimFileSystem;
let db: Database;
let cases = 0;
let okCount = 0;
let rejectCount = 0;
let idCounter = 0;
const codes = new Map<string, number>();
const liveIds: string[] = [];
const startedAt = Date.now();

/** Deep nesting built iteratively (JSON.stringify of it would overflow the stack). */
function nest(depth: number, kind: "array" | "object", leaf: unknown): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = kind === "array" ? [value] : { x: value };
  return value;
}

/** Values of every JSON type plus the JavaScript values an embedded caller could pass. */
function wrongValues(): unknown[] {
  const nullProto = Object.create(null) as Record<string, unknown>;
  nullProto.city = "x";
  const sparse: unknown[] = [];
  sparse[2] = "x";
  return [
    null,
    undefined,
    true,
    false,
    0,
    -0,
    1,
    -1,
    1.5,
    2 ** 53,
    -(2 ** 53),
    Number.MAX_VALUE,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    "",
    "x",
    "\u0000",
    "\ud800",
    [],
    [null],
    [1, "x"],
    sparse,
    {},
    { city: 1 },
    { x: null },
    nullProto,
    new Date(0),
    new Map([["a", 1]]),
    new Set([1]),
    new Uint8Array(3),
    10n,
    Symbol("s"),
    () => 1,
    nest(2000, "array", 1),
    nest(2000, "object", 1),
  ];
}
const WRONG = wrongValues();

function freshId(): string {
  idCounter += 1;
  return `id-${idCounter}`;
}

// ---- the check every case goes through ------------------------------------------------------

interface Before {
  readonly ops: number;
  readonly highWater: number;
}

function before(): Before {
  return { ops: sim.boundaryOpCount, highWater: db.stats().commit_high_water };
}

function describeRequest(request: unknown): string {
  try {
    const text = JSON.stringify(request, (_k, v: unknown) =>
      typeof v === "bigint" ? `${v}n` : typeof v === "symbol" ? String(v) : v,
    );
    return text === undefined ? String(request) : text.slice(0, 600);
  } catch {
    return "<unprintable request>";
  }
}

function checkResponse(request: unknown, response: Response, was: Before): void {
  cases += 1;
  // Messages are built only on failure: describing a huge or deep request is expensive.
  const fail = (what: string): never => {
    throw new Error(`${what}: request ${describeRequest(request)} -> ${describeResponse(response)}`);
  };
  let line = "";
  try {
    line = serializeResponse(response);
    JSON.parse(line);
  } catch (err) {
    fail(`response not serializable (${String(err)})`);
  }
  if (db.lifecycleState !== "SERVING") fail(`database left SERVING (${db.lifecycleState})`);
  if (response.status === "ok") {
    okCount += 1;
    const highWater = db.stats().commit_high_water;
    if (response.commit_id !== undefined && response.commit_id !== null) {
      if (response.commit_id !== was.highWater + 1 || highWater !== was.highWater + 1) {
        fail(`commit ids not dense (was ${was.highWater}, now ${highWater})`);
      }
    } else if (sim.boundaryOpCount !== was.ops || highWater !== was.highWater) {
      fail("an ok response without a commit wrote to the file system");
    }
    return;
  }
  rejectCount += 1;
  codes.set(response.code, (codes.get(response.code) ?? 0) + 1);
  if (response.status !== "error") fail("status is neither ok nor error");
  if (response.code === "AERO_INTERNAL_INVARIANT") fail("INTERNAL_INVARIANT");
  // This database is opened through core alone: checkpoint and backup have no provider and
  // fail with their ERROR code (nothing written), as @aerodb/snapshot's open() is what wires them.
  const noProvider =
    (response.code === "AERO_CHECKPOINT_FAILED" || response.code === "AERO_BACKUP_FAILED") &&
    response.severity === "ERROR" &&
    response.details?.reason === "no_provider";
  if (response.severity !== "REJECT" && !noProvider) fail(`severity ${response.severity}, expected REJECT`);
  if (/\n\s+at |\/db\b/.test(response.message)) fail("stack or internal path in the message");
  if (!line.startsWith('{"code":"AERO_')) fail("not a canonical error envelope");
  if (sim.boundaryOpCount !== was.ops)
    fail(`a rejected request wrote (${sim.boundaryOpCount - was.ops} ops)`);
  if (db.stats().commit_high_water !== was.highWater) fail("a rejected request advanced the high-water");
}

function describeResponse(response: Response): string {
  try {
    return serializeResponse(response).slice(0, 600);
  } catch {
    return `${response.status} ${(response as { code?: string }).code ?? ""}`;
  }
}

/** Runs one request object through handleRequest and checks it. */
async function run(request: unknown): Promise<Response> {
  const was = before();
  const response = await handleRequest(db, request);
  checkResponse(request, response, was);
  if (
    response.status === "ok" &&
    typeof request === "object" &&
    request !== null &&
    (request as { op?: unknown }).op === "insert" &&
    typeof response.commit_id === "number"
  ) {
    const id = (request as { document: { _id: unknown } }).document._id;
    if (typeof id === "string") liveIds.push(id);
  }
  return response;
}

async function check(request: unknown): Promise<void> {
  await run(request);
}

/** Runs one request line (bytes or text) the way `aerodb start` does. */
async function runLine(line: Uint8Array | string): Promise<void> {
  const was = before();
  let request: unknown;
  try {
    request = parseRequestLine(line);
  } catch (err) {
    if (!(err instanceof AeroError))
      throw new Error(`parseRequestLine threw a non-AeroError: ${String(err)}`);
    const response = err.toJSON();
    checkResponse(typeof line === "string" ? line.slice(0, 200) : `<${line.length} bytes>`, response, was);
    if (response.code !== "AERO_QUERY_INVALID") throw new Error(`unparsable line gave ${response.code}`);
    return;
  }
  const response = await handleRequest(db, request);
  checkResponse(request, response, was);
}

// ---- valid requests, then mutations of them -------------------------------------------------

const fieldValue = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: "binary", maxLength: 8 }));
const validDocument = fc.record(
  {
    s: fieldValue,
    i: fc.maxSafeInteger(),
    f: fc.double({ noNaN: true, noDefaultInfinity: true }),
    b: fc.boolean(),
    o: fc.record({ city: fieldValue, n: fc.integer() }, { requiredKeys: ["city"] }),
    a: fc.array(fieldValue, { maxLength: 4 }),
    m: fc.array(fc.array(fc.integer(), { maxLength: 3 }), { maxLength: 3 }),
    rows: fc.array(fc.record({ k: fieldValue }), { maxLength: 3 }),
  },
  { requiredKeys: ["s"] },
);

const scalarFilterValue = fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 6 }), fc.boolean());
const validQuery = fc.record(
  {
    op: fc.constantFrom("query", "explain"),
    schema_id: fc.constant("fz"),
    schema_version: fc.constant("v1"),
    filter: fc.oneof(
      fc.record({ i: fc.integer() }),
      fc.record({ s: fc.record({ $gte: fc.string({ maxLength: 4 }) }) }),
      fc.record({ f: fc.record({ $gt: fc.double({ noNaN: true }), $lte: fc.double({ noNaN: true }) }) }),
      fc.record({ _id: fc.string({ maxLength: 8 }), b: fc.boolean() }),
      fc.dictionary(fc.constantFrom("i", "s", "f", "b", "_id"), scalarFilterValue, { maxKeys: 3 }),
    ),
    limit: fc.integer({ min: 1, max: 1000 }),
    sort: fc.constantFrom("i", "-i", "s", [{ field: "f", order: "desc" }], ["-b"]),
  },
  { requiredKeys: ["op", "schema_id", "schema_version", "filter", "limit"] },
);

type Valid = Record<string, unknown>;

const validRequest: fc.Arbitrary<Valid> = fc.oneof(
  {
    weight: 4,
    arbitrary: validDocument.map((d) => ({ op: "insert", ...base(), document: { _id: "", ...d } })),
  },
  {
    weight: 2,
    arbitrary: validDocument.map((d) => ({ op: "update", ...base(), document: { _id: "", ...d } })),
  },
  { weight: 1, arbitrary: fc.constant({ op: "delete", ...base(), document: { _id: "" } }) },
  { weight: 3, arbitrary: validQuery },
  {
    weight: 1,
    arbitrary: fc
      .record({ n: fc.nat({ max: 1_000_000 }), v: fc.double({ noNaN: true, noDefaultInfinity: true }) })
      .map(({ n, v }) => ({
        op: "insert",
        schema_id: "nums",
        schema_version: "v1",
        document: { _id: n, v },
      })),
  },
  {
    weight: 1,
    arbitrary: fc.nat({ max: 10_000_000 }).map((n) => ({
      op: "register_schema",
      schema: { ...structuredClone(NUMS_SCHEMA), schema_id: `gen_${n}` },
    })),
  },
);

function base() {
  return { schema_id: "fz", schema_version: "v1" };
}

/** Gives generated writes a usable _id: fresh for inserts, a live one for updates/deletes. */
function bindIds(request: Valid, pick: number): void {
  const doc = request.document as Record<string, unknown> | undefined;
  if (!doc || request.schema_id !== "fz" || doc._id !== "") return;
  if (request.op === "insert" || liveIds.length === 0) doc._id = freshId();
  else doc._id = liveIds[pick % liveIds.length] as string;
}

type Mutation =
  | { kind: "drop"; at: number }
  | { kind: "extra"; at: number; key: string; value: unknown }
  | { kind: "rename"; at: number; key: string }
  | { kind: "retype"; at: number; value: number }
  | { kind: "replace"; at: number; value: unknown }
  | { kind: "huge-string"; at: number; length: number }
  | { kind: "huge-array"; at: number; length: number }
  | { kind: "deep"; at: number; depth: number; array: boolean };

const anyKey = fc.oneof(fc.constantFrom(...KNOWN_KEYS), fc.string({ maxLength: 10 }));
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("drop" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("extra" as const),
    at: fc.nat(),
    key: anyKey,
    value: fc.jsonValue({ maxDepth: 2 }),
  }),
  fc.record({ kind: fc.constant("rename" as const), at: fc.nat(), key: anyKey }),
  fc.record({ kind: fc.constant("retype" as const), at: fc.nat(), value: fc.nat() }),
  fc.record({
    kind: fc.constant("replace" as const),
    at: fc.nat(),
    value: fc.anything({ maxDepth: 2, withNullPrototype: true, withSparseArray: true, withBigInt: true }),
  }),
  fc.record({
    kind: fc.constant("huge-string" as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 300_000 }),
  }),
  fc.record({
    kind: fc.constant("huge-array" as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 50_000 }),
  }),
  fc.record({
    kind: fc.constant("deep" as const),
    at: fc.nat(),
    depth: fc.integer({ min: 10, max: 20_000 }),
    array: fc.boolean(),
  }),
);

/** Every (container, key) slot of a request tree, in a stable order. */
function slots(root: unknown): Array<{ parent: Record<string, unknown> | unknown[]; key: string | number }> {
  const out: Array<{ parent: Record<string, unknown> | unknown[]; key: string | number }> = [];
  const walk = (node: unknown, depth: number) => {
    if (depth > 6 || typeof node !== "object" || node === null) return;
    if (Array.isArray(node)) {
      node.forEach((child, i) => {
        out.push({ parent: node, key: i });
        walk(child, depth + 1);
      });
    } else {
      for (const key of Object.keys(node).sort()) {
        out.push({ parent: node as Record<string, unknown>, key });
        walk((node as Record<string, unknown>)[key], depth + 1);
      }
    }
  };
  walk(root, 0);
  return out;
}

function setSlot(parent: Record<string, unknown> | unknown[], key: string | number, value: unknown): void {
  if (Array.isArray(parent)) parent[key as number] = value;
  else Object.defineProperty(parent, key, { value, enumerable: true, writable: true, configurable: true });
}

function applyMutation(root: Record<string, unknown>, m: Mutation): void {
  const all = slots(root);
  if (all.length === 0) return;
  const { parent, key } = all[m.at % all.length] as (typeof all)[number];
  const current = (parent as Record<string | number, unknown>)[key];
  switch (m.kind) {
    case "drop":
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key as string];
      return;
    case "extra":
      if (typeof current === "object" && current !== null && !Array.isArray(current)) {
        setSlot(current as Record<string, unknown>, m.key, m.value);
      } else if (!Array.isArray(parent)) {
        setSlot(parent, m.key, m.value);
      }
      return;
    case "rename":
      if (!Array.isArray(parent) && m.key !== key) {
        delete parent[key as string];
        setSlot(parent, m.key, current);
      }
      return;
    case "retype":
      setSlot(parent, key, WRONG[m.value % WRONG.length]);
      return;
    case "replace":
      setSlot(parent, key, m.value);
      return;
    case "huge-string":
      setSlot(parent, key, "x".repeat(m.length));
      return;
    case "huge-array":
      setSlot(
        parent,
        key,
        Array.from({ length: m.length }, (_, i) => (typeof current === "string" ? "s" : i)),
      );
      return;
    case "deep":
      setSlot(parent, key, nest(m.depth, m.array ? "array" : "object", current ?? 1));
      return;
  }
}

// ---- hostile schema definitions --------------------------------------------------------------

const ODD_NAMES = [
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
  "valueOf",
  "",
  " ",
  "a".repeat(64),
  "a".repeat(65),
  "é",
  "1a",
  "a-b",
  "a.b",
  "_",
  "$eq",
  "\u0000",
  "\ud800",
  "A".repeat(10_000),
];
const oddName = fc.oneof(
  fc.constantFrom(...ODD_NAMES),
  fc.string({ maxLength: 70 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/),
);
const fieldType = fc.oneof(
  fc.constantFrom("string", "int", "float", "bool", "object", "array"),
  fc.constantFrom("String", "integer", "number", "null", "date", "any", ""),
  fc.jsonValue({ maxDepth: 1 }),
);

/** A random (possibly invalid) field node, depth-bounded by the generator. */
const hostileNode: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.record(
      { type: fieldType, required: fc.oneof(fc.boolean(), fc.jsonValue({ maxDepth: 0 })) },
      { requiredKeys: [] },
    ),
    fc.record({
      type: fc.constant("object"),
      required: fc.boolean(),
      fields: fc.dictionary(oddName, tie("node"), { maxKeys: 4 }),
    }),
    fc.record({ type: fc.constant("array"), required: fc.boolean(), items: tie("node") }),
    fc.jsonValue({ maxDepth: 2 }),
  ),
})).node;

type SchemaCase =
  | { kind: "random"; id: unknown; version: unknown; fields: unknown; indexes: unknown; extra: unknown }
  | { kind: "deep"; depth: number; viaItems: boolean }
  | { kind: "wide"; count: number; odd: number; indexCount: number }
  | { kind: "mutated"; n: number; mutations: Mutation[] };

const schemaCase: fc.Arbitrary<SchemaCase> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("random" as const),
      id: fc.oneof(fc.stringMatching(/^[a-z][a-z0-9_]{0,63}$/), oddName, fc.jsonValue({ maxDepth: 0 })),
      version: fc.oneof(
        fc.stringMatching(/^v[1-9][0-9]{0,8}$/),
        fc.constantFrom("v0", "V1", "v01", "v1 ", "v1234567890"),
        fc.jsonValue({ maxDepth: 0 }),
      ),
      fields: fc.oneof(
        fc
          .dictionary(oddName, hostileNode, { maxKeys: 6 })
          .map((f) => ({ _id: { type: "string", required: true }, ...f })),
        fc.dictionary(oddName, hostileNode, { maxKeys: 6 }),
        fc.jsonValue({ maxDepth: 2 }),
      ),
      indexes: fc.oneof(fc.array(oddName, { maxLength: 5 }), fc.jsonValue({ maxDepth: 1 })),
      extra: fc.option(fc.dictionary(anyKey, fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 }), {
        nil: undefined,
      }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("deep" as const),
      depth: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 100, max: 20_000 })),
      viaItems: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("wide" as const),
      count: fc.oneof(fc.integer({ min: 900, max: 1100 }), fc.integer({ min: 1000, max: 5000 })),
      odd: fc.nat({ max: ODD_NAMES.length * 3 }),
      indexCount: fc.oneof(fc.nat({ max: 10 }), fc.integer({ min: 250, max: 300 })),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("mutated" as const),
      n: fc.nat({ max: 10_000_000 }),
      mutations: fc.array(mutation, { minLength: 1, maxLength: 3 }),
    }),
  },
);

let schemaCounter = 0;

function buildSchema(c: SchemaCase): unknown {
  schemaCounter += 1;
  const id = `hs_${schemaCounter}`;
  switch (c.kind) {
    case "random": {
      const def: Record<string, unknown> = {
        format_version: 1,
        schema_id: c.id,
        schema_version: c.version,
        fields: c.fields,
        indexes: c.indexes,
      };
      if (c.extra) for (const [k, v] of Object.entries(c.extra)) setSlot(def, k, v);
      return def;
    }
    case "deep": {
      let node: unknown = c.viaItems ? { type: "int" } : { type: "int", required: true };
      for (let i = 0; i < c.depth; i++) {
        node = c.viaItems
          ? { type: "array", items: node }
          : { type: "object", required: true, fields: { n: node } };
      }
      if (c.viaItems) node = { ...(node as object), required: false };
      return {
        format_version: 1,
        schema_id: id,
        schema_version: "v1",
        fields: { _id: { type: "string", required: true }, deep: node },
        indexes: [],
      };
    }
    case "wide": {
      const fields: Record<string, unknown> = { _id: { type: "int", required: true } };
      for (let i = 0; i < c.count; i++) {
        const name = c.odd > 0 && i % 97 === 0 ? (ODD_NAMES[c.odd % ODD_NAMES.length] ?? `f${i}`) : `f${i}`;
        setSlot(fields, name, { type: i % 2 === 0 ? "int" : "string", required: i % 3 === 0 });
      }
      return {
        format_version: 1,
        schema_id: id,
        schema_version: "v1",
        fields,
        indexes: Array.from({ length: c.indexCount }, (_, i) => `f${i}`),
      };
    }
    case "mutated": {
      const def = structuredClone(FUZZ_SCHEMA) as Record<string, unknown>;
      def.schema_id = `ms_${c.n}`;
      for (const m of c.mutations) applyMutation(def, m);
      return def;
    }
  }
}

// ---- documents of every wrong type -------------------------------------------------------------

/** Paths of FUZZ_SCHEMA documents where a wrong value can be placed. */
const DOC_PATHS: ReadonlyArray<readonly (string | number)[]> = [
  ["_id"],
  ["s"],
  ["i"],
  ["f"],
  ["b"],
  ["o"],
  ["o", "city"],
  ["o", "n"],
  ["a"],
  ["a", 1],
  ["m"],
  ["m", 0],
  ["m", 0, 1],
  ["rows"],
  ["rows", 0],
  ["rows", 0, "k"],
  ["unknown"],
  ["o", "unknown"],
];

function fullDocument(id: string): Record<string, unknown> {
  return {
    _id: id,
    s: "s",
    i: 1,
    f: 1.5,
    b: true,
    o: { city: "c", n: 2 },
    a: ["a", "b"],
    m: [[1, 2], [3]],
    rows: [{ k: "k" }],
  };
}

function placeAt(doc: Record<string, unknown>, path: readonly (string | number)[], value: unknown): void {
  let node: unknown = doc;
  for (const key of path.slice(0, -1)) {
    if (typeof node !== "object" || node === null) return;
    node = (node as Record<string | number, unknown>)[key];
  }
  if (typeof node !== "object" || node === null) return;
  setSlot(node as Record<string, unknown>, path[path.length - 1] as string | number, value);
}

// ---- the properties ------------------------------------------------------------------------------

beforeAll(async () => {
  sim = new SimFileSystem();
  const rng = new SeededRandom(seedOf("envelope-fuzz:db"));
  db = await open(
    { core: { data_dir: "/db", max_document_bytes: MAX_DOCUMENT_BYTES } },
    { fs: sim, initialize: true, randomBytes: (n) => rng.bytes(n), pid: 4242, processProbe: () => false },
  );
  for (const schema of [FUZZ_SCHEMA, NUMS_SCHEMA]) {
    const response = await handleRequest(db, { op: "register_schema", schema });
    expect(response.status).toBe("ok");
  }
  for (let i = 0; i < 20; i++) {
    const response = await run({ op: "insert", ...base(), document: fullDocument(freshId()) });
    expect(response.status).toBe("ok");
  }
});

afterAll(async () => {
  await db?.close();
  process.stdout.write(
    `envelope-fuzz: ${cases} cases (${okCount} ok, ${rejectCount} rejected) in ${Date.now() - startedAt} ms; ` +
      `rejections: ${[...codes].map(([c, n]) => `${c.replace("AERO_", "")} ${n}`).join(", ")}\n`,
  );
});

function params(name: string, numRuns: number): fc.Parameters<unknown> {
  const seed = seedOf(`envelope-fuzz:${name}`);
  return { seed, numRuns: runs(numRuns), endOnFailure: false, markInterruptAsFailure: true };
}

describe("envelope fuzz (core §6, §7): hostile requests are ok or REJECT, nothing written when rejected", () => {
  it("random JSON values as requests", async () => {
    await fc.assert(fc.asyncProperty(fc.jsonValue({ maxDepth: 5 }), check), params("json", 800));
  });

  it("random JavaScript values as requests (embedded callers)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.anything({
          maxDepth: 3,
          withBigInt: true,
          withBoxedValues: true,
          withDate: true,
          withMap: true,
          withSet: true,
          withNullPrototype: true,
          withSparseArray: true,
          withTypedArray: true,
          withObjectString: true,
        }),
        check,
      ),
      params("anything", 500),
    );
  });

  it("random objects with an op field", async () => {
    const request = fc
      .tuple(
        fc.oneof(fc.constantFrom(...ALL_OPS), fc.string({ maxLength: 80 }), fc.jsonValue({ maxDepth: 1 })),
        fc.dictionary(anyKey, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }),
      )
      .map(([op, rest]) => {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(rest)) setSlot(out, k, v);
        out.op = op;
        return out;
      });
    await fc.assert(fc.asyncProperty(request, check), params("op-objects", 2000));
  });

  it("valid requests mutated: dropped, extra, renamed keys, wrong types, huge and deep values", async () => {
    await fc.assert(
      fc.asyncProperty(
        validRequest,
        fc.array(mutation, { maxLength: 3 }),
        fc.nat(),
        async (valid, mutations, pick) => {
          const request = structuredClone(valid);
          bindIds(request, pick);
          for (const m of mutations) applyMutation(request, m);
          await run(request);
        },
      ),
      params("mutated", 3000),
    );
  });

  it("hostile schema definitions through register_schema", async () => {
    await fc.assert(
      fc.asyncProperty(schemaCase, async (c) => {
        await run({ op: "register_schema", schema: buildSchema(c) });
      }),
      params("schemas", 1500),
    );
  });

  it("documents with every wrong type at every place (insert and update), exhaustively", async () => {
    for (const op of ["insert", "update"] as const) {
      for (const path of DOC_PATHS) {
        for (const value of WRONG) {
          const id = op === "insert" ? freshId() : (liveIds[0] as string);
          const document = fullDocument(id);
          placeAt(document, path, value);
          await run({ op, ...base(), document });
        }
      }
    }
  });

  it("documents with random wrong types at random places", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.tuple(
            fc.nat({ max: DOC_PATHS.length - 1 }),
            fc.oneof(
              fc.nat({ max: WRONG.length - 1 }).map((i) => WRONG[i]),
              fc.jsonValue({ maxDepth: 2 }),
            ),
          ),
          { minLength: 1, maxLength: 4 },
        ),
        fc.constantFrom("insert", "update", "delete"),
        async (placements, op) => {
          const document = fullDocument(op === "insert" ? freshId() : (liveIds[0] as string));
          for (const [p, value] of placements) placeAt(document, DOC_PATHS[p] as (string | number)[], value);
          await run({ op, ...base(), document });
        },
      ),
      params("wrong-docs", 1500),
    );
  });

  it("request lines: random bytes, random text, corrupted valid lines, deep nesting", async () => {
    const encoder = new TextEncoder();
    const line = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc.string({ unit: "binary", maxLength: 200 }),
      fc.tuple(validRequest, fc.nat(), fc.nat({ max: 255 }), fc.boolean()).map(([valid, at, byte, cut]) => {
        const bytes = encoder.encode(JSON.stringify(valid));
        const i = at % Math.max(1, bytes.length);
        if (cut) return bytes.subarray(0, i);
        const copy = bytes.slice();
        copy[i] = byte;
        return copy;
      }),
      fc.integer({ min: 1, max: 100_000 }).map((d) => "[".repeat(d)),
      fc.integer({ min: 1, max: 100_000 }).map((d) => `${"[".repeat(d)}${"]".repeat(d)}`),
      fc
        .integer({ min: 1, max: 100_000 })
        .map((d) => `{"op":"query","filter":${'{"a":'.repeat(d)}1${"}".repeat(d)}}`),
      fc
        .integer({ min: 1, max: 50_000 })
        .map(
          (d) =>
            `{"op":"insert","schema_id":"fz","schema_version":"v1","document":{"_id":"deep","a":${"[".repeat(d)}"x"${"]".repeat(d)}}}`,
        ),
      fc.constantFrom(
        new Uint8Array([0xff, 0xfe]),
        new Uint8Array([0x7b, 0xc3, 0x28, 0x7d]),
        new Uint8Array([0xed, 0xa0, 0x80]),
        new Uint8Array([0x22, 0xe2, 0x82, 0x22]),
        "",
        "null",
        "{}",
        "[]",
        '"op"',
        '{"op":null}',
        '{"op":"insert"}',
        '{"op":"insert","document":[]}',
        '{"__proto__":{"op":"insert"}}',
        '{"op":"register_schema","schema":{"__proto__":{"fields":1}}}',
      ),
    );
    await fc.assert(fc.asyncProperty(line, runLine), params("lines", 1500));
  });

  it("ran at least 10,000 cases and the database is still SERVING", () => {
    expect(db.lifecycleState).toBe("SERVING");
    expect(cases).toBeGreaterThanOrEqual(10_000);
  });
});
