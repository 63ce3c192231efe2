import * as fs from "node:fs/promises";
import * as path from "node:path";
import { canonicalJson } from "@aerodb/core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  assertBuilt,
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

// Real SIGKILL during `aerodb restore` and `aerodb backup` (core.md §11, §12; scenario 37):
// AERODB_CRASH_POINT kills the process at a semantic point of the restore
// (`restore:after-verify`, `restore:after-extract`, `restore:after-swap-old`,
// `restore:after-swap-new`, `restore:mid-cleanup`, `restore:after-cleanup`) or at a counted
// file-system operation (`before-rename:2`, `after-fsyncdir:5`, ...). After each kill:
//   - `aerodb start` on the target serves the old database or the new one, exactly, or
//     refuses with AERO_RECOVERY_RESTORE_INCOMPLETE — never a mix;
//   - re-running `aerodb restore` completes, and the target is byte for byte what an
//     uninterrupted restore leaves, with no `.restore-*` sibling.
// The semantic points also run into an absent target (where the restore first makes `<dd>` as
// a locked placeholder, `restore:after-placeholder`): start then finds the new database, an
// incomplete restore or nothing initialized, and a re-run gives the same bytes.
// By default the semantic points and a fixed selection of file-system points run;
// AERODB_CRASH_POINTS=all discovers and runs every file-system point of the restore.

const SCHEMA = nSchema("cp");
const { insert, update, remove, all: ALL_ROWS } = nRequests("cp");

const ALL_POINTS = process.env.AERODB_CRASH_POINTS === "all";

let cwd: string;
/** The restore target, `<cwd>/db`. */
let data: string;
let archive: string;
let oldTemplate: string;
let newTree: Map<string, string>;
let oldRows: string;
let newRows: string;

async function seed(dir: string, requests: readonly unknown[]): Promise<void> {
  const result = await runAerodb(["start", "--data", dir], {
    cwd,
    input: requests.map((r) => `${JSON.stringify(r)}\n`).join(""),
  });
  expect(result.code, result.stderr).toBe(0);
  for (const line of result.lines) expect(parseCanonical(line).status, line).toBe("ok");
}

/** What `aerodb start` on the target shows: its rows, or the FATAL code it stopped with. */
async function startState(): Promise<{ rows: string } | { code: string }> {
  const result = await runAerodb(["start", "--data", data], { cwd, input: `${JSON.stringify(ALL_ROWS)}\n` });
  if (result.code === 0) {
    expect(result.lines).toHaveLength(1);
    return { rows: canonicalJson((parseCanonical(result.lines[0] as string) as { data: unknown }).data) };
  }
  const fatal = fatalLogs(result.logs);
  expect(fatal, result.stderr).toHaveLength(1);
  return { code: String((fatal[0]?.error as { code?: unknown })?.code) };
}

/** The target as the old database, or (`missing`) absent, with no restore leftovers. */
async function resetTarget(missing = false): Promise<void> {
  for (const dir of [data, `${data}.restore-tmp`, `${data}.restore-old`]) {
    await fs.rm(dir, { recursive: true, force: true });
  }
  if (!missing) await fs.cp(oldTemplate, data, { recursive: true });
}

async function restoreRun(point?: string) {
  return runAerodb(["restore", "--input", archive, "--data", data], {
    cwd,
    ...(point === undefined ? {} : { env: { AERODB_CRASH_POINT: point } }),
  });
}

/**
 * One kill at `point`; returns false when the restore never reached it (it completed). With
 * `missing`, the restore goes into an absent target: after the kill, start finds the new
 * database, an incomplete restore, or nothing initialized (no `<dd>`, or the restore's empty
 * placeholder) — never the old database, since there was none.
 */
async function killAt(point: string, missing = false): Promise<boolean> {
  await resetTarget(missing);
  const crashed = await restoreRun(point);
  if (crashed.signal !== "SIGKILL") {
    expect(crashed.code, `${point}: ${crashed.stdout}${crashed.stderr}`).toBe(0);
    return false;
  }
  expect(crashed.lines, `${point}: nothing printed before the kill`).toEqual([]);
  const seen = await startState();
  if ("rows" in seen) {
    expect(
      missing ? [newRows] : [oldRows, newRows],
      `${point}: the target is not a database it may be`,
    ).toContain(seen.rows);
  } else {
    expect(
      missing
        ? ["AERO_RECOVERY_RESTORE_INCOMPLETE", "AERO_STORAGE_NOT_INITIALIZED"]
        : ["AERO_RECOVERY_RESTORE_INCOMPLETE"],
      point,
    ).toContain(seen.code);
  }
  const again = await restoreRun();
  expect(again.code, `${point}: re-run: ${again.stdout}${again.stderr}`).toBe(0);
  expect(await snapshotTree(data), `${point}: the re-run's result differs from a clean restore`).toEqual(
    newTree,
  );
  expect(
    (await fs.readdir(cwd)).filter((n) => n.startsWith("db.")),
    point,
  ).toEqual([]);
  return true;
}

