import type { Database } from "@aerodb/core";
import { type CliIo, EXIT_OK, failWith, toAeroError, writeResponse } from "../output.js";
import { type CommonValues, commandConfig, commandFileSystem, openDatabase } from "../runtime.js";

/**
 * `aerodb checkpoint` (core.md §10, §12): offline: open the database (lock, recovery),
 * checkpoint it (snapshot at V, checkpoint.json, WAL truncation), close. Prints the same
 * envelope as the `checkpoint` op: `{"status":"ok","data":{snapshot_id, commit_boundary,
 * lsn_boundary, segments_removed}}`.
 */
export async function runCheckpointCommand(io: CliIo, values: CommonValues): Promise<number> {
  let db: Database | null = null;
  try {
    const config = await commandConfig(io, values);
    db = await openDatabase(io, config, commandFileSystem());
    const result = await db.checkpoint();
    const opened = db;
    db = null;
    await opened.close();
    await writeResponse(io, { status: "ok", data: result });
    return EXIT_OK;
  } catch (err) {
    await db?.close().catch(() => undefined);
    return failWith(io, toAeroError(err, "AERO_CHECKPOINT_FAILED", "The checkpoint command failed."));
  }
}
