import { open as coreOpen, type Database, type MaintenanceProvider, type OpenOptions } from "@aerodb/core";
import { type BackupOptions, beginBackup } from "./backup.js";
import { runCheckpoint } from "./checkpoint.js";

export interface SnapshotMaintenanceOptions {
  /** Options for every backup this provider runs (progress reporting, ...). */
  readonly backup?: BackupOptions;
}

/**
 * The provider of checkpoints and backups that core's maintenance seam runs. A backup's turn
 * makes the snapshot ready and hands core its archive phase, which core runs after the turn.
 */
export function snapshotMaintenance(options: SnapshotMaintenanceOptions = {}): MaintenanceProvider {
  return {
    checkpoint: (ctx) => runCheckpoint(ctx),
    backup: (ctx, path) => beginBackup(ctx, path, options.backup ?? {}),
  };
}

/**
 * Opens a database with the full Phase-1 engine: core's `open` with this package's
 * checkpoints and backups wired in (db.checkpoint(), db.backup(path), ops `checkpoint`
 * and `backup`). A `maintenance` option given by the caller wins.
 */
export function open(config: unknown, options: OpenOptions = {}): Promise<Database> {
  return coreOpen(config, { ...options, maintenance: options.maintenance ?? snapshotMaintenance() });
}
