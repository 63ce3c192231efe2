/**
 * The stdio driver: the real `aerodb` binary (packages/cli/dist/bin.js), one process per
 * session. `init` runs `aerodb init --data <dir>`; `start` runs `aerodb start` (with
 * `--data <dir>`, or `--config <file>` when the start has configuration), writes one JSON
 * request per stdin line and reads one response per stdout line, in order. The recovery
 * report is the RECOVERY_COMPLETE log line on stderr.
 *
 * The driver also holds the binary to its transport contract (core.md §6, §7, §12) and
 * throws ProtocolViolation when it is broken: every stdout line is canonical JSON, every
 * stderr line a canonical JSON log; a start that fails exits 1 after exactly one FATAL log
 * line and prints nothing on stdout; a FATAL response is followed by exactly one FATAL log
 * line carrying the same error and exit code 1; a clean stop exits 0.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import * as fs from "node:fs/promises";
import { createRequire } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import { canonicalJson } from "@aerodb/core";
import {
  type ConfigInput,
  type ConformanceDriver,
  configFor,
  type ErrorResponse,
  InstanceStopped,
  isPlainObject,
  ProtocolViolation,
  type RecoveryReport,
  type Request,
  type Response,
  type Session,
  StartFailed,
  type StartOptions,
} from "../driver.js";

const require = createRequire(import.meta.url);

/** The built binary of @aerodb/cli: exactly what `pnpm aerodb` runs. */
export const AERODB_BIN = path.join(
  path.dirname(require.resolve("@aerodb/cli/package.json")),
  "dist",
  "bin.js",
);

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 60_000;

export interface StdioDriverOptions {
  readonly name?: string;
  /** Configuration merged under every start's (written to the --config file). */
  readonly config?: ConfigInput;
  /** Extra environment of the spawned processes. */
  readonly env?: Readonly<Record<string, string>>;
}

export function stdioDriver(options: StdioDriverOptions = {}): ConformanceDriver {
  return {
    name: options.name ?? "stdio",
    async init(dir: string): Promise<void> {
      assertBuilt();
      const args = ["init", "--data", dir];
      const workDir = await fs.mkdtemp(path.join(os.tmpdir(), "aerodb-e2e-cwd-"));
      try {
        if (options.config !== undefined) {
          const file = path.join(workDir, "aerodb.json");
          await fs.writeFile(file, JSON.stringify(configFor(dir, options.config, undefined)));
          args.push("--config", file);
        }
        const result = await runToEnd(args, workDir, options.env);
        const lines = splitLines(result.stdout);
        if (result.code !== 0 || lines.length !== 1) {
          throw new ProtocolViolation(
            `aerodb init exited ${result.code} with stdout ${JSON.stringify(result.stdout)} stderr ${JSON.stringify(result.stderr)}`,
          );
        }
        const response = parseCanonical(lines[0] as string, "init stdout");
        if (response.status !== "ok") throw new ProtocolViolation(`aerodb init answered ${lines[0]}`);
      } finally {
        await fs.rm(workDir, { recursive: true, force: true });
      }
    },
    async start(dir: string, startOptions?: StartOptions): Promise<Session> {
      assertBuilt();
      const workDir = await fs.mkdtemp(path.join(os.tmpdir(), "aerodb-e2e-cwd-"));
      const hasConfig = options.config !== undefined || startOptions?.config !== undefined;
      const args = ["start"];
      if (hasConfig) {
        const file = path.join(workDir, "aerodb.json");
        await fs.writeFile(file, JSON.stringify(configFor(dir, options.config, startOptions)));
        args.push("--config", file);
      } else {
        args.push("--data", dir);
      }
      const session = new StdioSession(args, workDir, options.env);
      try {
        await session.serving();
      } catch (err) {
        await session.dispose();
        throw err;
      }
      return session;
    },
    async restore(input: string, dir: string, startOptions?: StartOptions): Promise<Response> {
      // `aerodb restore --input <input> --data <dir>` (or --config with the start's configuration).
      assertBuilt();
      const workDir = await fs.mkdtemp(path.join(os.tmpdir(), "aerodb-e2e-cwd-"));
      try {
        const args = ["restore", "--input", input];
        if (options.config !== undefined || startOptions?.config !== undefined) {
          const file = path.join(workDir, "aerodb.json");
          await fs.writeFile(file, JSON.stringify(configFor(dir, options.config, startOptions)));
          args.push("--config", file);
        } else {
          args.push("--data", dir);
        }
        const result = await runToEnd(args, workDir, options.env);
        const lines = splitLines(result.stdout);
        for (const line of splitLines(result.stderr)) parseCanonical(line, "restore stderr");
        if (lines.length !== 1) {
          throw new ProtocolViolation(
            `aerodb restore must print exactly one envelope: exit ${result.code}, stdout ${JSON.stringify(result.stdout)}`,
          );
        }
        const response = parseCanonical(lines[0] as string, "restore stdout");
        const expectedExit = response.status === "ok" ? 0 : 1;
        if (result.code !== expectedExit) {
          throw new ProtocolViolation(`aerodb restore answered ${lines[0]} but exited ${result.code}`);
        }
        return response as unknown as Response;
      } finally {
        await fs.rm(workDir, { recursive: true, force: true });
      }
    },
  };
}

