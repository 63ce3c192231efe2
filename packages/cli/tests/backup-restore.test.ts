// `aerodb checkpoint`, `aerodb backup --output`, `aerodb restore --input`, `aerodb verify
// --backup` and the progress bar (core.md §10–§12, issue 4), through the built binary.
import { execFile } from "node:child_process";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { Writable } from "node:stream";
import { NodeFileSystem } from "@aerodb/base";
import { open } from "@aerodb/snapshot";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stderrProgress } from "../src/progress-bar.js";
import {
  assertBuilt,
  BIN,
  initDb,
  insertUser,
  parseCanonical,
  parseLogs,
  queryAges,
  removeTempDirs,
  runAerodb,
  snapshotTree,
  USERS_SCHEMA,
} from "./helpers.js";

beforeAll(assertBuilt);
afterAll(removeTempDirs);

async function populated(count = 10) {
  const { cwd, data } = await initDb();
  const requests = [
    { op: "register_schema", schema: USERS_SCHEMA },
    ...Array.from({ length: count }, (_, i) => insertUser(`u${i}`, i)),
  ];
  const run = await runAerodb(["start", "--data", data], {
    cwd,
    input: `${requests.map((r) => JSON.stringify(r)).join("\n")}\n`,
  });
  expect(run.code, run.stderr).toBe(0);
  return { cwd, data };
}

/** Every stderr line is a canonical JSON log line (no progress bar off a terminal). */
function expectOnlyLogs(stderr: string): void {
  for (const line of stderr.split("\n").filter((l) => l !== "")) parseCanonical(line);
}

