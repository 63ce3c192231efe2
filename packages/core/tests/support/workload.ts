// A seeded workload over the embedded API, with a model of what it must leave behind.
//
// `generateWorkload(seed)` draws 2–3 schemas (some with a second version; indexes on int,
// string, float and bool fields), registrations, inserts, updates (some moving a document to
// another schema_version), deletes and reads, including requests that must be refused
// (duplicate ids, updates of missing keys, validation failures, unknown schemas, documents
// over max_document_bytes, re-registrations, bad definitions). The generator plays the
// engine's rules itself, so every write step carries its expected outcome (the commit id it
// gets, `commit_id: null` for a delete of an absent key, or the REJECT code), and the model
// keeps the expected state after every accepted commit, keyed by commit id: a test asks
// "what must the database hold after commit c" with `workload.states.get(c)`.
//
// `runWorkload(db, workload)` issues the steps in batches (the requests of one batch are issued
// without awaiting, so commits queue behind each other's fsync) and records what happened:
// every outcome in canonical JSON, which commits were acknowledged, and whether a
// SimulatedCrash stopped the run. `readDbState(db)` reads everything back through queries and
// `modelView(state)` says what it must be.
import { type ErrorCode, isAeroError, isSimulatedCrash, SeededRandom } from "@aerodb/base";
import { canonicalJson } from "../../src/canonical-json.js";
import type { Database, DeleteRequest, WriteRequest } from "../../src/engine/database.js";
import { parseSchemaDefinition } from "../../src/schema/definition.js";
import type { DocId, SchemaDefinition } from "../../src/schema/types.js";

/** The configuration's core.max_document_bytes the workload is generated against. */
export const WORKLOAD_MAX_DOCUMENT_BYTES = 16 * 1024;
/** Small segments, so that larger workloads roll to a second WAL segment. */
export const WORKLOAD_SEGMENT_BYTES = 64 * 1024;

/** The core section a workload needs besides data_dir. */
export function workloadCoreConfig(dataDir: string) {
  return {
    core: {
      data_dir: dataDir,
      wal_segment_bytes: WORKLOAD_SEGMENT_BYTES,
      max_document_bytes: WORKLOAD_MAX_DOCUMENT_BYTES,
    },
  };
}

// ---- schemas --------------------------------------------------------------------------------

type Doc = Record<string, unknown>;

interface SchemaSpec {
  readonly key: string;
  readonly definition: Readonly<Record<string, unknown>>;
  readonly ids: readonly DocId[];
  /** A valid document with this _id. */
  valid(rnd: SeededRandom, id: DocId, bulkChance: number): Doc;
  /** Ways to break a valid document (each gives AERO_SCHEMA_VALIDATION_FAILED). */
  readonly breakers: ReadonlyArray<(doc: Doc) => void>;
}

const req = (type: string, extra: Record<string, unknown> = {}) => ({ type, required: true, ...extra });
const opt = (type: string, extra: Record<string, unknown> = {}) => ({ type, required: false, ...extra });

function schemaDef(id: string, version: string, fields: Record<string, unknown>, indexes: string[]) {
  return { format_version: 1, schema_id: id, schema_version: version, fields, indexes };
}

function text(rnd: SeededRandom, min: number, max: number): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 -_éü";
  let out = "";
  const n = rnd.int(min, max);
  for (let i = 0; i < n; i++) out += alphabet[rnd.index(alphabet.length)];
  return out;
}

/** Sometimes a bulky field, so that a workload fills a 64 KiB segment and rolls. */
function bulk(rnd: SeededRandom, chance: number): string {
  return rnd.bool(chance) ? text(rnd, 3000, 14_000) : text(rnd, 0, 40);
}

const common: ReadonlyArray<(doc: Doc) => void> = [
  (d) => {
    d.bogus = 1; // unknown_field
  },
  (d) => {
    d._id = true; // wrong_type
  },
];

