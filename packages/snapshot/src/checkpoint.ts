import * as posixPath from "node:path/posix";
import {
  AeroError,
  crashPoint,
  ensureDir,
  type FileSystem,
  isAeroError,
  isSimulatedCrash,
  removeTree,
} from "@aerodb/base";
import {
  type CheckpointMarker,
  type CheckpointResult,
  type MaintenanceContext,
  readSnapshot,
  snapshotId,
  snapshotIsComplete,
  writeCheckpointMarker,
} from "@aerodb/core";

/** The suffix of a snapshot directory being written (core §10.2). */
export const SNAPSHOT_TMP_SUFFIX = ".tmp";

/**
 * A checkpoint (core §10), run as a turn of the commit pipeline (writes queue behind it):
 *
 * 1. C = V, L = the durable LSN, frame L's CRC (the context's boundaries).
 * 2. Unless a complete, verified `snapshots/snap-<C>/` exists (then it is reused): write
 *    `snapshots/snap-<C>.tmp/` (versions, schemas, each fsynced; manifest.json last; directory
 *    fsynced), rename it to `snapshots/snap-<C>/`, fsync `snapshots/`.
 * 3. checkpoint.json (temp, fsync, rename, directory fsync) — unless it already names snap-<C>.
 * 4. The store adopts the snapshot (its versions <= C now read from the snapshot's file),
 *    whole WAL segments with last LSN <= L are removed (never the active one), then every
 *    other entry of `snapshots/` (older snapshots, `.tmp` leftovers) is deleted.
 *
 * A failure before the marker is durable is AERO_CHECKPOINT_FAILED (the old checkpoint
 * stands, the database keeps serving); after it, AERO_CHECKPOINT_TRUNCATE_FAILED (the new
 * one holds). A FATAL error (a damaged stored record, say) is passed through as it is.
 */
export async function runCheckpoint(ctx: MaintenanceContext): Promise<CheckpointResult> {
  const { fs, layout } = ctx;
  const id = snapshotId(ctx.commitBoundary);
  const marker: CheckpointMarker = {
    snapshot_id: id,
    commit_boundary: ctx.commitBoundary,
    lsn_boundary: ctx.walBoundary.lsn,
    boundary_frame_crc: ctx.walBoundary.frameCrc,
  };
  const finalDir = posixPath.join(layout.snapshots, id);
  const tmpDir = `${finalDir}${SNAPSHOT_TMP_SUFFIX}`;
  let wroteTmp = false;
  try {
    if (!sameMarker(ctx.checkpoint, marker)) {
      await ensureDir(fs, layout.snapshots);
      if (!(await reusable(ctx, finalDir, marker))) {
        if (await fs.stat(finalDir)) {
          await removeTree(fs, finalDir);
          await fs.syncDir(layout.snapshots);
        }
        if (await fs.stat(tmpDir)) await removeTree(fs, tmpDir);
        wroteTmp = true;
        await ctx.writeSnapshot(tmpDir);
        crashPoint("checkpoint:after-snapshot-files");
        await fs.rename(tmpDir, finalDir);
        wroteTmp = false;
        await fs.syncDir(layout.snapshots);
      }
      crashPoint("checkpoint:after-snapshot");
      await writeCheckpointMarker(fs, layout.checkpoint, marker);
      crashPoint("checkpoint:after-marker");
    }
  } catch (err) {
    if (wroteTmp) await removeTree(fs, tmpDir).catch(() => undefined);
    throw wrap(err, "AERO_CHECKPOINT_FAILED", "The checkpoint failed; the previous checkpoint stands.");
  }
  try {
    await ctx.adoptSnapshot(marker);
    const removed = await ctx.removeWalSegmentsThrough(marker.lsn_boundary);
    crashPoint("checkpoint:after-truncate");
    await removeOtherSnapshots(fs, layout.snapshots, id);
    return {
      snapshot_id: id,
      commit_boundary: marker.commit_boundary,
      lsn_boundary: marker.lsn_boundary,
      segments_removed: removed.length,
    };
  } catch (err) {
    throw wrap(
      err,
      "AERO_CHECKPOINT_TRUNCATE_FAILED",
      "The checkpoint holds, but removing what it replaced failed.",
    );
  }
}

function sameMarker(a: CheckpointMarker | null, b: CheckpointMarker): boolean {
  return (
    a !== null &&
    a.snapshot_id === b.snapshot_id &&
    a.commit_boundary === b.commit_boundary &&
    a.lsn_boundary === b.lsn_boundary &&
    a.boundary_frame_crc === b.boundary_frame_crc
  );
}

/**
 * A complete snapshot for C left by an earlier checkpoint (one that crashed before its
 * marker, say) is reused if it verifies in full and has this database's boundaries; any
 * other content is rewritten.
 */
async function reusable(ctx: MaintenanceContext, dir: string, marker: CheckpointMarker): Promise<boolean> {
  if (!(await snapshotIsComplete(ctx.fs, dir))) return false;
  try {
    await readSnapshot(ctx.fs, dir, { snapshotId: marker.snapshot_id, databaseId: ctx.databaseId, marker });
    return true;
  } catch (err) {
    if (isAeroError(err) && err.code !== "AERO_INTERNAL_INVARIANT") return false;
    throw err;
  }
}

/** Deletes every entry of snapshots/ but the snapshot in force, then fsyncs snapshots/. */
async function removeOtherSnapshots(fs: FileSystem, snapshots: string, keep: string): Promise<void> {
  let removed = false;
  for (const name of await fs.readdir(snapshots)) {
    if (name === keep) continue;
    await removeTree(fs, posixPath.join(snapshots, name));
    removed = true;
  }
  if (removed) await fs.syncDir(snapshots);
}

function wrap(
  err: unknown,
  code: "AERO_CHECKPOINT_FAILED" | "AERO_CHECKPOINT_TRUNCATE_FAILED",
  message: string,
): unknown {
  if (isSimulatedCrash(err)) return err;
  if (isAeroError(err) && (err.severity === "FATAL" || err.code === code)) return err;
  const details: Record<string, unknown> = isAeroError(err)
    ? { cause_code: err.code }
    : { errno: (err as { code?: unknown })?.code ?? "unknown" };
  return new AeroError(code, message, details, { cause: err });
}
