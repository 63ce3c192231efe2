import * as path from "node:path";
import { snapshotMaintenance } from "@aerodb/snapshot";
import { usage } from "../args.js";
import { type CliIo, failWith } from "../output.js";
import { stderrProgress } from "../progress-bar.js";
import { type CommonValues, runOnDatabase } from "../runtime.js";

export interface BackupValues extends CommonValues {
  readonly output?: string | undefined;
}

/**
 * `aerodb backup --output <file>` (core.md §11, §12): offline: open the database (lock,
 * recovery), write the backup archive of its last durable commit to `<file>` (via
 * `<file>.tmp`, fsync, rename), close. Prints the same envelope as the `backup` op:
 * `{"status":"ok","data":{backup_id, snapshot_id, commit_boundary, lsn_boundary, bytes}}`.
 * On a terminal, progress bars on stderr for large databases: recovery's, then the backup's.
 */
export async function runBackup(io: CliIo, values: BackupValues): Promise<number> {
  const output = values.output;
  if (output === undefined) {
    return failWith(
      io,
      usage("backup needs --output <file>.", { reason: "missing_option", option: "--output" }),
    );
  }
  const progress = stderrProgress(io.stderr);
  return runOnDatabase(
    io,
    values,
    { code: "AERO_BACKUP_FAILED", message: "The backup command failed." },
    (db) => db.backup(path.resolve(io.cwd, output)),
    snapshotMaintenance({ backup: progress ? { progress } : {} }),
  );
}
