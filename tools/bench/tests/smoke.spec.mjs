// A smoke run of the whole harness with tiny counts (seconds): every system x workload runs in
// its own process and lands in the report with positive figures and computed ratios. It asserts
// nothing about speed; it keeps `pnpm bench` from rotting.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const benchDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const PEERS = ["sqlite", "lmdb", "leveldb"];
const SYSTEMS = ["aerodb", ...PEERS, "disk"];

let tmp;
let run;
let report;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "aerodb-bench-smoke-"));
  const out = path.join(tmp, "report.json");
  run = spawnSync(
    process.execPath,
    [path.join(benchDir, "bench.mjs"), "--tiny", "--out", out, "--markdown", path.join(tmp, "report.md")],
    { encoding: "utf8", timeout: 170_000 },
  );
  report = fs.existsSync(out) ? JSON.parse(fs.readFileSync(out, "utf8")) : null;
});

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe("pnpm bench --tiny", () => {
  it("exits 0 and writes a report", () => {
    expect(run.stderr, run.stdout).not.toMatch(/FAILED/);
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(report).not.toBeNull();
    expect(report.failures).toEqual([]);
    expect(run.stdout).toMatch(/Ratios: AeroDB median/);
  });

  it("has every system x workload 1-6 with positive figures (the disk for 1-3)", () => {
    for (const w of [1, 2, 3, 4, 5, 6]) {
      for (const s of SYSTEMS) {
        const r = report.results[w][s];
        if (s === "disk" && w > 3) {
          expect(r.status).toBe("not applicable");
          continue;
        }
        expect(r.status, `${s} workload ${w}`).toBe("measured");
        expect(r.median, `${s} workload ${w}`).toBeGreaterThan(0);
        expect(r.min).toBeLessThanOrEqual(r.max);
        expect(r.rss_mib.max).toBeGreaterThan(0);
      }
    }
  });

  it("lists workload 7 as not applicable", () => {
    for (const s of SYSTEMS) expect(report.results[7][s].status).toBe("not applicable");
    expect(report.not_applicable.some((n) => n.workload === 7)).toBe(true);
  });

  it("computes AeroDB's ratio to every peer and to the disk", () => {
    for (const w of [1, 2, 3, 4, 5, 6]) {
      for (const s of PEERS) expect(report.ratios[w][s], `workload ${w} / ${s}`).toBeGreaterThan(0);
    }
    for (const w of [1, 2, 3]) expect(report.ratios[w].disk).toBeGreaterThan(0);
  });

  it("records AeroDB's WAL bytes and fsyncs per commit", () => {
    for (const w of [1, 2, 3]) {
      const wal = report.results[w].aerodb.aerodb_wal;
      expect(wal.bytes_per_commit).toBeGreaterThan(0);
      expect(wal.fsyncs_per_commit).toBeGreaterThan(0);
    }
  });

  it("records the settings read back and the versions of every system", () => {
    expect(report.settings.systems.sqlite.journal_mode).toBe("wal");
    expect(report.settings.systems.sqlite.synchronous).toMatch(/FULL/);
    for (const s of SYSTEMS) expect(report.versions[s].package).toBeTruthy();
  });

  it("got the same range-query rows from every system", () => {
    expect(report.checks.range_results_agree).toBe(true);
  });
});
