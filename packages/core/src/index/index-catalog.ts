/**
 * The in-memory indexes of every registered (schema_id, schema_version) (core.md §3.3): one
 * OrderedIndex for `_id` and one per declared index field. They hold no durable state: the
 * engine rebuilds them at boot from the recovered versions and maintains them on the commit
 * path (remove the previous live version's entries, add the new one's).
 *
 * An entry exists for `_id` and for each indexed field whose value in the document is present
 * and scalar; absent optional fields have no entry. Indexes narrow, versions decide
 * (CORE-Q-5): the executor re-reads every candidate's visible version, so an entry left behind
 * by a caller can cost scan work but never change a result.
 */
import { AeroError, compareCodeUnits } from "@aerodb/base";
import type { IndexBounds, IndexEntry, SortOrder } from "../query/types.js";
import type { DocId, ScalarValue, SchemaDefinition } from "../schema/types.js";
import { type IndexedValues, indexedValuesOfDocument } from "./indexed-values.js";
import { OrderedIndex } from "./ordered-index.js";
import { compareIds, compareScalars, isDocId } from "./scalar-order.js";

/** A live document's id and its index values, for loadSorted. */
export interface IndexedRow {
  readonly id: DocId;
  readonly values: IndexedValues;
}

const SCALAR_TYPES: ReadonlySet<string> = new Set(["string", "int", "float", "bool"]);

interface SchemaIndexes {
  /** Indexed fields, `_id` included, sorted by UTF-16 code unit. */
  readonly fields: readonly string[];
  readonly byField: ReadonlyMap<string, OrderedIndex>;
}

export class IndexCatalog {
  /** schema_id -> schema_version -> indexes. */
  readonly #schemas = new Map<string, Map<string, SchemaIndexes>>();

  /**
   * Creates the (empty) indexes of the definition's (schema_id, schema_version): `_id` plus
   * each declared index field. Idempotent: a second call for the same pair changes nothing.
   * A declared index that is not a top-level scalar field is a bug upstream (the definition
   * validator refuses it) and raises AERO_INTERNAL_INVARIANT.
   */
  ensure(def: SchemaDefinition): void {
    let versions = this.#schemas.get(def.schema_id);
    if (versions?.has(def.schema_version)) return;
    const names = [...new Set(["_id", ...def.indexes])].sort(compareCodeUnits);
    const byField = new Map<string, OrderedIndex>();
    for (const name of names) {
      const node = Object.hasOwn(def.fields, name) ? def.fields[name] : undefined;
      if (node === undefined || !SCALAR_TYPES.has(node.type)) {
        throw new AeroError(
          "AERO_INTERNAL_INVARIANT",
          "An index names a field that is not a top-level scalar.",
          {
            schema_id: def.schema_id,
            schema_version: def.schema_version,
            field: name,
          },
        );
      }
      byField.set(name, new OrderedIndex());
    }
    if (versions === undefined) {
      versions = new Map();
      this.#schemas.set(def.schema_id, versions);
    }
    versions.set(def.schema_version, { fields: names, byField });
  }

  has(schemaId: string, schemaVersion: string): boolean {
    return this.#schemas.get(schemaId)?.has(schemaVersion) ?? false;
  }

  /** The indexed fields of (schemaId, schemaVersion), `_id` included, sorted; null if unknown. */
  fields(schemaId: string, schemaVersion: string): readonly string[] | null {
    return this.#schemas.get(schemaId)?.get(schemaVersion)?.fields ?? null;
  }

  /** Adds the document's entries: `_id` and every indexed field present with a scalar value. */
  add(schemaId: string, schemaVersion: string, doc: Readonly<Record<string, unknown>>): void {
    const indexes = this.#require(schemaId, schemaVersion);
    const id = documentId(doc, schemaId, schemaVersion);
    this.#addValues(indexes, id, indexedValuesOfDocument(doc, indexes.fields));
  }

  /** Removes the entries `add` made for this document (absent ones are ignored). */
  remove(schemaId: string, schemaVersion: string, doc: Readonly<Record<string, unknown>>): void {
    const indexes = this.#require(schemaId, schemaVersion);
    const id = documentId(doc, schemaId, schemaVersion);
    this.#removeValues(indexes, id, indexedValuesOfDocument(doc, indexes.fields));
  }

  /** Adds entries from values aligned with `fields(schemaId, schemaVersion)`. */
  addValues(schemaId: string, schemaVersion: string, id: DocId, values: IndexedValues): void {
    this.#addValues(this.#require(schemaId, schemaVersion), id, values);
  }

  /** Removes the entries addValues made for the same values (absent ones are ignored). */
  removeValues(schemaId: string, schemaVersion: string, id: DocId, values: IndexedValues): void {
    this.#removeValues(this.#require(schemaId, schemaVersion), id, values);
  }

