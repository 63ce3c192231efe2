import { AeroError, type FileSystem } from "@aerodb/base";

/**
 * Restore (core.md §11, @aerodb/snapshot) builds the new database in `<dd>.restore-tmp`,
 * then swaps: `<dd>` -> `<dd>.restore-old`, `<dd>.restore-tmp` -> `<dd>`, and deletes the
 * old one. A crash part-way leaves these siblings behind.
 */
export const RESTORE_TMP_SUFFIX = ".restore-tmp";
export const RESTORE_OLD_SUFFIX = ".restore-old";

/**
 * Refuses to open a data directory whose restore was interrupted in the swap or after it:
 * `<dd>.restore-old` exists (the swap began; `<dd>` may be the new database with the old
 * one half deleted), or `<dd>` is missing while `<dd>.restore-tmp` exists. Re-running the
 * restore completes it. A `<dd>.restore-tmp` beside an intact `<dd>` is an interrupted
 * extraction: `<dd>` is the old database, untouched, and opens normally (a restore still
 * running holds `<dd>/LOCK`, so the open is refused with AERO_STORAGE_LOCKED instead).
 */
export async function checkNoInterruptedRestore(fs: FileSystem, root: string): Promise<void> {
  const old = await fs.stat(`${root}${RESTORE_OLD_SUFFIX}`);
  const tmp = old ? null : await fs.stat(`${root}${RESTORE_TMP_SUFFIX}`);
  if (old === null && tmp === null) return;
  if (old === null && (await fs.stat(root)) !== null) return;
  throw new AeroError(
    "AERO_RECOVERY_RESTORE_INCOMPLETE",
    "A restore into this data directory was interrupted; re-run `aerodb restore` to complete it.",
    { leftover: old !== null ? "restore-old" : "restore-tmp" },
  );
}
