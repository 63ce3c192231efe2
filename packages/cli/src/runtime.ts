import {
  CrashPointFileSystem,
  crashPointArmed,
  type ErrorCode,
  type FileSystem,
  NodeFileSystem,
} from "@aerodb/base";
import type { AeroConfig, Database, MaintenanceProvider } from "@aerodb/core";
import { open } from "@aerodb/snapshot";
import { loadConfig } from "./config-loading.js";
import { type CliIo, EXIT_OK, failWith, log, toAeroError, writeResponse } from "./output.js";
import { stderrProgress } from "./progress-bar.js";

/**
 * The file system every command uses: the real one, wrapped in CrashPointFileSystem when
 * AERODB_CRASH_POINT names a crash point (core §12), so file-system points
 * (`after-fsync:3`, ...) fire as well as the semantic ones placed in the code.
 */
export function commandFileSystem(): FileSystem {
  const real = new NodeFileSystem();
  return crashPointArmed() ? new CrashPointFileSystem(real) : real;
}

export interface CommonValues {
  readonly data?: string | undefined;
  readonly config?: string | undefined;
}

/** The command's frozen configuration from --config / ./aerodb.json and --data. */
export function commandConfig(io: CliIo, values: CommonValues): Promise<AeroConfig> {
  return loadConfig({ configFile: values.config, dataDir: values.data, cwd: io.cwd });
}

/**
 * Opens the database (lock, recovery) and logs the recovery report on stderr. On a terminal,
 * recovery draws a progress bar on stderr (snapshot load, WAL replay) for large databases.
 */
export async function openDatabase(
  io: CliIo,
  config: AeroConfig,
  fs: FileSystem,
  maintenance?: MaintenanceProvider,
): Promise<Database> {
  const progress = stderrProgress(io.stderr);
  const db = await open(config, {
    fs,
    cwd: io.cwd,
    ...(progress ? { progress } : {}),
    ...(maintenance ? { maintenance } : {}),
  });
  await log(io, "info", "RECOVERY_COMPLETE", { report: db.recoveryReport() });
  return db;
}

/**
 * An offline command on the database: open it (lock, recovery), run `work`, close it, and only
 * then print `work`'s result as the ok envelope (a result is printed once it is durable and the
 * lock released). Any failure closes the database and is printed as an AeroError, `failure`'s
 * code for a bare I/O error.
 */
export async function runOnDatabase(
  io: CliIo,
  values: CommonValues,
  failure: { readonly code: ErrorCode; readonly message: string },
  work: (db: Database) => unknown,
  maintenance?: MaintenanceProvider,
): Promise<number> {
  let db: Database | null = null;
  try {
    const config = await commandConfig(io, values);
    db = await openDatabase(io, config, commandFileSystem(), maintenance);
    const result = await work(db);
    const opened = db;
    db = null;
    await opened.close();
    await writeResponse(io, { status: "ok", data: result });
    return EXIT_OK;
  } catch (err) {
    await db?.close().catch(() => undefined);
    return failWith(io, toAeroError(err, failure.code, failure.message));
  }
}
