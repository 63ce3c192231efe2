import * as fs from "node:fs/promises";
import * as path from "node:path";
import { canonicalJson } from "@aerodb/core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  AerodbProcess,
  assertBuilt,
  type Env,
  fatalLogs,
  initDataDir,
  killStragglers,
  parseCanonical,
  removeTempDirs,
  runAerodb,
  snapshotTree,
  tempDir,
} from "./harness.js";
import { nRequests, nSchema } from "./requests.js";

// core.md §12 (AERODB_CRASH_POINT), scenario 38 (kill after the WAL fsync, after the storage
// write, mid index update -> present; before the fsync -> absent or complete), scenario 39
// (kill in recovery -> the next start is a clean recovery to the same state), §3.5 (a schema
// file missing after a durable registration is rewritten by recovery), §9 (stale lock taken
// over). docs/crash-points.md is the catalogue.
//
// Every case starts from a copy of a template data directory restored at the same path
// (state.json persists the resolved data_dir), runs `aerodb start` with the crash point set,
// expects death by SIGKILL, then restarts without it and checks what must (not) be there.
//
// File-system points (`before-|after-<op>:<n>`) are enumerated for `init` and for a `start`
// that registers a schema and inserts two documents into a fresh database; by default a
// fixed selection of them runs (AERODB_CRASH_POINTS=all discovers and runs every one).

const SCHEMA = nSchema("cp");
const SCHEMA_V2 = {
  ...SCHEMA,
  schema_version: "v2",
  fields: { ...SCHEMA.fields, tag: { type: "string", required: false } },
};
const BASELINE = ["base-0", "base-1", "base-2"];

const doc = (id: string, n: number) => ({ _id: id, n });
const { insert, byId, all: allDocs } = nRequests("cp");
const ack = (commitId: number) => `{"commit_id":${commitId},"data":[],"status":"ok"}`;

let cwd: string;
let data: string;
/** Initialized, nothing else. */
let emptyTemplate: string;
/** Initialized, schema cp/v1 registered (commit 1), BASELINE inserted (commits 2..4). */
let seededTemplate: string;

async function restore(template: string): Promise<void> {
  await fs.rm(data, { recursive: true, force: true });
  await fs.cp(template, data, { recursive: true });
}

/** `aerodb start` with the crash point armed; stdin is the requests, then EOF. */
async function crashRun(point: string, requests: readonly unknown[], args: readonly string[] = []) {
  const proc = new AerodbProcess(["start", "--data", data, ...args], {
    cwd,
    env: { AERODB_CRASH_POINT: point },
  });
  proc.send(requests);
  const exit = await proc.stop();
  return { exit, lines: proc.lines, logs: proc.logs(), stderr: proc.stderr, proc };
}

/** A clean session without the variable: answers `requests`, stops at EOF, exits 0. */
async function cleanRun(requests: readonly unknown[], env: Env = {}) {
  const result = await runAerodb(["start", "--data", data], {
    cwd,
    env,
    input: requests.map((r) => `${JSON.stringify(r)}\n`).join(""),
  });
  expect(result.code, `clean restart failed: ${result.stdout}\n${result.stderr}`).toBe(0);
  expect(fatalLogs(result.logs)).toEqual([]);
  expect(result.lines.length).toBe(requests.length);
  const report = result.logs.find((l) => l.event === "RECOVERY_COMPLETE")?.report as Record<string, unknown>;
  expect(report?.outcome).toBe("RECOVERY_COMPLETE");
  return { report, responses: result.lines.map(parseCanonical) };
}

function rowsOf(response: Record<string, unknown>): unknown[] {
  expect(response.status, canonicalJson(response)).toBe("ok");
  return response.data as unknown[];
}

beforeAll(async () => {
  assertBuilt();
  cwd = await tempDir("crash");
  data = await initDataDir(cwd);
  emptyTemplate = path.join(cwd, "template-empty");
  await fs.cp(data, emptyTemplate, { recursive: true });
  const seeded = await cleanRun([
    { op: "register_schema", schema: SCHEMA },
    ...BASELINE.map((id, i) => insert(id, i)),
  ]);
  expect(seeded.responses.map((r) => canonicalJson(r))).toEqual([ack(1), ack(2), ack(3), ack(4)]);
  seededTemplate = path.join(cwd, "template-seeded");
  await fs.cp(data, seededTemplate, { recursive: true });
});

afterEach(killStragglers);
afterAll(removeTempDirs);