beforeAll(async () => {
  assertBuilt();
  cwd = await tempDir("restore-kill");
  // The source database and its backup.
  const src = path.join(cwd, "src");
  expect((await runAerodb(["init", "--data", src], { cwd })).code).toBe(0);
  await seed(src, [
    { op: "register_schema", schema: SCHEMA },
    ...Array.from({ length: 12 }, (_, i) => insert(`s${i}`, i)),
    update("s3", 33),
    remove("s5"),
  ]);
  archive = path.join(cwd, "backup.tar");
  const backup = await runAerodb(["backup", "--output", archive, "--data", src], { cwd });
  expect(backup.code, backup.stdout).toBe(0);
  // The old database at the target.
  data = await initDataDir(cwd);
  await seed(data, [{ op: "register_schema", schema: SCHEMA }, insert("old-1", 1), insert("old-2", 2)]);
  oldTemplate = path.join(cwd, "template-old");
  await fs.cp(data, oldTemplate, { recursive: true });
  const old = await startState();
  oldRows = (old as { rows: string }).rows;
  // The uninterrupted restore.
  const clean = await restoreRun();
  expect(clean.code, clean.stdout).toBe(0);
  newTree = await snapshotTree(data);
  const fresh = await startState();
  newRows = (fresh as { rows: string }).rows;
  expect(newRows).not.toBe(oldRows);
  expect(JSON.parse(newRows)).toHaveLength(11);
});

afterEach(killStragglers);
afterAll(removeTempDirs);

describe("SIGKILL during aerodb restore", () => {
  const SEMANTIC = [
    "restore:after-verify",
    "restore:after-extract",
    "restore:after-swap-old",
    "restore:after-swap-new",
    "restore:mid-cleanup",
    "restore:after-cleanup",
  ];
  it.each(SEMANTIC)("%s: old or new or refused, and a re-run completes", async (point) => {
    expect(await killAt(point), `${point} was not reached`).toBe(true);
  });

  it.each(["restore:after-placeholder", ...SEMANTIC])(
    "into a missing target, %s: new or refused, and a re-run completes",
    async (point) => {
      expect(await killAt(point, true), `${point} was not reached`).toBe(true);
    },
  );

  it("mid-swap: start refuses with AERO_RECOVERY_RESTORE_INCOMPLETE until the restore is re-run", async () => {
    await resetTarget();
    const crashed = await restoreRun("restore:after-swap-old");
    expect(crashed.signal).toBe("SIGKILL");
    expect(await startState()).toEqual({ code: "AERO_RECOVERY_RESTORE_INCOMPLETE" });
    const verify = await runAerodb(["verify", "--data", data], { cwd });
    expect(verify.code).toBe(1);
    expect(parseCanonical(verify.lines[0] as string).code).toBe("AERO_RECOVERY_RESTORE_INCOMPLETE");
    expect((await restoreRun()).code).toBe(0);
    expect(await startState()).toEqual({ rows: newRows });
  });

  const OPS = ["write", "fsync", "rename", "unlink", "mkdir", "fsyncdir"] as const;
  const DEFAULT_FS_POINTS = [
    "after-mkdir:1",
    "after-write:1",
    "after-fsync:2",
    "after-fsyncdir:3",
    "before-rename:1",
    "after-rename:1",
    "before-rename:2",
    "after-rename:2",
    "before-rename:3",
    "after-rename:3",
    "before-unlink:1",
    "after-unlink:3",
    "before-fsyncdir:8",
    "after-write:9",
  ];
  it(
    ALL_POINTS ? "every file-system point of a restore" : "a selection of file-system points",
    async () => {
      let reached = 0;
      let skipped = 0;
      if (ALL_POINTS) {
        for (const op of OPS) {
          for (let n = 1; ; n++) {
            const before = await killAt(`before-${op}:${n}`);
            if (!before) break;
            reached++;
            // An operation that fails (an unlink of a LOCK already gone, say) has no "after".
            if (await killAt(`after-${op}:${n}`)) reached++;
            else skipped++;
          }
        }
      } else {
        for (const point of DEFAULT_FS_POINTS) {
          if (await killAt(point)) reached++;
          else skipped++;
        }
        expect(skipped, "most default points must still be reached").toBeLessThanOrEqual(3);
      }
      process.stdout.write(`restore kill points: ${reached} reached, ${skipped} not reached\n`);
      expect(reached).toBeGreaterThan(8);
    },
    ALL_POINTS ? 1_800_000 : 300_000,
  );
});

describe("SIGKILL during aerodb backup", () => {
  it.each(["backup:after-snapshot", "backup:after-archive-fsync", "before-rename:2"])(
    "%s: no partial file at the destination; the database and the next backup are intact",
    async (point) => {
      await resetTarget();
      const out = path.join(cwd, "kill.tar");
      await fs.rm(out, { force: true });
      await fs.rm(`${out}.tmp`, { force: true });
      const crashed = await runAerodb(["backup", "--output", out, "--data", data], {
        cwd,
        env: { AERODB_CRASH_POINT: point },
      });
      expect(crashed.signal, crashed.stderr).toBe("SIGKILL");
      await expect(fs.stat(out), "nothing at the destination path").rejects.toThrow();
      expect(await startState()).toEqual({ rows: oldRows });
      const again = await runAerodb(["backup", "--output", out, "--data", data], { cwd });
      expect(again.code, again.stdout).toBe(0);
      const reference = path.join(cwd, "reference.tar");
      await fs.rm(reference, { force: true });
      expect((await runAerodb(["backup", "--output", reference, "--data", data], { cwd })).code).toBe(0);
      expect((await fs.readFile(out)).equals(await fs.readFile(reference))).toBe(true);
      expect((await fs.readdir(cwd)).filter((n) => n.endsWith(".tmp"))).toEqual([]);
      expect(
        (await fs.readdir(path.join(data, "snapshots")).catch(() => [])).filter((n) => n.includes("backup")),
      ).toEqual([]);
    },
  );
});