const SPECS: readonly SchemaSpec[] = [
  {
    key: "users/v1",
    definition: schemaDef(
      "users",
      "v1",
      {
        _id: req("string"),
        name: req("string"),
        age: opt("int"),
        tags: req("array", { items: { type: "string" } }),
      },
      ["age", "name"],
    ),
    ids: ["u0", "u1", "u2", "u3", "u4", "u5", "Zed", "ü7"],
    valid: (rnd, id) => ({
      _id: id,
      name: text(rnd, 1, 8),
      ...(rnd.bool(0.7) ? { age: rnd.int(-2, 90) } : {}),
      tags: Array.from({ length: rnd.int(0, 3) }, () => text(rnd, 0, 5)),
    }),
    breakers: [
      ...common,
      (d) => {
        delete d.name; // missing_field
      },
      (d) => {
        d.age = 2 ** 53; // not_safe_integer
      },
      (d) => {
        d.tags = ["ok", 3]; // wrong_type in an element
      },
      (d) => {
        d.age = null; // null_value
      },
    ],
  },
  {
    key: "users/v2",
    definition: schemaDef(
      "users",
      "v2",
      {
        _id: req("string"),
        name: req("string"),
        age: opt("int"),
        email: opt("string"),
        score: opt("float"),
        addr: opt("object", { fields: { city: req("string"), zip: opt("string") } }),
        bio: opt("string"),
      },
      ["age", "email", "score"],
    ),
    ids: ["u0", "u1", "u2", "u3", "u4", "u5", "Zed", "ü7"],
    valid: (rnd, id, bulkChance) => ({
      _id: id,
      name: text(rnd, 1, 8),
      ...(rnd.bool(0.5) ? { age: rnd.int(0, 90) } : {}),
      ...(rnd.bool(0.6) ? { email: `${text(rnd, 1, 5)}@x.io` } : {}),
      ...(rnd.bool(0.6) ? { score: rnd.int(-400, 400) / 8 } : {}),
      ...(rnd.bool(0.4) ? { addr: { city: text(rnd, 1, 6), ...(rnd.bool() ? { zip: "0" } : {}) } } : {}),
      bio: bulk(rnd, bulkChance),
    }),
    breakers: [
      ...common,
      (d) => {
        d.addr = {}; // missing nested field
      },
      (d) => {
        d.score = "high"; // wrong_type
      },
      (d) => {
        d.email = null;
      },
    ],
  },
  {
    key: "orders/v1",
    definition: schemaDef(
      "orders",
      "v1",
      {
        _id: req("int"),
        user: req("string"),
        qty: req("int"),
        total: req("float"),
        paid: opt("bool"),
        note: opt("string"),
      },
      ["paid", "qty", "user"],
    ),
    ids: [-3, 0, 1, 2, 3, 5, 8, 13],
    valid: (rnd, id, bulkChance) => ({
      _id: id,
      user: `u${rnd.int(0, 5)}`,
      qty: rnd.int(0, 20),
      total: rnd.int(0, 100_000) / 100,
      ...(rnd.bool(0.6) ? { paid: rnd.bool() } : {}),
      note: bulk(rnd, bulkChance),
    }),
    breakers: [
      ...common,
      (d) => {
        d.qty = 1.5; // a float where an int goes
      },
      (d) => {
        delete d.total;
      },
      (d) => {
        d.paid = "yes";
      },
    ],
  },
  {
    key: "orders/v2",
    definition: schemaDef(
      "orders",
      "v2",
      {
        _id: req("int"),
        user: req("string"),
        qty: req("int"),
        lines: req("array", { items: { type: "object", fields: { sku: req("string"), n: req("int") } } }),
        note: opt("string"),
      },
      ["qty"],
    ),
    ids: [-3, 0, 1, 2, 3, 5, 8, 13],
    valid: (rnd, id, bulkChance) => ({
      _id: id,
      user: `u${rnd.int(0, 5)}`,
      qty: rnd.int(0, 20),
      lines: Array.from({ length: rnd.int(0, 3) }, () => ({ sku: text(rnd, 1, 4), n: rnd.int(1, 9) })),
      ...(rnd.bool(0.5) ? { note: bulk(rnd, bulkChance) } : {}),
    }),
    breakers: [
      ...common,
      (d) => {
        d.lines = [{ sku: "a" }]; // element missing a field
      },
      (d) => {
        d.qty = Number.POSITIVE_INFINITY;
      },
    ],
  },
  {
    key: "events/v1",
    definition: schemaDef(
      "events",
      "v1",
      { _id: req("string"), seq: req("int"), kind: req("string"), payload: opt("string") },
      ["kind", "seq"],
    ),
    ids: ["e0", "e1", "e2", "e3", "e4", "e5"],
    valid: (rnd, id, bulkChance) => ({
      _id: id,
      seq: rnd.int(0, 1000),
      kind: rnd.pick(["open", "close", "tick"]),
      ...(rnd.bool(0.5) ? { payload: bulk(rnd, bulkChance) } : {}),
    }),
    breakers: [
      ...common,
      (d) => {
        d.seq = "1";
      },
    ],
  },
];

