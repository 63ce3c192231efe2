import { existsSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, parseCanonical, removeTempDirs, runAerodb, tempDir } from "./helpers.js";

beforeAll(assertBuilt);
afterAll(removeTempDirs);

describe("aerodb --help", () => {
  it("prints usage and exits 0 on the top level and on every command", async () => {
    const cwd = await tempDir();
    const cases = [
      ["--help"],
      ["-h"],
      ["help"],
      ["help", "start"],
      ["init", "--help"],
      ["start", "--help"],
      ["schema", "add", "--help"],
      ["schema", "--help"],
      ["verify", "-h"],
      ["stats", "--help"],
      // --help wins over every other problem of the line
      ["start", "--bogus", "--help"],
    ];
    const results = await Promise.all(cases.map((args) => runAerodb(args, { cwd })));
    results.forEach((r, i) => {
      expect(r.code, cases[i]?.join(" ")).toBe(0);
      expect(r.stdout).toMatch(/^Usage: aerodb|\nUsage: aerodb/);
    });
    expect(results[5]?.stdout).toContain("AERODB_SERVING");
    expect(results[6]?.stdout).toContain("--file <file>");
  });
});

describe("usage errors", () => {
  it("answer one AERO_CLI_USAGE line on stdout and exit 2", async () => {
    const cwd = await tempDir();
    const cases: Array<[string[], string]> = [
      [[], "missing_command"],
      [["frobnicate"], "unknown_command"],
      [["backup", "--data", "x"], "missing_option"],
      [["restore", "--data", "x"], "missing_option"],
      [["schema"], "missing_command"],
      [["schema", "drop"], "unknown_command"],
      [["init", "--bogus"], "unknown_option"],
      [["init", "--data"], "missing_value"],
      [["init", "--data", "--config", "c.json"], "missing_value"],
      [["init", "--data="], "missing_value"],
      [["init", "--data", "a", "--data", "b"], "repeated_option"],
      [["stats", "--data", "x", "extra"], "unexpected_argument"],
      [["start", "--help=yes"], "unexpected_value"],
      [["schema", "add", "--data", "x"], "missing_option"],
      [["verify"], "missing_data_dir"],
    ];
    const results = await Promise.all(cases.map(([args]) => runAerodb(args, { cwd })));
    results.forEach((r, i) => {
      const [args, reason] = cases[i] as [string[], string];
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.lines).toHaveLength(1);
      const error = parseCanonical(r.lines[0] as string);
      expect(error).toMatchObject({ status: "error", code: "AERO_CLI_USAGE", severity: "REJECT" });
      expect((error.details as { reason: string }).reason, args.join(" ")).toBe(reason);
      expect(r.stdout).not.toContain(cwd);
    });
  });
});

