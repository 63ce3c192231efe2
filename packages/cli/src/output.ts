import type { Readable, Writable } from "node:stream";
import { AeroError, type ErrorCode, isAeroError, isFsError } from "@aerodb/base";
import { canonicalJson, type Response, serializeResponse } from "@aerodb/core";

/**
 * The process seams of the CLI: standard streams, working directory and signals. The
 * binary passes the real ones; tests may pass their own.
 */
export interface CliIo {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** Relative paths (--data, --config, --file) resolve against this directory. */
  readonly cwd: string;
  /**
   * Subscribes to the stop signals (SIGTERM, SIGINT); returns the unsubscribe function.
   * Defaults to process signals.
   */
  readonly onStopSignal?: (handler: (signal: string) => void) => () => void;
}

/** Exit codes (core §12): 0 ok, 1 error, 2 usage. */
export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

/** Writes one line and resolves when the stream has taken it (honours backpressure). */
export function writeLine(stream: Writable, text: string): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || stream.writableEnded) {
      resolve();
      return;
    }
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      stream.off("drain", done);
      stream.off("error", done);
      stream.off("close", done);
      resolve();
    };
    // A failed write (EPIPE: the reader went away) must not hang the caller either.
    stream.once("error", done);
    stream.once("close", done);
    if (stream.write(`${text}\n`)) {
      done();
    } else {
      stream.once("drain", done);
    }
  });
}

/** Writes a canonical JSON envelope (response or error) as one stdout line. */
export function writeResponse(io: CliIo, response: Response): Promise<void> {
  return writeLine(io.stdout, serializeResponse(response));
}

export type LogLevel = "debug" | "info" | "warn" | "error" | "fatal";

/**
 * A structured log line on stderr: canonical JSON `{"level","event",...fields}`. Logs hold
 * no wall-clock time, so the same run writes the same lines.
 */
export function log(
  io: CliIo,
  level: LogLevel,
  event: string,
  fields: Record<string, unknown> = {},
): Promise<void> {
  return writeLine(io.stderr, canonicalJson({ ...fields, level, event }));
}

/** Converts anything thrown into an AeroError; non-Aero errors become `fallback` (errno only, no paths). */
export function toAeroError(err: unknown, fallback: ErrorCode, message: string): AeroError {
  if (isAeroError(err)) return err;
  if (isFsError(err)) return new AeroError(fallback, message, { errno: err.code });
  return new AeroError("AERO_INTERNAL_INVARIANT", "An unexpected internal error occurred.");
}

/** The exit code for an error: 2 for a usage error, 1 for any other. */
export function exitCodeOf(err: AeroError): number {
  return err.code === "AERO_CLI_USAGE" ? EXIT_USAGE : EXIT_ERROR;
}

/** Prints an error envelope on stdout and returns its exit code. */
export async function failWith(io: CliIo, err: AeroError): Promise<number> {
  await writeResponse(io, err.toJSON());
  return exitCodeOf(err);
}

/** Resolves once everything written to the stream so far has been handed to the OS. */
export function flush(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || stream.writableEnded) {
      resolve();
      return;
    }
    stream.write("", () => resolve());
  });
}
