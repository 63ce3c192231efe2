import { readFile } from "node:fs/promises";
import * as path from "node:path";
import { AeroError, isFsError } from "@aerodb/base";
import { type AeroConfig, resolveConfig } from "@aerodb/core";

/** The default configuration file, used when it exists in the working directory. */
export const DEFAULT_CONFIG_FILE = "aerodb.json";

export interface ConfigSources {
  /** `--config <file>`: must exist when given. */
  readonly configFile?: string | undefined;
  /** `--data <dir>`: sets or overrides core.data_dir. */
  readonly dataDir?: string | undefined;
  readonly cwd: string;
}

/**
 * Builds the frozen configuration of one command (core §8): the JSON file named by
 * `--config` (or ./aerodb.json when present), `--data` merged over `core.data_dir`, then
 * validated, defaulted and frozen by core's resolveConfig before any data is touched.
 *
 * Paths: `--data` resolves against the working directory; a relative `core.data_dir` in a
 * file resolves against that file's directory, so a config file means the same data
 * directory from wherever it is used.
 *
 * Errors: an explicit file that cannot be read -> AERO_CONFIG_IO_FAILED; a file that is
 * not JSON -> AERO_CONFIG_INVALID {reason:"not_json"}; no data directory anywhere ->
 * AERO_CLI_USAGE; anything resolveConfig refuses -> its CONFIG_INVALID/CONFIG_UNSAFE.
 */
export async function loadConfig(sources: ConfigSources): Promise<AeroConfig> {
  const raw = await readConfigInput(sources);
  return resolveConfig(raw, sources.cwd);
}

/** The unresolved configuration object (file + `--data`), as handed to resolveConfig. */
export async function readConfigInput(sources: ConfigSources): Promise<unknown> {
  const { cwd } = sources;
  let fromFile: unknown = {};
  let fileDir = cwd;
  if (sources.configFile !== undefined) {
    const file = path.resolve(cwd, sources.configFile);
    const text = (await readConfigFile(file, sources.configFile, false)) ?? "";
    fromFile = parseConfigText(text, sources.configFile);
    fileDir = path.dirname(file);
  } else {
    const file = path.resolve(cwd, DEFAULT_CONFIG_FILE);
    const text = await readConfigFile(file, DEFAULT_CONFIG_FILE, true);
    if (text !== null) {
      fromFile = parseConfigText(text, DEFAULT_CONFIG_FILE);
      fileDir = path.dirname(file);
    }
  }
  if (!isPlainObject(fromFile)) return fromFile; // resolveConfig names the problem

  const core = fromFile.core;
  if (core !== undefined && !isPlainObject(core)) return fromFile;
  const coreObject: Record<string, unknown> = { ...(core ?? {}) };
  if (sources.dataDir !== undefined) {
    coreObject.data_dir = path.resolve(cwd, sources.dataDir);
  } else if (typeof coreObject.data_dir === "string" && coreObject.data_dir.length > 0) {
    coreObject.data_dir = path.resolve(fileDir, coreObject.data_dir);
  } else if (coreObject.data_dir === undefined) {
    throw new AeroError(
      "AERO_CLI_USAGE",
      "No data directory: pass --data <dir> or set core.data_dir in the configuration file.",
      { reason: "missing_data_dir" },
    );
  }
  return { ...fromFile, core: coreObject };
}

async function readConfigFile(file: string, shownAs: string, optional: boolean): Promise<string | null> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    if (optional && isFsError(err, "ENOENT")) return null;
    throw new AeroError("AERO_CONFIG_IO_FAILED", "The configuration file could not be read.", {
      file: shownAs,
      errno: isFsError(err) ? err.code : "unknown",
    });
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new AeroError("AERO_CONFIG_INVALID", "The configuration file is not valid UTF-8.", {
      file: shownAs,
      reason: "not_utf8",
    });
  }
}

function parseConfigText(text: string, shownAs: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new AeroError("AERO_CONFIG_INVALID", "The configuration file is not valid JSON.", {
      file: shownAs,
      reason: "not_json",
    });
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
