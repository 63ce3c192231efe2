/**
 * Progress of a long operation (recovery, backup, restore, verify), in bytes. A library only
 * reports; the CLI decides whether to draw a bar (stderr is a terminal) or nothing. A sink
 * never influences the operation: its calls return nothing the caller uses, and a throwing
 * sink is ignored (see `guardProgress`). It lives here, in the lowest layer, because every
 * package with a long operation reports through it.
 */
export interface ProgressSink {
  /** A phase starts ("replay", "verify", "extract", "archive", ...) with `totalBytes` to go. */
  start(phase: string, totalBytes: number): void;
  /** `bytes` more of the current phase are done. */
  advance(bytes: number): void;
  /** The operation ended (successfully or not); nothing more is reported. */
  stop(): void;
}

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
    start: safely((phase: string, total: number) => sink.start(phase, total)),
    advance: safely((bytes: number) => sink.advance(bytes)),
    stop: safely(() => sink.stop()),
  };
}
