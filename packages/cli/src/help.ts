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
  verify            check the WAL, MANIFEST and schema files without writing anything
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
  verify: `Usage: aerodb verify --data <dir> [--config <file>]

Verifies a data directory without writing a byte: MANIFEST and metadata/state.json
checksums, every WAL frame (CRC, LSN, unit shape), and that metadata/schemas holds
exactly the registered schema files with their exact bytes. A torn tail (an incomplete
last unit, which the next start cuts) is reported in data.torn_tail and is not a problem.
Prints {"status":"ok","data":{database_id, wal, torn_tail, problems:[]}} and exits 0,
or the first problem as an error envelope (details.report holds the whole report), exit 1.
Refused with AERO_STORAGE_LOCKED while a live process holds the directory.

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
