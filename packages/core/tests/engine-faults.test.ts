// Injected I/O faults and crashes inside recovery, on the simulated file system (core §1.3,
// §7, §9; ARCHITECTURE §4–5; core §13 scenarios 39 and 43):
// - an fsync failure fails the commits it covered with FATAL AERO_WAL_FSYNC_FAILED, every later
//   call gets the same error, and a restart keeps every earlier acknowledged commit;
// - a failed WAL write is FATAL AERO_WAL_APPEND_FAILED and the failed commit never appears;
// - a failed schema-file write after the registration's fsync is FATAL
//   AERO_STORAGE_WRITE_FAILED, and the restart rewrites the file from the WAL;
// - a crash at any boundary operation of recovery itself, followed by a clean recovery, gives
//   the same state as an uninterrupted recovery.
//
// Replay one seed: AERODB_SEED=<n> npx vitest run tests/engine-faults.test.ts
import { type AeroError, type FaultKind, isAeroError, SimFileSystem, seedList, withSeed } from "@aerodb/base";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../src/canonical-json.js";
import { type Database, open } from "../src/engine/database.js";
import { canonicalSchemaText, parseSchemaDefinition } from "../src/schema/definition.js";
import { dumpTree, isSimulatedCrash, readDbState, type StateView } from "./support/workload.js";

const DATA_DIR = "/db";
const CONFIG = { core: { data_dir: DATA_DIR } };
const DB_ID_BYTES = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
const DEAD_OWNER = () => false;

const USERS = {
  format_version: 1,
  schema_id: "users",
  schema_version: "v1",
  fields: {
    _id: { type: "string", required: true },
    name: { type: "string", required: true },
    age: { type: "int", required: false },
  },
  indexes: ["age"],
};
const ORDERS = {
  format_version: 1,
  schema_id: "orders",
  schema_version: "v1",
  fields: { _id: { type: "int", required: true }, qty: { type: "int", required: true } },
  indexes: ["qty"],
};

type Op = (db: Database) => Promise<{ commit_id: number | null }>;

const user =
  (id: string, age: number): Op =>
  (db) =>
    db.insert({ schema_id: "users", schema_version: "v1", document: { _id: id, name: `n-${id}`, age } });

/** Commit i + 1 is OPS[i]: a registration, then inserts. */
const OPS: readonly Op[] = [
  (db) => db.registerSchema(USERS),
  user("a", 30),
  user("b", 41),
  user("c", 52),
  user("d", 63),
  user("e", 74),
  user("f", 85),
];

function openDb(fs: SimFileSystem, initialize = false): Promise<Database> {
  return open(CONFIG, {
    fs,
    processProbe: DEAD_OWNER,
    ...(initialize ? { initialize: true, randomBytes: () => DB_ID_BYTES } : {}),
  });
}

const expectedViews = new Map<number, StateView>();

/** The state after the first n commits of OPS, from a fault-free run. */
async function expectedAfter(n: number): Promise<StateView> {
  const cached = expectedViews.get(n);
  if (cached) return cached;
  const db = await openDb(new SimFileSystem(), true);
  for (const op of OPS.slice(0, n)) await op(db);
  const view = readDbState(db);
  await db.close();
  expectedViews.set(n, view);
  return view;
}

/** A fresh database holding the first `commits` commits of OPS, all acknowledged. */
async function prepared(commits: number): Promise<{ disk: SimFileSystem; db: Database }> {
  const disk = new SimFileSystem();
  const db = await openDb(disk, true);
  for (const [i, op] of OPS.slice(0, commits).entries()) {
    expect((await op(db)).commit_id).toBe(i + 1);
  }
  return { disk, db };
}

async function rejection(promise: Promise<unknown>): Promise<AeroError> {
  const outcome = await promise.then(
    () => null,
    (err: unknown) => err,
  );
  expect(isAeroError(outcome), `expected an AeroError, got ${String(outcome)}`).toBe(true);
  return outcome as AeroError;
}

function thrown(fn: () => unknown): AeroError {
  try {
    fn();
  } catch (err) {
    expect(isAeroError(err)).toBe(true);
    return err as AeroError;
  }
  throw new Error("expected a throw");
}

