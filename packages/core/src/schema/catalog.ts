/**
 * The registered schema versions (core.md §3.4–3.5, CORE-S-1, CORE-S-3): an in-memory map
 * from (schema_id, schema_version) to its parsed definition, rebuilt at every boot from the
 * WAL. A version, once added, never changes or leaves.
 */
import { AeroError, compareCodeUnits } from "@aerodb/base";
import type { SchemaLookup } from "../query/types.js";
import type { SchemaDefinition } from "./types.js";

export class SchemaCatalog implements SchemaLookup {
  /** schema_id -> schema_version -> definition; versions in registration order. */
  readonly #byId = new Map<string, Map<string, SchemaDefinition>>();
  #count = 0;

  /** How many (schema_id, schema_version) pairs are registered. */
  get count(): number {
    return this.#count;
  }

  has(schemaId: string, schemaVersion: string): boolean {
    return this.#byId.get(schemaId)?.has(schemaVersion) ?? false;
  }

  /** The definition of (schemaId, schemaVersion), or null if it is not registered. */
  get(schemaId: string, schemaVersion: string): SchemaDefinition | null {
    return this.#byId.get(schemaId)?.get(schemaVersion) ?? null;
  }

  /** Every registered version of schemaId (registration order), or null if there is none. */
  versions(schemaId: string): ReadonlyMap<string, SchemaDefinition> | null {
    return this.#byId.get(schemaId) ?? null;
  }

  /**
   * Registers a parsed definition. An existing (schema_id, schema_version) is refused with
   * AERO_SCHEMA_IMMUTABLE, even if the definition is identical: versions never change.
   */
  add(def: SchemaDefinition): void {
    let versions = this.#byId.get(def.schema_id);
    if (versions?.has(def.schema_version)) {
      throw new AeroError("AERO_SCHEMA_IMMUTABLE", "That schema version is already registered.", {
        schema_id: def.schema_id,
        schema_version: def.schema_version,
      });
    }
    if (versions === undefined) {
      versions = new Map();
      this.#byId.set(def.schema_id, versions);
    }
    versions.set(def.schema_version, def);
    this.#count++;
  }

  /**
   * Every registered definition, sorted by schema_id then schema_version, both by UTF-16
   * code unit (so "v10" sorts before "v2"): a deterministic order for files and listings.
   */
  all(): SchemaDefinition[] {
    const out: SchemaDefinition[] = [];
    for (const id of [...this.#byId.keys()].sort(compareCodeUnits)) {
      const versions = this.#byId.get(id) as Map<string, SchemaDefinition>;
      for (const version of [...versions.keys()].sort(compareCodeUnits)) {
        out.push(versions.get(version) as SchemaDefinition);
      }
    }
    return out;
  }
}

/** A request value that names nothing usable is echoed in details only when short and plain. */
function echo(value: string): string {
  return value.length > 64 ? `${value.slice(0, 64)}...` : value;
}

/**
 * The schema a write names (core.md §3, CORE-S-1). Checks, first failure wins: schema_id
 * present (a string; else AERO_SCHEMA_REQUIRED), schema_version present (a string; else
 * AERO_SCHEMA_VERSION_REQUIRED), the id known (AERO_SCHEMA_UNKNOWN), the version known
 * (AERO_SCHEMA_UNKNOWN_VERSION). An empty string is a (never registered) name, so it is
 * unknown rather than missing.
 */
export function resolveWriteSchema(
  catalog: SchemaCatalog,
  schemaId: unknown,
  schemaVersion: unknown,
): SchemaDefinition {
  if (typeof schemaId !== "string") {
    throw new AeroError("AERO_SCHEMA_REQUIRED", "The request names no schema_id (a string).");
  }
  if (typeof schemaVersion !== "string") {
    throw new AeroError("AERO_SCHEMA_VERSION_REQUIRED", "The request names no schema_version (a string).", {
      schema_id: echo(schemaId),
    });
  }
  const versions = catalog.versions(schemaId);
  if (versions === null) {
    throw new AeroError("AERO_SCHEMA_UNKNOWN", "No schema with that id is registered.", {
      schema_id: echo(schemaId),
    });
  }
  const def = versions.get(schemaVersion);
  if (def === undefined) {
    throw new AeroError("AERO_SCHEMA_UNKNOWN_VERSION", "The schema has no such version.", {
      schema_id: schemaId,
      schema_version: echo(schemaVersion),
    });
  }
  return def;
}
