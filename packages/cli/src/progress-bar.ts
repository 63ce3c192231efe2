import type { Writable } from "node:stream";
import type { ProgressSink, ProgressUnit } from "@aerodb/base";
import cliProgress from "cli-progress";

/** Below this many bytes an operation is over before a bar would tell anyone anything. */
export const PROGRESS_MIN_BYTES = 1 << 20;
/**
 * The same for a phase counted in steps (recovery's index build: two per live document). About
 * 50,000 documents take a few hundred milliseconds to index here.
 */
export const PROGRESS_MIN_STEPS = 100_000;

const PHASE_LABELS: Readonly<Record<string, string>> = {
  archive: "backup ",
  verify: "verify ",
  check: "check  ",
  extract: "restore",
  load: "load   ",
  replay: "replay ",
  index: "index  ",
};

/**
 * The progress bar of recovery (every command that opens the database), `backup`, `restore`
 * and `verify` (core.md §12 is silent; the project's standards ask for it): drawn with cli-progress on stderr, and only when stderr is a terminal and the
 * phase has at least `minBytes` (or, for a phase counted in steps, `minSteps`) to go; a phase
 * in bytes shows MiB, one in steps only its percentage. Anywhere else — a pipe, a file, a test harness
 * reading the structured log lines — nothing at all is written, so stderr stays one
 * canonical JSON log line per line. Returns undefined when no bar can ever be drawn.
 */
export function stderrProgress(
  stderr: Writable,
  minBytes: number = PROGRESS_MIN_BYTES,
  minSteps: number = PROGRESS_MIN_STEPS,
): ProgressSink | undefined {
  if ((stderr as { isTTY?: boolean }).isTTY !== true) return undefined;
  let bar: cliProgress.SingleBar | null = null;
  const stop = () => {
    bar?.stop();
    bar = null;
  };
  return {
    start(phase: string, total: number, unit: ProgressUnit = "bytes") {
      stop();
      if (total < (unit === "bytes" ? minBytes : minSteps)) return;
      const label = `${PHASE_LABELS[phase] ?? phase} |{bar}| {percentage}%`;
      bar = new cliProgress.SingleBar(
        {
          stream: stderr,
          format: unit === "bytes" ? `${label} {value}/{total} MiB` : label,
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
      bar.start(total, 0);
    },
    advance(amount: number) {
      if (!bar) return;
      bar.increment(amount);
    },
    stop,
  };
}
