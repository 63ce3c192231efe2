import { randomBytes } from "node:crypto";
import * as posixPath from "node:path/posix";
import { AeroError, ensureDir, type FileSystem, NodeFileSystem, writeFileAtomic } from "@aerodb/base";
import { type AeroConfig, persistedFields, resolveConfig } from "../config/config.js";
import { layoutOf } from "./layout.js";
import { lockDataDir, type ProcessProbe } from "./lock.js";
import { checkNoInterruptedRestore } from "./restore-guard.js";
import { manifestBytes, writeState } from "./state-file.js";

export interface InitOptions {
  readonly fs?: FileSystem;
  /** Source of the 16 random bytes of the database id (injectable for determinism). */
  readonly randomBytes?: (count: number) => Uint8Array;
  readonly cwd?: string;
  /** The LOCK's owner pid (tests); the process's own by default. */
  readonly pid?: number;
  readonly processProbe?: ProcessProbe;
}

/**
 * Whether a data directory's entries leave it empty for `init`: a LOCK (or the LOCK.tmp of a
 * crash while a stale LOCK was taken over) is no one's data. A process killed between taking the
 * lock and failing on an uninitialized directory, or a restore killed right after making its
 * placeholder, leaves just that; `init` must not refuse such a directory as initialized.
 */
export function emptyButForLock(names: readonly string[]): boolean {
  return names.every((name) => name === "LOCK" || name === "LOCK.tmp");
}

/**
 * `aerodb init`: fills an absent or empty directory, refused (AERO_RECOVERY_RESTORE_INCOMPLETE)
 * while an interrupted restore's leftovers say it is to be completed. MANIFEST is written last, so a
 * directory is initialized exactly when MANIFEST exists; an interrupted init leaves a
 * directory that `open` refuses as not initialized and that init can be re-run on once
 * emptied. Like every command on a data directory it holds the LOCK while it writes (a live
 * owner: AERO_STORAGE_LOCKED), so two inits, or an init and a restore, never interleave.
 */
export async function initDataDir(
  configInput: unknown,
  options: InitOptions = {},
): Promise<{ databaseId: string }> {
  const config: AeroConfig = resolveConfig(configInput, options.cwd);
  const fs = options.fs ?? new NodeFileSystem();
  const layout = layoutOf(config.core.data_dir);
  // An interrupted restore's swap leaves the old database in <dd>.restore-old: a database made
  // at <dd> now would be taken for the restored one, and the old one deleted, by the re-run.
  await checkNoInterruptedRestore(fs, layout.root);
  const st = await fs.stat(layout.root);
  if (st && !st.isDirectory) {
    throw new AeroError("AERO_STORAGE_ALREADY_INITIALIZED", "The data path exists and is not a directory.");
  }
  // Refused before anything is written to it: a directory of someone else's files gets no LOCK.
  if (st) await refuseUnlessEmpty(fs, layout.root);
  else await ensureParents(fs, layout.root);
  const lock = await lockDataDir(fs, layout.lock, options);
  let databaseId: string;
  try {
    // Again under the lock: another init may have filled it, or a restore begun its swap, since.
    await refuseUnlessEmpty(fs, layout.root);
    await checkNoInterruptedRestore(fs, layout.root);
    databaseId = Buffer.from((options.randomBytes ?? randomBytes)(16)).toString("hex");
    await ensureDir(fs, layout.wal);
    await ensureDir(fs, layout.metadata);
    await ensureDir(fs, layout.schemas);
    await writeState(fs, layout.state, { persisted: persistedFields(config), clean_shutdown: true });
    // Temp file, fsync, rename, directory fsync: MANIFEST is absent or complete, never empty.
    await writeFileAtomic(fs, layout.manifest, manifestBytes(databaseId));
  } catch (err) {
    // The failure is what init reports, not a failed release after it.
    await lock.release().catch(() => undefined);
    throw err;
  }
  await lock.release();
  return { databaseId };
}

async function refuseUnlessEmpty(fs: FileSystem, root: string): Promise<void> {
  if (!emptyButForLock(await fs.readdir(root))) {
    throw new AeroError("AERO_STORAGE_ALREADY_INITIALIZED", "The data directory is not empty.");
  }
}

async function ensureParents(fs: FileSystem, dir: string): Promise<void> {
  const parent = posixPath.dirname(dir);
  if (parent !== dir && !(await fs.stat(parent))) await ensureParents(fs, parent);
  await ensureDir(fs, dir);
}
