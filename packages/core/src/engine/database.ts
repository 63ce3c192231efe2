import * as posixPath from "node:path/posix";
import {
  AeroError,
  crashPoint,
  type FileSystem,
  isAeroError,
  isSimulatedCrash,
  NodeFileSystem,
  type ProgressSink,
} from "@aerodb/base";
import {
  type FlushPolicy,
  FrameKind,
  type FrameReader,
  type WalRecordInput,
  type WalWriter,
} from "@aerodb/wal";
import { canonicalJson } from "../canonical-json.js";
import { type AeroConfig, persistedFields, resolveConfig } from "../config/config.js";
import { indexedValuesOfStoredBody } from "../index/indexed-values.js";
import { executeQuery } from "../query/executor.js";
import { explainPlan } from "../query/explain.js";
import { planQuery } from "../query/planner.js";
import type { QueryPlan } from "../query/types.js";
import { resolveWriteSchema } from "../schema/catalog.js";
import { canonicalSchemaText, parseSchemaDefinition } from "../schema/definition.js";
import type { DocId, SchemaDefinition } from "../schema/types.js";
import { validateDocument } from "../schema/validator.js";
import { type CheckpointMarker, snapshotVersionsFile } from "../snapshot-format/format.js";
import { readSnapshotManifest } from "../snapshot-format/read-snapshot.js";
import { type SnapshotSource, writeSnapshotFiles } from "../snapshot-format/write-snapshot.js";
import { encodeVersion } from "../store/version-codec.js";
import type { EngineState } from "./engine-state.js";
import { emptyButForLock, initDataDir } from "./init-data-dir.js";
import { type Layout, layoutOf } from "./layout.js";
import { lockDataDir, type ProcessProbe } from "./lock.js";
import type {
  BackupArchivePhase,
  BackupResult,
  CheckpointResult,
  MaintenanceContext,
  MaintenanceProvider,
} from "./maintenance.js";
import { MaintenanceLock } from "./maintenance-lock.js";
import { type RecoveryReport, recover } from "./recovery.js";
import { checkNoInterruptedRestore } from "./restore-guard.js";
import { writeSchemaFile } from "./schema-files.js";
import { readManifest, readState, writeState } from "./state-file.js";

export type LifecycleState =
  | "INITIALIZING"
  | "RECOVERING"
  | "VERIFYING"
  | "SERVING"
  | "SHUTTING_DOWN"
  | "TERMINATED";

export interface OpenOptions {
  /** The file system; the real one by default. Tests pass a SimFileSystem. */
  readonly fs?: FileSystem;
  /** `initialize: true` runs `init` first when the data directory is absent or empty. */
  readonly initialize?: boolean;
  readonly randomBytes?: (count: number) => Uint8Array;
  readonly processProbe?: ProcessProbe;
  readonly pid?: number;
  readonly cwd?: string;
  /** The WAL flush policy (the composition root supplies @aerodb/perf's when configured). */
  readonly flushPolicy?: FlushPolicy;
  /**
   * Checkpoints and backups (core §10–§11). @aerodb/snapshot's `open()` supplies them;
   * without a provider db.checkpoint() and db.backup() fail.
   */
  readonly maintenance?: MaintenanceProvider;
  /**
   * Told recovery's progress (phases "load" and "replay" in bytes, "index" in steps), for a
   * progress display; stopped before open() settles. Never changes what recovery does.
   */
  readonly progress?: ProgressSink;
}

export interface WriteRequest {
  readonly schema_id: string;
  readonly schema_version: string;
  readonly document: Readonly<Record<string, unknown>>;
}

export interface DeleteRequest {
  readonly schema_id: string;
  readonly schema_version: string;
  readonly _id: DocId;
}

export interface QueryRequest {
  readonly schema_id: string;
  readonly schema_version: string;
  readonly filter: Readonly<Record<string, unknown>>;
  readonly limit: number;
  readonly sort?: unknown;
}

export interface WriteResult {
  readonly commit_id: number;
}

export interface DeleteResult {
  readonly commit_id: number | null;
}

export interface QueryResult<T = Record<string, unknown>> {
  readonly data: T[];
  readonly read_view: number;
}

