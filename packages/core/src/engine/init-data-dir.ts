import { randomBytes } from "node:crypto";
import * as posixPath from "node:path/posix";
import { AeroError, ensureDir, type FileSystem, NodeFileSystem, writeFileAtomic } from "@aerodb/base";
import { type AeroConfig, persistedFields, resolveConfig } from "../config/config.js";
import { layoutOf } from "./layout.js";
import { manifestBytes, writeState } from "./state-file.js";

export interface InitOptions {
  readonly fs?: FileSystem;
  /** Source of the 16 random bytes of the database id (injectable for determinism). */
  readonly randomBytes?: (count: number) => Uint8Array;
  readonly cwd?: string;
}

/**
 * `aerodb init`: fills an absent or empty directory. MANIFEST is written last, so a
 * directory is initialized exactly when MANIFEST exists; an interrupted init leaves a
 * directory that `open` refuses as not initialized and that init can be re-run on once
 * emptied.
 */
export async function initDataDir(
  configInput: unknown,
  options: InitOptions = {},
): Promise<{ databaseId: string }> {
  const config: AeroConfig = resolveConfig(configInput, options.cwd);
  const fs = options.fs ?? new NodeFileSystem();
  const layout = layoutOf(config.core.data_dir);
  const st = await fs.stat(layout.root);
  if (st && !st.isDirectory) {
    throw new AeroError("AERO_STORAGE_ALREADY_INITIALIZED", "The data path exists and is not a directory.");
  }
  if (st && (await fs.readdir(layout.root)).length > 0) {
    throw new AeroError("AERO_STORAGE_ALREADY_INITIALIZED", "The data directory is not empty.");
  }
  if (!st) await ensureParents(fs, layout.root);
  const databaseId = Buffer.from((options.randomBytes ?? randomBytes)(16)).toString("hex");
  await ensureDir(fs, layout.wal);
  await ensureDir(fs, layout.metadata);
  await ensureDir(fs, layout.schemas);
  await writeState(fs, layout.state, { persisted: persistedFields(config), clean_shutdown: true });
  // Temp file, fsync, rename, directory fsync: MANIFEST is absent or complete, never empty.
  await writeFileAtomic(fs, layout.manifest, manifestBytes(databaseId));
  return { databaseId };
}

async function ensureParents(fs: FileSystem, dir: string): Promise<void> {
  const parent = posixPath.dirname(dir);
  if (parent !== dir && !(await fs.stat(parent))) await ensureParents(fs, parent);
  await ensureDir(fs, dir);
}
