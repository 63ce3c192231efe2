import * as posixPath from "node:path/posix";
import { AeroError, type FileSystem, isAeroError, NodeFileSystem, readFileIfExists } from "@aerodb/base";
import { layoutOf, parseSchemaDefinition, readManifest, readState, realProcessProbe } from "@aerodb/core";
import { FrameKind, type ScannedUnit, scanWal, type WalScanResult } from "@aerodb/wal";
import { type CliIo, EXIT_ERROR, EXIT_OK, failWith, toAeroError, writeResponse } from "../output.js";
import { type CommonValues, commandConfig } from "../runtime.js";

const decoder = new TextDecoder("utf-8", { fatal: true });

/** One problem verify found: an error envelope without its status. */
export type VerifyProblem = Omit<ReturnType<AeroError["toJSON"]>, "status">;

export interface VerifyReport {
  readonly database_id: string;
  readonly stale_lock: boolean;
  readonly clean_shutdown_flag: boolean | null;
  readonly wal: {
    readonly segments: number;
    readonly first_lsn: number | null;
    readonly last_lsn: number;
    readonly records_verified: number;
    readonly units: number;
    readonly commit_high_water: number;
  } | null;
  readonly torn_tail: { segment: string; offset: number; bytes_cut: number; records_cut: number } | null;
  readonly schemas: {
    readonly registered: number;
    readonly files_verified: number;
    /** Files the next start writes: the log's final unit registered them and was cut off before its file. */
    readonly files_pending: number;
  } | null;
  readonly problems: VerifyProblem[];
}

/**
 * `aerodb verify`: checks a data directory offline and writes nothing, not even LOCK (so
 * it does not use open(), whose recovery cuts a torn tail and rewrites state.json):
 * MANIFEST (checksum, format, database id), metadata/state.json, every WAL frame through
 * @aerodb/wal's read-only scanWal (CRC, length, kind, LSN and commit-id order, unit shape),
 * every SCHEMA record, and metadata/schemas against the registered schemas byte for byte.
 * A torn tail is reported (the next start cuts it) but is not a problem. A directory a
 * live process holds is refused with AERO_STORAGE_LOCKED.
 */
export async function runVerify(io: CliIo, values: CommonValues): Promise<number> {
  try {
    const config = await commandConfig(io, values);
    const report = await verifyDataDir(new NodeFileSystem(), config.core.data_dir);
    const first = report.problems[0];
    if (first === undefined) {
      await writeResponse(io, { status: "ok", data: report });
      return EXIT_OK;
    }
    const count = report.problems.length;
    await writeResponse(io, {
      status: "error",
      code: first.code,
      severity: first.severity,
      invariant: first.invariant,
      message: `verify found ${count} problem${count === 1 ? "" : "s"}; the first: ${first.message}`,
      details: { report },
    });
    return EXIT_ERROR;
  } catch (err) {
    return failWith(io, toAeroError(err, "AERO_STORAGE_READ_FAILED", "Reading the data directory failed."));
  }
}

/** The read-only verification behind `aerodb verify`; throws only when there is nothing to verify. */
export async function verifyDataDir(fs: FileSystem, dataDir: string): Promise<VerifyReport> {
  const layout = layoutOf(dataDir);
  const rootStat = await fs.stat(layout.root);
  if (!rootStat?.isDirectory) {
    throw new AeroError(
      "AERO_STORAGE_NOT_INITIALIZED",
      "The data directory does not exist (run `aerodb init`).",
    );
  }
  const staleLock = await checkLock(fs, layout.lock);
  const { databaseId } = await readManifest(fs, layout.manifest);
  const problems: VerifyProblem[] = [];
  const note = (err: unknown) => problems.push(problemOf(err));

  let cleanShutdown: boolean | null = null;
  try {
    cleanShutdown = await checkState(fs, layout.state, dataDir);
  } catch (err) {
    note(err);
  }
  if ((await fs.stat(layout.checkpoint)) !== null) {
    note(
      new AeroError(
        "AERO_STORAGE_FORMAT_UNSUPPORTED",
        "checkpoint.json is present; this version does not verify checkpoints.",
        {
          file: "checkpoint.json",
        },
      ),
    );
  }

  // SCHEMA records seen in the log: file path (relative to metadata/schemas) -> expected bytes.
  const registered = new Map<string, { bytes: Uint8Array; commitId: number }>();
  let lastUnit: ScannedUnit | null = null;
  let scan: WalScanResult | null = null;
  try {
    scan = await scanWal(fs, layout.wal, {
      databaseId,
      onUnit: (unit) => {
        lastUnit = unit;
        for (const record of unit.records) {
          if (record.kind !== FrameKind.SCHEMA) continue;
          const def = schemaOfRecord(record.payload, record.location);
          const bytes = new Uint8Array(record.payload.length + 1);
          bytes.set(record.payload);
          bytes[record.payload.length] = 0x0a;
          registered.set(`${def.schema_id}/${def.schema_version}.json`, { bytes, commitId: unit.commitId });
        }
      },
    });
  } catch (err) {
    note(isAeroError(err) ? err : toAeroError(err, "AERO_STORAGE_READ_FAILED", "Reading the WAL failed."));
  }

  let schemas: VerifyReport["schemas"] = null;
  if (scan !== null) {
    const finalCommit = (lastUnit as ScannedUnit | null)?.commitId ?? null;
    schemas = await checkSchemaFiles(fs, layout.schemas, registered, finalCommit, note);
  }
  return {
    database_id: databaseId,
    stale_lock: staleLock,
    clean_shutdown_flag: cleanShutdown,
    wal: scan && {
      segments: scan.segments.length,
      first_lsn: scan.firstLsn,
      last_lsn: scan.lastLsn,
      records_verified: scan.recordsVerified,
      units: scan.unitsRead,
      commit_high_water: scan.lastCommitId,
    },
    torn_tail:
      scan?.tornTail == null
        ? null
        : {
            segment: scan.tornTail.segment,
            offset: scan.tornTail.offset,
            bytes_cut: scan.tornTail.bytesCut,
            records_cut: scan.tornTail.recordsCut,
          },
    schemas,
    problems,
  };
}

