/**
 * The conformance driver interface (ARCHITECTURE §9): the one Phase-1 suite is written
 * against this, and runs unchanged against every way of reaching an AeroDB instance (the
 * embedded API, `aerodb start` over stdin/stdout, and, in later phases, the server, a
 * replica, each optimization on). A new configuration is a new driver, never a suite edit.
 *
 * The currency is the JSON envelope of core.md §6: requests are envelope requests
 * ({op, ...}) and responses are envelope responses, so every driver answers in the same
 * shape and the suite compares them with plain equality.
 */

/** One envelope request: `{op: "insert" | "update" | "delete" | "query" | "explain" | "register_schema", ...}`. */
export type Request = Readonly<Record<string, unknown>>;

export interface OkResponse {
  readonly status: "ok";
  readonly data: unknown;
  /** Writes and registrations: the commit id (null for a delete of an absent key). */
  readonly commit_id?: number | null;
  /** Queries: the read view the rows were read at. */
  readonly read_view?: number;
}

export interface ErrorResponse {
  readonly status: "error";
  readonly code: string;
  readonly severity: "FATAL" | "ERROR" | "REJECT";
  readonly message: string;
  readonly invariant: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

export type Response = OkResponse | ErrorResponse;

/** The canonical recovery report of a start (core.md §9), as a plain JSON object. */
export type RecoveryReport = Readonly<Record<string, unknown>>;

/** Configuration of one start, apart from core.data_dir (which the driver sets to the directory). */
export type ConfigInput = Readonly<Record<string, unknown>>;

export interface StartOptions {
  /**
   * Configuration sections (core, replication, perf, observe) for this start, merged over
   * the driver's own configuration; core.data_dir is always the directory being started.
   * Scenarios use it for limits (max_scan_candidates, ...) and for the configuration
   * scenarios; later drivers add their own (perf flags, ...).
   */
  readonly config?: ConfigInput;
}

export interface ConformanceDriver {
  readonly name: string;
  /** `aerodb init`: initializes the absent or empty directory `dir`. */
  init(dir: string): Promise<void>;
  /**
   * Opens the database in `dir` (lock, recovery, SERVING). A start that fails rejects with
   * StartFailed carrying the FATAL error envelope; nothing else is a valid failure.
   */
  start(dir: string, options?: StartOptions): Promise<Session>;
  /**
   * Offline restore (core.md §11): replaces the data directory `dir` with the backup archive
   * `input` (`aerodb restore --input <input> --data <dir>`, or @aerodb/snapshot's
   * restoreBackup). Resolves with the envelope the command prints: `{status:"ok", data}` or
   * the error envelope (a refused restore is not a rejection). Configurations that only
   * change how a running instance is reached implement it by delegating to the embedded or
   * the stdio driver's restore: restore never talks to a running instance.
   */
  restore(input: string, dir: string, options?: StartOptions): Promise<Response>;
}

export interface Session {
  /**
   * Runs one request and resolves with its envelope response; requests issued without
   * waiting are answered in order, with effects as if run one at a time. After a FATAL
   * response the instance has stopped: a later request either resolves with that same
   * error or rejects with InstanceStopped (core.md §7).
   */
  request(request: Request): Promise<Response>;
  /** The recovery report this start published. */
  recoveryReport(): Promise<RecoveryReport>;
  /** Clean shutdown (after a FATAL: releases what is left). Idempotent. */
  close(): Promise<void>;
}

/** A start that failed: the error is the FATAL envelope the instance stopped with. */
export class StartFailed extends Error {
  constructor(readonly error: ErrorResponse) {
    super(`start failed: ${error.code}: ${error.message}`);
    this.name = "StartFailed";
  }
}

/**
 * A request to an instance that has stopped after a FATAL error (a process that exited).
 * `error` is the FATAL error it reported on its way out, when it reported one.
 */
export class InstanceStopped extends Error {
  constructor(
    readonly error: ErrorResponse | null,
    readonly exitCode: number | null,
  ) {
    super(`the instance has stopped (exit ${exitCode}${error ? `, ${error.code}` : ""})`);
    this.name = "InstanceStopped";
  }
}

/** The transport broke its own contract (output not canonical, wrong exit code, ...): a bug to report. */
export class ProtocolViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProtocolViolation";
  }
}

/** Deep-merges plain-object configuration sections; later arguments win, arrays and scalars replace. */
export function mergeConfig(...layers: ReadonlyArray<ConfigInput | undefined>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const layer of layers) {
    if (layer === undefined) continue;
    for (const [key, value] of Object.entries(layer)) {
      const current = out[key];
      out[key] = isPlainObject(current) && isPlainObject(value) ? mergeConfig(current, value) : value;
    }
  }
  return out;
}

/** The configuration a driver opens `dir` with: its own, the start's, then core.data_dir. */
export function configFor(
  dir: string,
  driverConfig: ConfigInput | undefined,
  options: StartOptions | undefined,
): Record<string, unknown> {
  return mergeConfig(driverConfig, options?.config, { core: { data_dir: dir } });
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