/** The baseline is intact and nothing else is there but `extra`. */
async function expectState(extra: readonly string[]) {
  const verified = await cleanRun([...BASELINE.map((id) => byId(id)), allDocs]);
  BASELINE.forEach((id, i) => {
    expect(rowsOf(verified.responses[i] as Record<string, unknown>)).toEqual([doc(id, i)]);
  });
  const all = rowsOf(verified.responses[BASELINE.length] as Record<string, unknown>) as Array<{
    _id: string;
  }>;
  expect(all.map((r) => r._id).sort()).toEqual([...BASELINE, ...extra].sort());
  return verified.report;
}

describe("named crash points of an insert (scenario 38)", () => {
  const CASES: ReadonlyArray<{ point: string; durable: boolean }> = [
    { point: "wal:after-append", durable: false },
    { point: "wal:after-fsync", durable: true },
    { point: "commit:after-fsync", durable: true },
    { point: "commit:mid-install", durable: true },
    { point: "commit:after-install", durable: true },
  ];
  for (const { point, durable } of CASES) {
    it(`${point}: killed before acknowledging; after restart the insert is ${durable ? "present" : "absent or complete"}`, async () => {
      await restore(seededTemplate);
      const crashed = await crashRun(point, [insert("victim", 100), insert("after", 101)]);
      expect(crashed.exit.signal, crashed.stderr).toBe("SIGKILL");
      expect(crashed.lines, "nothing acknowledged before the crash point").toEqual([]);
      expect(fatalLogs(crashed.logs)).toEqual([]);

      const verified = await cleanRun([byId("victim"), byId("after")]);
      const victim = rowsOf(verified.responses[0] as Record<string, unknown>);
      expect(rowsOf(verified.responses[1] as Record<string, unknown>), "the next request never ran").toEqual(
        [],
      );
      if (durable) expect(victim).toEqual([doc("victim", 100)]);
      else expect([[], [doc("victim", 100)]]).toContainEqual(victim);
      const report = verified.report;
      expect(report.stale_lock, "the dead owner's lock is taken over").toBe(true);
      expect(report.torn_tail).toBeNull();
      expect(report.commit_high_water).toBe(4 + victim.length);
      await expectState(victim.length === 1 ? ["victim"] : []);
    });
  }
});

describe("named crash points of a schema registration (§3.5)", () => {
  it("schema:after-fsync: present after restart, recovery writes the schema file (files_written 1)", async () => {
    await restore(seededTemplate);
    const file = path.join(data, "metadata", "schemas", "cp", "v2.json");
    const crashed = await crashRun("schema:after-fsync", [
      { op: "register_schema", schema: SCHEMA_V2 },
      insert("v2-doc", 7, "v2"),
    ]);
    expect(crashed.exit.signal, crashed.stderr).toBe("SIGKILL");
    expect(crashed.lines).toEqual([]);
    await expect(fs.stat(file), "the file was not written before the kill").rejects.toThrow();

    const verified = await cleanRun([insert("v2-doc", 7, "v2"), byId("v2-doc", "v2")]);
    expect(verified.report.schemas).toEqual({ registered: 2, files_written: 1 });
    expect(verified.report.commit_high_water).toBe(5);
    expect(canonicalJson(verified.responses[0])).toBe(ack(6));
    expect(rowsOf(verified.responses[1] as Record<string, unknown>)).toEqual([doc("v2-doc", 7)]);
    const text = await fs.readFile(file, "utf8");
    expect(JSON.parse(text)).toEqual(SCHEMA_V2);
    expect(text).toBe(`${canonicalJson(SCHEMA_V2)}\n`);
    // The rewritten file is now accounted for: the next start writes nothing.
    const again = await cleanRun([]);
    expect(again.report.schemas).toEqual({ registered: 2, files_written: 0 });
  });

  it("schema:after-file: present after restart, nothing to rewrite", async () => {
    await restore(seededTemplate);
    const crashed = await crashRun("schema:after-file", [{ op: "register_schema", schema: SCHEMA_V2 }]);
    expect(crashed.exit.signal, crashed.stderr).toBe("SIGKILL");
    expect(crashed.lines).toEqual([]);
    const verified = await cleanRun([{ op: "register_schema", schema: SCHEMA_V2 }]);
    expect(verified.report.schemas).toEqual({ registered: 2, files_written: 0 });
    expect(verified.responses[0]?.code).toBe("AERO_SCHEMA_IMMUTABLE");
  });
});