/** After a FATAL error every call, read or write, gets that same error. */
async function expectStopped(db: Database, fatal: AeroError): Promise<void> {
  const same = (err: AeroError) => {
    expect(err.code).toBe(fatal.code);
    expect(err.severity).toBe("FATAL");
    expect(canonicalJson(err.toJSON())).toBe(canonicalJson(fatal.toJSON()));
  };
  expect(db.lifecycleState).toBe("TERMINATED");
  same(await rejection(OPS[5]?.(db) as Promise<unknown>));
  same(
    await rejection(
      db.update({ schema_id: "users", schema_version: "v1", document: { _id: "a", name: "x" } }),
    ),
  );
  same(await rejection(db.delete({ schema_id: "users", schema_version: "v1", _id: "a" })));
  same(await rejection(db.registerSchema(ORDERS)));
  same(thrown(() => db.query({ schema_id: "users", schema_version: "v1", filter: { _id: "a" }, limit: 1 })));
  same(
    thrown(() => db.explain({ schema_id: "users", schema_version: "v1", filter: { _id: "a" }, limit: 1 })),
  );
  await db.close();
  expect(db.lifecycleState).toBe("TERMINATED");
}

const KINDS: readonly FaultKind[] = ["EIO", "ENOSPC"];
/** Crash seeds tried in turn when a test needs a crashed image of a particular shape. */
const SEARCH_SEEDS = Array.from({ length: 32 }, (_, i) => i + 1);
const REPLAYING = (process.env.AERODB_SEED ?? "") !== "";
/** What a bit flipped in unsynced WAL bytes may make recovery refuse with. */
const WAL_FATAL = ["AERO_WAL_CORRUPTION", "AERO_WAL_UNIT_INCOMPLETE"];

function isDatabase(value: unknown): value is Database {
  return typeof value === "object" && value !== null && "recoveryReport" in value;
}

describe("fsync failure (scenario 43)", () => {
  it.each(KINDS)("%s on the WAL fsync fails the covered commits and every later call", async (kind) => {
    const { disk, db } = await prepared(4);
    disk.injectFault({ op: "sync", nth: 1, kind, pathIncludes: "/wal/" });
    // Three commits queue behind the failing fsync.
    const queued = [OPS[4], OPS[5], OPS[6]].map((op) => (op as Op)(db));
    const errors = await Promise.all(queued.map(rejection));
    const first = errors[0] as AeroError;
    expect(first.code).toBe("AERO_WAL_FSYNC_FAILED");
    expect(first.severity).toBe("FATAL");
    expect(first.details?.errno).toBe(kind);
    for (const err of errors) expect(err.code).toBe("AERO_WAL_FSYNC_FAILED");
    await expectStopped(db, first);

    // Power loss, restart: every acknowledged commit is there; the failed one may or may not
    // be (its bytes were written, not synced), and nothing queued behind it reached the log.
    // A bit flipped in those unsynced bytes may make recovery refuse, FATAL, never accept.
    const survived = new Set<number>();
    for (const crashSeed of seedList(`fsync-${kind}`, 12)) {
      await withSeed(crashSeed, async () => {
        const image = disk.crash(crashSeed);
        const flipped = image.crashFates.some((f) => f.fate === "flip");
        const restarted = await openDb(image).catch((e: unknown) => e);
        if (!isDatabase(restarted)) {
          expect(isAeroError(restarted), String(restarted)).toBe(true);
          expect(flipped, (restarted as AeroError).code).toBe(true);
          expect(WAL_FATAL).toContain((restarted as AeroError).code);
          return;
        }
        const c = restarted.recoveryReport().commit_high_water;
        expect([4, 5]).toContain(c);
        survived.add(c);
        expect(readDbState(restarted)).toEqual(await expectedAfter(c));
        expect((await (OPS[6] as Op)(restarted)).commit_id).toBe(c + 1);
        await restarted.close();
      });
    }
    if (!REPLAYING) expect(survived.has(4)).toBe(true);
  });

  it("a restart without power loss keeps every acknowledged commit", async () => {
    const { disk, db } = await prepared(4);
    disk.injectFault({ op: "sync", nth: 1, kind: "EIO", pathIncludes: "/wal/" });
    const err = await rejection((OPS[4] as Op)(db));
    expect(err.code).toBe("AERO_WAL_FSYNC_FAILED");
    await db.close();
    disk.clearFaults();
    const restarted = await openDb(disk);
    const c = restarted.recoveryReport().commit_high_water;
    expect(c).toBeGreaterThanOrEqual(4);
    expect(readDbState(restarted)).toEqual(await expectedAfter(c));
    await restarted.close();
  });
});

