import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { canonicalJson } from "@aerodb/core";

/** The real built binary: the tests drive exactly what `pnpm aerodb` runs. */
export const BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));

export function assertBuilt(): void {
  if (!existsSync(BIN))
    throw new Error(`${BIN} is missing: run \`pnpm build\` (or tsc -b tsconfig.src.json) first.`);
}

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout split into lines (without the empty string after the final newline). */
  readonly lines: string[];
}

export interface RunOptions {
  readonly cwd: string;
  readonly input?: string | Buffer;
  readonly env?: Readonly<Record<string, string>>;
}

function childEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  if (extra.AERODB_CRASH_POINT === undefined) delete env.AERODB_CRASH_POINT;
  return env;
}

/** Runs `aerodb <args>` to completion. */
export function runAerodb(args: readonly string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: childEnv(options.env) });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.stdin.on("error", () => undefined);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      const stdout = Buffer.concat(out).toString("utf8");
      resolve({
        code,
        signal,
        stdout,
        stderr: Buffer.concat(err).toString("utf8"),
        lines: splitLines(stdout),
      });
    });
    child.stdin.end(options.input ?? "");
  });
}

export function splitLines(text: string): string[] {
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** A long-running `aerodb start` whose stdin stays open until ended. */
export class Server {
  readonly child: ChildProcessWithoutNullStreams;
  private out = "";
  private err = "";
  private readonly waiters: Array<() => void> = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: readonly string[], options: Omit<RunOptions, "input">) {
    this.child = spawn(process.execPath, [BIN, "start", ...args], {
      cwd: options.cwd,
      env: childEnv(options.env),
    });
    this.child.stdout.on("data", (c: Buffer) => {
      this.out += c.toString("utf8");
      this.notify();
    });
    this.child.stderr.on("data", (c: Buffer) => {
      this.err += c.toString("utf8");
      this.notify();
    });
    this.child.stdin.on("error", () => undefined);
    this.exited = new Promise((resolve) => {
      this.child.on("close", (code, signal) => {
        this.notify();
        resolve({ code, signal });
      });
    });
  }

  get lines(): string[] {
    return splitLines(this.out);
  }

  get stderr(): string {
    return this.err;
  }

  logs(): Array<Record<string, unknown>> {
    return parseLogs(this.err);
  }

  send(...requests: unknown[]): void {
    this.child.stdin.write(
      requests.map((r) => `${typeof r === "string" ? r : JSON.stringify(r)}\n`).join(""),
    );
  }

  /** Resolves when `predicate` holds (checked on every output), or rejects after `ms`. */
  async until(predicate: () => boolean, what: string, ms = 15_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!predicate()) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        if (predicate()) return;
        throw new Error(`server exited while waiting for ${what}; stderr:\n${this.err}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; stderr:\n${this.err}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  serving(): Promise<void> {
    return this.until(() => this.logs().some((l) => l.event === "AERODB_SERVING"), "AERODB_SERVING");
  }

  responses(n: number): Promise<void> {
    return this.until(() => this.lines.length >= n, `${n} responses`);
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

export function parseLogs(stderr: string): Array<Record<string, unknown>> {
  return splitLines(stderr).map((l) => JSON.parse(l) as Record<string, unknown>);
}

export function recoveryReport(stderr: string): Record<string, unknown> {
  const line = parseLogs(stderr).find((l) => l.event === "RECOVERY_COMPLETE");
  if (!line) throw new Error(`no RECOVERY_COMPLETE log line in:\n${stderr}`);
  return line.report as Record<string, unknown>;
}

/** Parses a stdout line and checks it is canonical JSON (same bytes as its canonical form). */
export function parseCanonical(line: string): Record<string, unknown> {
  const value = JSON.parse(line) as Record<string, unknown>;
  if (canonicalJson(value) !== line) throw new Error(`not canonical JSON: ${line}`);
  return value;
}

const tempDirs: string[] = [];

export async function tempDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "aerodb-cli-"));
  tempDirs.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(tempDirs.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
}

/** Every file and directory under `root` with its bytes, size and mtime: to prove nothing was written. */
export async function snapshotTree(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (dir: string, rel: string) => {
    for (const entry of (await fs.readdir(dir, { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    )) {
      const abs = path.join(dir, entry.name);
      const relPath = rel === "" ? entry.name : `${rel}/${entry.name}`;
      const st = await fs.stat(abs);
      if (entry.isDirectory()) {
        out.set(`${relPath}/`, `dir mtime=${st.mtimeMs}`);
        await walk(abs, relPath);
      } else {
        const bytes = await fs.readFile(abs);
        out.set(relPath, `size=${st.size} mtime=${st.mtimeMs} sha=${bytes.toString("base64")}`);
      }
    }
  };
  await walk(root, "");
  return out;
}

export const USERS_SCHEMA = {
  format_version: 1,
  schema_id: "users",
  schema_version: "v1",
  fields: {
    _id: { type: "string", required: true },
    age: { type: "int", required: true },
    email: { type: "string", required: false },
  },
  indexes: ["age"],
} as const;

export function insertUser(id: string, age: number, extra: Record<string, unknown> = {}) {
  return { op: "insert", schema_id: "users", schema_version: "v1", document: { _id: id, age, ...extra } };
}

export function queryAges(gte: number, limit = 1000) {
  return { op: "query", schema_id: "users", schema_version: "v1", filter: { age: { $gte: gte } }, limit };
}

/** `aerodb init --data <dir>/db` in a fresh temp dir; returns both paths. */
export async function initDb(): Promise<{ cwd: string; data: string }> {
  const cwd = await tempDir();
  const data = path.join(cwd, "db");
  const result = await runAerodb(["init", "--data", data], { cwd });
  if (result.code !== 0) throw new Error(`init failed: ${result.stdout}${result.stderr}`);
  return { cwd, data };
}
