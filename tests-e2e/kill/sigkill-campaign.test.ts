import { SeededRandom, seedList, withSeed } from "@aerodb/base";
import { canonicalJson } from "@aerodb/core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  AerodbProcess,
  assertBuilt,
  fatalLogs,
  initDataDir,
  killStragglers,
  parseCanonical,
  removeTempDirs,
  runAerodb,
  tempDir,
} from "./harness.js";

// core.md §1.3 (WAL-1: no acknowledgement before its fsync), §9 (CORE-R-3: acknowledged
// commits survive any crash), WAL-3 (dense CommitIds), scenario 38 (kill: absent or
// complete) and 39 (kill in recovery): real `aerodb start` processes, real SIGKILL at
// seeded moments, one data directory reused across every kill.
//
// Each session first verifies, by _id, every round not yet verified (a round = one batch
// of inserts written at once to a session that was then killed), then streams a new round
// and is killed after a seeded number of responses (sometimes before the first, sometimes
// with hundreds in flight, sometimes when idle), or, now and then, at a seeded delay right
// after spawning (during recovery). A round's outcome must be: every insert whose response
// line was printed is present with its exact document; the inserts present form a prefix
// of the round (one writer, in order); none is duplicated or damaged; the commit ids of
// acknowledged inserts are dense, and the restart's commit_high_water = inserts present + 1
// (the schema).
//
// AERODB_KILLS=<k> multiplies the number of kills (50 by default); AERODB_SEED=<n> replays.

const MULTIPLIER = Math.max(1, Number(process.env.AERODB_KILLS ?? "1") || 1);
const KILLS = 50 * MULTIPLIER;
const MAX_BATCH = 240;

const SCHEMA = {
  format_version: 1,
  schema_id: "kill",
  schema_version: "v1",
  fields: {
    _id: { type: "string", required: true },
    round: { type: "int", required: true },
    i: { type: "int", required: true },
    pad: { type: "string", required: true },
    f: { type: "float", required: true },
  },
  indexes: ["round"],
};
const TARGET = { schema_id: "kill", schema_version: "v1" };
const PAD_ALPHABET = ["a", "b", "z", "0", " ", "é", "😀", '"', "\\", "\u0001", "/", "\u2028"];

interface Doc {
  readonly _id: string;
  readonly round: number;
  readonly i: number;
  readonly pad: string;
  readonly f: number;
}

interface Round {
  readonly round: number;
  readonly docs: Doc[];
  /** Responses printed before the kill. */
  acked: number;
  /** Inserts found present once verified (a prefix of docs), null until verified. */
  present: number | null;
}

interface Tally {
  kills: number;
  early: number;
  beforeFirst: number;
  inFlight: number;
  idle: number;
  acked: number;
  presentUnacked: number;
  tornTails: number;
  staleLocks: number;
}

let cwd: string;
let data: string;

beforeAll(async () => {
  assertBuilt();
  cwd = await tempDir("kill");
  data = await initDataDir(cwd);
  const reg = await runAerodb(["start", "--data", data], {
    cwd,
    input: `${JSON.stringify({ op: "register_schema", schema: SCHEMA })}\n`,
  });
  expect(reg.code, reg.stderr).toBe(0);
  expect(reg.lines).toEqual(['{"commit_id":1,"data":[],"status":"ok"}']);
});

afterEach(killStragglers);
afterAll(removeTempDirs);

function makeRound(rng: SeededRandom, round: number, size: number): Round {
  const docs: Doc[] = [];
  for (let i = 0; i < size; i++) {
    let pad = "";
    const len = rng.bool(0.1) ? rng.int(200, 2000) : rng.int(0, 40);
    for (let c = 0; c < len; c++) pad += rng.pick(PAD_ALPHABET);
    docs.push({ _id: `r${round}-${i}`, round, i, pad, f: rng.int(-1_000_000, 1_000_000) / 64 });
  }
  return { round, docs, acked: 0, present: null };
}

function insertsOf(round: Round): unknown[] {
  return round.docs.map((document) => ({ op: "insert", ...TARGET, document }));
}

/** The queries that verify a round: one PK lookup per insert, then the round's index query. */
function queriesOf(round: Round): unknown[] {
  return [
    ...round.docs.map((d) => ({ op: "query", ...TARGET, filter: { _id: d._id }, limit: 1 })),
    { op: "query", ...TARGET, filter: { round: round.round }, limit: 1000 },
  ];
}

