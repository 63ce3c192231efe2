/**
 * The seam through which @aerodb/perf supplies group commit and batched writes
 * (perf.md §5). The WAL owns ordering, LSNs, CRCs and acknowledgement; a policy only
 * chooses how many already-queued units one fsync covers and how their frames are split
 * into write calls. Whatever it chooses, the bytes on disk are the same concatenation of
 * frames and no unit is acknowledged before the fsync that covers it.
 */
export interface FlushPolicy {
  readonly name: string;
  /**
   * How many of the `queued` units (>= 1) the next flush covers with one fsync. The WAL
   * clamps the answer to [1, queued].
   */
  unitsPerFlush(queued: number): number;
  /**
   * Splits the frames of one flush into write calls: each returned buffer is written with
   * one call, in order, and their concatenation must equal the concatenation of `frames`
   * (the WAL checks the total length).
   */
  writeCalls(frames: readonly Uint8Array[]): readonly Uint8Array[];
  /**
   * Awaited before a flush picks its units, so that writers woken by the previous flush
   * can join the next one. Must not wait on a timer (perf.md §1.4).
   */
  beforeFlush?(): Promise<void>;
}

/** The baseline: one fsync per commit unit, one write call per frame. */
export const BASELINE_FLUSH_POLICY: FlushPolicy = {
  name: "baseline",
  unitsPerFlush: () => 1,
  writeCalls: (frames) => frames,
};