/** A live owner refuses verify (its log is moving); a dead owner's LOCK is only reported. */
async function checkLock(fs: FileSystem, lockPath: string): Promise<boolean> {
  const bytes = await readFileIfExists(fs, lockPath);
  if (bytes === null) return false;
  let pid: unknown = null;
  try {
    pid = (JSON.parse(decoder.decode(bytes)) as { pid?: unknown }).pid;
  } catch {
    return true; // a torn LOCK has no live owner
  }
  if (typeof pid === "number" && pid !== process.pid && realProcessProbe(pid)) {
    throw new AeroError("AERO_STORAGE_LOCKED", "Another live process holds the data directory.", { pid });
  }
  return true;
}

/** Checks metadata/state.json with core's reader; returns its clean-shutdown flag. */
async function checkState(fs: FileSystem, path: string, dataDir: string): Promise<boolean> {
  const state = await readState(fs, path);
  if (state.persisted.data_dir !== dataDir) {
    // Not corruption, but `start` on this path would refuse the directory.
    throw new AeroError("AERO_CONFIG_IMMUTABLE", "The data directory was created at another path.", {
      field: "core.data_dir",
    });
  }
  return state.clean_shutdown;
}

function schemaOfRecord(payload: Uint8Array, location: { segment: string; offset: number }) {
  try {
    return parseSchemaDefinition(JSON.parse(decoder.decode(payload)));
  } catch {
    throw new AeroError("AERO_WAL_CORRUPTION", "A SCHEMA record does not hold a valid definition.", {
      segment: location.segment,
      offset: location.offset,
      reason: "schema_payload",
    });
  }
}

/**
 * metadata/schemas must hold exactly the registered schemas' files, byte for byte (core
 * §3.5, §9.2). Only the log's final unit may lack its file (registration writes it after
 * the fsync; the next start writes it). `.json.tmp` leftovers are derived and ignored.
 */
async function checkSchemaFiles(
  fs: FileSystem,
  schemasDir: string,
  registered: ReadonlyMap<string, { bytes: Uint8Array; commitId: number }>,
  finalCommit: number | null,
  note: (err: unknown) => void,
): Promise<NonNullable<VerifyReport["schemas"]>> {
  const dirStat = await fs.stat(schemasDir);
  if (!dirStat?.isDirectory) {
    note(
      new AeroError("AERO_METADATA_CORRUPTION", "metadata/schemas is missing.", {
        file: "metadata/schemas",
        reason: "missing",
      }),
    );
    return { registered: registered.size, files_verified: 0, files_pending: 0 };
  }
  for (const dirName of await fs.readdir(schemasDir)) {
    const dir = posixPath.join(schemasDir, dirName);
    if (!(await fs.stat(dir))?.isDirectory) {
      note(unaccounted(`metadata/schemas/${dirName}`));
      continue;
    }
    for (const fileName of await fs.readdir(dir)) {
      const rel = `${dirName}/${fileName}`;
      if (fileName.endsWith(".json.tmp")) continue;
      if (!registered.has(rel)) note(unaccounted(`metadata/schemas/${rel}`));
    }
  }
  let verified = 0;
  let pending = 0;
  for (const [rel, { bytes: want, commitId }] of registered) {
    const file = `metadata/schemas/${rel}`;
    const bytes = await readFileIfExists(fs, posixPath.join(schemasDir, rel));
    if (bytes === null) {
      if (commitId === finalCommit) {
        pending++;
      } else {
        note(
          new AeroError("AERO_METADATA_CORRUPTION", `Schema file ${file} was removed.`, {
            file,
            reason: "missing",
          }),
        );
      }
      continue;
    }
    if (Buffer.compare(Buffer.from(bytes), Buffer.from(want)) !== 0) {
      note(
        new AeroError("AERO_METADATA_CORRUPTION", `Schema file ${file} was changed.`, {
          file,
          reason: "modified",
        }),
      );
      continue;
    }
    verified++;
  }
  return { registered: registered.size, files_verified: verified, files_pending: pending };
}

function unaccounted(file: string): AeroError {
  return new AeroError("AERO_METADATA_CORRUPTION", `${file} does not belong to any registered schema.`, {
    file,
    reason: "unaccounted",
  });
}

function problemOf(err: unknown): VerifyProblem {
  const { status: _status, ...problem } = toAeroError(
    err,
    "AERO_STORAGE_READ_FAILED",
    "Reading the data directory failed.",
  ).toJSON();
  return problem;
}
