/**
 * What a scenario gets: its driver, real temporary directories (removed afterwards), and
 * sessions that are cleaned up even when the scenario fails half-way.
 */
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "vitest";
import {
  type ConformanceDriver,
  type ErrorResponse,
  InstanceStopped,
  type Request,
  type Response,
  type Session,
  StartFailed,
  type StartOptions,
} from "../driver.js";
import { SEVERITY } from "./fixtures.js";

export interface Scenario {
  /** The core.md §13 scenario number(s) it covers, e.g. "4" or "21". */
  readonly id: string;
  readonly title: string;
  run(ctx: ScenarioContext): Promise<void>;
}

export class ScenarioContext {
  private readonly roots: string[] = [];
  private readonly sessions: Session[] = [];

  constructor(readonly driver: ConformanceDriver) {}

  /** A fresh, empty temporary directory (removed by cleanup). */
  async tempDir(): Promise<string> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "aerodb-e2e-"));
    this.roots.push(dir);
    return dir;
  }

  /** `<fresh temp dir>/db`, initialized by the driver. */
  async freshDatabase(): Promise<string> {
    const dir = path.join(await this.tempDir(), "db");
    await this.driver.init(dir);
    return dir;
  }

  async start(dir: string, options?: StartOptions): Promise<Session> {
    const session = await this.driver.start(dir, options);
    this.sessions.push(session);
    return session;
  }

  /** Starts, checks that the start fails with a FATAL error, and returns that error. */
  async startFails(dir: string, options?: StartOptions): Promise<ErrorResponse> {
    let session: Session;
    try {
      session = await this.start(dir, options);
    } catch (err) {
      if (!(err instanceof StartFailed)) throw err;
      expect(err.error.status).toBe("error");
      expect(err.error.severity).toBe("FATAL");
      expect(SEVERITY[err.error.code], `severity of ${err.error.code}`).toBe("FATAL");
      expect(typeof err.error.message).toBe("string");
      expect(typeof err.error.invariant).toBe("string");
      return err.error;
    }
    await session.close();
    throw new Error(`the start in ${dir} was expected to fail, but it reached SERVING`);
  }

  /** Opens, runs the requests one at a time, closes; returns the responses. */
  async withSession<T>(dir: string, body: (s: Session) => Promise<T>, options?: StartOptions): Promise<T> {
    const session = await this.start(dir, options);
    const result = await body(session);
    await session.close();
    return result;
  }

  /** The recovery report of a start that is closed again at once. */
  async reportOf(dir: string, options?: StartOptions): Promise<Record<string, unknown>> {
    return this.withSession(dir, (s) => s.recoveryReport(), options);
  }

  async cleanup(): Promise<void> {
    for (const session of this.sessions.splice(0)) {
      await session.close().catch(() => undefined);
    }
    for (const root of this.roots.splice(0)) {
      await fs.rm(root, { recursive: true, force: true });
    }
  }
}

/** Runs requests one after the other; returns the responses in order. */
export async function sequence(session: Session, requests: readonly Request[]): Promise<Response[]> {
  const out: Response[] = [];
  for (const request of requests) out.push(await session.request(request));
  return out;
}

/** Issues all requests at once (pipelined); the responses come back in request order. */
export function pipeline(session: Session, requests: readonly Request[]): Promise<Response[]> {
  return Promise.all(requests.map((r) => session.request(r)));
}

/** `{"status":"ok","data":[],"commit_id":n}` */
export function expectCommit(response: Response, commitId: number | null): void {
  expect(response).toEqual({ status: "ok", data: [], commit_id: commitId });
}

/** `{"status":"ok","data":rows,"read_view":v}` (read view checked when given). */
export function expectRows(response: Response, rows: readonly unknown[], readView?: number): void {
  expect(response.status, JSON.stringify(response)).toBe("ok");
  expect((response as { data: unknown }).data).toEqual(rows);
  if (readView !== undefined) expect(response).toEqual({ status: "ok", data: rows, read_view: readView });
}

/** An explain response: status ok with exactly this plan. */
export function expectExplain(response: Response, plan: Record<string, unknown>): void {
  expect(response).toEqual({ status: "ok", data: plan });
}

/**
 * An error envelope with this code, the code's registered severity, a message and an
 * invariant, no stack, and (when given) at least these details.
 */
export function expectError(
  response: Response,
  code: string,
  details?: Record<string, unknown>,
): ErrorResponse {
  expect(response, JSON.stringify(response)).toMatchObject({
    status: "error",
    code,
    severity: SEVERITY[code] ?? "(unknown code)",
  });
  const error = response as ErrorResponse;
  expect(Object.keys(error).sort()).toEqual(
    [
      "code",
      "invariant",
      "message",
      "severity",
      "status",
      ...(error.details === undefined ? [] : ["details"]),
    ].sort(),
  );
  expect(typeof error.message).toBe("string");
  expect(typeof error.invariant).toBe("string");
  const text = JSON.stringify(error);
  expect(text).not.toMatch(/\n\s+at /); // no stack
  expect(text, "no paths in errors (core.md §6)").not.toContain(os.tmpdir()); // no paths
  if (details !== undefined) expect(error.details ?? {}).toMatchObject(details);
  return error;
}

/**
 * After a FATAL error the instance has stopped (core.md §7): a later request either gets the
 * same error (embedded) or finds the process gone after logging that error (exit 1).
 */
export async function expectStopped(session: Session, fatal: ErrorResponse, probe: Request): Promise<void> {
  expect(fatal.severity).toBe("FATAL");
  try {
    const again = await session.request(probe);
    expect(again).toEqual(fatal);
  } catch (err) {
    if (!(err instanceof InstanceStopped)) throw err;
    expect(err.exitCode).toBe(1);
    expect(err.error).toEqual(fatal);
  }
}
