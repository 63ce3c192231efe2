import { AeroError, isAeroError } from "@aerodb/base";
import { canonicalJson } from "../canonical-json.js";
import type { Database } from "../engine/database.js";

/**
 * The request envelope (core §6): one JSON object in, one JSON object out. Shared by
 * `aerodb start` (a request per stdin line) and any other transport, so every transport
 * answers byte-identically.
 */
export type Response =
  | { status: "ok"; data: unknown; commit_id?: number | null; read_view?: number }
  | ReturnType<AeroError["toJSON"]>;

const WRITE_KEYS = ["op", "schema_id", "schema_version", "document"] as const;
const OPS_OF_LATER_PHASES = new Set(["begin", "commit", "abort", "gc"]);

export async function handleRequest(db: Database, request: unknown): Promise<Response> {
  try {
    return await dispatch(db, request);
  } catch (err) {
    if (isAeroError(err)) return err.toJSON();
    return new AeroError("AERO_INTERNAL_INVARIANT", "An unexpected internal error occurred.").toJSON();
  }
}

/** Parses one request line; malformed text is a typed QUERY_INVALID, never an exception. */
export function parseRequestLine(line: Uint8Array | string): unknown {
  let text: string;
  try {
    // The decoder drops a leading byte-order mark; strings get the same treatment, so every
    // transport answers a line the same way.
    text =
      typeof line === "string"
        ? line.startsWith("\uFEFF")
          ? line.slice(1)
          : line
        : new TextDecoder("utf-8", { fatal: true }).decode(line);
  } catch {
    throw new AeroError("AERO_QUERY_INVALID", "The request is not valid UTF-8.");
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new AeroError("AERO_QUERY_INVALID", "The request is not valid JSON.");
  }
}

export function serializeResponse(response: Response): string {
  return canonicalJson(response);
}

async function dispatch(db: Database, request: unknown): Promise<Response> {
  if (!isPlainObject(request)) throw invalid("A request is a JSON object.");
  const op = request.op;
  if (typeof op !== "string") throw invalid("The request has no op.");
  switch (op) {
    case "insert":
    case "update": {
      onlyKeys(request, WRITE_KEYS);
      if (!isPlainObject(request.document)) throw invalid("A write needs a document object.");
      const args = {
        schema_id: request.schema_id as string,
        schema_version: request.schema_version as string,
        document: request.document,
      };
      const result = op === "insert" ? await db.insert(args) : await db.update(args);
      return { status: "ok", data: [], commit_id: result.commit_id };
    }
    case "delete": {
      onlyKeys(request, WRITE_KEYS);
      if (!isPlainObject(request.document)) throw invalid("delete needs a document object holding the _id.");
      onlyKeys(request.document, ["_id"]);
      const result = await db.delete({
        schema_id: request.schema_id as string,
        schema_version: request.schema_version as string,
        _id: request.document._id as string,
      });
      return { status: "ok", data: [], commit_id: result.commit_id };
    }
    case "query": {
      const result = db.query(request);
      return { status: "ok", data: result.data, read_view: result.read_view };
    }
    case "explain":
      return { status: "ok", data: db.explain(request) };
    case "register_schema": {
      onlyKeys(request, ["op", "schema"]);
      const result = await db.registerSchema(request.schema);
      return { status: "ok", data: [], commit_id: result.commit_id };
    }
    case "checkpoint": {
      onlyKeys(request, ["op"]);
      return { status: "ok", data: await db.checkpoint() };
    }
    case "backup": {
      onlyKeys(request, ["op", "path"]);
      if (typeof request.path !== "string" || request.path.length === 0) {
        throw invalid("backup needs a path (a non-empty string).");
      }
      return { status: "ok", data: await db.backup(request.path) };
    }
    default:
      if (OPS_OF_LATER_PHASES.has(op)) {
        throw invalid(`The op '${op}' is not available in this version of AeroDB.`, { op });
      }
      throw invalid(`Unknown op '${op.slice(0, 64)}'.`);
  }
}

function onlyKeys(value: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key))
      throw invalid(`Unexpected field '${key.slice(0, 64)}'.`, { field: key.slice(0, 64) });
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function invalid(message: string, details?: Record<string, unknown>): AeroError {
  return new AeroError("AERO_QUERY_INVALID", message, details);
}
