import { AeroError, type FileSystem, readFileIfExists, writeFileAtomic } from "@aerodb/base";
import type { PersistedConfig } from "../config/config.js";
import { openSealedJson, sealJson } from "./sealed-json.js";

export const STATE_FORMAT_VERSION = 1;
export const MANIFEST_FORMAT_VERSION = 1;

export interface StateFile {
  readonly persisted: PersistedConfig;
  readonly clean_shutdown: boolean;
}

export async function writeState(fs: FileSystem, path: string, state: StateFile): Promise<void> {
  await writeFileAtomic(
    fs,
    path,
    sealJson({
      format_version: STATE_FORMAT_VERSION,
      persisted: state.persisted,
      clean_shutdown: state.clean_shutdown,
    }),
  );
}

export async function readState(fs: FileSystem, path: string): Promise<StateFile> {
  const bytes = await readFileIfExists(fs, path);
  if (bytes === null) {
    throw new AeroError("AERO_METADATA_CORRUPTION", "metadata/state.json is missing.", {
      file: "metadata/state.json",
      reason: "missing",
    });
  }
  const value = openSealedJson(bytes, "metadata/state.json");
  if (value.format_version !== STATE_FORMAT_VERSION) {
    throw new AeroError("AERO_STORAGE_FORMAT_UNSUPPORTED", "metadata/state.json has an unsupported format.", {
      file: "metadata/state.json",
      format_version: value.format_version ?? null,
    });
  }
  const persisted = value.persisted as Record<string, unknown> | undefined;
  if (
    !persisted ||
    typeof persisted.data_dir !== "string" ||
    typeof persisted.wal_sync_mode !== "string" ||
    typeof value.clean_shutdown !== "boolean"
  ) {
    throw new AeroError("AERO_METADATA_CORRUPTION", "metadata/state.json has the wrong shape.", {
      file: "metadata/state.json",
      reason: "shape",
    });
  }
  return {
    persisted: { data_dir: persisted.data_dir, wal_sync_mode: persisted.wal_sync_mode },
    clean_shutdown: value.clean_shutdown,
  };
}

export async function readManifest(fs: FileSystem, path: string): Promise<{ databaseId: string }> {
  const bytes = await readFileIfExists(fs, path);
  if (bytes === null) {
    throw new AeroError(
      "AERO_STORAGE_NOT_INITIALIZED",
      "The data directory is not initialized (run `aerodb init`, or run an interrupted `aerodb restore` into it again).",
      {
        file: "MANIFEST",
      },
    );
  }
  const value = openSealedJson(bytes, "MANIFEST");
  if (value.format_version !== MANIFEST_FORMAT_VERSION) {
    throw new AeroError("AERO_STORAGE_FORMAT_UNSUPPORTED", "MANIFEST has an unsupported format version.", {
      file: "MANIFEST",
      format_version: value.format_version ?? null,
    });
  }
  if (typeof value.database_id !== "string" || !/^[0-9a-f]{32}$/.test(value.database_id)) {
    throw new AeroError("AERO_METADATA_CORRUPTION", "MANIFEST has no valid database id.", {
      file: "MANIFEST",
    });
  }
  return { databaseId: value.database_id };
}

export function manifestBytes(databaseId: string): Uint8Array {
  return sealJson({ format_version: MANIFEST_FORMAT_VERSION, database_id: databaseId });
}
