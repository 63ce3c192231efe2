import { AeroError } from "@aerodb/base";
import type { FrameLocation, FrameReader } from "@aerodb/wal";
import { IndexCatalog } from "../index/index-catalog.js";
import type { QuerySource, VisibleDocument } from "../query/types.js";
import { SchemaCatalog } from "../schema/catalog.js";
import type { DocId, SchemaDefinition } from "../schema/types.js";
import { VersionStore } from "../store/version-store.js";

/**
 * The in-memory state the engine serves from, rebuilt at every start: the schema catalog,
 * the version store's chains and the indexes. Recovery replay and the live commit path
 * install through the same two methods, so a restarted database is the same database.
 */
export class EngineState {
  readonly schemas = new SchemaCatalog();
  readonly indexes = new IndexCatalog();
  readonly store: VersionStore;
  /** V: the highest durable, installed commit. */
  visibleCommit = 0;

  constructor(reader: FrameReader) {
    this.store = new VersionStore(reader);
  }

  installSchema(def: SchemaDefinition, commitId: number): void {
    this.schemas.add(def);
    this.indexes.ensure(def);
    this.advance(commitId);
  }

  /**
   * Installs one version. `document` is the parsed body (null for a tombstone); the
   * previous live version's index entries are replaced by the new one's.
   */
  installVersion(
    schemaId: string,
    schemaVersion: string,
    id: DocId,
    document: Readonly<Record<string, unknown>> | null,
    commitId: number,
    location: FrameLocation,
  ): void {
    if (!this.schemas.has(schemaId, schemaVersion)) {
      throw new AeroError(
        "AERO_RECOVERY_SCHEMA_MISSING",
        "A version names a schema that was never registered.",
        {
          schema_id: schemaId,
          schema_version: schemaVersion,
          commit_id: commitId,
        },
      );
    }
    const previous = this.store.latest(schemaId, id);
    if (previous && !previous.tombstone) {
      this.indexes.remove(schemaId, previous.schemaVersion, this.store.readDocument(previous));
    }
    this.store.install(schemaId, id, { commitId, schemaVersion, tombstone: document === null, location });
    if (document !== null) this.indexes.add(schemaId, schemaVersion, document);
  }

  advance(commitId: number): void {
    if (commitId !== this.visibleCommit + 1) {
      throw new AeroError("AERO_MVCC_COMMIT_ORDER", "Commits must become visible in commit-id order.", {
        expected_commit_id: this.visibleCommit + 1,
        found_commit_id: commitId,
      });
    }
    this.visibleCommit = commitId;
  }

  /** The executor's view of the data: indexes propose, the store decides. */
  querySource(): QuerySource {
    return {
      scan: (schemaId, schemaVersion, field, bounds, order) =>
        this.indexes.scan(schemaId, schemaVersion, field, bounds, order),
      readVisible: (schemaId, id): VisibleDocument | null => {
        const version = this.store.latest(schemaId, id);
        if (!version || version.tombstone) return null;
        return { schemaVersion: version.schemaVersion, document: this.store.readDocument(version) };
      },
    };
  }
}