/** Definitions that parsing refuses (AERO_SCHEMA_INVALID_DEFINITION). */
const BAD_DEFINITIONS: readonly unknown[] = [
  schemaDef("users", "v3", { _id: req("string"), addr: opt("object", { fields: {} }) }, ["addr"]),
  schemaDef("Orders", "v1", { _id: req("int") }, []),
  schemaDef("events", "v0", { _id: req("string") }, []),
  { ...schemaDef("events", "v2", { _id: req("string") }, []), extra: true },
];

// ---- the model ------------------------------------------------------------------------------

export interface ModelDoc {
  readonly schema_id: string;
  readonly schema_version: string;
  readonly doc: Readonly<Doc>;
}

/** The expected state after one commit. */
export interface ModelState {
  readonly commit: number;
  /** (schema_id, _id) -> the live version (deleted keys are absent). */
  readonly docs: ReadonlyMap<string, ModelDoc>;
  /** Registered definitions, parsed. */
  readonly schemas: readonly SchemaDefinition[];
  /** How many registrations are among commits 1..commit. */
  readonly registrations: number;
  /** How many VERSION records (accepted insert/update/delete) are among commits 1..commit. */
  readonly versionRecords: number;
}

export type Expectation = { readonly commitId: number | null } | { readonly code: ErrorCode };

export type Step =
  | { readonly op: "register"; readonly definition: unknown; readonly expect: Expectation }
  | { readonly op: "insert" | "update"; readonly request: WriteRequest; readonly expect: Expectation }
  | { readonly op: "delete"; readonly request: DeleteRequest; readonly expect: Expectation }
  | { readonly op: "query" | "explain"; readonly request: Readonly<Record<string, unknown>> };

export interface Workload {
  readonly seed: number;
  readonly steps: readonly Step[];
  /** Step indexes per batch, in order; a batch is issued without awaiting in between. */
  readonly batches: readonly (readonly number[])[];
  /** commit id -> the expected state after it (0 = the empty database). */
  readonly states: ReadonlyMap<number, ModelState>;
  /** The highest commit id the workload produces. */
  readonly lastCommit: number;
}

export interface WorkloadOptions {
  /** Number of steps (default: 20–40, drawn from the seed). */
  readonly steps?: number;
  /** Include query/explain steps (default true). */
  readonly reads?: boolean;
  /** Largest batch of writes issued without awaiting (default 4). */
  readonly maxBatch?: number;
}

export function docKey(schemaId: string, id: DocId): string {
  return `${schemaId}\u0000${canonicalJson(id)}`;
}

/** The expected outcome of a write or registration step; null for reads. */
export function expectationOf(step: Step): Expectation | null {
  return "expect" in step ? step.expect : null;
}

export function expectedCommit(step: Step): number | null {
  const want = expectationOf(step);
  return want !== null && "commitId" in want ? want.commitId : null;
}

