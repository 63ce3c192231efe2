import * as path from "node:path";
import type { Database } from "@aerodb/core";
import { open, snapshotMaintenance } from "@aerodb/snapshot";
import { usage } from "../args.js";
import { type CliIo, EXIT_OK, failWith, log, toAeroError, writeResponse } from "../output.js";
import { stderrProgress } from "../progress-bar.js";
import { type CommonValues, commandConfig, commandFileSystem } from "../runtime.js";

export interface BackupValues extends CommonValues {
  readonly output?: string | undefined;
}

/**
 * `aerodb backup --output <file>` (core.md §11, §12): offline: open the database (lock,
 * recovery), write the backup archive of its last durable commit to `<file>` (via
 * `<file>.tmp`, fsync, rename), close. Prints the same envelope as the `backup` op:
 * `{"status":"ok","data":{backup_id, snapshot_id, commit_boundary, lsn_boundary, bytes}}`.
 * On a terminal, a progress bar on stderr for large databases.
 */
export async function runBackup(io: CliIo, values: BackupValues): Promise<number> {
  let db: Database | null = null;
  try {
    if (values.output === undefined) {
      throw usage("backup needs --output <file>.", { reason: "missing_option", option: "--output" });
    }
    const config = await commandConfig(io, values);
    const progress = stderrProgress(io.stderr);
    db = await open(config, {
      fs: commandFileSystem(),
      cwd: io.cwd,
      maintenance: snapshotMaintenance({ backup: progress ? { progress } : {} }),
    });
    await log(io, "info", "RECOVERY_COMPLETE", { report: db.recoveryReport() });
    const result = await db.backup(path.resolve(io.cwd, values.output));
    const opened = db;
    db = null;
    await opened.close();
    await writeResponse(io, { status: "ok", data: result });
    return EXIT_OK;
  } catch (err) {
    await db?.close().catch(() => undefined);
    return failWith(io, toAeroError(err, "AERO_BACKUP_FAILED", "The backup command failed."));
  }
}
