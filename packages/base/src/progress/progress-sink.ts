/**
 * Progress of a long operation (recovery, backup, restore, verify), in bytes. A library only
 * reports; the CLI decides whether to draw a bar (stderr is a terminal) or nothing. A sink
 * never influences the operation: its calls return nothing the caller uses, and a throwing
 * sink is ignored (see `guardProgress`). It lives here, in the lowest layer, because every
 * package with a long operation reports through it.
 */
export interface ProgressSink {
  /**
   * A phase starts ("replay", "verify", "extract", "archive", ...) with `total` to go, in bytes
   * unless `unit` is "steps": work with no size in bytes (recovery's index build), whose total
   * only makes a percentage.
   */
  start(phase: string, total: number, unit?: ProgressUnit): void;
  /** `amount` more of the current phase (in its unit) are done. */
  advance(amount: number): void;
  /** The operation ended (successfully or not); nothing more is reported. */
  stop(): void;
}

export type ProgressUnit = "bytes" | "steps";

export const NO_PROGRESS: ProgressSink = {
  start: () => undefined,
  advance: () => undefined,
  stop: () => undefined,
};

/** Wraps a sink so that its failures cannot change the operation's result. */
export function guardProgress(sink: ProgressSink | undefined): ProgressSink {
  if (sink === undefined) return NO_PROGRESS;
  const safely =
    <A extends unknown[]>(fn: (...args: A) => void) =>
    (...args: A) => {
      try {
        fn(...args);
      } catch {
        // a progress display is never allowed to fail the work it displays
      }
    };
  return {
    start: safely((phase: string, total: number, unit?: ProgressUnit) =>
      unit === undefined ? sink.start(phase, total) : sink.start(phase, total, unit),
    ),
    advance: safely((bytes: number) => sink.advance(bytes)),
    stop: safely(() => sink.stop()),
  };
}
