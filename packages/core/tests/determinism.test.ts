// Determinism (ARCHITECTURE §7, CORE-Q-2, CORE-R-1, core §13 scenarios 8 and 24): the same
// seeded workload, run twice on fresh file systems with the database id drawn from the same
// injected random source, gives byte-identical responses (every result and every error in
// canonical JSON), explain outputs, recovery reports after a reopen, and identical bytes in
// every file of the data directory except LOCK. The simulated file system and the real one
// (node:fs on temp dirs, with the same data_dir path) agree too.
//
// Replay one seed: AERODB_SEED=<n> npx vitest run tests/determinism.test.ts
import { mkdtemp, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as nodePath from "node:path";
import {
  type FileSystem,
  NodeFileSystem,
  SeededRandom,
  SimFileSystem,
  seedList,
  withSeed,
} from "@aerodb/base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canonicalJson } from "../src/canonical-json.js";
import { type Database, open } from "../src/engine/database.js";
import {
  dumpTree,
  generateWorkload,
  readDbState,
  runWorkload,
  type Workload,
  workloadCoreConfig,
} from "./support/workload.js";

interface Transcript {
  readonly databaseId: string;
  /** canonicalJson of every step's result or error, in step order. */
  readonly responses: readonly string[];
  /** Explain of a fixed set of requests, each asked twice. */
  readonly explains: readonly string[];
  /** Recovery reports: of the first open (fresh), and of the reopen after a clean close. */
  readonly reports: readonly string[];
  readonly state: string;
  readonly stateAfterReopen: string;
  readonly stats: string;
  /** Every file of the data directory but LOCK, with its bytes. */
  readonly tree: ReadonlyArray<[string, string]>;
}

function randomSource(seed: number): (count: number) => Uint8Array {
  const rnd = new SeededRandom(seed ^ 0x1d872b41);
  return (count) => rnd.bytes(count);
}

/** Explain requests over every registered version: PK lookup, INDEX_EQ, INDEX_RANGE, refusals. */
function explainRequests(db: Database): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const def of db.schemas()) {
    const base = { schema_id: def.schema_id, schema_version: def.schema_version };
    const idType = (def.fields._id as { type: string }).type;
    const someId = idType === "int" ? 3 : "u3";
    out.push({ ...base, filter: { _id: someId }, limit: 1 });
    out.push({
      ...base,
      filter: { _id: { $gt: idType === "int" ? -1 : "a", $lte: someId } },
      limit: 7,
      sort: "-_id",
    });
    for (const field of def.indexes) {
      const type = (def.fields[field] as { type: string }).type;
      const value = type === "int" ? 4 : type === "float" ? 2.5 : type === "bool" ? true : "m";
      out.push({ ...base, filter: { [field]: value }, limit: 3 });
      if (type !== "bool") out.push({ ...base, filter: { [field]: { $gte: value } }, limit: 9, sort: field });
    }
    out.push({ ...base, filter: {}, limit: 1 }); // QUERY_UNBOUNDED
    out.push({ ...base, filter: { _id: someId } }); // QUERY_LIMIT_REQUIRED
  }
  out.push({ schema_id: "nope", schema_version: "v1", filter: { _id: 1 }, limit: 1 });
  return out;
}

async function runTranscript(fs: FileSystem, dataDir: string, workload: Workload): Promise<Transcript> {
  const config = workloadCoreConfig(dataDir);
  const db = await open(config, { fs, initialize: true, randomBytes: randomSource(workload.seed) });
  const fresh = canonicalJson(db.recoveryReport());
  const record = await runWorkload(db, workload);
  expect(record.crashed).toBe(false);
  expect(record.mismatches).toEqual([]);
  const explains: string[] = [];
  for (const request of explainRequests(db)) {
    const first = canonicalJson(db.explain(request));
    // Scenario 24: explain twice -> the same bytes.
    expect(canonicalJson(db.explain(request))).toBe(first);
    explains.push(first);
  }
  const state = canonicalJson(readDbState(db));
  const stats = canonicalJson(db.stats());
  const databaseId = db.databaseId;
  await db.close();

  const again = await open(config, { fs });
  const reopened = canonicalJson(again.recoveryReport());
  const stateAfterReopen = canonicalJson(readDbState(again));
  for (const [i, request] of explainRequests(again).entries()) {
    expect(canonicalJson(again.explain(request))).toBe(explains[i]);
  }
  await again.close();
  const tree = await dumpTree(fs, dataDir, (rel) => rel === "LOCK");
  return {
    databaseId,
    responses: record.outcomes.map((o) => o?.text ?? "not issued"),
    explains,
    reports: [fresh, reopened],
    state,
    stateAfterReopen,
    stats,
    tree,
  };
}

