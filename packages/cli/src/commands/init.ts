import { initDataDir } from "@aerodb/core";
import { type CliIo, EXIT_OK, failWith, toAeroError, writeResponse } from "../output.js";
import { type CommonValues, commandConfig, commandFileSystem } from "../runtime.js";

/** `aerodb init`: fills an absent or empty data directory and prints its identity. */
export async function runInit(io: CliIo, values: CommonValues): Promise<number> {
  try {
    const config = await commandConfig(io, values);
    const { databaseId } = await initDataDir(config, { fs: commandFileSystem(), cwd: io.cwd });
    await writeResponse(io, {
      status: "ok",
      data: { database_id: databaseId, data_dir: config.core.data_dir },
    });
    return EXIT_OK;
  } catch (err) {
    return failWith(
      io,
      toAeroError(err, "AERO_STORAGE_WRITE_FAILED", "Initializing the data directory failed."),
    );
  }
}
