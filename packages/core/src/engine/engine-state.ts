import { AeroError } from "@aerodb/base";
import { FrameKind, type FrameLocation, type FrameReader } from "@aerodb/wal";
import { IndexCatalog } from "../index/index-catalog.js";
import type { QuerySource, VisibleDocument } from "../query/types.js";
import { SchemaCatalog } from "../schema/catalog.js";
import type { DocId, SchemaDefinition } from "../schema/types.js";
import { SNAPSHOT_PAYLOAD_PREFIX_BYTES, type SnapshotVersion } from "../snapshot-format/format.js";
import { VersionStore, versionPayload } from "../store/version-store.js";

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

  constructor(private readonly reader: FrameReader) {
    this.store = new VersionStore(reader);
  }

  /**
   * Installs a version read from the checkpoint snapshot (recovery). Versions arrive in
   * snapshot order, key by key; `document` is given only for the last version of its key
   * when that version is live, and gets the index entries.
   */
  loadSnapshotVersion(
    schemaId: string,
    schemaVersion: string,
    id: DocId,
    tombstone: boolean,
    commitId: number,
    location: FrameLocation,
  ): void {
    this.store.install(schemaId, id, { commitId, schemaVersion, tombstone, location });
  }

  /** Adds the index entries of a key's live version loaded from the snapshot. */
  indexLoadedDocument(
    schemaId: string,
    schemaVersion: string,
    document: Readonly<Record<string, unknown>>,
  ): void {
    this.indexes.add(schemaId, schemaVersion, document);
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