function expectSame(a: Transcript, b: Transcript): void {
  expect(b.databaseId).toBe(a.databaseId);
  expect(b.responses).toEqual(a.responses);
  expect(b.explains).toEqual(a.explains);
  expect(b.reports).toEqual(a.reports);
  expect(b.state).toBe(a.state);
  expect(b.stateAfterReopen).toBe(a.stateAfterReopen);
  expect(b.stats).toBe(a.stats);
  expect(b.tree.map(([p]) => p)).toEqual(a.tree.map(([p]) => p));
  expect(b.tree).toEqual(a.tree);
  expect(canonicalJson(b)).toBe(canonicalJson(a));
}

describe("determinism on the simulated file system", () => {
  it.each(seedList("engine-determinism", 8))(
    "seed %i: two fresh runs give identical responses, explains, reports and files",
    async (seed) => {
      await withSeed(seed, async () => {
        const workload = generateWorkload(seed);
        const a = await runTranscript(new SimFileSystem(), "/db", workload);
        const b = await runTranscript(new SimFileSystem(), "/db", workload);
        expectSame(a, b);
        // Not vacuous: the transcript holds the work done.
        expect(a.state).toBe(b.state);
        expect(a.tree.some(([p]) => p.startsWith("wal/") && p.endsWith(".wal"))).toBe(true);
        expect(a.tree.some(([p]) => p === "metadata/state.json")).toBe(true);
        expect(a.tree.some(([p]) => p === "LOCK")).toBe(false);
        // The state after the workload is the model's.
        const reopened = JSON.parse(a.reports[1] as string) as { commit_high_water: number };
        expect(reopened.commit_high_water).toBe(workload.lastCommit);
      });
    },
  );

  it("different seeds give different databases (the comparison is not vacuous)", async () => {
    const [s1, s2] = [101, 202];
    const a = await runTranscript(new SimFileSystem(), "/db", generateWorkload(s1));
    const b = await runTranscript(new SimFileSystem(), "/db", generateWorkload(s2));
    expect(a.databaseId).not.toBe(b.databaseId);
    expect(canonicalJson(a.tree)).not.toBe(canonicalJson(b.tree));
  });
});

describe("determinism on the real file system", () => {
  let tmp = "";
  beforeAll(async () => {
    tmp = await mkdtemp(nodePath.join(tmpdir(), "aerodb-determinism-"));
  });
  afterAll(async () => {
    if (tmp !== "") await rm(tmp, { recursive: true, force: true });
  });

  it.each(seedList("engine-determinism-real", 2))(
    "seed %i: two temp dirs, and the simulated file system, hold the same bytes",
    async (seed) => {
      await withSeed(seed, async () => {
        const workload = generateWorkload(seed, { steps: 20 });
        // data_dir is persisted in state.json, so both runs use the same path in turn.
        const dataDir = nodePath.join(tmp, `db-${seed}`);
        const a = await runTranscript(new NodeFileSystem(), dataDir, workload);
        await rename(dataDir, `${dataDir}-first`);
        const b = await runTranscript(new NodeFileSystem(), dataDir, workload);
        expectSame(a, b);
        // The simulated file system, given the same path, produces the same bytes.
        const sim = await runTranscript(new SimFileSystem(), dataDir, workload);
        expectSame(a, sim);
      });
    },
  );
});
