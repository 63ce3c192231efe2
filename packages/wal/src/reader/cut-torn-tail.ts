import * as posixPath from "node:path/posix";
import type { FileSystem } from "@aerodb/base";
import { SEGMENT_HEADER_BYTES } from "../format/constants.js";
import type { TornTail } from "./scan-types.js";

/**
 * Applies the cut a scan reported: truncate the segment back to the start of the
 * incomplete unit and fsync it, or, when even the header is incomplete, remove the
 * segment and fsync the directory. This is the only write recovery makes to the WAL.
 */
export async function cutTornTail(fs: FileSystem, walDir: string, tail: TornTail): Promise<void> {
  const path = posixPath.join(walDir, tail.segment);
  if (tail.offset < SEGMENT_HEADER_BYTES) {
    await fs.unlink(path);
    await fs.syncDir(walDir);
    return;
  }
  const handle = await fs.open(path, "r+");
  try {
    await handle.truncate(tail.offset);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