export function generateWorkload(seed: number, options: WorkloadOptions = {}): Workload {
  const rnd = new SeededRandom(seed);
  const count = options.steps ?? rnd.int(20, 40);
  const withReads = options.reads ?? true;
  const maxBatch = options.maxBatch ?? 4;
  // How often documents carry a bulky field: heavy workloads roll to a second WAL segment.
  const bulkChance = rnd.pick([0.1, 0.4, 0.9]);

  // 2–3 schemas, some with a second version.
  const planned: SchemaSpec[] = [spec("users/v1"), spec("orders/v1")];
  if (rnd.bool(0.7)) planned.push(spec("users/v2"));
  if (rnd.bool(0.5)) planned.push(spec("orders/v2"));
  if (rnd.bool(0.5)) planned.push(spec("events/v1"));
  const first = planned.splice(rnd.index(2), 1)[0] as SchemaSpec;
  const toRegister: SchemaSpec[] = [first, ...shuffle(rnd, planned)];

  const registered: SchemaSpec[] = [];
  const parsed: SchemaDefinition[] = [];
  const docs = new Map<string, ModelDoc>();
  let commit = 0;
  let registrations = 0;
  let versionRecords = 0;
  const states = new Map<number, ModelState>();
  const snapshot = () =>
    states.set(commit, {
      commit,
      docs: new Map(docs),
      schemas: sortDefs([...parsed]),
      registrations,
      versionRecords,
    });
  snapshot();

  const steps: Step[] = [];
  const refuse = (code: ErrorCode): Expectation => ({ code });
  const accept = (): Expectation => {
    commit++;
    return { commitId: commit };
  };

  const register = (s: SchemaSpec) => {
    steps.push({ op: "register", definition: s.definition, expect: accept() });
    registered.push(s);
    parsed.push(parseSchemaDefinition(s.definition));
    registrations++;
    snapshot();
  };
  register(toRegister.shift() as SchemaSpec);

  const schemaKnown = (schemaId: string, version: string): Expectation | null => {
    if (!registered.some((s) => s.definition.schema_id === schemaId)) return refuse("AERO_SCHEMA_UNKNOWN");
    if (!registered.some((s) => s.key === `${schemaId}/${version}`)) {
      return refuse("AERO_SCHEMA_UNKNOWN_VERSION");
    }
    return null;
  };
  const liveKeys = () => [...docs.keys()];

  while (steps.length < count) {
    const roll = rnd.int(0, 99);
    if (roll < 9 && toRegister.length > 0) {
      register(toRegister.shift() as SchemaSpec);
      continue;
    }
    if (roll < 12) {
      // A refused registration: an existing version again, or a bad definition.
      if (rnd.bool() && registered.length > 0) {
        steps.push({
          op: "register",
          definition: rnd.pick(registered).definition,
          expect: refuse("AERO_SCHEMA_IMMUTABLE"),
        });
      } else {
        steps.push({
          op: "register",
          definition: rnd.pick(BAD_DEFINITIONS),
          expect: refuse("AERO_SCHEMA_INVALID_DEFINITION"),
        });
      }
      continue;
    }
    if (withReads && roll < 20) {
      steps.push(readStep(rnd, registered));
      continue;
    }
    // Writes name a registered version, or sometimes one that is not (yet).
    const target = rnd.bool(0.06) ? rnd.pick(SPECS) : rnd.pick(registered);
    const schemaId = target.definition.schema_id as string;
    const version = target.definition.schema_version as string;
    const unknown = schemaKnown(schemaId, version);
    const liveOfSchema = liveKeys().filter((k) => docs.get(k)?.schema_id === schemaId);

    if (roll < 58) {
      // insert: a fresh or deleted id, sometimes a live one (duplicate)
      const useLive = liveOfSchema.length > 0 && rnd.bool(0.2);
      const id = useLive
        ? ((docs.get(rnd.pick(liveOfSchema)) as ModelDoc).doc._id as DocId)
        : rnd.pick(target.ids);
      const { document, fault } = makeDocument(rnd, target, id, bulkChance);
      const key = docKey(schemaId, id);
      const expect = unknown ?? fault ?? (docs.has(key) ? refuse("AERO_WRITE_DUPLICATE_ID") : accept());
      steps.push({
        op: "insert",
        request: { schema_id: schemaId, schema_version: version, document },
        expect,
      });
      if ("commitId" in expect) {
        docs.set(key, { schema_id: schemaId, schema_version: version, doc: document });
        versionRecords++;
        snapshot();
      }
    } else if (roll < 82) {
      // update: a live key (maybe into another version), sometimes a missing one
      const id =
        liveOfSchema.length > 0 && rnd.bool(0.85)
          ? ((docs.get(rnd.pick(liveOfSchema)) as ModelDoc).doc._id as DocId)
          : rnd.pick(target.ids);
      const { document, fault } = makeDocument(rnd, target, id, bulkChance);
      const key = docKey(schemaId, id);
      const expect = unknown ?? fault ?? (docs.has(key) ? accept() : refuse("AERO_WRITE_NOT_FOUND"));
      steps.push({
        op: "update",
        request: { schema_id: schemaId, schema_version: version, document },
        expect,
      });
      if ("commitId" in expect) {
        docs.set(key, { schema_id: schemaId, schema_version: version, doc: document });
        versionRecords++;
        snapshot();
      }
    } else {
      // delete: a live key, sometimes an absent one (ok, nothing written)
      const id =
        liveOfSchema.length > 0 && rnd.bool(0.75)
          ? ((docs.get(rnd.pick(liveOfSchema)) as ModelDoc).doc._id as DocId)
          : rnd.pick(target.ids);
      const key = docKey(schemaId, id);
      const expect = unknown ?? (docs.has(key) ? accept() : { commitId: null });
      steps.push({
        op: "delete",
        request: { schema_id: schemaId, schema_version: version, _id: id },
        expect,
      });
      if ("commitId" in expect && expect.commitId !== null) {
        docs.delete(key);
        versionRecords++;
        snapshot();
      }
    }
  }

  // Batches: up to maxBatch writes issued together; a read is a batch of its own.
  const batches: number[][] = [];
  let current: number[] = [];
  let size = rnd.int(1, maxBatch);
  steps.forEach((step, i) => {
    if (step.op === "query" || step.op === "explain") {
      if (current.length > 0) batches.push(current);
      batches.push([i]);
      current = [];
      size = rnd.int(1, maxBatch);
      return;
    }
    current.push(i);
    if (current.length >= size) {
      batches.push(current);
      current = [];
      size = rnd.int(1, maxBatch);
    }
  });
  if (current.length > 0) batches.push(current);

  return { seed, steps, batches, states, lastCommit: commit };
}

