import * as path from "node:path";
import { restoreBackup } from "@aerodb/snapshot";
import { usage } from "../args.js";
import { type CliIo, EXIT_OK, failWith, log, toAeroError, writeResponse } from "../output.js";
import { stderrProgress } from "../progress-bar.js";
import { type CommonValues, commandConfig, commandFileSystem } from "../runtime.js";

export interface RestoreValues extends CommonValues {
  readonly input?: string | undefined;
}

/**
 * `aerodb restore --input <file> --data <dir>` (core.md §11, §12): offline. Locks the target
 * (AERO_STORAGE_LOCKED while a process holds it), verifies the whole archive before touching
 * anything (AERO_RESTORE_INVALID_BACKUP, target untouched), builds the database in
 * `<dir>.restore-tmp`, swaps it in, deletes the old one. Re-running an interrupted restore
 * completes it. Prints `{"status":"ok","data":{backup_id, commit_boundary, data_dir,
 * database_id, lsn_boundary, snapshot_id, archive_bytes, replaced}}`.
 */
export async function runRestore(io: CliIo, values: RestoreValues): Promise<number> {
  try {
    if (values.input === undefined) {
      throw usage("restore needs --input <file>.", { reason: "missing_option", option: "--input" });
    }
    const config = await commandConfig(io, values);
    const progress = stderrProgress(io.stderr);
    const result = await restoreBackup(config, path.resolve(io.cwd, values.input), {
      fs: commandFileSystem(),
      cwd: io.cwd,
      ...(progress ? { progress } : {}),
    });
    await log(io, "info", "RESTORE_COMPLETE", {
      backup_id: result.backup_id,
      commit_boundary: result.commit_boundary,
      lsn_boundary: result.lsn_boundary,
    });
    await writeResponse(io, { status: "ok", data: result });
    return EXIT_OK;
  } catch (err) {
    return failWith(io, toAeroError(err, "AERO_RESTORE_FAILED", "The restore command failed."));
  }
}
