import type { FileSystem } from "@aerodb/base";
import type { WalBoundary } from "@aerodb/wal";
import type { AeroConfig } from "../config/config.js";
import type { SchemaDefinition } from "../schema/types.js";
import type { CheckpointMarker, SnapshotManifest } from "../snapshot-format/format.js";
import type { SnapshotSource } from "../snapshot-format/write-snapshot.js";
import type { Layout } from "./layout.js";

/**
 * The maintenance seam (ARCHITECTURE §2): checkpoints and backups are implemented by
 * @aerodb/snapshot, a later package than core, so core defines what they need and runs them
 * as turns of its commit pipeline. `@aerodb/snapshot`'s `open()` injects its provider; without
 * one, `db.checkpoint()` and `db.backup()` fail with AERO_CHECKPOINT_FAILED / AERO_BACKUP_FAILED.
 *
 * Checkpoints and backups also run one at a time, in the order they were asked for (core's
 * maintenance lock): a backup holds that lock past its turn, until its archive is written, so
 * that no checkpoint deletes the snapshot being archived. Commits, queries and registrations
 * never take it.
 */
export interface MaintenanceProvider {
  /** core §10: snapshot at V, marker, truncation. Runs while the pipeline is paused. */
  checkpoint(ctx: MaintenanceContext): Promise<CheckpointResult>;
  /**
   * core §11, phase 1, while the pipeline is paused: B = V and the snapshot at B (the
   * checkpoint's, or a private one written with `ctx.writeSnapshot`). Resolves with phase 2,
   * the archive, which core calls exactly once, right after the turn has ended (commits flow
   * again), while it still holds the maintenance lock. `path` is absolute.
   */
  backup(ctx: MaintenanceContext, path: string): Promise<BackupArchivePhase>;
}

/**
 * Phase 2 of a backup: writes the archive of the snapshot phase 1 made ready. It runs after
 * the turn, so it must not use the MaintenanceContext (its guard throws
 * AERO_INTERNAL_INVARIANT); everything it needs was captured during the turn. It resolves
 * with the result, or fails with AERO_BACKUP_FAILED having removed everything the backup
 * created (a FATAL error, a damaged snapshot say, passes through as it is).
 */
export type BackupArchivePhase = (control: ArchiveControl) => Promise<BackupResult>;

/** What core tells a running archive phase. */
export interface ArchiveControl {
  /**
   * True once the instance has stopped on a FATAL error: the phase should give up early,
   * clean up and fail with AERO_BACKUP_FAILED rather than finish an archive nobody may wait
   * for. core releases the data directory's LOCK only after the phase has settled.
   */
  stopped(): boolean;
}

/** The response data of a checkpoint (op `checkpoint`, `db.checkpoint()`). */
export interface CheckpointResult {
  readonly snapshot_id: string;
  readonly commit_boundary: number;
  readonly lsn_boundary: number;
  /** WAL segments removed by the truncation. */
  readonly segments_removed: number;
}

/** The response data of a backup (op `backup`, `db.backup(path)`). */
export interface BackupResult {
  readonly backup_id: string;
  readonly snapshot_id: string;
  readonly commit_boundary: number;
  readonly lsn_boundary: number;
  /** Size of the archive in bytes. */
  readonly bytes: number;
}

/**
 * What a maintenance task may see and do, valid only during its pipeline turn: no commit
 * runs meanwhile, so V, the durable WAL boundary and the store stand still. Once the turn
 * has ended, the members that read the store or change anything (the snapshot source's
 * versions, writeSnapshot, adoptSnapshot, removeWalSegmentsThrough) throw
 * AERO_INTERNAL_INVARIANT.
 */
export interface MaintenanceContext {
  readonly fs: FileSystem;
  readonly layout: Layout;
  readonly config: AeroConfig;
  readonly databaseId: string;
  /** V: the last durable, installed commit; C of a checkpoint, B of a backup. */
  readonly commitBoundary: number;
  /** The durable end of the WAL: {lsn: L, commitId: V, frameCrc: CRC of frame L}. */
  readonly walBoundary: WalBoundary;
  /** The checkpoint in force (from checkpoint.json at open, or the last adopted one). */
  readonly checkpoint: CheckpointMarker | null;
  /** The registered schemas, sorted by (schema_id, schema_version). */
  schemas(): SchemaDefinition[];
  /**
   * The snapshot at V: boundaries, schemas, and every stored version with its verified
   * VERSION payload and original LSN, in key order then commit order. Reading the versions
   * re-reads and verifies every frame (AERO_DATA_CORRUPTION on damage).
   */
  snapshotSource(): SnapshotSource;
  /** Writes the snapshot at V into `dir` (which must not exist): writeSnapshotFiles. */
  writeSnapshot(dir: string): Promise<SnapshotManifest>;
  /**
   * Call once `marker` (for this turn's V and WAL boundary) is durable in checkpoint.json:
   * checks that `snapshots/<id>/` is complete and matches the store, then points the store's
   * locations of every version <= C into its versions file (one synchronous swap), closes
   * the previous snapshot's file and makes `marker` the checkpoint in force. Only after it
   * may WAL segments up to the marker's LSN be removed.
   */
  adoptSnapshot(marker: CheckpointMarker): Promise<void>;
  /**
   * The writer's removeSegmentsThrough (whole segments with last LSN <= lsn, never the
   * active one), refused above the adopted checkpoint's lsn_boundary; the reader's handles
   * of removed segments are closed. Returns the removed segment names.
   */
  removeWalSegmentsThrough(lsn: number): Promise<string[]>;
}
