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

  it("has every system x workload 1-6 with positive figures (the disk for 1-4 and 6)", () => {
    for (const w of [1, 2, 3, 4, 5, 6]) {
      for (const s of SYSTEMS) {
        const r = report.results[w][s];
        if (s === "disk" && w === 5) {
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
    for (const w of [1, 2, 3, 4, 6]) expect(report.ratios[w].disk).toBeGreaterThan(0);
  });

  it("measures the same-run references: async overwrite, naive parse, reopen after a checkpoint", () => {
    expect(report.results[1].disk.extra.async_overwrite_per_s).toBeGreaterThan(0);
    expect(report.ratios[1].disk_overwrite).toBeGreaterThan(0);
    expect(report.ratios[1].disk_async).toBeGreaterThan(0);
    expect(report.ratios[1].sqlite_over_disk_async).toBeGreaterThan(0);
    expect(report.results[6].disk.runs[0].extra.what).toMatch(/naive parse/);
    expect(report.results[6].aerodb.extra.after_checkpoint_median_ms).toBeGreaterThan(0);
    expect(report.ratios[6].disk_after_checkpoint).toBeGreaterThan(0);
    expect(run.stdout).toMatch(/disk, workload 1, the baseline's own I\/O without blocking the loop/);
    expect(run.stdout).toMatch(/disk, workload 6: naive parse floor .* ms \(AeroDB reopen \/ that/);
    expect(report.results[4].disk.runs[0].extra.what).toMatch(/floor of a point read from the file/);
    expect(run.stdout).toMatch(
      /disk, workload 4: a read from the file .* reads\/s \(AeroDB \/ that .*; SQLite \/ that/,
    );
    expect(run.stdout).toMatch(/AeroDB, workload 6 after a checkpoint: .* ms \(\/ naive parse/);
  });

  it("measures the verify floor of workload 6: every frame of AeroDB-shaped log checked, against the naive parse", () => {
    const extra = report.results[6].disk.runs[0].extra;
    expect(extra.verify_floor_what).toMatch(/the CRC-32 of every frame checked/);
    expect(extra.verify_floor_ms).toBeGreaterThan(0);
    expect(extra.verify_floor_file_mib).toBeGreaterThan(0);
    expect(report.ratios[6].disk_verify).toBeGreaterThan(0);
    expect(report.ratios[6].verify_floor_over_naive).toBeGreaterThan(0);
    expect(run.stdout).toMatch(
      /disk, workload 6: verifying every frame of AeroDB's log .* ms = .*x the naive parse floor \(target <= 0\.2\); AeroDB reopen \/ that/,
    );
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