function spec(key: string): SchemaSpec {
  const found = SPECS.find((s) => s.key === key);
  if (!found) throw new Error(`no schema spec ${key}`);
  return found;
}

function shuffle<T>(rnd: SeededRandom, items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rnd.int(0, i);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function sortDefs(defs: SchemaDefinition[]): SchemaDefinition[] {
  const key = (d: SchemaDefinition) => `${d.schema_id}\u0000${d.schema_version}`;
  return defs.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** A document for `spec` with this _id: valid, invalid (validation) or too large. */
function makeDocument(
  rnd: SeededRandom,
  target: SchemaSpec,
  id: DocId,
  bulkChance: number,
): { document: Doc; fault: Expectation | null } {
  const document = target.valid(rnd, id, bulkChance);
  const roll = rnd.int(0, 99);
  if (roll < 10) {
    rnd.pick(target.breakers)(document);
    return { document, fault: { code: "AERO_SCHEMA_VALIDATION_FAILED" } };
  }
  if (roll < 13) {
    // Valid, but over core.max_document_bytes.
    const field = target.key.startsWith("users/v1")
      ? "name"
      : target.key.startsWith("users")
        ? "bio"
        : target.key.startsWith("orders")
          ? "note"
          : "payload";
    document[field] = "x".repeat(WORKLOAD_MAX_DOCUMENT_BYTES + 1);
    return { document, fault: { code: "AERO_WRITE_TOO_LARGE" } };
  }
  return { document, fault: null };
}

/** A query or explain: mostly bounded ones, some refused by the planner. */
function readStep(rnd: SeededRandom, registered: readonly SchemaSpec[]): Step {
  const op = rnd.bool() ? "query" : "explain";
  const target = rnd.pick(registered);
  const def = parseSchemaDefinition(target.definition);
  const base = { schema_id: def.schema_id, schema_version: def.schema_version };
  const fields = ["_id", ...def.indexes];
  const field = rnd.pick(fields);
  const type = (def.fields[field] as { type: string }).type;
  const kind = rnd.int(0, 9);
  if (kind === 0) return { op, request: { ...base, filter: {}, limit: 5 } }; // unbounded
  if (kind === 1) return { op, request: { ...base, filter: { [field]: lowest(type) } } }; // no limit
  if (kind === 2) {
    const unindexed = Object.keys(def.fields).find((f) => f !== "_id" && !def.indexes.includes(f));
    if (unindexed) return { op, request: { ...base, filter: { [unindexed]: "x" }, limit: 5 } };
  }
  const filter =
    type === "bool" ? { [field]: rnd.bool() } : { [field]: { [rnd.pick(["$gte", "$gt"])]: lowest(type) } };
  const sort = rnd.bool(0.4) ? { sort: rnd.bool() ? field : `-${field}` } : {};
  return { op, request: { ...base, filter, limit: rnd.int(1, 50), ...sort } };
}

function lowest(type: string): string | number | boolean {
  switch (type) {
    case "string":
      return "";
    case "int":
      return Number.MIN_SAFE_INTEGER;
    case "float":
      return -Number.MAX_VALUE;
    default:
      return false;
  }
}

// ---- running a workload ---------------------------------------------------------------------

export interface StepOutcome {
  readonly ok: boolean;
  /** canonicalJson of the result, or of the error's client form; "crash" for SimulatedCrash. */
  readonly text: string;
  readonly crash: boolean;
  readonly code?: ErrorCode;
  readonly commitId?: number | null;
}

export interface RunRecord {
  /** Per step index; undefined for steps never issued. */
  readonly outcomes: ReadonlyArray<StepOutcome | undefined>;
  /** Commit ids whose promise resolved, in resolution order. */
  readonly acknowledged: readonly number[];
  /** The highest acknowledged commit id (0 if none). */
  readonly highestAcknowledged: number;
  /** The highest commit id any issued step could have produced (0 if none). */
  readonly highestAttempted: number;
  /** A SimulatedCrash stopped the run. */
  readonly crashed: boolean;
  /** Descriptions of outcomes that differ from the model (up to the crash, if any). */
  readonly mismatches: readonly string[];
}

function outcomeOfError(err: unknown): StepOutcome {
  if (isSimulatedCrash(err)) return { ok: false, text: "crash", crash: true };
  if (isAeroError(err)) return { ok: false, text: canonicalJson(err.toJSON()), crash: false, code: err.code };
  throw err;
}

function outcomeOfValue(value: unknown): StepOutcome {
  const commitId = (value as { commit_id?: number | null }).commit_id;
  return {
    ok: true,
    text: canonicalJson(value),
    crash: false,
    ...(commitId !== undefined ? { commitId } : {}),
  };
}

function issue(db: Database, step: Step): Promise<unknown> {
  switch (step.op) {
    case "register":
      return db.registerSchema(step.definition);
    case "insert":
      return db.insert(step.request);
    case "update":
      return db.update(step.request);
    case "delete":
      return db.delete(step.request);
    case "query":
      return Promise.resolve().then(() => db.query(step.request));
    case "explain":
      return Promise.resolve().then(() => db.explain(step.request));
  }
}

/**
 * Runs the workload, batch after batch, until the end or the first SimulatedCrash. Outcomes
 * before the crash (in pipeline order) are compared with the model; a batch expected to
 * commit nothing must leave the log and V untouched.
 */
export async function runWorkload(db: Database, workload: Workload): Promise<RunRecord> {
  const outcomes: Array<StepOutcome | undefined> = new Array(workload.steps.length).fill(undefined);
  const acknowledged: number[] = [];
  const mismatches: string[] = [];
  let highestAttempted = 0;
  let crashed = false;
  for (const batch of workload.batches) {
    const before = quietStats(db);
    const pending = batch.map((i) => {
      const step = workload.steps[i] as Step;
      highestAttempted = Math.max(highestAttempted, expectedCommit(step) ?? 0);
      let promise: Promise<unknown>;
      try {
        promise = issue(db, step);
      } catch (err) {
        promise = Promise.reject(err);
      }
      return promise.then(
        (value) => {
          const outcome = outcomeOfValue(value);
          if (typeof outcome.commitId === "number") acknowledged.push(outcome.commitId);
          outcomes[i] = outcome;
        },
        (err: unknown) => {
          outcomes[i] = outcomeOfError(err);
        },
      );
    });
    await Promise.all(pending);
    for (const i of batch) {
      const outcome = outcomes[i] as StepOutcome;
      if (outcome.crash) {
        crashed = true;
        break;
      }
      const mismatch = compare(workload.steps[i] as Step, outcome);
      if (mismatch) mismatches.push(`step ${i} (${(workload.steps[i] as Step).op}): ${mismatch}`);
    }
    if (crashed) break;
    const after = quietStats(db);
    const commits = batch.some((i) => expectedCommit(workload.steps[i] as Step) !== null);
    if (!commits && before !== null && after !== null && canonicalJson(before) !== canonicalJson(after)) {
      mismatches.push(`batch ${JSON.stringify(batch)} committed nothing but changed ${before} -> ${after}`);
    }
  }
  return {
    outcomes,
    acknowledged,
    highestAcknowledged: acknowledged.reduce((a, b) => Math.max(a, b), 0),
    highestAttempted,
    crashed,
    mismatches,
  };
}

function quietStats(db: Database): unknown {
  const s = db.stats();
  return {
    high_water: s.commit_high_water,
    last_lsn: s.last_lsn,
    bytes: s.wal.bytes_written,
    units: s.wal.units_appended,
  };
}

function compare(step: Step, outcome: StepOutcome): string | null {
  const want = expectationOf(step);
  if (want === null) {
    // Reads are not modelled; a refusal must be a planner refusal, nothing else.
    if (!outcome.ok && outcome.code !== undefined && !/^AERO_(QUERY|SCHEMA)_/.test(outcome.code)) {
      return `unexpected ${outcome.code}`;
    }
    return null;
  }
  if ("code" in want) {
    return outcome.ok || outcome.code !== want.code ? `expected ${want.code}, got ${outcome.text}` : null;
  }
  if (!outcome.ok) return `expected commit ${want.commitId}, got ${outcome.text}`;
  return outcome.commitId === want.commitId ? null : `expected commit ${want.commitId}, got ${outcome.text}`;
}

// ---- reading the state back -----------------------------------------------------------------

/** Everything a database holds, in a comparable form. */
export interface StateView {
  /** canonicalJson of each registered definition, sorted by (schema_id, schema_version). */
  readonly schemas: readonly string[];
  /** "schema_id/schema_version" -> canonicalJson of every live document, in _id order. */
  readonly documents: Readonly<Record<string, readonly string[]>>;
  /** "schema_id/schema_version/field" -> canonicalJson of the _ids a full range on that index finds, sorted. */
  readonly indexed: Readonly<Record<string, readonly string[]>>;
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Reads the whole state back through the query API: an `_id` range per registered version
 * (every live document of that version), and a full range per declared index.
 */
export function readDbState(db: Database): StateView {
  const schemas: string[] = [];
  const documents: Record<string, string[]> = {};
  const indexed: Record<string, string[]> = {};
  for (const def of db.schemas()) {
    schemas.push(canonicalJson(def));
    const base = { schema_id: def.schema_id, schema_version: def.schema_version, limit: 1000 };
    const idType = (def.fields._id as { type: string }).type;
    const rows = db.query({ ...base, filter: { _id: { $gte: lowest(idType) } } }).data;
    documents[`${def.schema_id}/${def.schema_version}`] = rows.map((r) => canonicalJson(r)).sort(byText);
    for (const field of def.indexes) {
      const type = (def.fields[field] as { type: string }).type;
      const filters =
        type === "bool" ? [{ [field]: false }, { [field]: true }] : [{ [field]: { $gte: lowest(type) } }];
      const ids: string[] = [];
      for (const filter of filters) {
        for (const row of db.query({ ...base, filter }).data) ids.push(canonicalJson(row._id));
      }
      indexed[`${def.schema_id}/${def.schema_version}/${field}`] = ids.sort(byText);
    }
  }
  return { schemas, documents, indexed };
}

/** What readDbState must return for the model state. */
export function modelView(state: ModelState): StateView {
  const schemas: string[] = [];
  const documents: Record<string, string[]> = {};
  const indexed: Record<string, string[]> = {};
  for (const def of state.schemas) {
    schemas.push(canonicalJson(def));
    const mine = [...state.docs.values()].filter(
      (d) => d.schema_id === def.schema_id && d.schema_version === def.schema_version,
    );
    documents[`${def.schema_id}/${def.schema_version}`] = mine.map((d) => canonicalJson(d.doc)).sort(byText);
    for (const field of def.indexes) {
      indexed[`${def.schema_id}/${def.schema_version}/${field}`] = mine
        .filter((d) => Object.hasOwn(d.doc, field))
        .map((d) => canonicalJson(d.doc._id))
        .sort(byText);
    }
  }
  return { schemas, documents, indexed };
}

/** The recovery report's `indexes` figures for a model state. */
export function modelIndexStats(state: ModelState): { count: number; entries: number } {
  let count = 0;
  let entries = 0;
  for (const def of state.schemas) count += 1 + def.indexes.length;
  for (const d of state.docs.values()) {
    const def = state.schemas.find(
      (s) => s.schema_id === d.schema_id && s.schema_version === d.schema_version,
    );
    if (!def) throw new Error(`model holds a document of unregistered ${d.schema_id}/${d.schema_version}`);
    entries += 1 + def.indexes.filter((f) => Object.hasOwn(d.doc, f)).length;
  }
  return { count, entries };
}

// ---- the bytes on disk ----------------------------------------------------------------------

// Shared with the other packages' tests: @aerodb/base's.
export { dumpTree, isSimulatedCrash } from "@aerodb/base";
