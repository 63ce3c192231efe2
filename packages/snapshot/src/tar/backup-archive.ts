import * as zlib from "node:zlib";
import { AeroError, type FileSystem, isAeroError, isSimulatedCrash } from "@aerodb/base";
import {
  type ArchiveEntry,
  archiveEntries,
  BACKUP_MANIFEST_NAME,
  type BackupManifest,
  decodeBackupManifest,
  directoriesOf,
  MAX_BACKUP_MANIFEST_BYTES,
  ManifestDefect,
} from "../backup-manifest.js";
import type { ArchivedFile } from "./archive-fs.js";
import { ArchiveDefect, TarReader } from "./tar-reader.js";

type Crc32 = (data: Uint8Array, initial?: number) => number;
const nativeCrc32 = (zlib as unknown as { crc32: Crc32 }).crc32;

/** What a pass over an archive hands to its caller, entry by entry (extraction). */
export interface ArchiveVisitor {
  /** A directory entry, after its header was checked. */
  dir?(path: string): Promise<void>;
  /** A file entry starts (header checked, size matches the manifest). */
  beginFile?(entry: ArchiveEntry & { type: "file" }): Promise<void>;
  /** Content of the current file, in order; the view is valid during the call only. */
  chunk?(bytes: Uint8Array): Promise<void>;
  /** The current file is complete and its CRC matched. */
  endFile?(entry: ArchiveEntry & { type: "file" }): Promise<void>;
}

export interface ReadArchive {
  readonly manifest: BackupManifest;
  readonly manifestBytes: Uint8Array;
  readonly archiveBytes: number;
  /** Every file after backup_manifest.json with its content offset in the archive. */
  readonly files: readonly ArchivedFile[];
}

/** What a verified archive says of the backup it holds: restore's result and verify's report. */
export function archiveIdentity(archive: ReadArchive) {
  const m = archive.manifest;
  return {
    backup_id: m.backup_id,
    database_id: m.database_id,
    snapshot_id: m.snapshot_id,
    commit_boundary: m.commit_boundary,
    lsn_boundary: m.lsn_boundary,
    archive_bytes: archive.archiveBytes,
  };
}

/** AERO_RESTORE_INVALID_BACKUP: the archive fails a check; nothing was or will be changed. */
export function invalidBackup(
  reason: string,
  message: string,
  extra: Record<string, unknown> = {},
): AeroError {
  return new AeroError("AERO_RESTORE_INVALID_BACKUP", message, { reason, ...extra });
}

/**
 * One strict pass over a backup archive (core.md §11, docs/formats/backup.md): the first
 * entry is backup_manifest.json (checksum, canonical form, format version, fields); every
 * other entry must be exactly the next one the manifest implies (archiveEntries order),
 * with its declared size and CRC-32; then the two end blocks and end of file. Every defect
 * is AERO_RESTORE_INVALID_BACKUP with a `reason` (ustar.ts HeaderDefect, tar-reader.ts,
 * ManifestDefect, or: missing_manifest, manifest_too_large, missing_entry,
 * unexpected_entry, out_of_order, duplicate_entry, size_mismatch, bad_crc, unreadable).
 *
 * Without a visitor the pass only reads. With one (extraction), the visitor sees each entry
 * as it is verified; a defect found late means the caller must discard what it wrote.
 */
