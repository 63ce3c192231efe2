// A seeded workload over the embedded API with a model of what it must leave behind, for the
// checkpoint tests. Every generated operation is valid for the model at that point (refusals
// are core's tests), so each one commits: `expectCommit` is the commit id it gets (null for a
// delete of an absent key). The model keeps its state after every commit, so a test can ask
// "what must the database hold after commit c".
import { isSimulatedCrash, type SeededRandom } from "@aerodb/base";
import { canonicalJson, type Database, type DocId } from "../../src/index.js";

export const SEGMENT_BYTES = 64 * 1024;
export const DATA_DIR = "/db";
export const CONFIG = {
  core: { data_dir: DATA_DIR, wal_segment_bytes: SEGMENT_BYTES, max_document_bytes: 16 * 1024 },
};
export const DB_ID_BYTES = Uint8Array.from({ length: 16 }, (_, i) => (i * 29 + 3) & 0xff);
export const DEAD_OWNER = () => false;

const req = (type: string, extra: Record<string, unknown> = {}) => ({ type, required: true, ...extra });
const opt = (type: string, extra: Record<string, unknown> = {}) => ({ type, required: false, ...extra });

export const SCHEMAS = {
  users_v1: {
    format_version: 1,
    schema_id: "users",
    schema_version: "v1",
    fields: { _id: req("string"), name: req("string"), age: opt("int"), bio: opt("string") },
    indexes: ["age", "name"],
  },
  users_v2: {
    format_version: 1,
    schema_id: "users",
    schema_version: "v2",
    fields: {
      _id: req("string"),
      name: req("string"),
      email: opt("string"),
      tags: req("array", { items: { type: "string" } }),
    },
    indexes: ["email"],
  },
  orders_v1: {
    format_version: 1,
    schema_id: "orders",
    schema_version: "v1",
    fields: { _id: req("int"), qty: req("int"), paid: opt("bool"), note: opt("string") },
    indexes: ["paid", "qty"],
  },
} as const;

type Def = (typeof SCHEMAS)[keyof typeof SCHEMAS];
type Doc = Record<string, unknown>;

export type Op =
  | { readonly kind: "register"; readonly def: Def; readonly expectCommit: number }
  | {
      readonly kind: "insert" | "update";
      readonly schema_id: string;
      readonly schema_version: string;
      readonly document: Doc;
      readonly expectCommit: number;
    }
  | {
      readonly kind: "delete";
      readonly schema_id: string;
      readonly schema_version: string;
      readonly _id: DocId;
      readonly expectCommit: number | null;
    };

interface LiveDoc {
  readonly schema_id: string;
  readonly schema_version: string;
  readonly doc: Doc;
}

/** What a database must show: comparable as canonical JSON. */
export interface View {
  readonly commit: number;
  readonly versions: number;
  readonly documents: number;
  readonly schemas: readonly string[];
  readonly rows: Readonly<Record<string, readonly string[]>>;
  readonly indexed: Readonly<Record<string, readonly string[]>>;
}

export class Model {
  commit = 0;
  versions = 0;
  readonly registered: Def[] = [];
  readonly docs = new Map<string, LiveDoc>();
  /** commit id -> canonical JSON of the View after it. */
  readonly views = new Map<number, string>();

  constructor() {
    this.views.set(0, canonicalJson(this.view()));
  }

  view(): View {
    const defs = [...this.registered].sort((a, b) =>
      a.schema_id === b.schema_id ? cmp(a.schema_version, b.schema_version) : cmp(a.schema_id, b.schema_id),
    );
    const rows: Record<string, string[]> = {};
    const indexed: Record<string, string[]> = {};
    for (const def of defs) {
      const mine = [...this.docs.values()].filter(
        (d) => d.schema_id === def.schema_id && d.schema_version === def.schema_version,
      );
      rows[`${def.schema_id}/${def.schema_version}`] = mine.map((d) => canonicalJson(d.doc)).sort(cmp);
      for (const field of def.indexes) {
        indexed[`${def.schema_id}/${def.schema_version}/${field}`] = mine
          .filter((d) => Object.hasOwn(d.doc, field))
          .map((d) => canonicalJson(d.doc._id))
          .sort(cmp);
      }
    }
    return {
      commit: this.commit,
      versions: this.versions,
      documents: this.docs.size,
      schemas: defs.map((d) => `${d.schema_id}/${d.schema_version}`),
      rows,
      indexed,
    };
  }

  private committed(versionRecord: boolean): number {
    this.commit++;
    if (versionRecord) this.versions++;
    this.views.set(this.commit, canonicalJson(this.view()));
    return this.commit;
  }

  /** Generates `count` valid operations, applying each to the model as it goes. */
  generate(rnd: SeededRandom, count: number, bulkChance = 0.3): Op[] {
    const ops: Op[] = [];
    while (ops.length < count) {
      const unregistered = Object.values(SCHEMAS).filter((d) => !this.registered.includes(d));
      if (this.registered.length === 0 || (unregistered.length > 0 && rnd.bool(0.08))) {
        const def = this.registered.length === 0 ? SCHEMAS.users_v1 : rnd.pick(unregistered);
        this.registered.push(def);
        ops.push({ kind: "register", def, expectCommit: this.committed(false) });
        continue;
      }
      const def = rnd.pick(this.registered);
      const id: DocId = def.schema_id === "orders" ? rnd.int(-3, 8) : `u${rnd.int(0, 9)}`;
      const key = `${def.schema_id}\u0000${canonicalJson(id)}`;
      const live = this.docs.get(key);
      const roll = rnd.int(0, 99);
      if (live && roll < 25) {
        this.docs.delete(key);
        ops.push({
          kind: "delete",
          schema_id: def.schema_id,
          schema_version: def.schema_version,
          _id: id,
          expectCommit: this.committed(true),
        });
        continue;
      }
      if (!live && roll < 8) {
        ops.push({
          kind: "delete",
          schema_id: def.schema_id,
          schema_version: def.schema_version,
          _id: id,
          expectCommit: null,
        });
        continue;
      }
      const document = makeDoc(rnd, def, id, bulkChance);
      this.docs.set(key, { schema_id: def.schema_id, schema_version: def.schema_version, doc: document });
      ops.push({
        kind: live ? "update" : "insert",
        schema_id: def.schema_id,
        schema_version: def.schema_version,
        document,
        expectCommit: this.committed(true),
      });
    }
    return ops;
  }
}