export interface DatabaseStats {
  readonly state: LifecycleState;
  readonly database_id: string;
  readonly commit_high_water: number;
  readonly last_lsn: number;
  readonly schemas: number;
  readonly documents: number;
  readonly versions: number;
  readonly indexes: { readonly count: number; readonly entries: number };
  readonly wal: {
    readonly segments: number;
    readonly units_appended: number;
    readonly fsyncs: number;
    readonly write_calls: number;
    readonly bytes_written: number;
  };
}

const encoder = new TextEncoder();

/**
 * Opens a database (core §9): configuration frozen, lock taken, metadata checked,
 * recovery run, then SERVING. Any failure on the way is FATAL and leaves nothing locked.
 */
export async function open(configInput: unknown, options: OpenOptions = {}): Promise<Database> {
  const config = resolveConfig(configInput, options.cwd);
  const fs = options.fs ?? new NodeFileSystem();
  const layout = layoutOf(config.core.data_dir);
  await checkNoInterruptedRestore(fs, layout.root);
  if (options.initialize) {
    const st = await fs.stat(layout.root);
    if (!st || (st.isDirectory && emptyButForLock(await fs.readdir(layout.root)))) {
      await initDataDir(config, {
        fs,
        ...(options.randomBytes ? { randomBytes: options.randomBytes } : {}),
        ...(options.pid !== undefined ? { pid: options.pid } : {}),
        ...(options.processProbe ? { processProbe: options.processProbe } : {}),
      });
    }
  }
  const rootStat = await fs.stat(layout.root);
  if (!rootStat?.isDirectory) {
    throw new AeroError(
      "AERO_STORAGE_NOT_INITIALIZED",
      "The data directory does not exist (run `aerodb init`, or `aerodb restore` a backup into it).",
    );
  }
  const lock = await lockDataDir(fs, layout.lock, options);
  try {
    const { databaseId } = await readManifest(fs, layout.manifest);
    const state = await readState(fs, layout.state);
    const persisted = persistedFields(config);
    for (const key of Object.keys(persisted) as Array<keyof typeof persisted>) {
      if (state.persisted[key] !== persisted[key]) {
        throw new AeroError(
          "AERO_CONFIG_IMMUTABLE",
          `core.${key} differs from the value this database was created with.`,
          // Errors carry no paths (core §6): the data directory's values are not echoed.
          key === "data_dir"
            ? { field: `core.${key}` }
            : { field: `core.${key}`, persisted: state.persisted[key], configured: persisted[key] },
        );
      }
    }
    const recovered = await recover({
      fs,
      layout,
      config,
      databaseId,
      cleanShutdownFlag: state.clean_shutdown,
      staleLock: lock.stale,
      ...(options.flushPolicy ? { flushPolicy: options.flushPolicy } : {}),
      ...(options.progress ? { progress: options.progress } : {}),
    });
    try {
      await writeState(fs, layout.state, { persisted, clean_shutdown: false });
    } catch (err) {
      await recovered.writer.close();
      await recovered.reader.closeAll();
      throw err;
    }
    return new Database(fs, layout, config, databaseId, recovered, lock.release, {
      maintenance: options.maintenance ?? null,
      cwd: options.cwd ?? process.cwd(),
    });
  } catch (err) {
    await lock.release().catch(() => undefined);
    if (isAeroError(err) || isSimulatedCrash(err)) throw err;
    throw new AeroError("AERO_RECOVERY_FAILED", "Opening the database failed.", {
      errno: (err as { code?: string })?.code ?? "unknown",
    });
  }
}

/**
 * An open database. Writes pass one at a time through the commit pipeline (validate ->
 * next CommitId -> encode -> append -> fsync -> install -> advance V -> acknowledge);
 * the fsync is awaited without blocking, so queries keep running against V meanwhile.
 */
export class Database {
  private lifecycle: LifecycleState = "SERVING";
  private fatalError: AeroError | null = null;
  private pipeline: Promise<unknown> = Promise.resolve();
  private readonly state: EngineState;
  private readonly writer: WalWriter;
  private readonly reader: FrameReader;
  private readonly report: RecoveryReport;
  /** The checkpoint in force: the store's versions <= its commit boundary live in its snapshot. */
  private checkpointMarker: CheckpointMarker | null;
  private readonly maintenance: MaintenanceProvider | null;
  /** Checkpoints and backups, one at a time (held by a backup until its archive is written). */
  private readonly maintenanceLock = new MaintenanceLock();
  private readonly cwd: string;

