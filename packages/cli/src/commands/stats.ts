import type { CliIo } from "../output.js";
import { type CommonValues, runOnDatabase } from "../runtime.js";

/** `aerodb stats`: offline: open, print db.stats(), close. */
export function runStats(io: CliIo, values: CommonValues): Promise<number> {
  return runOnDatabase(
    io,
    values,
    { code: "AERO_RECOVERY_FAILED", message: "The stats command failed." },
    (db) => db.stats(),
  );
}
