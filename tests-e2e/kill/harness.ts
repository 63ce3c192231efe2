/**
 * Real-process harness for the kill and bad-input suites: spawns the built `aerodb` binary
 * (packages/cli/dist/bin.js), feeds stdin, collects stdout lines (only complete ones: a line
 * counts as printed once its newline arrived) and stderr log lines, and SIGKILLs on demand.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import * as fs from "node:fs/promises";
import { createRequire } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import { canonicalJson } from "@aerodb/core";

const require = createRequire(import.meta.url);

/** The built binary of @aerodb/cli: exactly what `pnpm aerodb` runs. */
export const AERODB_BIN = path.join(
  path.dirname(require.resolve("@aerodb/cli/package.json")),
  "dist",
  "bin.js",
);

export function assertBuilt(): void {
  if (!existsSync(AERODB_BIN)) {
    throw new Error(`${AERODB_BIN} is missing: build @aerodb/cli (tsc -b tsconfig.src.json) first.`);
  }
}

export type Env = Readonly<Record<string, string>>;

function childEnv(extra: Env = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  if (extra.AERODB_CRASH_POINT === undefined) delete env.AERODB_CRASH_POINT;
  return env;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Splits text into complete lines; a trailing fragment without its newline is dropped. */
export function completeLines(text: string): string[] {
  const lines = text.split("\n");
  lines.pop(); // "" after the final newline, or an incomplete line
  return lines;
}

const live = new Set<AerodbProcess>();

/** SIGKILLs every process this harness started that is still running (test cleanup). */
export async function killStragglers(): Promise<void> {
  const procs = [...live];
  for (const proc of procs) proc.kill();
  await Promise.all(procs.map((p) => p.exited));
}

/** One `aerodb` process with stdin kept open until ended. */
export class AerodbProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<Exit>;
  private outChunks: Buffer[] = [];
  private outText = "";
  private outDirty = false;
  private errText = "";
  private newlineCount = 0;
  private readonly waiters = new Set<() => void>();
  private exit: Exit | null = null;
  /** Called on every stdout chunk with the number of complete lines so far (for precise kills). */
  onStdoutLines: ((count: number) => void) | null = null;

  constructor(args: readonly string[], options: { cwd: string; env?: Env }) {
    this.child = spawn(process.execPath, [AERODB_BIN, ...args], {
      cwd: options.cwd,
      env: childEnv(options.env),
    });
    this.child.stdout.on("data", (chunk: Buffer) => {
      this.outChunks.push(chunk);
      this.outDirty = true;
      for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) this.newlineCount++;
      this.onStdoutLines?.(this.newlineCount);
      this.notify();
    });
    this.child.stderr.on("data", (chunk: Buffer) => {
      this.errText += chunk.toString("utf8");
      this.notify();
    });
    this.child.stdin.on("error", () => undefined);
    live.add(this);
    this.exited = new Promise((resolve) => {
      this.child.on("close", (code, signal) => {
        live.delete(this);
        this.exit = { code, signal };
        this.notify();
        resolve({ code, signal });
      });
    });
  }

  /** Complete stdout lines so far. */
  get lines(): string[] {
    return completeLines(this.stdout);
  }

  get lineCount(): number {
    return this.newlineCount;
  }

  get stdout(): string {
    if (this.outDirty) {
      this.outText = Buffer.concat(this.outChunks).toString("utf8");
      this.outDirty = false;
    }
    return this.outText;
  }

  get stderr(): string {
    return this.errText;
  }

  /** Complete stderr log lines, parsed. */
  logs(): Array<Record<string, unknown>> {
    return completeLines(this.errText).map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        return { event: "UNPARSABLE_LOG_LINE", line };
      }
    });
  }

  get hasExited(): boolean {
    return this.exit !== null;
  }

  /** Writes raw text or bytes to stdin. */
  write(data: string | Uint8Array): void {
    this.child.stdin.write(data);
  }

  /** Writes one JSON request per line. */
  send(requests: readonly unknown[]): void {
    if (requests.length === 0) return;
    this.write(requests.map((r) => `${typeof r === "string" ? r : JSON.stringify(r)}\n`).join(""));
  }

  endInput(): void {
    this.child.stdin.end();
  }

  kill(): void {
    if (this.exit === null) this.child.kill("SIGKILL");
  }

  /** Resolves when `predicate` holds; rejects if the process exits first or after `ms`. */
  async until(predicate: () => boolean, what: string, ms = 30_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!predicate()) {
      if (this.exit !== null) {
        throw new Error(
          `aerodb exited (${this.exit.code ?? this.exit.signal}) while waiting for ${what}; stderr:\n${this.errText.slice(-4000)}`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; stderr:\n${this.errText.slice(-4000)}`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, Math.min(left, 250));
        this.waiters.add(wake);
      });
    }
  }

  serving(ms?: number): Promise<void> {
    return this.until(() => this.logs().some((l) => l.event === "AERODB_SERVING"), "AERODB_SERVING", ms);
  }

  responses(n: number, ms?: number): Promise<void> {
    return this.until(() => this.newlineCount >= n, `${n} responses`, ms);
  }

  /** The RECOVERY_COMPLETE report of this process, if it logged one. */
  recoveryReport(): Record<string, unknown> | null {
    const line = this.logs().find((l) => l.event === "RECOVERY_COMPLETE");
    return line ? (line.report as Record<string, unknown>) : null;
  }

  /** Ends stdin and waits for a clean exit (EOF stops `start`). */
  async stop(ms = 60_000): Promise<Exit> {
    this.endInput();
    const timer = setTimeout(() => this.kill(), ms);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  private notify(): void {
    for (const wake of [...this.waiters]) wake();
  }
}

export interface RunResult extends Exit {
  readonly stdout: string;
  readonly stderr: string;
  readonly lines: string[];
  readonly logs: Array<Record<string, unknown>>;
}

/** Runs `aerodb <args>` with `input` on stdin to completion. */
export async function runAerodb(
  args: readonly string[],
  options: { cwd: string; input?: string | Uint8Array; env?: Env; timeoutMs?: number },
): Promise<RunResult> {
  const proc = new AerodbProcess(args, options);
  if (options.input !== undefined) proc.write(options.input);
  const exit = await proc.stop(options.timeoutMs ?? 60_000);
  return { ...exit, stdout: proc.stdout, stderr: proc.stderr, lines: proc.lines, logs: proc.logs() };
}

/** Parses a stdout line and checks that it is canonical JSON. */
export function parseCanonical(line: string): Record<string, unknown> {
  const value = JSON.parse(line) as Record<string, unknown>;
  if (canonicalJson(value) !== line)
    throw new Error(`stdout line is not canonical JSON: ${line.slice(0, 400)}`);
  return value;
}

const tempDirs: string[] = [];

export async function tempDir(prefix: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `aerodb-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(tempDirs.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
}

/** `aerodb init --data <cwd>/db` (optionally with --config); returns the data dir. */
export async function initDataDir(cwd: string, configFile?: string): Promise<string> {
  const data = path.join(cwd, "db");
  const args = ["init", "--data", data, ...(configFile ? ["--config", configFile] : [])];
  const result = await runAerodb(args, { cwd });
  if (result.code !== 0)
    throw new Error(`aerodb init failed (${result.code}): ${result.stdout}${result.stderr}`);
  return data;
}

/** Every file and directory under `root` with its bytes: proves that nothing was written. */
export async function snapshotTree(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (dir: string, rel: string) => {
    const entries = await fs.readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const abs = path.join(dir, entry.name);
      const relPath = rel === "" ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        out.set(`${relPath}/`, "dir");
        await walk(abs, relPath);
      } else {
        const bytes = await fs.readFile(abs);
        out.set(relPath, `size=${bytes.length} bytes=${bytes.toString("base64")}`);
      }
    }
  };
  await walk(root, "");
  return out;
}

/** FATAL log lines (there must be none in any test that expects the process to live). */
export function fatalLogs(logs: ReadonlyArray<Record<string, unknown>>): Array<Record<string, unknown>> {
  return logs.filter((l) => l.level === "fatal" || l.event === "FATAL");
}