  /**
   * Builds the (empty) indexes of (schemaId, schemaVersion) in one pass each from every live
   * document's values, `rows` sorted by id ascending (recovery's rebuild). Each index is
   * bulk-loaded in (value, id) order: ids are grouped by value in id order, then the distinct
   * values are sorted, which costs O(n) plus a sort of the distinct values.
   */
  loadSorted(schemaId: string, schemaVersion: string, rows: readonly IndexedRow[]): void {
    const indexes = this.#require(schemaId, schemaVersion);
    // Checked before any index is touched, so that a refusal leaves them all empty.
    for (let r = 1; r < rows.length; r++) {
      if (compareIds((rows[r - 1] as IndexedRow).id, (rows[r] as IndexedRow).id) >= 0) {
        throw new AeroError(
          "AERO_INTERNAL_INVARIANT",
          "Bulk-loaded rows are not in strictly ascending id order.",
          {
            schema_id: schemaId,
            schema_version: schemaVersion,
            row: r,
          },
        );
      }
    }
    for (const index of indexes.byField.values()) {
      if (index.size !== 0) {
        throw new AeroError("AERO_INTERNAL_INVARIANT", "A bulk load needs empty indexes.", {
          schema_id: schemaId,
          schema_version: schemaVersion,
        });
      }
    }
    indexes.fields.forEach((field, slot) => {
      if (field === "_id") {
        // Every row has its _id entry, and the rows are in id order already.
        const ids = rows.map((row) => row.id);
        indexes.byField.get(field)?.loadSorted(ids, ids);
        return;
      }
      const groups = new Map<ScalarValue, number[]>();
      for (let r = 0; r < rows.length; r++) {
        const value = (rows[r] as IndexedRow).values[slot];
        if (value === undefined) continue;
        let members = groups.get(value);
        if (members === undefined) {
          members = [];
          groups.set(value, members);
        }
        members.push(r);
      }
      const values: ScalarValue[] = [];
      const ids: DocId[] = [];
      for (const value of [...groups.keys()].sort(compareScalars)) {
        for (const r of groups.get(value) as number[]) {
          const row = rows[r] as IndexedRow;
          values.push(row.values[slot] as ScalarValue);
          ids.push(row.id);
        }
      }
      indexes.byField.get(field)?.loadSorted(values, ids);
    });
  }

  #addValues(indexes: SchemaIndexes, id: DocId, values: IndexedValues): void {
    for (let i = 0; i < indexes.fields.length; i++) {
      const value = values[i];
      if (value !== undefined) indexes.byField.get(indexes.fields[i] as string)?.add(value, id);
    }
  }

  #removeValues(indexes: SchemaIndexes, id: DocId, values: IndexedValues): void {
    for (let i = 0; i < indexes.fields.length; i++) {
      const value = values[i];
      if (value !== undefined) indexes.byField.get(indexes.fields[i] as string)?.remove(value, id);
    }
  }

  /**
   * QuerySource.scan: the entries of the index on `field` of (schemaId, schemaVersion) within
   * bounds, lazily, in order (desc keeps ties by id ascending; see OrderedIndex). An unknown
   * schema or an unindexed field is a planner bug: AERO_INTERNAL_INVARIANT.
   */
  scan(
    schemaId: string,
    schemaVersion: string,
    field: string,
    bounds: IndexBounds,
    order: SortOrder,
  ): IterableIterator<IndexEntry> {
    const index = this.#require(schemaId, schemaVersion).byField.get(field);
    if (index === undefined) {
      throw new AeroError("AERO_INTERNAL_INVARIANT", "A scan names a field with no index.", {
        schema_id: schemaId,
        schema_version: schemaVersion,
        field,
      });
    }
    return index.scan(bounds, order);
  }

  /** For the recovery report: count = index structures, entries = total entries. */
  stats(): { count: number; entries: number } {
    let count = 0;
    let entries = 0;
    for (const versions of this.#schemas.values()) {
      for (const indexes of versions.values()) {
        for (const index of indexes.byField.values()) {
          count += 1;
          entries += index.size;
        }
      }
    }
    return { count, entries };
  }

  #require(schemaId: string, schemaVersion: string): SchemaIndexes {
    const indexes = this.#schemas.get(schemaId)?.get(schemaVersion);
    if (indexes === undefined) {
      throw new AeroError("AERO_INTERNAL_INVARIANT", "No indexes exist for that schema version.", {
        schema_id: schemaId,
        schema_version: schemaVersion,
      });
    }
    return indexes;
  }
}

function documentId(doc: Readonly<Record<string, unknown>>, schemaId: string, schemaVersion: string) {
  const id = Object.hasOwn(doc, "_id") ? doc._id : undefined;
  if (!isDocId(id)) {
    throw new AeroError("AERO_INTERNAL_INVARIANT", "An indexed document has no valid _id.", {
      schema_id: schemaId,
      schema_version: schemaVersion,
    });
  }
  return id;
}