describe("recovery:mid-replay (scenario 39)", () => {
  it("a start killed during replay, twice, is followed by a clean recovery to the same state", async () => {
    await restore(seededTemplate);
    const reference = await cleanRun([allDocs]);
    const walBefore = await snapshotTree(path.join(data, "wal"));
    const schemasBefore = await snapshotTree(path.join(data, "metadata", "schemas"));
    for (let attempt = 0; attempt < 2; attempt++) {
      const crashed = await crashRun("recovery:mid-replay", [allDocs]);
      expect(crashed.exit.signal, crashed.stderr).toBe("SIGKILL");
      expect(crashed.lines).toEqual([]);
      expect(
        crashed.logs.some((l) => l.event === "AERODB_SERVING"),
        "nothing served before SERVING",
      ).toBe(false);
    }
    expect(await snapshotTree(path.join(data, "wal")), "a killed recovery changed no WAL byte").toEqual(
      walBefore,
    );
    const after = await cleanRun([allDocs]);
    expect(after.report).toEqual({ ...reference.report, stale_lock: true });
    expect(canonicalJson(after.responses[0])).toBe(canonicalJson(reference.responses[0]));
    expect(await snapshotTree(path.join(data, "wal"))).toEqual(walBefore);
    expect(await snapshotTree(path.join(data, "metadata", "schemas"))).toEqual(schemasBefore);
  });
});

// ---- file-system crash points ----------------------------------------------------------------

const OPS = ["write", "fsync", "rename", "unlink", "truncate", "mkdir", "fsyncdir"] as const;
const ALL_POINTS = process.env.AERODB_CRASH_POINTS === "all";
const SWEEP_TIMEOUT_MS = ALL_POINTS ? 900_000 : 120_000;

/**
 * The points checked by default: the catalogue's examples plus points spread over each
 * phase (init: directories, state.json, MANIFEST; start: LOCK, state.json, the first WAL
 * segment, the schema unit and its file, the inserts, the clean shutdown). Numbers follow
 * the current operation order; a point the implementation no longer reaches is reported
 * and skipped, and most of them must be reached. AERODB_CRASH_POINTS=all discovers and
 * checks every point instead.
 */
const DEFAULT_INIT_POINTS = [
  "after-mkdir:1",
  "after-fsyncdir:1",
  "after-fsync:1",
  "before-rename:1",
  "after-rename:1",
  "before-write:2",
  "after-write:2",
];
const DEFAULT_START_POINTS = [
  "before-write:1",
  "after-write:1",
  "after-fsync:1",
  "before-rename:1",
  "after-rename:1",
  "after-fsyncdir:1",
  "after-mkdir:1",
  "before-fsync:4",
  "before-fsync:5",
  "after-write:8",
  "before-write:9",
  "after-rename:2",
  "before-fsyncdir:4",
  "before-unlink:1",
];

/** Every `before-|after-<op>:<n>` the command reaches: `after-<op>:n` for n = 1, 2, ... until a run survives. */
async function discoverPoints(attempt: (point: string) => Promise<boolean>): Promise<string[]> {
  const points: string[] = [];
  for (const op of OPS) {
    for (let n = 1; ; n++) {
      const point = `after-${op}:${n}`;
      if (!(await attempt(point))) break;
      points.push(`before-${op}:${n}`, point);
    }
  }
  return points;
}

/** Runs `check` for every point; returns a summary. Unreached points (check -> false) are tolerated in part. */
async function sweep(
  name: string,
  defaults: readonly string[],
  attempt: (point: string) => Promise<boolean>,
  check: (point: string) => Promise<string | null>,
): Promise<void> {
  const points = ALL_POINTS ? await discoverPoints(attempt) : defaults;
  const outcomes: string[] = [];
  let reached = 0;
  for (const point of points) {
    const outcome = await check(point);
    if (outcome !== null) reached++;
    outcomes.push(`${point}: ${outcome ?? "not reached (the command completed)"}`);
  }
  process.stdout.write(
    `crash-points ${name}: ${reached}/${points.length} points reached:\n  ${outcomes.join("\n  ")}\n`,
  );
  expect(reached, outcomes.join("\n")).toBeGreaterThanOrEqual(Math.ceil(points.length * 0.75));
}