describe("aerodb checkpoint, backup, restore, verify --backup", () => {
  it("round-trips a database through a backup file, with relative paths", async () => {
    const { cwd, data } = await populated();
    const checkpoint = await runAerodb(["checkpoint", "--data", "db"], { cwd });
    expect(checkpoint.code, checkpoint.stdout).toBe(0);
    expect(parseCanonical(checkpoint.lines[0] as string)).toMatchObject({
      status: "ok",
      data: { commit_boundary: 11, snapshot_id: "snap-00000000000000000011" },
    });

    const backup = await runAerodb(["backup", "--output", "b.tar", "--data", "db"], { cwd });
    expect(backup.code, backup.stdout).toBe(0);
    expectOnlyLogs(backup.stderr);
    const result = parseCanonical(backup.lines[0] as string) as { data: Record<string, unknown> };
    expect(result.data).toMatchObject({
      commit_boundary: 11,
      bytes: (await fs.stat(path.join(cwd, "b.tar"))).size,
    });
    // Same state, same bytes.
    expect((await runAerodb(["backup", "--output", "again.tar", "--data", "db"], { cwd })).code).toBe(0);
    expect(
      (await fs.readFile(path.join(cwd, "b.tar"))).equals(await fs.readFile(path.join(cwd, "again.tar"))),
    ).toBe(true);

    const verify = await runAerodb(["verify", "--backup", "b.tar"], { cwd });
    expect(verify.code, verify.stdout).toBe(0);
    expect(parseCanonical(verify.lines[0] as string)).toMatchObject({
      status: "ok",
      data: { backup_id: result.data.backup_id, versions: 10, schemas: 1, problems: [] },
    });

    const restore = await runAerodb(["restore", "--input", "b.tar", "--data", "restored"], { cwd });
    expect(restore.code, restore.stdout).toBe(0);
    expectOnlyLogs(restore.stderr);
    expect(parseLogs(restore.stderr).map((l) => l.event)).toEqual(["RESTORE_COMPLETE"]);
    expect(parseCanonical(restore.lines[0] as string)).toMatchObject({
      status: "ok",
      data: { data_dir: path.join(cwd, "restored"), commit_boundary: 11, replaced: false },
    });
    const verifyData = await runAerodb(["verify", "--data", "restored"], { cwd });
    expect(verifyData.code, verifyData.stdout).toBe(0);
    expect(parseCanonical(verifyData.lines[0] as string)).toMatchObject({
      data: { checkpoint: { commit_boundary: 11 }, wal: { segments: 0 }, problems: [] },
    });
    const served = await runAerodb(["start", "--data", "restored"], {
      cwd,
      input: `${JSON.stringify(queryAges(0))}\n${JSON.stringify(insertUser("next", 99))}\n`,
    });
    expect(served.code, served.stderr).toBe(0);
    expect((parseCanonical(served.lines[0] as string).data as unknown[]).length).toBe(10);
    expect(parseCanonical(served.lines[1] as string)).toEqual({ status: "ok", data: [], commit_id: 12 });
    expect(await fs.readdir(cwd)).toEqual(["again.tar", "b.tar", "db", "restored"]);
    expect(data).toBe(path.join(cwd, "db"));
  });

  it("refuses bad archives (exit 1), locked targets, and incomplete command lines (exit 2)", async () => {
    const { cwd, data } = await populated(3);
    expect((await runAerodb(["backup", "--output", "b.tar", "--data", "db"], { cwd })).code).toBe(0);
    const archive = await fs.readFile(path.join(cwd, "b.tar"));
    const damaged = Buffer.from(archive);
    damaged[archive.length - 1100] = (damaged[archive.length - 1100] as number) ^ 1;
    await fs.writeFile(path.join(cwd, "bad.tar"), damaged);
    const before = await snapshotTree(data);

    const refused = await runAerodb(["restore", "--input", "bad.tar", "--data", "db"], { cwd });
    expect(refused.code).toBe(1);
    expect(parseCanonical(refused.lines[0] as string)).toMatchObject({
      status: "error",
      code: "AERO_RESTORE_INVALID_BACKUP",
      severity: "FATAL",
    });
    expect(refused.stdout).not.toContain(cwd);
    expect(await snapshotTree(data)).toEqual(before);

    const verify = await runAerodb(["verify", "--backup", "bad.tar"], { cwd });
    expect(verify.code).toBe(1);
    expect(parseCanonical(verify.lines[0] as string)).toMatchObject({
      code: "AERO_RESTORE_INVALID_BACKUP",
      details: { report: { problems: [{ code: "AERO_RESTORE_INVALID_BACKUP" }] } },
    });
    const missing = await runAerodb(["restore", "--input", "nope.tar", "--data", "db"], { cwd });
    expect(parseCanonical(missing.lines[0] as string)).toMatchObject({
      code: "AERO_RESTORE_INVALID_BACKUP",
      details: { reason: "unreadable" },
    });

    // A running server holds the lock: backup, checkpoint and restore are refused.
    const db = await open({ core: { data_dir: data } }, { fs: new NodeFileSystem() });
    try {
      for (const args of [
        ["backup", "--output", "c.tar", "--data", "db"],
        ["checkpoint", "--data", "db"],
        ["restore", "--input", "b.tar", "--data", "db"],
      ]) {
        const r = await runAerodb(args, { cwd });
        expect(r.code, args[0]).toBe(1);
        expect(parseCanonical(r.lines[0] as string).code, args[0]).toBe("AERO_STORAGE_LOCKED");
      }
    } finally {
      await db.close();
    }

    const usage: Array<[string[], string]> = [
      [["backup", "--data", "db"], "missing_option"],
      [["restore", "--data", "db"], "missing_option"],
      [["restore", "--input", "b.tar"], "missing_data_dir"],
      [["verify", "--backup", "b.tar", "--data", "db"], "conflicting_options"],
      [["backup", "--output"], "missing_value"],
    ];
    for (const [args, reason] of usage) {
      const r = await runAerodb(args, { cwd });
      expect(r.code, args.join(" ")).toBe(2);
      expect(parseCanonical(r.lines[0] as string), args.join(" ")).toMatchObject({
        code: "AERO_CLI_USAGE",
        details: { reason },
      });
    }
  });

  it("after a restore killed mid-swap, init and start refuse until the restore is re-run", async () => {
    const { cwd, data } = await populated(4);
    expect((await runAerodb(["backup", "--output", "b.tar", "--data", "db"], { cwd })).code).toBe(0);
    const killed = await runAerodb(["restore", "--input", "b.tar", "--data", "db"], {
      cwd,
      env: { AERODB_CRASH_POINT: "restore:after-swap-old" },
    });
    expect(killed.signal).toBe("SIGKILL");
    // The old database is aside in db.restore-old and db is missing: init would make a database
    // there that the re-run would take for the restored one.
    expect((await fs.readdir(cwd)).filter((n) => n.startsWith("db")).sort()).toEqual([
      "db.restore-old",
      "db.restore-tmp",
    ]);
    const incomplete = { code: "AERO_RECOVERY_RESTORE_INCOMPLETE", details: { leftover: "restore-old" } };
    const init = await runAerodb(["init", "--data", "db"], { cwd });
    expect(init.code, init.stderr).toBe(1);
    expect(parseCanonical(init.lines[0] as string)).toMatchObject({ status: "error", ...incomplete });
    // start answers a FATAL error with one FATAL log line and exit 1 (core.md §9).
    const start = await runAerodb(["start", "--data", "db"], { cwd, input: "" });
    expect(start.code, start.stderr).toBe(1);
    expect(parseLogs(start.stderr)).toContainEqual(
      expect.objectContaining({ event: "FATAL", error: expect.objectContaining(incomplete) }),
    );
    expect((await fs.readdir(cwd)).filter((n) => n.startsWith("db")).sort()).toEqual([
      "db.restore-old",
      "db.restore-tmp",
    ]);

    const rerun = await runAerodb(["restore", "--input", "b.tar", "--data", "db"], { cwd });
    expect(rerun.code, rerun.stdout).toBe(0);
    const served = await runAerodb(["start", "--data", data], {
      cwd,
      input: `${JSON.stringify(queryAges(0))}\n`,
    });
    expect(served.code, served.stderr).toBe(0);
    expect((parseCanonical(served.lines[0] as string) as { data: unknown[] }).data).toHaveLength(4);
  });

  it("prints help for the new commands", async () => {
    const { cwd } = await initDb();
    for (const [command, text] of [
      ["checkpoint", "Usage: aerodb checkpoint"],
      ["backup", "--output <file>"],
      ["restore", "--input <file>"],
      ["verify", "--backup <file>"],
    ] as const) {
      const r = await runAerodb([command, "--help"], { cwd });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(text);
    }
  });
});