/** Checks one round against its query responses and records how many inserts are present. */
function verifyRound(round: Round, responses: ReadonlyArray<Record<string, unknown>>): void {
  const where = (i: number) =>
    `round ${round.round}, insert ${i} (${round.docs.length} sent, ${round.acked} acked)`;
  let present = 0;
  let gapAt = -1;
  round.docs.forEach((doc, i) => {
    const response = responses[i] as Record<string, unknown>;
    expect(response.status, where(i)).toBe("ok");
    const rows = response.data as unknown[];
    expect(rows.length, where(i)).toBeLessThanOrEqual(1);
    if (rows.length === 1) {
      expect(canonicalJson(rows[0]), `damaged document: ${where(i)}`).toBe(canonicalJson(doc));
      if (gapAt !== -1)
        throw new Error(`present after an absent insert ${gapAt} (not a prefix): ${where(i)}`);
      present++;
    } else {
      if (i < round.acked) throw new Error(`acknowledged insert missing after the kill: ${where(i)}`);
      if (gapAt === -1) gapAt = i;
    }
  });
  const byIndex = responses[round.docs.length] as Record<string, unknown>;
  expect(byIndex.status).toBe("ok");
  const rows = byIndex.data as Array<Record<string, unknown>>;
  const ids = rows.map((r) => r._id as string);
  expect(new Set(ids).size, `duplicate documents in round ${round.round}`).toBe(ids.length);
  expect(ids.length, `round ${round.round}: index query vs PK lookups`).toBe(present);
  for (const row of rows) {
    const i = row.i as number;
    expect(canonicalJson(row)).toBe(canonicalJson(round.docs[i]));
  }
  round.present = present;
}

/** Sends the verification queries of `rounds` to a serving session and checks the answers. */
async function verifyRounds(proc: AerodbProcess, rounds: Round[]): Promise<void> {
  const queries = rounds.flatMap(queriesOf);
  if (queries.length === 0) return;
  const base = proc.lineCount;
  proc.send(queries);
  await proc.responses(base + queries.length, 60_000);
  const responses = proc.lines.slice(base).map(parseCanonical);
  let at = 0;
  for (const round of rounds) {
    verifyRound(round, responses.slice(at, at + round.docs.length + 1));
    at += round.docs.length + 1;
  }
}

function presentTotal(rounds: readonly Round[]): number {
  return rounds.reduce((sum, r) => sum + (r.present ?? 0), 0);
}

function checkReport(report: Record<string, unknown> | null, rounds: readonly Round[], tally: Tally): number {
  if (report === null) throw new Error("no RECOVERY_COMPLETE report before serving");
  expect(report.outcome).toBe("RECOVERY_COMPLETE");
  expect((report.schemas as { registered: number }).registered).toBe(1);
  if (report.torn_tail !== null) tally.tornTails++;
  if (report.stale_lock === true) tally.staleLocks++;
  const highWater = report.commit_high_water as number;
  if (rounds.every((r) => r.present !== null)) {
    expect(highWater, "commit_high_water = inserts present + 1 schema").toBe(presentTotal(rounds) + 1);
  }
  return highWater;
}

/** The acknowledged responses of a killed session: dense commit ids from its high-water. */
function countAcks(proc: AerodbProcess, base: number, round: Round, highWater: number | null): void {
  const lines = proc.lines.slice(base);
  expect(lines.length).toBeLessThanOrEqual(round.docs.length);
  lines.forEach((line, k) => {
    const response = parseCanonical(line);
    expect(response.status, `round ${round.round} response ${k}: ${line}`).toBe("ok");
    if (highWater !== null)
      expect(response.commit_id, "acknowledged commit ids are dense").toBe(highWater + 1 + k);
  });
  round.acked = lines.length;
}

