import type { Database } from "@aerodb/core";
import { type CliIo, EXIT_OK, failWith, toAeroError, writeResponse } from "../output.js";
import { type CommonValues, commandConfig, commandFileSystem, openDatabase } from "../runtime.js";

/** `aerodb stats`: offline: open, print db.stats(), close. */
export async function runStats(io: CliIo, values: CommonValues): Promise<number> {
  let db: Database | null = null;
  try {
    const config = await commandConfig(io, values);
    db = await openDatabase(io, config, commandFileSystem());
    const stats = db.stats();
    const opened = db;
    db = null;
    await opened.close();
    await writeResponse(io, { status: "ok", data: stats });
    return EXIT_OK;
  } catch (err) {
    await db?.close().catch(() => undefined);
    return failWith(io, toAeroError(err, "AERO_RECOVERY_FAILED", "The stats command failed."));
  }
}