describe("write failure", () => {
  const cases = KINDS.flatMap((kind) => [1, 2, 3].map((nth) => [kind, nth] as const));
  it.each(cases)(
    "%s on WAL write #%i of a unit: AERO_WAL_APPEND_FAILED, the commit never appears",
    async (kind, nth) => {
      const failed = async (): Promise<SimFileSystem> => {
        const { disk, db } = await prepared(4);
        disk.injectFault({ op: "write", nth, kind, pathIncludes: "/wal/" });
        const err = await rejection((OPS[4] as Op)(db));
        expect(err.code).toBe("AERO_WAL_APPEND_FAILED");
        expect(err.severity).toBe("FATAL");
        expect(err.details?.errno).toBe(kind);
        await expectStopped(db, err);
        disk.clearFaults();
        return disk;
      };

      // A power loss: the failed unit is gone, the acknowledged ones are all there.
      const disk = await failed();
      for (const crashSeed of seedList(`append-${kind}-${nth}`, 4)) {
        const image = disk.crash(crashSeed);
        const restarted = await openDb(image).catch((e: unknown) => e);
        if (!isDatabase(restarted)) {
          expect(
            image.crashFates.some((f) => f.fate === "flip"),
            String(restarted),
          ).toBe(true);
          expect(WAL_FATAL).toContain((restarted as AeroError).code);
          continue;
        }
        expect(restarted.recoveryReport().commit_high_water).toBe(4);
        expect(readDbState(restarted)).toEqual(await expectedAfter(4));
        await restarted.close();
      }
      // A restart without power loss: the part of the unit that was written is a torn tail, cut.
      const live = await failed();
      const restarted = await openDb(live);
      const report = restarted.recoveryReport();
      expect(report.commit_high_water).toBe(4);
      if (nth === 1) expect(report.torn_tail).toBeNull();
      else expect(report.torn_tail?.records_cut).toBe(nth - 1);
      expect(readDbState(restarted)).toEqual(await expectedAfter(4));
      expect((await (OPS[4] as Op)(restarted)).commit_id).toBe(5);
      await restarted.close();
    },
  );

  it("short writes are completed: nothing fails and nothing is lost", async () => {
    const { disk, db } = await prepared(1);
    disk.injectFault({ op: "write", nth: 1, kind: "short", pathIncludes: "/wal/", sticky: true });
    await Promise.all(OPS.slice(1).map((op) => op(db)));
    expect(readDbState(db)).toEqual(await expectedAfter(OPS.length));
    await db.close();
    disk.clearFaults();
    const restarted = await openDb(disk.crash(7));
    expect(readDbState(restarted)).toEqual(await expectedAfter(OPS.length));
    await restarted.close();
  });
});

