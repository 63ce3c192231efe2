import type { FileSystem } from "@aerodb/base";
import { cutTornTail } from "./reader/cut-torn-tail.js";
import type { WalScanResult } from "./reader/scan-types.js";
import { type ScanOptions, scanWal } from "./reader/scan-wal.js";
import type { FlushPolicy } from "./writer/flush-policy.js";
import { WalWriter } from "./writer/wal-writer.js";

export interface OpenWalOptions extends ScanOptions {
  readonly segmentBytes: number;
  readonly policy?: FlushPolicy;
  readonly onSegmentCreated?: (name: string) => Promise<void> | void;
}

/**
 * Recovery of the log followed by the writer: verify every segment (delivering units to
 * the caller), cut a torn tail durably, and continue appending where the log ends.
 */
export async function openWal(
  fs: FileSystem,
  walDir: string,
  options: OpenWalOptions,
): Promise<{ writer: WalWriter; scan: WalScanResult }> {
  const scan = await scanWal(fs, walDir, options);
  if (scan.tornTail) await cutTornTail(fs, walDir, scan.tornTail);
  const writer = await WalWriter.open(fs, walDir, {
    databaseId: options.databaseId,
    segmentBytes: options.segmentBytes,
    last: { lsn: scan.lastLsn, commitId: scan.lastCommitId, frameCrc: scan.lastFrameCrc },
    tail: scan.tail,
    segments: scan.segments.map((s) => ({ name: s.name, firstLsn: s.firstLsn })),
    ...(options.policy ? { policy: options.policy } : {}),
    ...(options.onSegmentCreated ? { onSegmentCreated: options.onSegmentCreated } : {}),
  });
  return { writer, scan };
}
