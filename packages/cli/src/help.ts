const COMMON = `Options every command accepts:
  --data <dir>       the data directory (sets or overrides core.data_dir)
  --config <file>    a JSON configuration file (default: ./aerodb.json when it exists)
  -h, --help         print this help and exit 0`;

const EXIT = `Exit codes: 0 ok, 1 error (the error envelope is on stdout), 2 usage (AERO_CLI_USAGE).`;

export const TOP_HELP = `aerodb: a strict, durable, schema-first document database.

Usage: aerodb <command> [options]

Commands:
  init              initialize an empty data directory
  start             open the database and serve JSON requests on stdin, one per line
  schema add        register a schema version from a JSON file (offline)
  checkpoint        snapshot the database and truncate its WAL (offline)
  backup            write a backup archive of the database (offline)
  restore           replace a data directory with a backup archive (offline)
  verify            check a data directory or a backup archive without writing anything
  stats             print the database's statistics (offline)
  help [command]    print the help of a command

${COMMON}

${EXIT}
Run \`aerodb <command> --help\` for the options of a command.
`;

export const COMMAND_HELP: Readonly<Record<string, string>> = {
  init: `Usage: aerodb init --data <dir> [--config <file>]

Initializes an absent or empty data directory: MANIFEST (with a fresh database id),
wal/, metadata/state.json, metadata/schemas/. Prints
{"status":"ok","data":{"data_dir":...,"database_id":...}}.
A non-empty directory is refused with AERO_STORAGE_ALREADY_INITIALIZED (exit 1).

${COMMON}

${EXIT}
`,
  start: `Usage: aerodb start --data <dir> [--config <file>]

Opens the database (lock, recovery), logs the recovery report (RECOVERY_COMPLETE) and
AERODB_SERVING on stderr, then reads one JSON request per stdin line and writes one
canonical JSON response per line to stdout, in order, one request at a time. A write's
response is written only after its fsync.

Requests: {"op":"insert"|"update"|"delete"|"query"|"explain"|"register_schema", ...}.
A line that is not UTF-8 or JSON, or longer than core.max_document_bytes * 2 + 1 MiB,
is answered with AERO_QUERY_INVALID; empty lines are ignored.

Stops on stdin EOF (after answering every line read), SIGTERM or SIGINT (after the
request in flight): closes the database cleanly and exits 0. A FATAL error prints its
error line (on stdout when it answers a request) and a FATAL log line, then exits 1.

${COMMON}

${EXIT}
`,
  "schema add": `Usage: aerodb schema add --file <schema.json> --data <dir> [--config <file>]

Registers one schema version offline: opens the database, registers the definition in
the file, closes. Prints {"status":"ok","data":[],"commit_id":N} or the error envelope.
An unreadable file or a file that is not JSON is AERO_SCHEMA_INVALID_DEFINITION with
details.reason "unreadable" or "not_json".

  --file <file>      the schema definition (JSON), required

${COMMON}

${EXIT}
`,
  checkpoint: `Usage: aerodb checkpoint --data <dir> [--config <file>]

Opens the database offline, checkpoints it and closes it: a snapshot of every version up
to the last durable commit (snapshots/snap-<C>/, manifest written last), checkpoint.json,
then the WAL segments it covers are removed. Prints
{"status":"ok","data":{"commit_boundary":C,"lsn_boundary":L,"segments_removed":N,"snapshot_id":...}}.

${COMMON}

${EXIT}
`,
  backup: `Usage: aerodb backup --output <file> --data <dir> [--config <file>]

Opens the database offline and writes a backup of its last durable commit B to <file>:
an uncompressed, deterministic tar (backup_manifest.json, MANIFEST, snapshot/...) written
to <file>.tmp, fsynced and renamed, so <file> is absent or complete. The same state always
gives the same bytes. Prints {"status":"ok","data":{"backup_id":...,"bytes":N,
"commit_boundary":B,"lsn_boundary":L,"snapshot_id":...}}. A failure is AERO_BACKUP_FAILED
and leaves no partial file. On a terminal, a progress bar on stderr for large databases.

  --output <file>    the archive to write (replaced if it exists), required

${COMMON}

${EXIT}
`,
  restore: `Usage: aerodb restore --input <file> --data <dir> [--config <file>]

Replaces the data directory <dir> (absent, empty, or an AeroDB database) with the backup
in <file>, offline. The whole archive is verified first (both manifests, every CRC, the
snapshot); a bad archive is AERO_RESTORE_INVALID_BACKUP and <dir> is untouched. The new
database is built in <dir>.restore-tmp, then swapped in (<dir> -> <dir>.restore-old,
tmp -> <dir>) and the old one deleted. After a crash, \`aerodb start\` refuses with
AERO_RECOVERY_RESTORE_INCOMPLETE until the restore is re-run; re-running completes it.
A directory held by a running process is refused with AERO_STORAGE_LOCKED. The restored
database continues at LSN lsn_boundary + 1 and commit id commit_boundary + 1.

  --input <file>     the backup archive, required

${COMMON}

${EXIT}
`,
  verify: `Usage: aerodb verify --data <dir> [--config <file>]
       aerodb verify --backup <file>

Verifies without writing a byte.

A data directory: MANIFEST and metadata/state.json checksums, the checkpoint
(checkpoint.json and its whole snapshot: every file's size and CRC, every frame and
document), every WAL frame (CRC, LSN, unit shape) from the checkpoint on, and that
metadata/schemas holds exactly the registered schema files with their exact bytes. A torn
tail (an incomplete last unit, which the next start cuts) is reported in data.torn_tail and
is not a problem. Refused with AERO_STORAGE_LOCKED while a live process holds the directory.

A backup archive (--backup): every tar header, both manifests, every file's size and
CRC-32, and the snapshot inside, read in place.

Prints {"status":"ok","data":{..., "problems":[]}} and exits 0, or the first problem as an
error envelope (details.report holds the whole report), exit 1. On a terminal, a progress
bar on stderr for large databases and archives.

  --backup <file>    verify this backup archive instead of a data directory

${COMMON}

${EXIT}
`,
  stats: `Usage: aerodb stats --data <dir> [--config <file>]

Opens the database offline, prints {"status":"ok","data":<stats>} and closes it.

${COMMON}

${EXIT}
`,
  help: `Usage: aerodb help [command]

Prints the help of aerodb or of one command.
`,
};