interface LogLine {
  readonly level?: unknown;
  readonly event?: unknown;
  readonly error?: unknown;
  readonly report?: unknown;
  readonly [key: string]: unknown;
}

class StdioSession implements Session {
  private readonly child: ChildProcessWithoutNullStreams;
  private stdoutBuffer = "";
  private stderrBuffer = "";
  private readonly stdoutLines: string[] = [];
  private readonly logs: LogLine[] = [];
  private readonly pending: Array<{ resolve: (r: Response) => void; reject: (e: unknown) => void }> = [];
  private exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private readonly exited: Promise<void>;
  /** The first FATAL response this session answered, if any. */
  private fatal: ErrorResponse | null = null;
  /** A broken contract seen while reading output; reported by the next call. */
  private violation: ProtocolViolation | null = null;
  private answered = 0;
  private closed = false;
  private readonly waiters: Array<() => void> = [];

  constructor(
    args: readonly string[],
    private readonly workDir: string,
    env: Readonly<Record<string, string>> | undefined,
  ) {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    if (env?.AERODB_CRASH_POINT === undefined) delete childEnv.AERODB_CRASH_POINT;
    this.child = spawn(process.execPath, [AERODB_BIN, ...args], { cwd: workDir, env: childEnv });
    this.child.stdin.on("error", () => undefined);
    this.child.stdout.setEncoding("utf8");
    this.child.stderr.setEncoding("utf8");
    this.child.stdout.on("data", (chunk: string) => this.onStdout(chunk));
    this.child.stderr.on("data", (chunk: string) => this.onStderr(chunk));
    this.exited = new Promise((resolve) => {
      this.child.on("close", (code, signal) => {
        this.exit = { code, signal };
        if (this.stdoutBuffer !== "") this.fail(`stdout ended without a newline: ${this.stdoutBuffer}`);
        if (this.stderrBuffer !== "") this.fail(`stderr ended without a newline: ${this.stderrBuffer}`);
        const stopped = new InstanceStopped(this.fatalLog(), code);
        for (const p of this.pending.splice(0)) p.reject(this.violation ?? stopped);
        this.notify();
        resolve();
      });
    });
  }

