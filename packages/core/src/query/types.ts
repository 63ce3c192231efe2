import type { ErrorCode } from "@aerodb/base";
import type { DocId, ScalarValue, SchemaDefinition } from "../schema/types.js";

export type CompareOp = "$eq" | "$gt" | "$gte" | "$lt" | "$lte";

export interface Predicate {
  readonly field: string;
  readonly op: CompareOp;
  readonly value: ScalarValue;
}

export type ScanType = "PK_LOOKUP" | "INDEX_EQ" | "INDEX_RANGE";

export interface Bound {
  readonly value: ScalarValue;
  readonly inclusive: boolean;
}

/** An index range; `$eq` is lower = upper, both inclusive. null = unbounded on that side. */
export interface IndexBounds {
  readonly lower: Bound | null;
  readonly upper: Bound | null;
}

export type SortOrder = "asc" | "desc";

export interface SortSpec {
  readonly field: string;
  readonly order: SortOrder;
}

/** A proven-bounded plan (core §5). Explain prints it; the executor runs exactly it. */
export interface QueryPlan {
  readonly schema_id: string;
  readonly schema_version: string;
  readonly chosen_index: string;
  readonly scan_type: ScanType;
  readonly index_bounds: IndexBounds;
  /** Sorted by field, then operator. */
  readonly predicates: readonly Predicate[];
  readonly sort: SortSpec | null;
  readonly limit: number;
  readonly max_scan: number;
}

export interface PlanRejection {
  readonly code: ErrorCode;
  readonly message: string;
  readonly details: Readonly<Record<string, unknown>>;
}

export interface QueryLimits {
  readonly maxQueryLimit: number;
  readonly maxScanCandidates: number;
}

/** What the planner needs to know about registered schemas. */
export interface SchemaLookup {
  /** null when no schema has that id. */
  versions(schemaId: string): ReadonlyMap<string, SchemaDefinition> | null;
}

export interface IndexEntry {
  readonly value: ScalarValue;
  readonly id: DocId;
}

/** A visible, verified document: what the executor keeps or drops. */
export interface VisibleDocument {
  readonly schemaVersion: string;
  readonly document: Readonly<Record<string, unknown>>;
}

/** The data the executor reads: index ranges (candidates) and visible versions (truth). */
export interface QuerySource {
  /** Entries of the index on `field` of (schemaId, schemaVersion) within bounds, in order. */
  scan(
    schemaId: string,
    schemaVersion: string,
    field: string,
    bounds: IndexBounds,
    order: SortOrder,
  ): Iterable<IndexEntry>;
  /** The key's visible version (checksum verified), or null if absent or a tombstone. */
  readVisible(schemaId: string, id: DocId): VisibleDocument | null;
}