describe("SIGKILL campaign (core §9 CORE-R-3, WAL-1, WAL-3; scenarios 38, 39)", () => {
  it(
    `survives ${KILLS} real SIGKILLs at seeded moments with every acknowledged insert intact`,
    async () => {
      const seed = seedList("e2e:sigkill-campaign", 1)[0] as number;
      process.stdout.write(`sigkill-campaign: seed ${seed} (replay: AERODB_SEED=${seed}), ${KILLS} kills\n`);
      const started = Date.now();
      const tally: Tally = {
        kills: 0,
        early: 0,
        beforeFirst: 0,
        inFlight: 0,
        idle: 0,
        acked: 0,
        presentUnacked: 0,
        tornTails: 0,
        staleLocks: 0,
      };
      await withSeed(seed, async () => {
        const rng = new SeededRandom(seed);
        const rounds: Round[] = [];
        for (let k = 0; k < KILLS; k++) {
          const proc = new AerodbProcess(["start", "--data", data], { cwd });
          const round = makeRound(rng, rounds.length, rng.int(1, MAX_BATCH));
          let base = 0;
          let highWater: number | null = null;
          if (rng.bool(0.12)) {
            // Early kill: the inserts are written at once, the kill lands at a seeded delay,
            // often while the process is still booting or recovering.
            tally.early++;
            proc.send(insertsOf(round));
            await new Promise((resolve) => setTimeout(resolve, rng.int(0, 300)));
            proc.kill();
          } else {
            await proc.serving();
            const pending = rounds.filter((r) => r.present === null);
            await verifyRounds(proc, pending);
            highWater = checkReport(proc.recoveryReport(), rounds, tally);
            base = proc.lineCount;
            const roll = rng.int(0, 99);
            const inserts = insertsOf(round);
            if (roll < 15) {
              tally.beforeFirst++;
              proc.send(inserts);
              proc.kill();
            } else if (roll < 30) {
              tally.idle++;
              proc.send(inserts);
              await proc.responses(base + inserts.length, 60_000);
              proc.kill();
            } else {
              tally.inFlight++;
              const target = base + rng.int(1, Math.max(1, inserts.length - 1));
              proc.onStdoutLines = (count) => {
                if (count >= target) proc.kill();
              };
              proc.send(inserts);
            }
          }
          let hung = false;
          const guard = setTimeout(() => {
            hung = true;
            proc.kill();
          }, 60_000);
          const exit = await proc.exited;
          clearTimeout(guard);
          expect(hung, `session ${k} stopped answering; stderr: ${proc.stderr.slice(-2000)}`).toBe(false);
          expect(
            exit.signal,
            `session ${k} ended by itself (${exit.code}): ${proc.stderr.slice(-2000)}`,
          ).toBe("SIGKILL");
          expect(fatalLogs(proc.logs())).toEqual([]);
          if (highWater === null && proc.lines.length > base) {
            highWater = (proc.recoveryReport()?.commit_high_water as number | undefined) ?? null;
          }
          countAcks(proc, base, round, highWater);
          tally.acked += round.acked;
          tally.kills++;
          rounds.push(round);
        }

        // A fresh session: verify what is pending, then every insert of every round by _id.
        const final = new AerodbProcess(["start", "--data", data], { cwd });
        await final.serving();
        await verifyRounds(
          final,
          rounds.filter((r) => r.present === null),
        );
        const finalHighWater = checkReport(final.recoveryReport(), rounds, tally);
        const before = rounds.map((r) => r.present);
        await verifyRounds(final, rounds);
        expect(
          rounds.map((r) => r.present),
          "the state did not change between two verifications",
        ).toEqual(before);
        const exit = await final.stop();
        expect(exit.code, final.stderr).toBe(0);
        expect(fatalLogs(final.logs())).toEqual([]);

        const present = presentTotal(rounds);
        tally.presentUnacked = present - tally.acked;
        expect(finalHighWater).toBe(present + 1);
        const stats = await runAerodb(["stats", "--data", data], { cwd });
        expect(stats.code, stats.stdout + stats.stderr).toBe(0);
        const statsData = parseCanonical(stats.lines[0] as string).data as Record<string, unknown>;
        expect(statsData.commit_high_water).toBe(present + 1);
        expect(statsData.documents).toBe(present);
        expect(statsData.schemas).toBe(1);
      });
      process.stdout.write(
        `sigkill-campaign: ${tally.kills} kills (${tally.early} early/in recovery, ${tally.beforeFirst} before the first response, ` +
          `${tally.inFlight} with inserts in flight, ${tally.idle} idle), ${tally.acked} acknowledged inserts, ` +
          `${tally.presentUnacked} present without acknowledgement, ${tally.tornTails} torn tails cut, ` +
          `${tally.staleLocks} stale locks taken over, ${Date.now() - started} ms\n`,
      );
      expect(tally.kills).toBeGreaterThanOrEqual(50);
    },
    150_000 * MULTIPLIER,
  );
});
