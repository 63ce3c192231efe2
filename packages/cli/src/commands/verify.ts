import * as path from "node:path";
import { NodeFileSystem } from "@aerodb/base";
import {
  type BackupVerifyReport,
  type VerifyProblem,
  type VerifyReport,
  verifyBackup,
  verifyDataDir,
} from "@aerodb/snapshot";
import { usage } from "../args.js";
import { type CliIo, EXIT_ERROR, EXIT_OK, failWith, toAeroError, writeResponse } from "../output.js";
import { stderrProgress } from "../progress-bar.js";
import { type CommonValues, commandConfig } from "../runtime.js";

export type { BackupVerifyReport, VerifyProblem, VerifyReport };
export { verifyDataDir };

export interface VerifyValues extends CommonValues {
  readonly backup?: string | undefined;
}

/**
 * `aerodb verify --data <dir>` / `aerodb verify --backup <file>`: offline, read-only
 * (@aerodb/snapshot's verifyDataDir / verifyBackup; neither writes a byte, not even LOCK).
 * A clean report is `{"status":"ok","data":report}`, exit 0; otherwise the first problem as
 * an error envelope whose `details.report` holds the whole report, exit 1. On a terminal, a
 * progress bar on stderr for large databases and archives.
 */
export async function runVerify(io: CliIo, values: VerifyValues): Promise<number> {
  try {
    const progress = stderrProgress(io.stderr);
    let report: VerifyReport | BackupVerifyReport;
    if (values.backup !== undefined) {
      if (values.data !== undefined || values.config !== undefined) {
        throw usage("verify takes either --backup <file> or a data directory, not both.", {
          reason: "conflicting_options",
          option: "--backup",
        });
      }
      report = await verifyBackup(new NodeFileSystem(), path.resolve(io.cwd, values.backup), {
        ...(progress ? { progress } : {}),
      });
    } else {
      const config = await commandConfig(io, values);
      report = await verifyDataDir(new NodeFileSystem(), config.core.data_dir, {
        ...(progress ? { progress } : {}),
      });
    }
    const first = report.problems[0];
    if (first === undefined) {
      await writeResponse(io, { status: "ok", data: report });
      return EXIT_OK;
    }
    const count = report.problems.length;
    await writeResponse(io, {
      status: "error",
      code: first.code,
      severity: first.severity,
      invariant: first.invariant,
      message: `verify found ${count} problem${count === 1 ? "" : "s"}; the first: ${first.message}`,
      details: { report },
    });
    return EXIT_ERROR;
  } catch (err) {
    const what = values.backup !== undefined ? "the backup" : "the data directory";
    return failWith(io, toAeroError(err, "AERO_STORAGE_READ_FAILED", `Reading ${what} failed.`));
  }
}
