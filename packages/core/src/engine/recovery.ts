import * as posixPath from "node:path/posix";
import {
  AeroError,
  crashPoint,
  type FileSystem,
  guardProgress,
  isAeroError,
  isSimulatedCrash,
  type ProgressSink,
} from "@aerodb/base";
import {
  type FlushPolicy,
  FrameKind,
  FrameReader,
  openWal,
  parseSegmentFileName,
  type ScannedUnit,
  type WalBoundary,
  type WalScanResult,
  type WalWriter,
} from "@aerodb/wal";
import type { AeroConfig } from "../config/config.js";
import { type IndexedValues, indexedValuesOfStoredBody } from "../index/indexed-values.js";
import { parseSchemaDefinition } from "../schema/definition.js";
import type { DocId } from "../schema/types.js";
import { readCheckpointMarker } from "../snapshot-format/checkpoint-marker.js";
import { type CheckpointMarker, snapshotVersionsFile } from "../snapshot-format/format.js";
import { readSnapshot } from "../snapshot-format/read-snapshot.js";
import { decodeVersion } from "../store/version-codec.js";
import type { StoredVersion } from "../store/version-store.js";
import { EngineState } from "./engine-state.js";
import type { Layout } from "./layout.js";
import { reconcileSchemaFiles } from "./schema-files.js";

export interface RecoveryReport {
  readonly format_version: 1;
  readonly database_id: string;
  readonly clean_shutdown_flag: boolean;
  readonly stale_lock: boolean;
  readonly checkpoint: { snapshot_id: string; commit_boundary: number; lsn_boundary: number } | null;
  readonly wal: {
    readonly segments: number;
    readonly first_lsn: number | null;
    readonly last_lsn: number;
    readonly records_verified: number;
    readonly units_replayed: number;
  };
  readonly torn_tail: { segment: string; offset: number; bytes_cut: number; records_cut: number } | null;
  readonly commit_high_water: number;
  readonly schemas: { readonly registered: number; readonly files_written: number };
  readonly indexes: { readonly count: number; readonly entries: number };
  readonly versions_verified: number;
  readonly outcome: "RECOVERY_COMPLETE";
}

export interface RecoveryInput {
  readonly fs: FileSystem;
  readonly layout: Layout;
  readonly config: AeroConfig;
  readonly databaseId: string;
  readonly cleanShutdownFlag: boolean;
  readonly staleLock: boolean;
  readonly flushPolicy?: FlushPolicy;
  /**
   * Told recovery's progress: phase "load" (the checkpoint snapshot's versions file, bytes),
   * phase "replay" (the WAL segments, bytes), then phase "index" (the index build, in steps:
   * two per live document); stopped when recovery ends, however it ends.
   */
  readonly progress?: ProgressSink;
}

