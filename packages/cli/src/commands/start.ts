import { AeroError } from "@aerodb/base";
import { type Database, handleRequest, parseRequestLine, type Response } from "@aerodb/core";
import { type InputItem, LineQueue } from "../line-reader.js";
import {
  type CliIo,
  EXIT_ERROR,
  EXIT_OK,
  exitCodeOf,
  failWith,
  log,
  toAeroError,
  writeResponse,
} from "../output.js";
import { type CommonValues, commandConfig, commandFileSystem, openDatabase } from "../runtime.js";

const MiB = 1024 * 1024;

/** The longest request line accepted: room for a document twice over plus the envelope. */
export function maxRequestLineBytes(maxDocumentBytes: number): number {
  return maxDocumentBytes * 2 + MiB;
}

/**
 * `aerodb start`: open, log the recovery report and AERODB_SERVING on stderr, then serve
 * one request per stdin line, strictly in order and one at a time, one canonical response
 * line per request on stdout (a write's line only after its fsync: the engine resolves
 * then). EOF answers every line read, then stops; SIGTERM/SIGINT stop after the request in
 * flight. Both close the database cleanly and exit 0. A FATAL error writes its response
 * line (when it answers a request) and one FATAL log line, then exits 1 at once.
 */
export async function runStart(io: CliIo, values: CommonValues): Promise<number> {
  const session = new ServeSession(io);
  try {
    return await session.run(values);
  } finally {
    session.dispose();
  }
}

/** One `aerodb start` run: the stop signals, the input queue and the request loop. */
class ServeSession {
  private stopReason: string | null = null;
  private queue: LineQueue | null = null;
  private readonly unsubscribe: () => void;
  private readonly onStdoutError = () => this.stop("stdout_closed");

  constructor(private readonly io: CliIo) {
    // Signals are handled from the first moment: one arriving while the database opens
    // stops it cleanly right after the open instead of killing the process mid-recovery.
    this.unsubscribe = (io.onStopSignal ?? processStopSignals)((signal) => this.stop(signal));
    io.stdout.on("error", this.onStdoutError);
  }

  stop(reason: string): void {
    if (this.stopReason === null) this.stopReason = reason;
    this.queue?.close();
  }

  dispose(): void {
    this.queue?.close();
    this.unsubscribe();
    this.io.stdout.off("error", this.onStdoutError);
  }

  async run(values: CommonValues): Promise<number> {
    const { io } = this;
    let db: Database;
    let maxLineBytes: number;
    try {
      const config = await commandConfig(io, values);
      maxLineBytes = maxRequestLineBytes(config.core.max_document_bytes);
      db = await openDatabase(io, config, commandFileSystem());
    } catch (err) {
      const error = toAeroError(err, "AERO_RECOVERY_FAILED", "Opening the database failed.");
      if (error.code === "AERO_CLI_USAGE") return failWith(io, error);
      const fatal = error.severity === "FATAL";
      await log(io, fatal ? "fatal" : "error", fatal ? "FATAL" : "START_FAILED", { error: error.toJSON() });
      return exitCodeOf(error);
    }

    const queue = new LineQueue(io.stdin, { maxLineBytes, highWaterBytes: 4 * MiB, highWaterLines: 256 });
    this.queue = queue;
    if (this.stopReason !== null) queue.close();

    await log(io, "info", "AERODB_SERVING", { database_id: db.databaseId });
    let fatal: AeroError | null = null;
    for (;;) {
      const item = await queue.next();
      if (item === null) break;
      const response = await answer(db, item, maxLineBytes);
      await writeResponse(io, response);
      if (response.status === "error" && response.severity === "FATAL") {
        fatal = new AeroError(response.code, response.message, response.details);
        break;
      }
    }
    queue.close();
    if (fatal !== null) {
      await log(io, "fatal", "FATAL", { error: fatal.toJSON() });
      await db.close().catch(() => undefined);
      return EXIT_ERROR;
    }
    const reason = this.stopReason ?? "eof";
    await log(io, "info", "AERODB_STOPPING", { reason });
    try {
      await db.close();
    } catch (err) {
      const error = toAeroError(err, "AERO_STORAGE_WRITE_FAILED", "Closing the database failed.");
      await log(io, "fatal", "FATAL", { error: error.toJSON() });
      return EXIT_ERROR;
    }
    await log(io, "info", "AERODB_STOPPED", { reason });
    // Responses that could not be delivered are an error even though their effects are durable.
    return reason === "stdout_closed" ? EXIT_ERROR : EXIT_OK;
  }
}

/** One request's response; never throws (every failure is a typed error envelope). */
async function answer(db: Database, item: InputItem, maxLineBytes: number): Promise<Response> {
  if (item.kind === "too_large") {
    return new AeroError("AERO_QUERY_INVALID", "The request line is longer than the server accepts.", {
      reason: "request_too_large",
      bytes: item.bytes,
      max_bytes: maxLineBytes,
    }).toJSON();
  }
  let request: unknown;
  try {
    request = parseRequestLine(item.bytes);
  } catch (err) {
    return toAeroError(err, "AERO_QUERY_INVALID", "The request could not be parsed.").toJSON();
  }
  return handleRequest(db, request);
}

function processStopSignals(handler: (signal: string) => void): () => void {
  const onSignal = (signal: NodeJS.Signals) => handler(signal);
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  return () => {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
  };
}