  /** @internal use open() */
  constructor(
    private readonly fs: FileSystem,
    private readonly layout: Layout,
    readonly config: AeroConfig,
    readonly databaseId: string,
    recovered: {
      state: EngineState;
      writer: WalWriter;
      reader: FrameReader;
      report: RecoveryReport;
      checkpoint: CheckpointMarker | null;
    },
    private readonly releaseLock: () => Promise<void>,
    extras: { maintenance: MaintenanceProvider | null; cwd: string } = {
      maintenance: null,
      cwd: process.cwd(),
    },
  ) {
    this.state = recovered.state;
    this.writer = recovered.writer;
    this.reader = recovered.reader;
    this.report = recovered.report;
    this.checkpointMarker = recovered.checkpoint;
    this.maintenance = extras.maintenance;
    this.cwd = extras.cwd;
  }

  get lifecycleState(): LifecycleState {
    return this.lifecycle;
  }

  /** The canonical recovery report of this start (core §9). */
  recoveryReport(): RecoveryReport {
    return this.report;
  }

  /** Registers an immutable schema version; resolves after its unit and file are durable. */
  registerSchema(definition: unknown): Promise<WriteResult> {
    return this.enqueue(async () => {
      const def = parseSchemaDefinition(definition);
      if (this.state.schemas.has(def.schema_id, def.schema_version)) {
        throw new AeroError("AERO_SCHEMA_IMMUTABLE", "That schema version is already registered.", {
          schema_id: def.schema_id,
          schema_version: def.schema_version,
        });
      }
      const commitId = this.writer.expectedCommitId;
      await this.append(commitId, [
        { kind: FrameKind.SCHEMA, payload: encoder.encode(canonicalSchemaText(def)) },
      ]);
      crashPoint("schema:after-fsync");
      await this.durably(async () => {
        await writeSchemaFile(this.fs, this.layout, def);
        crashPoint("schema:after-file");
        this.state.installSchema(def, commitId);
      });
      return { commit_id: commitId };
    });
  }

  insert(request: WriteRequest): Promise<WriteResult> {
    return this.enqueue(async () => {
      const { def, id, body } = this.prepareWrite(request);
      const live = this.state.store.latest(def.schema_id, id);
      if (live && !live.tombstone) {
        throw new AeroError("AERO_WRITE_DUPLICATE_ID", "A live document with that _id exists.", {
          schema_id: def.schema_id,
          _id: id,
        });
      }
      return this.commitVersion(def, id, body, request.document);
    });
  }

  update(request: WriteRequest): Promise<WriteResult> {
    return this.enqueue(async () => {
      const { def, id, body } = this.prepareWrite(request);
      const live = this.state.store.latest(def.schema_id, id);
      if (!live || live.tombstone) {
        throw new AeroError("AERO_WRITE_NOT_FOUND", "No live document with that _id exists.", {
          schema_id: def.schema_id,
          _id: id,
        });
      }
      return this.commitVersion(def, id, body, request.document);
    });
  }

  delete(request: DeleteRequest): Promise<DeleteResult> {
    return this.enqueue(async () => {
      const def = resolveWriteSchema(this.state.schemas, request?.schema_id, request?.schema_version);
      const id = request._id;
      if (!(typeof id === "string" && id.length > 0) && !Number.isSafeInteger(id)) {
        throw new AeroError(
          "AERO_QUERY_INVALID",
          "delete needs an _id that is a non-empty string or a safe integer.",
        );
      }
      const live = this.state.store.latest(def.schema_id, id);
      if (!live || live.tombstone) return { commit_id: null };
      return this.commitVersion(def, id, new Uint8Array(0), null);
    });
  }

