import { CrashPointFileSystem, crashPointArmed, type FileSystem, NodeFileSystem } from "@aerodb/base";
import type { AeroConfig, Database } from "@aerodb/core";
import { open } from "@aerodb/snapshot";
import { loadConfig } from "./config-loading.js";
import { type CliIo, log } from "./output.js";
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
export async function openDatabase(io: CliIo, config: AeroConfig, fs: FileSystem): Promise<Database> {
  const progress = stderrProgress(io.stderr);
  const db = await open(config, { fs, cwd: io.cwd, ...(progress ? { progress } : {}) });
  await log(io, "info", "RECOVERY_COMPLETE", { report: db.recoveryReport() });
  return db;
}