describe("configuration", () => {
  it("refuses a missing --config file, a file that is not JSON, and unknown keys", async () => {
    const cwd = await tempDir();
    await fs.writeFile(path.join(cwd, "bad.json"), "{not json");
    await fs.writeFile(
      path.join(cwd, "unknown.json"),
      JSON.stringify({ core: { data_dir: "db", turbo: true } }),
    );
    await fs.writeFile(
      path.join(cwd, "unsafe.json"),
      JSON.stringify({ core: { data_dir: "db", wal_sync_mode: "none" } }),
    );
    const [missing, notJson, unknown, unsafe] = await Promise.all([
      runAerodb(["init", "--config", "nope.json", "--data", "db"], { cwd }),
      runAerodb(["init", "--config", "bad.json", "--data", "db"], { cwd }),
      runAerodb(["init", "--config", "unknown.json"], { cwd }),
      runAerodb(["stats", "--config", "unsafe.json"], { cwd }),
    ]);
    expect(missing.code).toBe(1);
    expect(parseCanonical(missing.lines[0] as string)).toMatchObject({
      code: "AERO_CONFIG_IO_FAILED",
      severity: "FATAL",
      details: { errno: "ENOENT", file: "nope.json" },
    });
    expect(notJson.code).toBe(1);
    expect(parseCanonical(notJson.lines[0] as string)).toMatchObject({
      code: "AERO_CONFIG_INVALID",
      details: { reason: "not_json" },
    });
    expect(unknown.code).toBe(1);
    expect(parseCanonical(unknown.lines[0] as string)).toMatchObject({
      code: "AERO_CONFIG_INVALID",
      details: { keys: ["turbo"] },
    });
    expect(unsafe.code).toBe(1);
    expect(parseCanonical(unsafe.lines[0] as string)).toMatchObject({ code: "AERO_CONFIG_UNSAFE" });
    expect(existsSync(path.join(cwd, "db"))).toBe(false);
  });

  it("uses ./aerodb.json by default, its data_dir relative to the file; --data overrides it", async () => {
    const cwd = await tempDir();
    await fs.writeFile(path.join(cwd, "aerodb.json"), JSON.stringify({ core: { data_dir: "from-file" } }));
    const sub = path.join(cwd, "sub");
    await fs.mkdir(sub);
    await fs.writeFile(path.join(sub, "cfg.json"), JSON.stringify({ core: { data_dir: "rel" } }));
    const byDefault = await runAerodb(["init"], { cwd });
    expect(byDefault.code).toBe(0);
    expect(parseCanonical(byDefault.lines[0] as string)).toMatchObject({
      status: "ok",
      data: { data_dir: path.join(cwd, "from-file") },
    });
    const overridden = await runAerodb(["init", "--data", "other"], { cwd });
    expect(parseCanonical(overridden.lines[0] as string)).toMatchObject({
      data: { data_dir: path.join(cwd, "other") },
    });
    const relToFile = await runAerodb(["init", "--config", "sub/cfg.json"], { cwd });
    expect(parseCanonical(relToFile.lines[0] as string)).toMatchObject({
      data: { data_dir: path.join(sub, "rel") },
    });
  });
});

describe("aerodb init", () => {
  it("initializes an absent or empty directory once, then refuses it as not empty", async () => {
    const cwd = await tempDir();
    const empty = path.join(cwd, "empty");
    await fs.mkdir(empty);
    const first = await runAerodb(["init", "--data", "db"], { cwd });
    expect(first.code).toBe(0);
    expect(first.lines).toHaveLength(1);
    const ok = parseCanonical(first.lines[0] as string) as { status: string; data: Record<string, string> };
    expect(ok.status).toBe("ok");
    expect(ok.data.database_id).toMatch(/^[0-9a-f]{32}$/);
    expect(ok.data.data_dir).toBe(path.join(cwd, "db"));
    expect((await fs.readdir(path.join(cwd, "db"))).sort()).toEqual(["MANIFEST", "metadata", "wal"]);

    const [again, intoEmpty] = await Promise.all([
      runAerodb(["init", "--data", "db"], { cwd }),
      runAerodb(["init", "--data", empty], { cwd }),
    ]);
    expect(again.code).toBe(1);
    expect(parseCanonical(again.lines[0] as string)).toMatchObject({
      code: "AERO_STORAGE_ALREADY_INITIALIZED",
    });
    expect(again.stdout).not.toContain(cwd);
    expect(intoEmpty.code).toBe(0);
  });

  it("fires a file-system crash point when AERODB_CRASH_POINT names one", async () => {
    const cwd = await tempDir();
    // init writes metadata/state.json atomically (temp file, fsync, rename) before MANIFEST.
    const killed = await runAerodb(["init", "--data", "db"], {
      cwd,
      env: { AERODB_CRASH_POINT: "before-rename:1" },
    });
    expect(killed.signal).toBe("SIGKILL");
    expect(killed.stdout).toBe("");
    expect(existsSync(path.join(cwd, "db", "MANIFEST"))).toBe(false);
    expect(existsSync(path.join(cwd, "db", "metadata", "state.json.tmp"))).toBe(true);
  });
});
