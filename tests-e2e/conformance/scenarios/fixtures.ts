/** Schemas, documents and request builders shared by the scenarios. */
import type { Request } from "../driver.js";

/** Severities of core.md §7 (the codes the scenarios meet). */
export const SEVERITY: Readonly<Record<string, "FATAL" | "ERROR" | "REJECT">> = {
  AERO_CONFIG_INVALID: "FATAL",
  AERO_CONFIG_UNSAFE: "FATAL",
  AERO_CONFIG_IMMUTABLE: "FATAL",
  AERO_CONFIG_IO_FAILED: "FATAL",
  AERO_STORAGE_LOCKED: "FATAL",
  AERO_STORAGE_NOT_INITIALIZED: "FATAL",
  AERO_STORAGE_FORMAT_UNSUPPORTED: "FATAL",
  AERO_STORAGE_WRITE_FAILED: "FATAL",
  AERO_WAL_APPEND_FAILED: "FATAL",
  AERO_WAL_FSYNC_FAILED: "FATAL",
  AERO_WAL_CORRUPTION: "FATAL",
  AERO_WAL_UNIT_INCOMPLETE: "FATAL",
  AERO_DATA_CORRUPTION: "FATAL",
  AERO_INDEX_CORRUPTION: "FATAL",
  AERO_METADATA_CORRUPTION: "FATAL",
  AERO_RECOVERY_FAILED: "FATAL",
  AERO_RECOVERY_SCHEMA_MISSING: "FATAL",
  AERO_RECOVERY_INCONSISTENT: "FATAL",
  AERO_RECOVERY_SNAPSHOT_MISSING: "FATAL",
  AERO_RECOVERY_RESTORE_INCOMPLETE: "FATAL",
  AERO_SNAPSHOT_CORRUPTION: "FATAL",
  AERO_RESTORE_INVALID_BACKUP: "FATAL",
  AERO_RESTORE_FAILED: "FATAL",
  AERO_MVCC_COMMIT_ORDER: "FATAL",
  AERO_INTERNAL_INVARIANT: "FATAL",
  AERO_STORAGE_READ_FAILED: "ERROR",
  AERO_EXECUTION_LIMIT: "ERROR",
  AERO_CHECKPOINT_FAILED: "ERROR",
  AERO_CHECKPOINT_TRUNCATE_FAILED: "ERROR",
  AERO_BACKUP_FAILED: "ERROR",
  AERO_SCHEMA_REQUIRED: "REJECT",
  AERO_SCHEMA_VERSION_REQUIRED: "REJECT",
  AERO_SCHEMA_UNKNOWN: "REJECT",
  AERO_SCHEMA_UNKNOWN_VERSION: "REJECT",
  AERO_SCHEMA_VALIDATION_FAILED: "REJECT",
  AERO_SCHEMA_INVALID_DEFINITION: "REJECT",
  AERO_SCHEMA_IMMUTABLE: "REJECT",
  AERO_WRITE_DUPLICATE_ID: "REJECT",
  AERO_WRITE_NOT_FOUND: "REJECT",
  AERO_WRITE_TOO_LARGE: "REJECT",
  AERO_QUERY_INVALID: "REJECT",
  AERO_QUERY_UNBOUNDED: "REJECT",
  AERO_QUERY_UNINDEXED_FIELD: "REJECT",
  AERO_QUERY_LIMIT_REQUIRED: "REJECT",
  AERO_QUERY_LIMIT_TOO_LARGE: "REJECT",
  AERO_QUERY_SORT_NOT_INDEXED: "REJECT",
};

/** The example schema of core.md §3, verbatim. */
export const USERS_V1 = {
  format_version: 1,
  schema_id: "users",
  schema_version: "v1",
  fields: {
    _id: { type: "string", required: true },
    age: { type: "int", required: false },
    tags: { type: "array", required: true, items: { type: "string" } },
    addr: { type: "object", required: false, fields: { city: { type: "string", required: true } } },
  },
  indexes: ["age"],
} as const;

/** A second version of users: `email` added. */
export const USERS_V2 = {
  format_version: 1,
  schema_id: "users",
  schema_version: "v2",
  fields: {
    _id: { type: "string", required: true },
    age: { type: "int", required: false },
    email: { type: "string", required: false },
    tags: { type: "array", required: true, items: { type: "string" } },
  },
  indexes: ["age"],
} as const;

/** The query scenarios' schema: one field of every scalar type indexed, one not. */
export const PEOPLE_V1 = {
  format_version: 1,
  schema_id: "people",
  schema_version: "v1",
  fields: {
    _id: { type: "string", required: true },
    a: { type: "int", required: false },
    b: { type: "int", required: false },
    name: { type: "string", required: false },
    score: { type: "float", required: false },
    active: { type: "bool", required: false },
    note: { type: "string", required: false },
    addr: { type: "object", required: false, fields: { city: { type: "string", required: true } } },
  },
  indexes: ["a", "b", "name", "score", "active"],
} as const;

export const PEOPLE_V2 = { ...PEOPLE_V1, schema_version: "v2" } as const;

export function register(schema: unknown): Request {
  return { op: "register_schema", schema };
}

export function insert(schemaId: string, version: string, document: Record<string, unknown>): Request {
  return { op: "insert", schema_id: schemaId, schema_version: version, document };
}

export function update(schemaId: string, version: string, document: Record<string, unknown>): Request {
  return { op: "update", schema_id: schemaId, schema_version: version, document };
}

export function remove(schemaId: string, version: string, id: string | number): Request {
  return { op: "delete", schema_id: schemaId, schema_version: version, document: { _id: id } };
}

export interface QueryShape {
  readonly filter?: unknown;
  readonly limit?: unknown;
  readonly sort?: unknown;
}

export function query(schemaId: string, version: string, shape: QueryShape): Request {
  return { op: "query", schema_id: schemaId, schema_version: version, ...shape };
}

export function explain(schemaId: string, version: string, shape: QueryShape): Request {
  return { op: "explain", schema_id: schemaId, schema_version: version, ...shape };
}

/** A users v1 document. */
export function user(id: string, age?: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { _id: id, tags: [], ...(age === undefined ? {} : { age }), ...extra };
}

export const insertUser = (id: string, age?: number, extra?: Record<string, unknown>) =>
  insert("users", "v1", user(id, age, extra));

export const updateUser = (id: string, age?: number, extra?: Record<string, unknown>) =>
  update("users", "v1", user(id, age, extra));

export const userById = (id: string) => query("users", "v1", { filter: { _id: id }, limit: 1 });

export const usersByAge = (filter: unknown, limit = 1000, sort?: unknown) =>
  query("users", "v1", { filter: { age: filter }, limit, ...(sort === undefined ? {} : { sort }) });