describe("the progress bar", () => {
  /** A database of a bit over 1 MiB (the bar's threshold), written through the embedded API. */
  async function large() {
    const { cwd, data } = await initDb();
    const db = await open({ core: { data_dir: data } }, { fs: new NodeFileSystem() });
    await db.registerSchema(USERS_SCHEMA);
    const pad = "x".repeat(24 * 1024);
    for (let i = 0; i < 60; i++) {
      await db.insert({
        schema_id: "users",
        schema_version: "v1",
        document: { _id: `big${i}`, age: i, email: pad },
      });
    }
    await db.close();
    return { cwd, data };
  }

  it("off a terminal: nothing but log lines on stderr, however large the database", async () => {
    const { cwd } = await large();
    const backup = await runAerodb(["backup", "--output", "b.tar", "--data", "db"], { cwd });
    expect(backup.code).toBe(0);
    expect((await fs.stat(path.join(cwd, "b.tar"))).size).toBeGreaterThan(1 << 20);
    expectOnlyLogs(backup.stderr);
    const restore = await runAerodb(["restore", "--input", "b.tar", "--data", "r"], { cwd });
    expectOnlyLogs(restore.stderr);
    const verify = await runAerodb(["verify", "--backup", "b.tar"], { cwd });
    expect(verify.stderr).toBe("");
  });

  it("on a terminal (a real pseudo-terminal via script(1)): the bar is drawn on stderr", async () => {
    const { cwd } = await large();
    expect((await runAerodb(["backup", "--output", "b.tar", "--data", "db"], { cwd })).code).toBe(0);
    const underPty = (args: string[]) =>
      new Promise<string | null>((resolve) => {
        const command = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(" ");
        execFile("script", ["-qec", command, "/dev/null"], { cwd, encoding: "utf8" }, (err, stdout) => {
          resolve(err && (err as { code?: unknown }).code === "ENOENT" ? null : stdout);
        });
      });
    const restored = await underPty(["restore", "--input", "b.tar", "--data", "r"]);
    if (restored === null) return; // no script(1) here: the fake-terminal test below still runs
    expect(restored).toMatch(/verify +\|#+\| 100% /);
    expect(restored).toMatch(/restore +\|#+\| 100% /);
    expect(restored).toContain('"status":"ok"');
    const verified = (await underPty(["verify", "--backup", "b.tar"])) ?? "";
    expect(verified).toMatch(/verify +\|#+\| 100% /);
    const backedUp = (await underPty(["backup", "--output", "c.tar", "--data", "db"])) ?? "";
    expect(backedUp).toMatch(/backup +\|#+\| 100% /);
    // Opening the database to back it up is a recovery like any other: its bar comes first.
    expect(backedUp).toMatch(/replay +\|#+\| 100% [\s\S]*backup +\|#+\| 100% /);
    // The bar never reaches stdout: a pipe gets the envelope alone.
    const piped = await runAerodb(["verify", "--backup", "b.tar"], { cwd });
    expect(piped.lines).toHaveLength(1);
  });

  it("recovery on a terminal: a replay bar (WAL), and after a checkpoint a load bar (snapshot)", async () => {
    const { cwd } = await large();
    const underPty = (args: string[]) =>
      new Promise<string | null>((resolve) => {
        const command = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(" ");
        execFile("script", ["-qec", command, "/dev/null"], { cwd, encoding: "utf8" }, (err, stdout) => {
          resolve(err && (err as { code?: unknown }).code === "ENOENT" ? null : stdout);
        });
      });
    const replayed = await underPty(["stats", "--data", "db"]);
    if (replayed === null) return; // no script(1) here
    expect(replayed).toMatch(/replay +\|#+\| 100% /);
    expect(replayed).not.toMatch(/load +\|/);
    expect(replayed).toContain('"status":"ok"');
    // Off a terminal the same command writes log lines only.
    const piped = await runAerodb(["stats", "--data", "db"], { cwd });
    expect(piped.code).toBe(0);
    expectOnlyLogs(piped.stderr);
    expect((await runAerodb(["checkpoint", "--data", "db"], { cwd })).code).toBe(0);
    const loaded = (await underPty(["stats", "--data", "db"])) ?? "";
    expect(loaded).toMatch(/load +\|#+\| 100% /);
    expect(loaded).toContain('"status":"ok"');
  });

  it("stderrProgress: a TTY stream gets a bar per phase above the threshold, anything else nothing", async () => {
    const chunks: string[] = [];
    const tty = Object.assign(
      new Writable({
        write(chunk, _enc, done) {
          chunks.push(String(chunk));
          done();
        },
      }),
      { isTTY: true, columns: 100 },
    );
    const sink = stderrProgress(tty, 1000, 100);
    expect(sink).toBeDefined();
    sink?.start("extract", 4 << 20);
    sink?.advance(2 << 20);
    sink?.advance(2 << 20);
    sink?.start("verify", 10); // below the threshold: no bar for this phase
    sink?.advance(10);
    sink?.start("load", 99, "steps"); // steps have their own threshold (100 here): no bar
    sink?.advance(99);
    sink?.start("index", 400, "steps"); // a phase in steps: a percentage, no MiB
    sink?.advance(100);
    sink?.advance(300);
    sink?.stop();
    const text = chunks.join("");
    expect(text).toMatch(/restore +\|#+\| 100% 4\.0\/4\.0 MiB/);
    expect(text).toMatch(/index +\|#+\| 100%/);
    expect(text).not.toMatch(/index[^\n]*MiB/);
    expect(text).not.toContain("verify");
    expect(text).not.toContain("load");
    const pipe = new Writable({ write: (_c, _e, done) => done() });
    expect(stderrProgress(pipe, 0)).toBeUndefined();
  });
});