export interface Recovered {
  readonly state: EngineState;
  readonly writer: WalWriter;
  readonly reader: FrameReader;
  readonly report: RecoveryReport;
  /** The checkpoint recovery started from (checkpoint.json), or null. */
  readonly checkpoint: CheckpointMarker | null;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Recovery (core §9.2–9.3), run at every start: when checkpoint.json names a snapshot, load
 * and verify it (AERO_RECOVERY_SNAPSHOT_MISSING when it is not there); verify every WAL
 * segment and replay the units past the checkpoint's boundary into the in-memory state, cut
 * a torn tail, reconcile schema files with the registrations, then verify what was built.
 * A failure is FATAL and names the phase and the last good LSN.
 */
export async function recover(input: RecoveryInput): Promise<Recovered> {
  const { fs, layout, config } = input;
  const reader = new FrameReader(fs, layout.wal, layout.root);
  const state = new EngineState(reader);
  state.deferIndexes();
  let phase = "checkpoint";
  let lastGoodLsn = 0;
  // Only the final unit's commit id, never the unit: its records are views of the scanned
  // segment's buffer, and the closures below (kept by the writer) share this scope.
  let finalCommitId: number | null = null;
  const replayedSchemaCommits = new Map<string, number>();
  let versionsVerified = 0;
  let openedWriter: WalWriter | null = null;
  const progress = guardProgress(input.progress);
  try {
    const marker = await readCheckpointMarker(fs, layout.checkpoint);
    if (marker !== null) {
      phase = "snapshot";
      versionsVerified += await loadSnapshot(input, marker, state, reader);
      lastGoodLsn = marker.lsn_boundary;
    }
    phase = "wal";
    const base: WalBoundary | undefined = marker
      ? { lsn: marker.lsn_boundary, commitId: marker.commit_boundary, frameCrc: marker.boundary_frame_crc }
      : undefined;
    await openExistingSegments(fs, layout.wal, reader);
    const walOptions = {
      databaseId: input.databaseId,
      segmentBytes: config.core.wal_segment_bytes,
      ...(input.flushPolicy ? { policy: input.flushPolicy } : {}),
      onSegmentCreated: (name: string) => reader.openSegment(name),
    };
    const { writer, scan } = await openWal(fs, layout.wal, {
      ...walOptions,
      ...(base ? { base } : {}),
      progress,
      onUnit: (unit) => {
        applyUnit(state, unit, replayedSchemaCommits);
        versionsVerified += unit.records.filter((r) => r.kind === FrameKind.VERSION).length;
        lastGoodLsn = unit.commitLsn;
        finalCommitId = unit.commitId;
        crashPoint("recovery:mid-replay");
      },
    });
    openedWriter = writer;
    lastGoodLsn = scan.lastLsn;
    if (scan.tornTail && scan.tornTail.offset === 0) await reader.closeSegment(scan.tornTail.segment);
    phase = "indexes";
    state.buildIndexes(progress);
    phase = "schemas";
    const lastCommitId = finalCommitId as number | null;
    const filesWritten = await reconcileSchemaFiles(fs, layout, state.schemas, (id, version) => {
      // Registration writes the schema file after the unit's fsync and before the next
      // commit can start, so only the log's final unit may lack its file.
      const commitId = replayedSchemaCommits.get(`${id}\u0000${version}`);
      return commitId !== undefined && lastCommitId === commitId;
    });
    phase = "verify";
    verify(state, scan);
    progress.stop();
    return {
      state,
      writer,
      reader,
      report: buildReport(input, scan, state, filesWritten, versionsVerified, marker),
      checkpoint: marker,
    };
  } catch (err) {
    progress.stop();
    await openedWriter?.close().catch(() => undefined);
    await reader.closeAll();
    if (isAeroError(err) && err.severity === "FATAL") {
      throw new AeroError(
        err.code,
        err.message,
        { ...err.details, phase, last_good_lsn: lastGoodLsn },
        { cause: err },
      );
    }
    if (isAeroError(err)) throw err;
    if (isSimulatedCrash(err)) throw err;
    throw new AeroError(
      "AERO_RECOVERY_FAILED",
      "Recovery failed.",
      { phase, last_good_lsn: lastGoodLsn, errno: (err as { code?: string })?.code ?? "unknown" },
      { cause: err },
    );
  }
}

/** Opens the reader's handle of every segment; returns how many entries wal/ holds (-1: no wal/). */
async function openExistingSegments(fs: FileSystem, walDir: string, reader: FrameReader): Promise<void> {
  const st = await fs.stat(walDir);
  if (!st?.isDirectory) return; // the scan reports the missing directory
  for (const name of await fs.readdir(walDir)) {
    if (parseSegmentFileName(name) !== null) await reader.openSegment(name);
  }
}

/**
 * Loads the marker's snapshot (core §9.2, CORE-P-2): every file and frame verified, its
 * schemas into the catalog, its versions into the store (their locations in the snapshot's
 * versions file) and each key's live version into the indexes, then V = C. Returns the
 * number of versions verified.
 */
async function loadSnapshot(
  input: RecoveryInput,
  marker: CheckpointMarker,
  state: EngineState,
  reader: FrameReader,
): Promise<number> {
  const { fs, layout } = input;
  const file = snapshotVersionsFile(marker.snapshot_id);
  let count = 0;
  // The last version of the key being loaded: it is the live one once the key changes.
  let pending: { version: StoredVersion; schemaId: string; id: DocId; body: Uint8Array | null } | null = null;
  const settle = () => {
    if (pending === null || pending.body === null) return;
    const { version, schemaId, id, body } = pending;
    const fields = state.indexFieldsOf(schemaId, version.schemaVersion, version.commitId);
    let values: IndexedValues;
    try {
      values = indexedValuesOfStoredBody(body, fields, id);
    } catch (err) {
      if (!isAeroError(err) || err.code !== "AERO_DATA_CORRUPTION") throw err;
      throw new AeroError(
        "AERO_SNAPSHOT_CORRUPTION",
        `Snapshot ${marker.snapshot_id} holds a document that is not its version's JSON.`,
        {
          snapshot_id: marker.snapshot_id,
          file: "versions",
          reason: "body",
        },
      );
    }
    state.setIndexValues(version, values);
  };
  await readSnapshot(fs, posixPath.join(layout.snapshots, marker.snapshot_id), {
    snapshotId: marker.snapshot_id,
    databaseId: input.databaseId,
    marker,
    locationFile: file,
    wholeFileCrcFirst: true,
    progress: guardProgress(input.progress),
    onSchema: (def) => {
      state.schemas.add(def);
      state.indexes.ensure(def);
    },
    onVersion: (v) => {
      if (pending !== null && (pending.schemaId !== v.schemaId || pending.id !== v.id)) settle();
      const version = state.loadSnapshotVersion(
        v.schemaId,
        v.schemaVersion,
        v.id,
        v.tombstone,
        v.commitId,
        v.location,
      );
      pending = { version, schemaId: v.schemaId, id: v.id, body: v.tombstone ? null : v.body };
      count++;
    },
  });
  settle();
  await reader.openFile(file);
  state.startFrom(marker.commit_boundary);
  return count;
}

function applyUnit(state: EngineState, unit: ScannedUnit, schemaCommits: Map<string, number>): void {
  for (const record of unit.records) {
    if (record.kind === FrameKind.SCHEMA) {
      let def: ReturnType<typeof parseSchemaDefinition>;
      try {
        def = parseSchemaDefinition(JSON.parse(decoder.decode(record.payload)));
      } catch {
        throw new AeroError("AERO_WAL_CORRUPTION", "A SCHEMA record does not hold a valid definition.", {
          segment: record.location.segment,
          offset: record.location.offset,
          reason: "schema_payload",
        });
      }
      if (unit.records.length !== 1) {
        throw new AeroError("AERO_WAL_CORRUPTION", "A schema registration unit holds other records.", {
          segment: record.location.segment,
          offset: record.location.offset,
          reason: "unit_shape",
        });
      }
      state.schemas.add(def);
      state.indexes.ensure(def);
      schemaCommits.set(`${def.schema_id}\u0000${def.schema_version}`, unit.commitId);
      continue;
    }
    const version = decodeVersion(record.payload);
    const fields = state.indexFieldsOf(version.schemaId, version.schemaVersion, unit.commitId);
    const values = version.tombstone ? null : indexedValuesOfStoredBody(version.body, fields, version.id);
    state.installVersion(
      version.schemaId,
      version.schemaVersion,
      version.id,
      values,
      unit.commitId,
      record.location,
    );
  }
  state.advance(unit.commitId);
}

function verify(state: EngineState, scan: WalScanResult): void {
  if (state.visibleCommit !== scan.lastCommitId) {
    throw new AeroError(
      "AERO_RECOVERY_INCONSISTENT",
      "Replayed commits do not reach the WAL's high-water mark.",
      {
        installed: state.visibleCommit,
        wal_high_water: scan.lastCommitId,
      },
    );
  }
}

function buildReport(
  input: RecoveryInput,
  scan: WalScanResult,
  state: EngineState,
  filesWritten: number,
  versionsVerified: number,
  marker: CheckpointMarker | null,
): RecoveryReport {
  const idx = state.indexes.stats();
  return {
    format_version: 1,
    database_id: input.databaseId,
    clean_shutdown_flag: input.cleanShutdownFlag,
    stale_lock: input.staleLock,
    checkpoint: marker
      ? {
          snapshot_id: marker.snapshot_id,
          commit_boundary: marker.commit_boundary,
          lsn_boundary: marker.lsn_boundary,
        }
      : null,
    wal: {
      segments: scan.segments.length,
      first_lsn: scan.firstLsn,
      last_lsn: scan.lastLsn,
      records_verified: scan.recordsVerified,
      units_replayed: scan.unitsDelivered,
    },
    torn_tail: scan.tornTail
      ? {
          segment: scan.tornTail.segment,
          offset: scan.tornTail.offset,
          bytes_cut: scan.tornTail.bytesCut,
          records_cut: scan.tornTail.recordsCut,
        }
      : null,
    commit_high_water: state.visibleCommit,
    schemas: { registered: state.schemas.count, files_written: filesWritten },
    indexes: { count: idx.count, entries: idx.entries },
    versions_verified: versionsVerified,
    outcome: "RECOVERY_COMPLETE",
  };
}