function makeDoc(rnd: SeededRandom, def: Def, id: DocId, bulkChance: number): Doc {
  const text = (min: number, max: number) => {
    let out = "";
    const n = rnd.int(min, max);
    for (let i = 0; i < n; i++) out += "abcdefghijklmnopqrstuvwxyzé _-0123456789"[rnd.index(41)];
    return out;
  };
  const bulk = () => (rnd.bool(bulkChance) ? text(2000, 9000) : text(0, 30));
  switch (`${def.schema_id}/${def.schema_version}`) {
    case "users/v1":
      return {
        _id: id,
        name: text(1, 8),
        ...(rnd.bool(0.7) ? { age: rnd.int(-5, 99) } : {}),
        ...(rnd.bool(0.6) ? { bio: bulk() } : {}),
      };
    case "users/v2":
      return {
        _id: id,
        name: text(1, 8),
        ...(rnd.bool(0.6) ? { email: `${text(1, 6)}@x.io` } : {}),
        tags: Array.from({ length: rnd.int(0, 3) }, () => text(0, 4)),
      };
    default:
      return {
        _id: id,
        qty: rnd.int(0, 50),
        ...(rnd.bool(0.6) ? { paid: rnd.bool() } : {}),
        ...(rnd.bool(0.7) ? { note: bulk() } : {}),
      };
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const LOWEST: Record<string, unknown> = {
  string: "",
  int: Number.MIN_SAFE_INTEGER,
  float: -Number.MAX_VALUE,
};

/** Reads everything back through the query API, in the model's View shape. */
export function readView(db: Database): View {
  const defs = db.schemas();
  const rows: Record<string, string[]> = {};
  const indexed: Record<string, string[]> = {};
  for (const def of defs) {
    const base = { schema_id: def.schema_id, schema_version: def.schema_version, limit: 1000 };
    const idType = (def.fields._id as { type: string }).type;
    rows[`${def.schema_id}/${def.schema_version}`] = db
      .query({ ...base, filter: { _id: { $gte: LOWEST[idType] } } })
      .data.map((r) => canonicalJson(r))
      .sort(cmp);
    for (const field of def.indexes) {
      const type = (def.fields[field] as { type: string }).type;
      const filters =
        type === "bool" ? [{ [field]: false }, { [field]: true }] : [{ [field]: { $gte: LOWEST[type] } }];
      const ids: string[] = [];
      for (const filter of filters) {
        for (const row of db.query({ ...base, filter }).data) ids.push(canonicalJson(row._id));
      }
      indexed[`${def.schema_id}/${def.schema_version}/${field}`] = ids.sort(cmp);
    }
  }
  const stats = db.stats();
  return {
    commit: stats.commit_high_water,
    versions: stats.versions,
    documents: stats.documents,
    schemas: defs.map((d) => `${d.schema_id}/${d.schema_version}`),
    rows,
    indexed,
  };
}

export function viewText(db: Database): string {
  return canonicalJson(readView(db));
}

function issue(db: Database, op: Op): Promise<{ commit_id: number | null }> {
  switch (op.kind) {
    case "register":
      return db.registerSchema(op.def);
    case "insert":
      return db.insert(op);
    case "update":
      return db.update(op);
    case "delete":
      return db.delete(op);
  }
}

export interface RunResult {
  /** Commit ids acknowledged, in order. */
  readonly acknowledged: number[];
  readonly highestAttempted: number;
  readonly crashed: boolean;
}

/**
 * Runs the operations in batches of up to `batch` issued without awaiting (they queue behind
 * each other's fsync), until the end or the first SimulatedCrash. A result other than the
 * expected commit id, or any other error, throws.
 */
export async function runOps(db: Database, ops: readonly Op[], batch = 3): Promise<RunResult> {
  const acknowledged: number[] = [];
  let highestAttempted = 0;
  let crashed = false;
  for (let i = 0; i < ops.length && !crashed; i += batch) {
    const slice = ops.slice(i, i + batch);
    const results = await Promise.allSettled(
      slice.map((op) => {
        highestAttempted = Math.max(highestAttempted, op.expectCommit ?? 0);
        return issue(db, op);
      }),
    );
    // After a crash, requests queued behind it may fail in other ways (a registration that
    // never installed leaves its version unknown): only what precedes the crash is checked.
    for (let j = 0; j < results.length; j++) {
      const r = results[j] as PromiseSettledResult<{ commit_id: number | null }>;
      const op = slice[j] as Op;
      if (r.status === "fulfilled") {
        if (r.value.commit_id !== op.expectCommit) {
          throw new Error(`${op.kind} expected commit ${op.expectCommit}, got ${r.value.commit_id}`);
        }
        if (r.value.commit_id !== null) acknowledged.push(r.value.commit_id);
      } else if (isSimulatedCrash(r.reason)) {
        crashed = true;
        break;
      } else {
        throw r.reason;
      }
    }
  }
  return { acknowledged, highestAttempted, crashed };
}

export { dumpTree, isSimulatedCrash, SeededRandom } from "@aerodb/base";
