/**
 * The one registry of error codes. Every AeroError is created from an entry here, so a code
 * always has the same severity and names the invariant it protects. docs/errors.md is
 * generated from this table (pnpm docs:errors); edit the table, never the document.
 */
export type Severity = "FATAL" | "ERROR" | "REJECT";

export interface ErrorSpec {
  readonly severity: Severity;
  /** The invariant the error protects (an id from the specs, or a short statement). */
  readonly invariant: string;
  /** What the code means, for the generated reference. */
  readonly meaning: string;
}

const fatal = (invariant: string, meaning: string): ErrorSpec => ({ severity: "FATAL", invariant, meaning });
const error = (invariant: string, meaning: string): ErrorSpec => ({ severity: "ERROR", invariant, meaning });
const reject = (invariant: string, meaning: string): ErrorSpec => ({
  severity: "REJECT",
  invariant,
  meaning,
});

export const ERROR_REGISTRY = {
  // Configuration
  AERO_CONFIG_INVALID: fatal("ARCH-8", "The configuration is malformed or has unknown keys."),
  AERO_CONFIG_UNSAFE: fatal(
    "ARCH-8",
    "The configuration asks for something that would weaken durability or bounds.",
  ),
  AERO_CONFIG_IMMUTABLE: fatal(
    "ARCH-8",
    "A persisted configuration field differs from the value the data was created with.",
  ),
  AERO_CONFIG_IO_FAILED: fatal("ARCH-8", "The configuration file could not be read."),
  // Storage
  AERO_STORAGE_LOCKED: fatal("ARCH-4", "Another live process holds the data directory's lock."),
  AERO_STORAGE_NOT_INITIALIZED: fatal(
    "CORE-R-2",
    "The data directory has not been initialized (run `aerodb init`).",
  ),
  AERO_STORAGE_FORMAT_UNSUPPORTED: fatal(
    "ARCH-3",
    "A file carries a format version this build does not read.",
  ),
  AERO_STORAGE_WRITE_FAILED: fatal("CORE-D-2", "I/O failed while installing a durable commit."),
  AERO_STORAGE_READ_FAILED: error("CORE-D-1", "A read failed at the I/O level."),
  AERO_STORAGE_ALREADY_INITIALIZED: reject("ARCH-3", "The data directory already holds a database."),
  // WAL
  AERO_WAL_APPEND_FAILED: fatal(
    "WAL-1",
    "Writing a commit unit to the WAL failed; the units it covered failed and the WAL stopped.",
  ),
  AERO_WAL_FSYNC_FAILED: fatal(
    "WAL-1",
    "The fsync covering a commit unit failed; every unit it covered failed and the WAL stopped.",
  ),
  AERO_WAL_CORRUPTION: fatal(
    "WAL-4",
    "A WAL frame or segment is damaged somewhere other than the torn tail, or a segment or LSN is missing.",
  ),
  AERO_WAL_UNIT_INCOMPLETE: fatal("WAL-4", "A COMMIT frame closes a unit that lacks some of its records."),
  AERO_WAL_CLOSED: error(
    "WAL-1",
    "The WAL is closed or stopped after an earlier failure; nothing more is appended.",
  ),
  // Data
  AERO_DATA_CORRUPTION: fatal("CORE-D-1", "A stored record failed its checksum."),
  AERO_INDEX_CORRUPTION: fatal("CORE-Q-5", "An index disagrees with the version store."),
  AERO_METADATA_CORRUPTION: fatal(
    "CORE-S-4",
    "A metadata file (MANIFEST, state.json, schema file) is damaged, edited or unaccounted for.",
  ),
  // Recovery
  AERO_RECOVERY_FAILED: fatal("CORE-R-1", "Recovery could not complete."),
  AERO_RECOVERY_SCHEMA_MISSING: fatal(
    "CORE-S-4",
    "A stored version names a schema that was never registered.",
  ),
  AERO_RECOVERY_INCONSISTENT: fatal(
    "CORE-R-1",
    "Post-recovery verification found ids or counts that do not add up.",
  ),
  AERO_RECOVERY_SNAPSHOT_MISSING: fatal("CORE-P-2", "checkpoint.json names a snapshot that does not exist."),
  AERO_RECOVERY_RESTORE_INCOMPLETE: fatal("CORE-R-3", "A restore was interrupted; re-run the restore."),
  AERO_SNAPSHOT_CORRUPTION: fatal("CORE-P-2", "A snapshot failed its checksums."),
  AERO_RESTORE_INVALID_BACKUP: fatal(
    "CORE-R-3",
    "The backup archive is damaged, hostile or of an unknown format; the target is untouched.",
  ),
  AERO_RESTORE_FAILED: fatal("CORE-R-3", "The restore failed after validation."),
  AERO_MVCC_COMMIT_ORDER: fatal("WAL-3", "Commit ids are not dense and rising."),
  AERO_MVCC_GC_INVALID: fatal("MVCC-GC", "A GC record would remove a version some view can still see."),
  AERO_INTERNAL_INVARIANT: fatal("ALL", "An internal invariant failed: a bug in AeroDB."),
  // Operations
  AERO_EXECUTION_LIMIT: error("CORE-Q-1", "The query scanned more candidates than its proven bound allows."),
  AERO_CHECKPOINT_FAILED: error(
    "CORE-P-1",
    "The checkpoint failed before its marker; the previous checkpoint stands.",
  ),
  AERO_CHECKPOINT_TRUNCATE_FAILED: error(
    "CORE-P-1",
    "The checkpoint holds, but removing old WAL segments failed.",
  ),
  AERO_BACKUP_FAILED: error("CORE-R-3", "The backup failed; no partial file is left."),
  AERO_TXN_WRITE_CONFLICT: error(
    "MVCC-SI",
    "A key written by the transaction was committed by another after its read view.",
  ),
  AERO_REPL_GAP: error("REPL-2", "The replica is missing frames between its log and the primary's."),
  AERO_REPL_CORRUPTION: error("REPL-2", "A shipped frame failed its checksum."),
  AERO_REPL_DIVERGENCE: error("REPL-2", "The replica's log differs from the primary's."),
  AERO_REPL_IDENTITY_MISMATCH: error("REPL-1", "The primary is a different database or format."),
  AERO_REPL_SNAPSHOT_INVALID: error("REPL-3", "The bootstrap snapshot is invalid."),
  AERO_REPL_PRIMARY_UNREACHABLE: error("REPL-4", "The primary cannot be reached."),
  // Requests
  AERO_SCHEMA_REQUIRED: reject("CORE-S-1", "The request names no schema_id."),
  AERO_SCHEMA_VERSION_REQUIRED: reject("CORE-S-1", "The request names no schema_version."),
  AERO_SCHEMA_UNKNOWN: reject("CORE-S-1", "No schema with that id is registered."),
  AERO_SCHEMA_UNKNOWN_VERSION: reject("CORE-S-1", "The schema has no such version."),
  AERO_SCHEMA_VALIDATION_FAILED: reject("CORE-S-2", "The document does not match its schema."),
  AERO_SCHEMA_INVALID_DEFINITION: reject("CORE-S-3", "The schema definition is malformed."),
  AERO_SCHEMA_IMMUTABLE: reject(
    "CORE-S-3",
    "That schema version is already registered and can never change.",
  ),
  AERO_WRITE_DUPLICATE_ID: reject("CORE-D-2", "A live document with that _id exists."),
  AERO_WRITE_NOT_FOUND: reject("CORE-D-2", "No live document with that _id exists."),
  AERO_WRITE_TOO_LARGE: reject("CORE-D-2", "The document is larger than core.max_document_bytes."),
  AERO_QUERY_INVALID: reject("CORE-Q-1", "The request is malformed."),
  AERO_QUERY_UNBOUNDED: reject("CORE-Q-1", "The query has no filter to bound it."),
  AERO_QUERY_UNINDEXED_FIELD: reject("CORE-Q-1", "The query filters on a field with no index."),
  AERO_QUERY_LIMIT_REQUIRED: reject("CORE-Q-1", "The query has no valid limit."),
  AERO_QUERY_LIMIT_TOO_LARGE: reject("CORE-Q-1", "The query's limit exceeds core.max_query_limit."),
  AERO_QUERY_SORT_NOT_INDEXED: reject("CORE-Q-1", "The query sorts on a field with no index."),
  AERO_TXN_NOT_FOUND: reject("MVCC-SI", "No open transaction has that id."),
  AERO_TXN_KEY_ALREADY_WRITTEN: reject("MVCC-SI", "The transaction already wrote that key."),
  AERO_TXN_TOO_LARGE: reject("MVCC-SI", "The transaction has more writes than core.max_txn_writes."),
  AERO_TXN_TOO_MANY: reject("MVCC-SI", "Too many transactions are open."),
  AERO_REPL_NOT_PRIMARY: reject("REPL-5", "Writes go to the primary."),
  AERO_REPL_READ_UNSAFE: reject("REPL-6", "The replica cannot prove this read safe."),
  AERO_REPL_SNAPSHOT_REQUIRED: reject(
    "REPL-3",
    "The requested LSN is below the primary's WAL base; bootstrap from a snapshot.",
  ),
  AERO_OBSERVE_METHOD_NOT_ALLOWED: reject("OBS-1", "The observability API is read-only."),
  AERO_OBSERVE_NOT_FOUND: reject("OBS-1", "No such observability resource."),
  AERO_OBSERVE_BAD_REQUEST: reject("OBS-1", "The observability request is malformed."),
  AERO_CLI_USAGE: reject("CLI", "The command line is malformed."),
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_REGISTRY;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_REGISTRY, code);
}