describe("schema file failure after the registration's fsync", () => {
  const expectedFile = `${canonicalSchemaText(parseSchemaDefinition(ORDERS))}\n`;
  const cases = [...KINDS.map((kind) => ["write", kind] as const), ["rename", "EIO"] as const];

  it.each(cases)(
    "%s %s: FATAL AERO_STORAGE_WRITE_FAILED, the restart rewrites the file",
    async (op, kind) => {
      const failed = async (): Promise<SimFileSystem> => {
        const { disk, db } = await prepared(4);
        disk.injectFault({ op, nth: 1, kind, pathIncludes: "metadata/schemas/" });
        const err = await rejection(db.registerSchema(ORDERS));
        expect(err.code).toBe("AERO_STORAGE_WRITE_FAILED");
        expect(err.severity).toBe("FATAL");
        expect(err.details?.errno).toBe(kind);
        await expectStopped(db, err);
        disk.clearFaults();
        return disk;
      };

      const check = async (fs: SimFileSystem) => {
        const restarted = await openDb(fs);
        const report = restarted.recoveryReport();
        // The registration's unit was durable: it is commit 5, and its file is written again.
        expect(report.commit_high_water).toBe(5);
        expect(report.schemas).toEqual({ registered: 2, files_written: 1 });
        const file = new TextDecoder().decode(
          await fs.readFile(`${DATA_DIR}/metadata/schemas/orders/v1.json`),
        );
        expect(file).toBe(expectedFile);
        expect(await fs.readdir(`${DATA_DIR}/metadata/schemas/orders`)).toEqual(["v1.json"]);
        expect(restarted.schemas().map((d) => `${d.schema_id}/${d.schema_version}`)).toEqual([
          "orders/v1",
          "users/v1",
        ]);
        expect(readDbState(restarted).documents).toEqual({
          ...(await expectedAfter(4)).documents,
          "orders/v1": [],
        });
        const next = await restarted.insert({
          schema_id: "orders",
          schema_version: "v1",
          document: { _id: 1, qty: 2 },
        });
        expect(next.commit_id).toBe(6);
        await restarted.close();
        // Once written, the file stays: the next restart writes nothing.
        const third = await openDb(fs);
        expect(third.recoveryReport().schemas).toEqual({ registered: 2, files_written: 0 });
        await third.close();
      };
      // After a power loss (the registration's unit was fsynced, so it is durable) ...
      const disk = await failed();
      for (const crashSeed of seedList(`schema-file-${op}-${kind}`, 4)) {
        await withSeed(crashSeed, () => check(disk.crash(crashSeed)));
      }
      // ... and after a plain restart.
      await check(await failed());
    },
  );
});

describe("faults while opening", () => {
  it("EIO writing state.json during open: FATAL, the lock is released, a retry recovers", async () => {
    const { disk, db } = await prepared(4);
    await db.close();
    disk.injectFault({ op: "write", nth: 1, kind: "EIO", pathIncludes: "state.json" });
    const err = await rejection(openDb(disk));
    expect(err.severity).toBe("FATAL");
    expect(err.code).toBe("AERO_RECOVERY_FAILED");
    expect(await disk.stat(`${DATA_DIR}/LOCK`)).toBeNull();
    disk.clearFaults();
    const restarted = await openDb(disk);
    expect(readDbState(restarted)).toEqual(await expectedAfter(4));
    await restarted.close();
  });

  it("EIO cutting a torn tail: FATAL, nothing changed, a retry cuts it", async () => {
    const { disk, db } = await prepared(4);
    disk.crashAfter(2); // inside the next unit: BEGIN written, the VERSION write crashes
    const err = await (OPS[4] as Op)(db).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isSimulatedCrash(err)).toBe(true);
    // Seed chosen among a few so that the crash kept the unit's first frame(s): a torn tail.
    let crashed: SimFileSystem | null = null;
    for (const s of SEARCH_SEEDS) {
      const candidate = disk.crash(s);
      const probe = await openDb(disk.crash(s));
      const torn = probe.recoveryReport().torn_tail !== null;
      await probe.close();
      if (torn) {
        crashed = candidate;
        break;
      }
    }
    expect(crashed).not.toBeNull();
    const image = crashed as SimFileSystem;
    const before = await dumpTree(image, DATA_DIR);
    image.injectFault({ op: "truncate", nth: 1, kind: "EIO" });
    const failed = await rejection(openDb(image));
    expect(failed.severity).toBe("FATAL");
    expect(failed.code).toBe("AERO_RECOVERY_FAILED");
    expect(failed.details?.errno).toBe("EIO");
    // The WAL is untouched (only LOCK and nothing else may differ).
    const notLock = ([p]: [string, string]) => p !== "LOCK";
    expect((await dumpTree(image, DATA_DIR)).filter(notLock)).toEqual(before.filter(notLock));
    image.clearFaults();
    const restarted = await openDb(image);
    expect(restarted.recoveryReport().torn_tail).not.toBeNull();
    expect(readDbState(restarted)).toEqual(await expectedAfter(4));
    await restarted.close();
  });
});

// ---- scenario 39: a crash inside recovery --------------------------------------------------

interface CrashedImage {
  readonly name: string;
  /** A fresh copy of the same crashed bytes. */
  copy(): SimFileSystem;
}