  /**
   * A checkpoint (core §10): the pipeline pauses at a unit boundary, the snapshot at V is
   * written and named by checkpoint.json, then WAL segments at or below its LSN boundary are
   * removed. It waits for an earlier checkpoint or backup to finish (a backup's archive
   * included). Needs the provider of @aerodb/snapshot (open the database through it).
   */
  checkpoint(): Promise<CheckpointResult> {
    return this.exclusiveMaintenance(() =>
      this.maintenanceTurn("AERO_CHECKPOINT_FAILED", (provider, ctx) => provider.checkpoint(ctx)),
    );
  }

  /**
   * An online backup (core §11) to the archive `path` (relative paths resolve against the
   * `cwd` given to open). The pipeline pauses only while B is chosen and its snapshot made
   * ready; the archive is written after that turn, while commits flow again, and no other
   * checkpoint or backup runs until it is done. Needs the provider of @aerodb/snapshot.
   */
  backup(path: string): Promise<BackupResult> {
    if (typeof path !== "string" || path.length === 0 || path.includes("\u0000")) {
      return Promise.reject(new AeroError("AERO_QUERY_INVALID", "backup needs a path (a non-empty string)."));
    }
    const target = posixPath.resolve(this.cwd, path);
    return this.exclusiveMaintenance(async () => {
      const archive = await this.maintenanceTurn("AERO_BACKUP_FAILED", (provider, ctx) =>
        provider.backup(ctx, target),
      );
      return this.runArchivePhase(archive);
    });
  }

  /** Runs a bounded query at V; refusals are typed REJECT errors, nothing runs unplanned. */
  query<T = Record<string, unknown>>(
    request: QueryRequest | Readonly<Record<string, unknown>>,
  ): QueryResult<T> {
    this.checkServing();
    const plan = planQuery(request, this.state.schemas, this.limits());
    if (!isPlan(plan)) throw new AeroError(plan.code, plan.message, plan.details);
    const readView = this.state.visibleCommit;
    const rows = this.guardRead(() => executeQuery(plan, this.state.querySource()));
    return { data: rows as T[], read_view: readView };
  }

  /** The plan a query would run, without running it; byte-identical for the same input. */
  explain(request: QueryRequest | Readonly<Record<string, unknown>>): Record<string, unknown> {
    this.checkServing();
    return explainPlan(planQuery(request, this.state.schemas, this.limits()), request) as Record<
      string,
      unknown
    >;
  }

  stats(): DatabaseStats {
    const w = this.writer.stats();
    return {
      state: this.lifecycle,
      database_id: this.databaseId,
      commit_high_water: this.state.visibleCommit,
      last_lsn: this.writer.durableBoundary.lsn,
      schemas: this.state.schemas.count,
      documents: this.state.store.liveCount,
      versions: this.state.store.versionCount,
      indexes: this.state.indexes.stats(),
      wal: {
        segments: this.writer.segmentNames().length,
        units_appended: w.unitsAppended,
        fsyncs: w.fsyncs,
        write_calls: w.writeCalls,
        bytes_written: w.bytesWritten,
      },
    };
  }

  /** The registered schema definitions, sorted by (schema_id, schema_version). */
  schemas(): SchemaDefinition[] {
    return this.state.schemas.all();
  }

  /**
   * Clean shutdown: refuse new work, finish what is in flight, mark the clean shutdown,
   * unlock. After a FATAL error close() only releases resources.
   */
  async close(): Promise<void> {
    if (this.lifecycle === "TERMINATED" || this.lifecycle === "SHUTTING_DOWN") {
      if (this.fatalError) await this.releaseResources();
      return;
    }
    this.lifecycle = "SHUTTING_DOWN";
    // Accepted checkpoints and backups first: a backup's archive phase runs outside the
    // pipeline, and one still waiting for the maintenance lock enqueues its turn only later.
    await this.maintenanceLock.idle();
    await this.pipeline.catch(() => undefined);
    try {
      if (!this.fatalError) {
        await this.writer.close();
        await writeState(this.fs, this.layout.state, {
          persisted: persistedFields(this.config),
          clean_shutdown: true,
        });
      }
    } finally {
      await this.releaseResources();
      this.lifecycle = "TERMINATED";
    }
  }

  // ---- internals -------------------------------------------------------------------------