export async function readBackupArchive(
  fs: FileSystem,
  archivePath: string,
  options: { visitor?: ArchiveVisitor; onBytes?: (bytes: number) => void } = {},
): Promise<ReadArchive> {
  let st: Awaited<ReturnType<FileSystem["stat"]>>;
  try {
    st = await fs.stat(archivePath);
  } catch (err) {
    throw unreadable(err);
  }
  if (!st) throw invalidBackup("unreadable", "The backup file does not exist.", { errno: "ENOENT" });
  if (!st.isFile) throw invalidBackup("unreadable", "The backup path is not a file.");
  let handle: Awaited<ReturnType<FileSystem["open"]>>;
  try {
    handle = await fs.open(archivePath, "r");
  } catch (err) {
    throw unreadable(err);
  }
  try {
    return await walk(new TarReader(handle, st.size), options.visitor ?? {}, options.onBytes);
  } catch (err) {
    if (err instanceof ArchiveDefect) {
      throw invalidBackup(err.reason, err.message, {
        offset: err.offset,
        ...(err.entry === null ? {} : { entry: err.entry }),
      });
    }
    if (err instanceof ManifestDefect) {
      throw invalidBackup(err.reason, err.message, err.field === null ? {} : { field: err.field });
    }
    if (isAeroError(err) || isSimulatedCrash(err)) throw err;
    if (options.visitor) throw err; // a write of the extraction failed: the caller's error
    throw unreadable(err);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** The error for a failed read of the archive; a simulated crash passes through as it is. */
function unreadable(err: unknown): Error {
  if (isAeroError(err) || isSimulatedCrash(err)) return err as Error;
  return invalidBackup("unreadable", "The backup file could not be read.", {
    errno: (err as { code?: string })?.code ?? "unknown",
  });
}

async function walk(
  reader: TarReader,
  visitor: ArchiveVisitor,
  onBytes: ((bytes: number) => void) | undefined,
): Promise<ReadArchive> {
  let reported = 0;
  /** Reports the archive bytes consumed since the last call (headers, content, padding). */
  const progress = () => {
    const delta = reader.offset - reported;
    reported = reader.offset;
    if (delta > 0) onBytes?.(delta);
  };
  const first = await reader.next();
  progress();
  if (first === "end" || first.type !== "file" || first.path !== BACKUP_MANIFEST_NAME) {
    throw invalidBackup("missing_manifest", "The archive does not start with backup_manifest.json.", {
      offset: 0,
    });
  }
  if (first.size > MAX_BACKUP_MANIFEST_BYTES) {
    throw invalidBackup("manifest_too_large", "backup_manifest.json is larger than any valid one.", {
      bytes: first.size,
    });
  }
  const manifestBytes = new Uint8Array(first.size);
  let filled = 0;
  await reader.content(first, (chunk) => {
    manifestBytes.set(chunk, filled);
    filled += chunk.length;
    progress();
  });
  const manifest = decodeBackupManifest(manifestBytes);

  const expected = archiveEntries(manifest);
  const known = new Set<string>([...manifest.files.map((f) => f.path), ...directoriesOf(manifest.files)]);
  const seen = new Set<string>([BACKUP_MANIFEST_NAME]);
  const files: ArchivedFile[] = [];
  for (const want of expected) {
    const at = reader.offset;
    const got = await reader.next();
    progress();
    if (got === "end") {
      throw invalidBackup("missing_entry", "The archive lacks an entry its manifest lists.", {
        entry: want.path,
        offset: at,
      });
    }
    if (seen.has(got.path)) {
      throw invalidBackup("duplicate_entry", "The archive holds the same name twice.", {
        entry: got.path,
        offset: at,
      });
    }
    seen.add(got.path);
    if (got.path !== want.path || got.type !== want.type) {
      const reason = known.has(got.path) ? "out_of_order" : "unexpected_entry";
      throw invalidBackup(
        reason,
        reason === "out_of_order"
          ? "The archive's entries are not in the order its manifest implies."
          : "The archive holds an entry its manifest does not list.",
        { entry: got.path, offset: at },
      );
    }
    if (got.size !== want.size) {
      throw invalidBackup("size_mismatch", "An entry's size differs from the manifest's.", {
        entry: got.path,
        offset: at,
        size: got.size,
        manifest_size: want.size,
      });
    }
    if (want.type === "dir") {
      await visitor.dir?.(want.path);
      continue;
    }
    files.push({ path: want.path, size: want.size, offset: reader.offset });
    await visitor.beginFile?.(want);
    let crc = 0;
    await reader.content(got, async (chunk) => {
      crc = nativeCrc32(chunk, crc) >>> 0;
      await visitor.chunk?.(chunk);
      progress();
    });
    progress();
    if (crc !== want.crc32) {
      throw invalidBackup("bad_crc", "An entry's content fails its CRC-32.", {
        entry: want.path,
        expected_crc: want.crc32,
        found_crc: crc,
      });
    }
    await visitor.endFile?.(want);
  }
  const at = reader.offset;
  const tail = await reader.next();
  if (tail !== "end") {
    throw invalidBackup(
      seen.has(tail.path) ? "duplicate_entry" : "unexpected_entry",
      seen.has(tail.path)
        ? "The archive holds the same name twice."
        : "The archive holds an entry its manifest does not list.",
      { entry: tail.path, offset: at },
    );
  }
  reader.expectEnd();
  progress();
  return { manifest, manifestBytes, archiveBytes: reader.size, files };
}