describe("file-system crash points during init", () => {
  it(
    "an interrupted init is either complete or refused as not initialized; init re-runs once emptied",
    async () => {
      const dir = path.join(cwd, "init-db");
      const tryInit = async (point: string) => {
        await fs.rm(dir, { recursive: true, force: true });
        const result = await runAerodb(["init", "--data", dir], { cwd, env: { AERODB_CRASH_POINT: point } });
        if (result.signal === null) {
          expect(result.code, result.stdout + result.stderr).toBe(0);
          return false;
        }
        expect(result.signal).toBe("SIGKILL");
        expect(result.lines).toEqual([]);
        return true;
      };
      await sweep("init", DEFAULT_INIT_POINTS, tryInit, async (point) => {
        if (!(await tryInit(point))) return null;
        const started = await runAerodb(["start", "--data", dir], { cwd });
        const manifest = await fs.readFile(path.join(dir, "MANIFEST")).catch(() => null);
        if (started.code === 0) {
          expect(manifest, `${point}: a serving database has its MANIFEST`).not.toBeNull();
          expect(fatalLogs(started.logs)).toEqual([]);
          return "complete";
        }
        expect(started.code, `${point}: ${started.stderr}`).toBe(1);
        const fatal = fatalLogs(started.logs);
        expect(fatal.length, `${point}: ${started.stderr}`).toBe(1);
        const code = (fatal[0]?.error as { code?: string } | undefined)?.code;
        // MANIFEST is written to a temp file and renamed into place, so it is never empty.
        expect(manifest === null || manifest.length > 0, `${point}: MANIFEST is absent or complete`).toBe(
          true,
        );
        expect(code, `${point}: an interrupted init is refused as not initialized`).toBe(
          "AERO_STORAGE_NOT_INITIALIZED",
        );
        // Re-running init on the emptied directory completes.
        await fs.rm(dir, { recursive: true, force: true });
        await fs.mkdir(dir);
        const again = await runAerodb(["init", "--data", dir], { cwd });
        expect(again.code, again.stdout + again.stderr).toBe(0);
        return `refused at start with ${code}${manifest?.length === 0 ? " (empty MANIFEST)" : ""}`;
      });
    },
    SWEEP_TIMEOUT_MS,
  );
});

describe("file-system crash points during start (registration + two inserts on a fresh database)", () => {
  it(
    "every interrupted start leaves a prefix of the work, acknowledged work present, and restarts cleanly",
    async () => {
      const requests = [{ op: "register_schema", schema: SCHEMA }, insert("a", 1), insert("b", 2)];
      const runOnce = async (point: string) => {
        await restore(emptyTemplate);
        const crashed = await crashRun(point, requests);
        if (crashed.exit.signal === null) {
          expect(crashed.exit.code, crashed.stderr).toBe(0);
          expect(crashed.lines).toEqual([ack(1), ack(2), ack(3)]);
          return null;
        }
        expect(crashed.exit.signal).toBe("SIGKILL");
        expect(fatalLogs(crashed.logs)).toEqual([]);
        return crashed.lines;
      };
      await sweep(
        "start",
        DEFAULT_START_POINTS,
        async (p) => (await runOnce(p)) !== null,
        async (point) => {
          const acked = await runOnce(point);
          if (acked === null) return null;
          expect(acked).toEqual([ack(1), ack(2), ack(3)].slice(0, acked.length));
          // Restart: the schema (if registered) and the inserts form a prefix, acknowledged ones included.
          const probe = await cleanRun([byId("a"), byId("b")]);
          const report = probe.report;
          const schemas = report.schemas as { registered: number; files_written: number };
          let present = schemas.registered;
          if (schemas.registered === 1) {
            const a = rowsOf(probe.responses[0] as Record<string, unknown>);
            const b = rowsOf(probe.responses[1] as Record<string, unknown>);
            expect([[], [doc("a", 1)]]).toContainEqual(a);
            expect([[], [doc("b", 2)]]).toContainEqual(b);
            if (b.length === 1) expect(a.length, `${point}: b present without a`).toBe(1);
            present += a.length + b.length;
            const file = await fs.readFile(path.join(data, "metadata", "schemas", "cp", "v1.json"), "utf8");
            expect(file).toBe(`${canonicalJson(SCHEMA)}\n`);
          } else {
            expect(schemas.registered).toBe(0);
            expect(probe.responses[0]?.code).toBe("AERO_SCHEMA_UNKNOWN");
          }
          expect(present, `${point}: every acknowledged unit survived`).toBeGreaterThanOrEqual(acked.length);
          expect(report.commit_high_water).toBe(present);
          // A second restart finds the same state and rewrites nothing.
          const again = await cleanRun([]);
          expect(again.report.commit_high_water).toBe(present);
          expect((again.report.schemas as { files_written: number }).files_written).toBe(0);
          return `${acked.length} acked, ${present} units present, schema files_written ${schemas.files_written}`;
        },
      );
    },
    SWEEP_TIMEOUT_MS,
  );
});