  /**
   * Runs a checkpoint or backup under the maintenance lock. Refused unless serving; once
   * accepted it runs even if close() begins while it waits (close finishes in-flight work).
   */
  private exclusiveMaintenance<T>(work: () => Promise<T>): Promise<T> {
    try {
      this.checkServing();
    } catch (err) {
      return Promise.reject(err);
    }
    return this.maintenanceLock.run(work);
  }

  /**
   * The pipeline turn of an accepted checkpoint or backup: enqueue without its serving check,
   * since the request was accepted before close() began and close() waits for it.
   */
  private maintenanceTurn<T>(
    code: "AERO_CHECKPOINT_FAILED" | "AERO_BACKUP_FAILED",
    task: (provider: MaintenanceProvider, ctx: MaintenanceContext) => Promise<T>,
  ): Promise<T> {
    return this.enqueueAccepted(() => this.runMaintenance(code, task));
  }

  /**
   * Phase 2 of a backup, after its turn: commits flow again while the caller still holds the
   * maintenance lock. The phase sees no context, only whether the instance has stopped.
   */
  private async runArchivePhase(archive: BackupArchivePhase): Promise<BackupResult> {
    try {
      return await archive({ stopped: () => this.fatalError !== null });
    } catch (err) {
      // The phase's own failure is the answer even when the instance stopped meanwhile
      // (fail() would answer with that FATAL error instead).
      if (isAeroError(err) && err.severity !== "FATAL") throw err;
      throw this.maintenanceFailure("AERO_BACKUP_FAILED", err);
    }
  }

  /**
   * Runs a maintenance task in this pipeline turn with a context valid only for the turn.
   * A FATAL error stops the instance; anything that is not an AeroError becomes `code`.
   */
  private async runMaintenance<T>(
    code: "AERO_CHECKPOINT_FAILED" | "AERO_BACKUP_FAILED",
    task: (provider: MaintenanceProvider, ctx: MaintenanceContext) => Promise<T>,
  ): Promise<T> {
    const provider = this.maintenance;
    if (provider === null) {
      throw new AeroError(
        code,
        `${code === "AERO_CHECKPOINT_FAILED" ? "Checkpoints" : "Backups"} need @aerodb/snapshot: open the database with its open().`,
        { reason: "no_provider" },
      );
    }
    const ctx = this.maintenanceContext();
    try {
      return await task(provider, ctx.context);
    } catch (err) {
      throw this.maintenanceFailure(code, err);
    } finally {
      ctx.end();
    }
  }

  /** A failed checkpoint or backup: an AeroError passes (a FATAL one stops the instance). */
  private maintenanceFailure(code: "AERO_CHECKPOINT_FAILED" | "AERO_BACKUP_FAILED", err: unknown): unknown {
    if (isSimulatedCrash(err)) return this.fail(err);
    if (isAeroError(err)) return this.fail(err);
    return new AeroError(code, "The operation failed.", {
      errno: (err as { code?: string })?.code ?? "unknown",
    });
  }

  private maintenanceContext(): { context: MaintenanceContext; end(): void } {
    let active = true;
    const live = () => {
      if (!active) {
        throw new AeroError("AERO_INTERNAL_INVARIANT", "A maintenance context was used after its turn.");
      }
    };
    const boundary = this.writer.durableBoundary;
    const commitBoundary = this.state.visibleCommit;
    if (boundary.commitId !== commitBoundary) {
      throw new AeroError(
        "AERO_INTERNAL_INVARIANT",
        "The durable WAL boundary is not V at a pipeline turn.",
        {
          visible_commit: commitBoundary,
          durable_commit: boundary.commitId,
        },
      );
    }
    const source: SnapshotSource = {
      databaseId: this.databaseId,
      commitBoundary,
      lsnBoundary: boundary.lsn,
      boundaryFrameCrc: boundary.frameCrc,
      schemas: this.state.schemas.all(),
      versions: () => {
        live();
        return this.state.snapshotVersions(commitBoundary);
      },
    };
    const context: MaintenanceContext = {
      fs: this.fs,
      layout: this.layout,
      config: this.config,
      databaseId: this.databaseId,
      commitBoundary,
      walBoundary: boundary,
      checkpoint: this.checkpointMarker,
      schemas: () => this.state.schemas.all(),
      snapshotSource: () => source,
      writeSnapshot: (dir) => {
        live();
        return writeSnapshotFiles(this.fs, dir, source);
      },
      adoptSnapshot: async (marker) => {
        live();
        await this.adoptSnapshot(marker, source);
      },
      removeWalSegmentsThrough: async (lsn) => {
        live();
        const adopted = this.checkpointMarker?.lsn_boundary ?? 0;
        if (lsn > adopted) {
          throw new AeroError("AERO_INTERNAL_INVARIANT", "WAL truncation above the adopted checkpoint.", {
            lsn,
            checkpoint_lsn: adopted,
          });
        }
        // Seal the active segment when the whole log is at or below the boundary, so that it
        // can go too: otherwise a log smaller than one segment would never shrink.
        if (this.writer.durableBoundary.lsn <= lsn) await this.writer.sealActiveSegment();
        const removed = await this.writer.removeSegmentsThrough(lsn);
        for (const name of removed) await this.reader.closeSegment(name);
        return removed;
      },
    };
    return {
      context,
      end: () => {
        active = false;
      },
    };
  }

