import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  assertBuilt,
  fatalLogs,
  initDataDir,
  killStragglers,
  parseCanonical,
  removeTempDirs,
  runAerodb,
  tempDir,
} from "./harness.js";
import { nRequests, nSchema, requestLines } from "./requests.js";

// Real SIGKILL of a running `aerodb start` in the middle of a checkpoint (core.md §10, §13
// scenario 31, issue 4): AERODB_CRASH_POINT kills the server at each step of the checkpoint.
// After each kill, a restart must serve every acknowledged insert exactly once, start from
// the old checkpoint when the kill came before the marker was durable and from the new one
// after, and a further checkpoint and restart must give the same data.

const SCHEMA = nSchema("ck");
const { insert, all: byN } = nRequests("ck");
const lines = requestLines;

/** Where each point lies relative to the durable marker (checkpoint.json). */
const POINTS: ReadonlyArray<{ point: string; markerDurable: boolean }> = [
  { point: "checkpoint:after-snapshot-files", markerDurable: false },
  { point: "checkpoint:after-snapshot", markerDurable: false },
  { point: "checkpoint:after-marker", markerDurable: true },
  { point: "checkpoint:after-truncate", markerDurable: true },
];

let cwd: string;

beforeAll(() => assertBuilt());
afterEach(async () => killStragglers());
afterAll(async () => removeTempDirs());

describe("SIGKILL during a checkpoint of a running `aerodb start`", () => {
  it.each(POINTS)(
    "killed at $point: acknowledged inserts survive, the right checkpoint is used",
    async ({ point, markerDurable }) => {
      cwd = await tempDir("ckill");
      const data = await initDataDir(cwd);
      // Commits 1..6 and a first checkpoint at 6, so "the old checkpoint" exists.
      const first = await runAerodb(["start", "--data", data], {
        cwd,
        input: lines([
          { op: "register_schema", schema: SCHEMA },
          ...[1, 2, 3, 4, 5].map((n) => insert(`a${n}`, n)),
          { op: "checkpoint" },
        ]),
      });
      expect(first.code, first.stderr).toBe(0);
      expect(parseCanonical(first.lines[6] as string)).toMatchObject({
        status: "ok",
        data: { commit_boundary: 6 },
      });

      // Commits 7..9, then a checkpoint at 9 that is killed at `point`; the insert after it is never read.
      const crashed = await runAerodb(["start", "--data", data], {
        cwd,
        env: { AERODB_CRASH_POINT: point },
        input: lines([
          insert("b1", 11),
          insert("b2", 12),
          insert("b3", 13),
          { op: "checkpoint" },
          insert("b4", 14),
        ]),
      });
      expect(crashed.signal, `${point}: ${crashed.stderr}`).toBe("SIGKILL");
      const acknowledged = crashed.lines.map(parseCanonical).filter((r) => typeof r.commit_id === "number");
      expect(acknowledged.map((r) => r.commit_id)).toEqual([7, 8, 9]);
      expect(crashed.lines).toHaveLength(3); // the checkpoint never answered

      const restart = await runAerodb(["start", "--data", data], { cwd, input: lines([byN]) });
      expect(restart.code, restart.stderr).toBe(0);
      expect(fatalLogs(restart.logs)).toEqual([]);
      const report = restart.logs.find((l) => l.event === "RECOVERY_COMPLETE")?.report as Record<
        string,
        unknown
      >;
      expect(report.commit_high_water).toBe(9);
      expect(report.checkpoint).toMatchObject({ commit_boundary: markerDurable ? 9 : 6 });
      const rows = parseCanonical(restart.lines[0] as string).data as Array<{ _id: string; n: number }>;
      expect(rows.map((r) => r._id)).toEqual(["a1", "a2", "a3", "a4", "a5", "b1", "b2", "b3"]);

      // The database goes on: another checkpoint, another restart, the same rows.
      const again = await runAerodb(["start", "--data", data], {
        cwd,
        input: lines([{ op: "checkpoint" }, insert("c1", 21)]),
      });
      expect(again.code, again.stderr).toBe(0);
      expect(parseCanonical(again.lines[0] as string)).toMatchObject({
        status: "ok",
        data: { commit_boundary: 9 },
      });
      expect(parseCanonical(again.lines[1] as string)).toMatchObject({ commit_id: 10 });
      const final = await runAerodb(["start", "--data", data], { cwd, input: lines([byN]) });
      const finalReport = final.logs.find((l) => l.event === "RECOVERY_COMPLETE")?.report as Record<
        string,
        unknown
      >;
      expect(finalReport).toMatchObject({ commit_high_water: 10, checkpoint: { commit_boundary: 9 } });
      const finalRows = parseCanonical(final.lines[0] as string).data as Array<{ _id: string }>;
      expect(finalRows.map((r) => r._id)).toEqual(["a1", "a2", "a3", "a4", "a5", "b1", "b2", "b3", "c1"]);
    },
  );
});
