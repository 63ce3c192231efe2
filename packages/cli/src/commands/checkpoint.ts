import type { CliIo } from "../output.js";
import { type CommonValues, runOnDatabase } from "../runtime.js";

/**
 * `aerodb checkpoint` (core.md §10, §12): offline: open the database (lock, recovery),
 * checkpoint it (snapshot at V, checkpoint.json, WAL truncation), close. Prints the same
 * envelope as the `checkpoint` op: `{"status":"ok","data":{snapshot_id, commit_boundary,
 * lsn_boundary, segments_removed}}`.
 */
export function runCheckpointCommand(io: CliIo, values: CommonValues): Promise<number> {
  return runOnDatabase(
    io,
    values,
    { code: "AERO_CHECKPOINT_FAILED", message: "The checkpoint command failed." },
    (db) => db.checkpoint(),
  );
}