  /**
   * Makes a durable checkpoint the one in force: its snapshot must be complete and hold
   * exactly the store's versions <= C (same count, same bytes as the store's frames give),
   * then every location <= C moves into its versions file in one synchronous pass.
   */
  private async adoptSnapshot(marker: CheckpointMarker, source: SnapshotSource): Promise<void> {
    if (
      marker.commit_boundary !== source.commitBoundary ||
      marker.lsn_boundary !== source.lsnBoundary ||
      marker.boundary_frame_crc !== source.boundaryFrameCrc
    ) {
      throw new AeroError("AERO_INTERNAL_INVARIANT", "A checkpoint was adopted for another boundary.", {
        commit_boundary: marker.commit_boundary,
        visible_commit: source.commitBoundary,
      });
    }
    const previous = this.checkpointMarker;
    if (previous?.snapshot_id === marker.snapshot_id) {
      this.checkpointMarker = marker;
      return;
    }
    const dir = posixPath.join(this.layout.snapshots, marker.snapshot_id);
    const manifest = await readSnapshotManifest(this.fs, dir, marker.snapshot_id);
    const versionsEntry = manifest.files.find((f) => f.path === "versions");
    const layout = this.state.store.snapshotLayout(marker.commit_boundary);
    if (
      manifest.database_id !== this.databaseId ||
      manifest.lsn_boundary !== marker.lsn_boundary ||
      manifest.version_count !== layout.count ||
      versionsEntry?.size !== layout.bytes
    ) {
      throw new AeroError(
        "AERO_INTERNAL_INVARIANT",
        "A snapshot does not match the store it was written from.",
        {
          snapshot_id: marker.snapshot_id,
          versions: layout.count,
          manifest_versions: manifest.version_count,
        },
      );
    }
    const file = snapshotVersionsFile(marker.snapshot_id);
    await this.reader.openFile(file);
    this.state.store.relocateToSnapshot(marker.commit_boundary, file);
    this.checkpointMarker = marker;
    for (const open of this.reader.openFiles()) {
      if (open !== file) await this.reader.closeFile(open);
    }
  }

  private limits() {
    return {
      maxQueryLimit: this.config.core.max_query_limit,
      maxScanCandidates: this.config.core.max_scan_candidates,
    };
  }

  private prepareWrite(request: WriteRequest): { def: SchemaDefinition; id: DocId; body: Uint8Array } {
    if (!request || typeof request !== "object")
      throw new AeroError("AERO_QUERY_INVALID", "A write needs a request object.");
    const def = resolveWriteSchema(this.state.schemas, request.schema_id, request.schema_version);
    validateDocument(def, request.document);
    const body = encoder.encode(canonicalJson(request.document));
    if (body.length > this.config.core.max_document_bytes) {
      throw new AeroError("AERO_WRITE_TOO_LARGE", "The document is larger than core.max_document_bytes.", {
        bytes: body.length,
        max_document_bytes: this.config.core.max_document_bytes,
      });
    }
    return { def, id: (request.document as { _id: DocId })._id, body };
  }

