import type { Writable } from "node:stream";
import type { ProgressSink } from "@aerodb/snapshot";
import cliProgress from "cli-progress";

/** Below this many bytes an operation is over before a bar would tell anyone anything. */
export const PROGRESS_MIN_BYTES = 1 << 20;

const PHASE_LABELS: Readonly<Record<string, string>> = {
  archive: "backup ",
  verify: "verify ",
  check: "check  ",
  extract: "restore",
  load: "load   ",
  replay: "replay ",
};

/**
 * The progress bar of recovery (every command that opens the database), `backup`, `restore`
 * and `verify` (core.md §12 is silent; the project's standards ask for it): drawn with cli-progress on stderr, and only when stderr is a terminal and the
 * phase has at least `minBytes` to go. Anywhere else — a pipe, a file, a test harness
 * reading the structured log lines — nothing at all is written, so stderr stays one
 * canonical JSON log line per line. Returns undefined when no bar can ever be drawn.
 */
export function stderrProgress(
  stderr: Writable,
  minBytes: number = PROGRESS_MIN_BYTES,
): ProgressSink | undefined {
  if ((stderr as { isTTY?: boolean }).isTTY !== true) return undefined;
  let bar: cliProgress.SingleBar | null = null;
  const stop = () => {
    bar?.stop();
    bar = null;
  };
  return {
    start(phase: string, totalBytes: number) {
      stop();
      if (totalBytes < minBytes) return;
      bar = new cliProgress.SingleBar(
        {
          stream: stderr,
          format: `${PHASE_LABELS[phase] ?? phase} |{bar}| {percentage}% {value}/{total} MiB`,
          barCompleteChar: "#",
          barIncompleteChar: "-",
          hideCursor: true,
          clearOnComplete: false,
          etaBuffer: 50,
          formatValue: (v, _o, type) =>
            type === "value" || type === "total" ? (v / (1 << 20)).toFixed(1) : String(v),
        },
        cliProgress.Presets.legacy,
      );
      bar.start(totalBytes, 0);
    },
    advance(bytes: number) {
      if (!bar) return;
      bar.increment(bytes);
    },
    stop,
  };
}
