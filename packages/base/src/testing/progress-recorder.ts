import type { ProgressSink, ProgressUnit } from "../progress/progress-sink.js";

/** One phase as a ProgressSink was told it: its total and the sum of its advances. */
export interface RecordedPhase {
  readonly phase: string;
  readonly total: number;
  readonly unit: ProgressUnit;
  done: number;
  /** Every advance of the phase, in order (each must be > 0 to be useful to a display). */
  readonly advances: number[];
}

/**
 * A ProgressSink that records what it is told, for the tests of every long operation that
 * reports progress (recovery, WAL scan, backup, restore, verify).
 */
export function progressRecorder(): {
  readonly sink: ProgressSink;
  readonly phases: RecordedPhase[];
  stops(): number;
} {
  const phases: RecordedPhase[] = [];
  let stops = 0;
  return {
    phases,
    stops: () => stops,
    sink: {
      start: (phase, total, unit = "bytes") => phases.push({ phase, total, unit, done: 0, advances: [] }),
      advance: (amount) => {
        const current = phases[phases.length - 1];
        if (current) {
          current.done += amount;
          current.advances.push(amount);
        }
      },
      stop: () => {
        stops++;
      },
    },
  };
}

const broken = (): never => {
  throw new Error("the progress display broke");
};

/** A sink whose every call throws: an operation given it must behave as without one. */
export const THROWING_PROGRESS: ProgressSink = { start: broken, advance: broken, stop: broken };