  private async commitVersion(
    def: SchemaDefinition,
    id: DocId,
    body: Uint8Array,
    document: Readonly<Record<string, unknown>> | null,
  ): Promise<WriteResult> {
    const commitId = this.writer.expectedCommitId;
    // Index entries come from the stored form, so a restart rebuilds exactly these; taken before
    // the append so that nothing but the install is left once the fsync returns.
    const values =
      document === null
        ? null
        : indexedValuesOfStoredBody(
            body,
            this.state.indexFieldsOf(def.schema_id, def.schema_version, commitId),
            id,
          );
    const payload = encodeVersion({
      schemaId: def.schema_id,
      schemaVersion: def.schema_version,
      id,
      tombstone: document === null,
      body,
    });
    const unit = await this.append(commitId, [{ kind: FrameKind.VERSION, payload }]);
    crashPoint("commit:after-fsync");
    const location = (unit.records[0] as { location: Parameters<EngineState["installVersion"]>[5] }).location;
    await this.durably(async () => {
      this.state.installVersion(def.schema_id, def.schema_version, id, values, commitId, location);
      crashPoint("commit:mid-install");
      this.state.advance(commitId);
    });
    crashPoint("commit:after-install");
    return { commit_id: commitId };
  }

  private async append(commitId: number, records: WalRecordInput[]) {
    try {
      return await this.writer.appendUnit({ commitId, records });
    } catch (err) {
      throw this.fail(err);
    }
  }

  /** Work after the fsync (install, schema file): a failure here is FATAL STORAGE_WRITE_FAILED. */
  private async durably(work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (err) {
      if (isAeroError(err) && err.severity === "FATAL") throw this.fail(err);
      if (isSimulatedCrash(err)) throw this.fail(err);
      throw this.fail(
        new AeroError("AERO_STORAGE_WRITE_FAILED", "Installing a durable commit failed.", {
          errno: (err as { code?: string })?.code ?? "unknown",
        }),
      );
    }
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    try {
      this.checkServing();
    } catch (err) {
      return Promise.reject(err);
    }
    return this.enqueueAccepted(task);
  }

  /**
   * Appends a turn to the pipeline for work already accepted (its serving check passed when it
   * was asked for): the turn still refuses to run once the instance has stopped.
   */
  private enqueueAccepted<T>(task: () => Promise<T>): Promise<T> {
    const turn = () => {
      this.checkAlive();
      return task();
    };
    const run = this.pipeline.then(turn, turn);
    this.pipeline = run.catch(() => undefined);
    return run;
  }

  private guardRead<T>(read: () => T): T {
    try {
      return read();
    } catch (err) {
      if (isAeroError(err) && err.severity === "FATAL") throw this.fail(err);
      throw err;
    }
  }

  private checkServing(): void {
    this.checkAlive();
    if (this.lifecycle !== "SERVING") {
      throw new AeroError("AERO_WAL_CLOSED", "The database is shutting down or closed.");
    }
  }

  private checkAlive(): void {
    if (this.fatalError) throw this.fatalError;
  }

  /** Records a FATAL error: the instance stops, and every later call gets this error. */
  private fail(err: unknown): unknown {
    if (this.fatalError) return this.fatalError;
    if (isAeroError(err) && err.severity === "FATAL") {
      this.fatalError = err;
      this.lifecycle = "TERMINATED";
      void this.releaseResources();
    }
    return err;
  }

  private releasing: Promise<void> | null = null;

  /** Idempotent; every caller (close() after a FATAL included) waits for the one release. */
  private releaseResources(): Promise<void> {
    if (this.releasing === null) {
      this.releasing = (async () => {
        await this.writer.close().catch(() => undefined);
        await this.reader.closeAll();
        // A backup's archive phase may still be writing (after a FATAL error it gives up at
        // its next step and cleans up): the data directory stays locked until it has settled.
        await this.maintenanceLock.idle();
        await this.releaseLock().catch(() => undefined);
      })();
    }
    return this.releasing;
  }
}

function isPlan(value: QueryPlan | { code: string }): value is QueryPlan {
  return (value as QueryPlan).scan_type !== undefined;
}