  /** Resolves once AERODB_SERVING is logged; rejects with StartFailed if the start failed. */
  async serving(): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!this.logs.some((l) => l.event === "AERODB_SERVING")) {
      if (this.violation) throw this.violation;
      if (this.exit !== null) throw this.startFailure();
      if (Date.now() > deadline) {
        this.child.kill("SIGKILL");
        throw new ProtocolViolation(`aerodb start did not reach AERODB_SERVING: ${this.describe()}`);
      }
      await this.waitForOutput(200);
    }
    if (this.violation) throw this.violation;
    const before = this.logs.slice(
      0,
      this.logs.findIndex((l) => l.event === "AERODB_SERVING"),
    );
    if (before.length !== 1 || before[0]?.event !== "RECOVERY_COMPLETE" || this.stdoutLines.length > 0) {
      throw new ProtocolViolation(
        `expected exactly RECOVERY_COMPLETE before AERODB_SERVING and nothing on stdout: ${this.describe()}`,
      );
    }
  }

  request(request: Request): Promise<Response> {
    if (this.violation) return Promise.reject(this.violation);
    if (this.exit !== null) return Promise.reject(new InstanceStopped(this.fatalLog(), this.exit.code));
    if (this.closed) return Promise.reject(new Error("the session is closed"));
    return new Promise<Response>((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.child.stdin.write(`${JSON.stringify(request)}\n`);
    });
  }

  async recoveryReport(): Promise<RecoveryReport> {
    const line = this.logs.find((l) => l.event === "RECOVERY_COMPLETE");
    if (!line || !isPlainObject(line.report))
      throw new ProtocolViolation("no RECOVERY_COMPLETE report logged");
    return line.report;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.exit === null) {
        this.child.stdin.end();
        const timer = setTimeout(() => this.child.kill("SIGKILL"), STOP_TIMEOUT_MS);
        await this.exited;
        clearTimeout(timer);
      }
      if (this.violation) throw this.violation;
      this.checkExit();
    } finally {
      await fs.rm(this.workDir, { recursive: true, force: true });
    }
  }

  /** Kills the process if it still runs and removes the working directory (failed starts, cleanup). */
  async dispose(): Promise<void> {
    this.closed = true;
    if (this.exit === null) {
      this.child.kill("SIGKILL");
      await this.exited;
    }
    await fs.rm(this.workDir, { recursive: true, force: true });
  }

  // ---- contract checks -------------------------------------------------------------------

  /** The exit after a clean stop (0, STOPPING/STOPPED logged) or after a FATAL (1, one FATAL log line). */
  private checkExit(): void {
    const exit = this.exit as { code: number | null; signal: NodeJS.Signals | null };
    const fatalLogs = this.logs.filter((l) => l.event === "FATAL");
    if (this.fatal !== null) {
      const logged = fatalLogs[0]?.error;
      if (exit.code !== 1 || fatalLogs.length !== 1 || canonicalJson(logged) !== canonicalJson(this.fatal)) {
        throw new ProtocolViolation(
          `after the FATAL response ${canonicalJson(this.fatal)} expected exit 1 and one FATAL log line with the same error: ${this.describe()}`,
        );
      }
      return;
    }
    if (exit.code !== 0 || fatalLogs.length > 0) {
      throw new ProtocolViolation(`expected a clean stop (exit 0): ${this.describe()}`);
    }
    const tail = this.logs.slice(-2).map((l) => l.event);
    if (tail[0] !== "AERODB_STOPPING" || tail[1] !== "AERODB_STOPPED") {
      throw new ProtocolViolation(`expected AERODB_STOPPING, AERODB_STOPPED at the end: ${this.describe()}`);
    }
    if (this.stdoutLines.length !== this.answered) {
      throw new ProtocolViolation(`stdout holds lines nobody asked for: ${this.describe()}`);
    }
  }

  /** A process that exited before serving: exit 1, nothing on stdout, exactly one FATAL log line. */
  private startFailure(): Error {
    const exit = this.exit as { code: number | null; signal: NodeJS.Signals | null };
    const error = this.logs.length === 1 && this.logs[0]?.event === "FATAL" ? this.logs[0].error : undefined;
    if (
      exit.code !== 1 ||
      this.stdoutLines.length > 0 ||
      !isErrorResponse(error) ||
      error.severity !== "FATAL"
    ) {
      return new ProtocolViolation(
        `a failed start must exit 1 after one FATAL log line and no stdout: ${this.describe()}`,
      );
    }
    return new StartFailed(error);
  }

  private fatalLog(): ErrorResponse | null {
    const error = this.logs.find((l) => l.event === "FATAL")?.error;
    return isErrorResponse(error) ? error : null;
  }

  // ---- output ----------------------------------------------------------------------------

  private onStdout(chunk: string): void {
    this.stdoutBuffer += chunk;
    for (;;) {
      const nl = this.stdoutBuffer.indexOf("\n");
      if (nl < 0) break;
      const line = this.stdoutBuffer.slice(0, nl);
      this.stdoutBuffer = this.stdoutBuffer.slice(nl + 1);
      this.stdoutLines.push(line);
      const waiter = this.pending.shift();
      if (waiter === undefined) {
        this.fail(`an unrequested stdout line: ${line}`);
        continue;
      }
      this.answered++;
      let response: Record<string, unknown>;
      try {
        response = parseCanonical(line, "stdout");
      } catch (err) {
        this.violation ??= err as ProtocolViolation;
        waiter.reject(err);
        continue;
      }
      if (response.status === "error" && response.severity === "FATAL" && this.fatal === null) {
        this.fatal = response as unknown as ErrorResponse;
      }
      waiter.resolve(response as unknown as Response);
    }
    this.notify();
  }

  private onStderr(chunk: string): void {
    this.stderrBuffer += chunk;
    for (;;) {
      const nl = this.stderrBuffer.indexOf("\n");
      if (nl < 0) break;
      const line = this.stderrBuffer.slice(0, nl);
      this.stderrBuffer = this.stderrBuffer.slice(nl + 1);
      try {
        this.logs.push(parseCanonical(line, "stderr") as LogLine);
      } catch (err) {
        this.violation ??= err as ProtocolViolation;
      }
    }
    this.notify();
  }

  private fail(message: string): void {
    this.violation ??= new ProtocolViolation(message);
  }

  private waitForOutput(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private describe(): string {
    return `exit ${JSON.stringify(this.exit)}, stdout ${JSON.stringify(this.stdoutLines)}, stderr ${JSON.stringify(this.logs)}`;
  }
}

function assertBuilt(): void {
  if (!existsSync(AERODB_BIN)) {
    throw new Error(`${AERODB_BIN} is missing: build the workspace (pnpm build) first.`);
  }
}

function runToEnd(
  args: readonly string[],
  cwd: string,
  env: Readonly<Record<string, string>> | undefined,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    if (env?.AERODB_CRASH_POINT === undefined) delete childEnv.AERODB_CRASH_POINT;
    const child = spawn(process.execPath, [AERODB_BIN, ...args], { cwd, env: childEnv });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding("utf8").on("data", (c: string) => {
      stderr += c;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end();
  });
}

function splitLines(text: string): string[] {
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** A line of output: JSON, and byte-identical to its canonical form (core.md §6). */
function parseCanonical(line: string, where: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new ProtocolViolation(`${where}: not JSON: ${line}`);
  }
  if (!isPlainObject(value)) throw new ProtocolViolation(`${where}: not a JSON object: ${line}`);
  if (canonicalJson(value) !== line) throw new ProtocolViolation(`${where}: not canonical JSON: ${line}`);
  return value;
}

function isErrorResponse(value: unknown): value is ErrorResponse {
  return (
    isPlainObject(value) &&
    value.status === "error" &&
    typeof value.code === "string" &&
    typeof value.severity === "string"
  );
}