/** Power loss in the middle of a unit, for a crash seed that leaves a torn tail. */
async function tornTailImage(): Promise<CrashedImage> {
  const { disk, db } = await prepared(4);
  disk.crashAfter(3); // BEGIN and VERSION written, the COMMIT write crashes
  const outcomes = await Promise.all(
    [(OPS[4] as Op)(db), (OPS[5] as Op)(db)].map((p) =>
      p.then(
        () => null,
        (e: unknown) => e,
      ),
    ),
  );
  for (const outcome of outcomes) expect(isSimulatedCrash(outcome)).toBe(true);
  for (const s of SEARCH_SEEDS) {
    const probe = await openDb(disk.crash(s)).catch(() => null);
    if (probe === null) continue;
    const torn = probe.recoveryReport().torn_tail !== null;
    await probe.close();
    if (torn) return { name: "torn tail", copy: () => disk.crash(s) };
  }
  throw new Error("no crash seed left a torn tail");
}

/** A registration whose unit is durable but whose schema file was never written. */
async function missingSchemaFileImage(): Promise<CrashedImage> {
  const { disk, db } = await prepared(4);
  disk.injectFault({ op: "write", nth: 1, kind: "EIO", pathIncludes: "metadata/schemas/" });
  expect((await rejection(db.registerSchema(ORDERS))).code).toBe("AERO_STORAGE_WRITE_FAILED");
  disk.clearFaults();
  return { name: "missing schema file", copy: () => disk.crash(1) };
}

/** Power loss while serving, everything synced: only the dead owner's LOCK to take over. */
async function plainImage(): Promise<CrashedImage> {
  const { disk } = await prepared(OPS.length);
  return { name: "stale lock", copy: () => disk.crash(3) };
}

describe("a crash during recovery (scenario 39)", () => {
  it.each([
    ["torn tail", tornTailImage],
    ["missing schema file", missingSchemaFileImage],
    ["stale lock", plainImage],
  ] as const)(
    "%s: a crash at every boundary operation of recovery, then a clean recovery, gives the same state",
    async (_name, make) => {
      const image = await make();
      // The uninterrupted recovery, and how many boundary operations it makes.
      const reference = image.copy();
      const start = reference.boundaryOpCount;
      const db = await openDb(reference);
      const total = reference.boundaryOpCount - start;
      const want = readDbState(db);
      const wantReport = db.recoveryReport();
      await db.close();
      expect(total).toBeGreaterThan(0);

      let points = 0;
      for (let k = 1; k <= total; k++) {
        const crashSeeds = seedList(`recovery-crash-${image.name}-${k}`, 3);
        for (const crashSeed of crashSeeds) {
          await withSeed(crashSeed, async () => {
            const disk = image.copy();
            disk.crashAfter(k);
            const err = await openDb(disk).then(
              () => null,
              (e: unknown) => e,
            );
            expect(isSimulatedCrash(err), `crash point ${k}: ${String(err)}`).toBe(true);
            const after = disk.crash(crashSeed);
            const where = `crash point ${k}, fates ${JSON.stringify(after.crashFates)}`;
            // Recovery's own writes are fsynced before they count (the tail cut, schema files
            // via temp + rename, LOCK and state.json likewise): a crash in it loses nothing.
            const again = await openDb(after).catch((e: unknown) => e);
            expect(isDatabase(again), `${where}: ${String(again)}`).toBe(true);
            if (!isDatabase(again)) return;
            const recovered = again;
            const report = recovered.recoveryReport();
            expect(report.commit_high_water, where).toBe(wantReport.commit_high_water);
            expect(report.wal.last_lsn, where).toBe(wantReport.wal.last_lsn);
            expect(report.schemas.registered, where).toBe(wantReport.schemas.registered);
            expect(report.indexes, where).toEqual(wantReport.indexes);
            expect(readDbState(recovered), where).toEqual(want);
            await recovered.close();
            // And the directory is clean now: a further restart has nothing to repair.
            const clean = await openDb(after);
            expect(clean.recoveryReport().torn_tail, where).toBeNull();
            expect(clean.recoveryReport().schemas.files_written, where).toBe(0);
            expect(readDbState(clean), where).toEqual(want);
            await clean.close();
            points++;
          });
        }
      }
      expect(points).toBe(total * seedList("per-point", 3).length);
      console.log(
        `crash inside recovery (${image.name}): ${total} boundary operations, ${points} crash points`,
      );
    },
  );
});
