import { AeroError, NO_PROGRESS, type ProgressSink } from "@aerodb/base";
import { FrameKind, type FrameLocation, type FrameReader } from "@aerodb/wal";
import { IndexCatalog, type IndexedRow } from "../index/index-catalog.js";
import { type IndexedValues, indexedValuesOfDocument } from "../index/indexed-values.js";
import { compareIds } from "../index/scalar-order.js";
import type { QuerySource, VisibleDocument } from "../query/types.js";
import { SchemaCatalog } from "../schema/catalog.js";
import type { DocId, SchemaDefinition } from "../schema/types.js";
import { SNAPSHOT_PAYLOAD_PREFIX_BYTES, type SnapshotVersion } from "../snapshot-format/format.js";
import { StoredVersion, VersionStore, versionPayload } from "../store/version-store.js";

/** How many documents the index build collects between two progress reports. */
const INDEX_PROGRESS_STEP = 16_384;

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
  private indexesDeferred = false;

  constructor(private readonly reader: FrameReader) {
    this.store = new VersionStore(reader);
  }

  /**
   * Recovery mode: installs leave the indexes alone (and never re-read a previous version);
   * buildIndexes() then bulk-loads every index once from the live versions. Rebuilding by
   * inserting entry after entry into the B+ trees cost more than the rest of the replay.
   */
  deferIndexes(): void {
    this.indexesDeferred = true;
  }

  /**
   * Installs a version read from the checkpoint snapshot (recovery). Versions arrive in
   * snapshot order, key by key; the loader sets the index values of each key's last version
   * (setIndexValues) when it is live. Only valid while the indexes are deferred.
   */
  loadSnapshotVersion(
    schemaId: string,
    schemaVersion: string,
    id: DocId,
    tombstone: boolean,
    commitId: number,
    location: FrameLocation,
  ): StoredVersion {
    this.requireDeferred();
    const version = new StoredVersion(commitId, schemaVersion, tombstone, location, null);
    this.store.install(schemaId, id, version);
    return version;
  }

  /** Gives a loaded live version its index values (see loadSnapshotVersion). */
  setIndexValues(version: StoredVersion, values: IndexedValues): void {
    this.requireDeferred();
    version.indexValues = values;
  }

  /**
   * The indexed fields of a registered (schema_id, schema_version), `_id` included, sorted:
   * what index values align with. An unknown pair is RECOVERY_SCHEMA_MISSING (only a WAL or
   * snapshot naming a schema it never registered gets here).
   */
  indexFieldsOf(schemaId: string, schemaVersion: string, commitId: number): readonly string[] {
    const fields = this.schemas.has(schemaId, schemaVersion)
      ? this.indexes.fields(schemaId, schemaVersion)
      : null;
    if (fields === null) {
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
    return fields;
  }

  /**
   * Ends recovery mode: bulk-loads the indexes of every schema version from its live
   * versions' index values, ids ascending.
   */
  buildIndexes(progress: ProgressSink = NO_PROGRESS): void {
    this.requireDeferred();
    // Two steps per live document: collecting its index values, then its share of the bulk
    // loads (reported per schema version, as each version's indexes are loaded).
    const live = this.store.liveCount;
    progress.start("index", 2 * live, "steps");
    let collected = 0;
    const rowsByVersion = new Map<string, Map<string, IndexedRow[]>>();
    for (const { schemaId, id, version } of this.store.latestVersions()) {
      if (version.tombstone) continue;
      if (++collected % INDEX_PROGRESS_STEP === 0) progress.advance(INDEX_PROGRESS_STEP);
      const values =
        version.indexValues ??
        indexedValuesOfDocument(
          this.store.readDocument(version),
          this.indexFieldsOf(schemaId, version.schemaVersion, version.commitId),
        );
      version.indexValues = values;
      let bySchema = rowsByVersion.get(schemaId);
      if (bySchema === undefined) {
        bySchema = new Map();
        rowsByVersion.set(schemaId, bySchema);
      }
      let rows = bySchema.get(version.schemaVersion);
      if (rows === undefined) {
        rows = [];
        bySchema.set(version.schemaVersion, rows);
      }
      rows.push({ id, values });
    }
    if (collected % INDEX_PROGRESS_STEP !== 0) progress.advance(collected % INDEX_PROGRESS_STEP);
    for (const [schemaId, bySchema] of rowsByVersion) {
      for (const [schemaVersion, rows] of bySchema) {
        // Keys arrive in first-insert order, often already ascending: the sort (a merge sort over
        // runs) then costs one comparison per row.
        rows.sort((a, b) => compareIds(a.id, b.id));
        this.indexes.loadSorted(schemaId, schemaVersion, rows);
        progress.advance(rows.length);
      }
    }
    this.indexesDeferred = false;
  }

  private requireDeferred(): void {
    if (!this.indexesDeferred) {
      throw new AeroError("AERO_INTERNAL_INVARIANT", "A recovery-only load ran outside recovery.");
    }
  }

  /** Sets V to a checkpoint's commit boundary before the WAL past it is replayed. */
  startFrom(commitBoundary: number): void {
    if (this.visibleCommit !== 0) {
      throw new AeroError("AERO_INTERNAL_INVARIANT", "A checkpoint boundary was set twice.", {
        visible_commit: this.visibleCommit,
      });
    }
    this.visibleCommit = commitBoundary;
  }

  /**
   * Every stored version with commit id <= `commitBoundary`, in snapshot order, with its
   * original LSN and VERSION payload, each re-read from its frame and verified (CORE-D-1).
   */
  *snapshotVersions(commitBoundary: number): Generator<SnapshotVersion> {
    for (const { schemaId, id, chain } of this.store.keysInOrder()) {
      for (const v of chain) {
        if (v.commitId > commitBoundary) break;
        const frame = this.reader.readSync(v.location);
        const payload = versionPayload(v.location, frame.payload);
        const prefixOk =
          v.location.file === undefined ||
          (frame.payload.length >= SNAPSHOT_PAYLOAD_PREFIX_BYTES &&
            Number(new DataView(frame.payload.buffer, frame.payload.byteOffset, 8).getBigUint64(0, true)) ===
              v.commitId);
        if (frame.kind !== FrameKind.VERSION || !prefixOk) {
          throw new AeroError("AERO_DATA_CORRUPTION", "A stored version's frame is not its VERSION record.", {
            ...(v.location.file === undefined ? { segment: v.location.segment } : { file: v.location.file }),
            offset: v.location.offset,
            reason: "kind",
          });
        }
        yield { schemaId, id, commitId: v.commitId, lsn: frame.lsn, payload };
      }
    }
  }

  installSchema(def: SchemaDefinition, commitId: number): void {
    this.schemas.add(def);
    this.indexes.ensure(def);
    this.advance(commitId);
  }

  /**
   * Installs one version. `values` are the new version's index values, taken from its stored
   * body (null for a tombstone); the previous live version's index entries are replaced by
   * the new one's. Only the live version of a key keeps its values in memory.
   */
  installVersion(
    schemaId: string,
    schemaVersion: string,
    id: DocId,
    values: IndexedValues | null,
    commitId: number,
    location: FrameLocation,
  ): void {
    this.indexFieldsOf(schemaId, schemaVersion, commitId);
    const previous = this.store.install(
      schemaId,
      id,
      new StoredVersion(commitId, schemaVersion, values === null, location, values),
    );
    if (previous !== undefined) {
      if (!this.indexesDeferred && !previous.tombstone) {
        const old =
          previous.indexValues ??
          indexedValuesOfDocument(
            this.store.readDocument(previous),
            this.indexFieldsOf(schemaId, previous.schemaVersion, previous.commitId),
          );
        this.indexes.removeValues(schemaId, previous.schemaVersion, id, old);
      }
      previous.indexValues = null;
    }
    if (!this.indexesDeferred && values !== null) this.indexes.addValues(schemaId, schemaVersion, id, values);
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

  /** The executor's view of the data: indexes propose, the store decides. One per state. */
  querySource(): QuerySource {
    return this.source;
  }

  private readonly source: QuerySource = {
    scan: (schemaId, schemaVersion, field, bounds, order) =>
      this.indexes.scan(schemaId, schemaVersion, field, bounds, order),
    readVisible: (schemaId, id): VisibleDocument | null => {
      const version = this.store.latest(schemaId, id);
      if (!version || version.tombstone) return null;
      return { schemaVersion: version.schemaVersion, document: this.store.readDocument(version) };
    },
  };
}
