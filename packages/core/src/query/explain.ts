/**
 * Explain (core.md §5): what the planner decided, without executing anything. A bounded plan
 * prints exactly the QueryPlan the executor would run (CORE-Q-4); a refusal prints
 * `bounded:false` with the rejection's code and details (the envelope's status stays "ok").
 * The result is a fresh plain JSON object; canonicalJson of it is the explain text, so the
 * same request against the same schemas gives the same bytes (CORE-Q-2).
 */
import type { ErrorCode } from "@aerodb/base";
import type { ScalarValue } from "../schema/types.js";
import { isPlanRejection } from "./planner.js";
import type { Bound, CompareOp, PlanRejection, QueryPlan, ScanType, SortOrder } from "./types.js";

export type ExplainBound = { readonly value: ScalarValue; readonly inclusive: boolean };

export type BoundedExplain = {
  readonly bounded: true;
  readonly schema_id: string;
  readonly schema_version: string;
  readonly chosen_index: string;
  readonly scan_type: ScanType;
  readonly index_bounds: { readonly lower: ExplainBound | null; readonly upper: ExplainBound | null };
  readonly predicates: ReadonlyArray<{
    readonly field: string;
    readonly op: CompareOp;
    readonly value: ScalarValue;
  }>;
  readonly sort: { readonly field: string; readonly order: SortOrder } | null;
  readonly limit: number;
  readonly max_scan: number;
};

export type UnboundedExplain = {
  readonly bounded: false;
  /** Present when the request carried a string schema_id. */
  readonly schema_id?: string;
  /** Present when the request carried a string schema_version. */
  readonly schema_version?: string;
  readonly rejection: { readonly code: ErrorCode; readonly details: Readonly<Record<string, unknown>> };
};

export type ExplainOutput = BoundedExplain | UnboundedExplain;

/** The explain object of a planQuery result; `request` supplies schema_id/version for refusals. */
export function explainPlan(result: QueryPlan | PlanRejection, request: unknown): ExplainOutput {
  if (isPlanRejection(result)) {
    const schemaId = requestString(request, "schema_id");
    const schemaVersion = requestString(request, "schema_version");
    return {
      bounded: false,
      ...(schemaId === undefined ? {} : { schema_id: schemaId }),
      ...(schemaVersion === undefined ? {} : { schema_version: schemaVersion }),
      rejection: { code: result.code, details: { ...result.details } },
    };
  }
  return {
    bounded: true,
    schema_id: result.schema_id,
    schema_version: result.schema_version,
    chosen_index: result.chosen_index,
    scan_type: result.scan_type,
    index_bounds: {
      lower: copyBound(result.index_bounds.lower),
      upper: copyBound(result.index_bounds.upper),
    },
    predicates: result.predicates.map((p) => ({ field: p.field, op: p.op, value: p.value })),
    sort: result.sort === null ? null : { field: result.sort.field, order: result.sort.order },
    limit: result.limit,
    max_scan: result.max_scan,
  };
}

function copyBound(bound: Bound | null): ExplainBound | null {
  return bound === null ? null : { value: bound.value, inclusive: bound.inclusive };
}

function requestString(request: unknown, key: string): string | undefined {
  if (typeof request !== "object" || request === null || Array.isArray(request)) return undefined;
  if (!Object.hasOwn(request, key)) return undefined;
  const value: unknown = (request as Record<string, unknown>)[key];
  return typeof value === "string" ? value : undefined;
}
