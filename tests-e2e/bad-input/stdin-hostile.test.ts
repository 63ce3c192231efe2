import * as fs from "node:fs/promises";
import * as path from "node:path";
import { ERROR_REGISTRY, type ErrorCode, SeededRandom, seedList } from "@aerodb/base";
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
  snapshotTree,
  tempDir,
} from "../kill/harness.js";

// core.md §6 (envelope: a request per stdin line, responses in order), §7 (REJECT: refused,
// no effect), §3.6 (validation precedes the WAL: CORE-S-2), §4 (WRITE_TOO_LARGE), §12: hostile
// stdin through the real `aerodb start` process. Every line gets one typed, canonical response
// (a REJECT error, or ok where the request is in fact acceptable), the process never exits and
// logs no FATAL, and a batch of only-rejected requests leaves wal/ and metadata/ byte-identical.

const MAX_DOCUMENT_BYTES = 1024;
const MiB = 1024 * 1024;

const SCHEMA = {
  format_version: 1,
  schema_id: "h",
  schema_version: "v1",
  fields: {
    _id: { type: "string", required: true },
    s: { type: "string", required: true },
    i: { type: "int", required: false },
    f: { type: "float", required: false },
    b: { type: "bool", required: false },
    o: { type: "object", required: false, fields: { city: { type: "string", required: true } } },
    a: { type: "array", required: false, items: { type: "string" } },
  },
  indexes: ["i", "s"],
};
const T = { schema_id: "h", schema_version: "v1" };
const validDoc = (id: string) => ({ _id: id, s: "s", i: 1, f: 1.5, b: true, o: { city: "c" }, a: ["x"] });

let cwd: string;
let data: string;
let configFile: string;

type Expectation = ErrorCode | "ok" | "REJECT";
interface Case {
  readonly name: string;
  readonly line: string | Buffer;
  /** A specific code, "REJECT" (any REJECT code), or "ok" (an acceptable request that writes nothing). */
  readonly expect: Expectation;
}

const bytes = (...b: number[]) => Buffer.from(b);
const json = (value: unknown) => JSON.stringify(value);

function deep(depth: number, open: string, close: string, leaf: string): string {
  return `${open.repeat(depth)}${leaf}${close.repeat(depth)}`;
}

/** Lines that must all be refused (or be harmless no-ops) without touching the data dir. */
function hostileCases(): Case[] {
  const cases: Case[] = [];
  const add = (name: string, line: string | Buffer, expectation: Expectation) =>
    cases.push({ name, line, expect: expectation });

  // Invalid UTF-8.
  add("utf8: lone 0xff 0xfe", bytes(0xff, 0xfe), "AERO_QUERY_INVALID");
  add("utf8: bad continuation", bytes(0x7b, 0xc3, 0x28, 0x7d), "AERO_QUERY_INVALID");
  add("utf8: overlong slash", bytes(0x22, 0xc0, 0xaf, 0x22), "AERO_QUERY_INVALID");
  add("utf8: encoded surrogate", bytes(0x22, 0xed, 0xa0, 0x80, 0x22), "AERO_QUERY_INVALID");
  add(
    "utf8: truncated sequence at the end",
    Buffer.concat([Buffer.from('{"op":"query"'), bytes(0xe2, 0x82)]),
    "AERO_QUERY_INVALID",
  );
  add(
    "utf8: invalid byte inside a document string",
    Buffer.concat([
      Buffer.from(`{"op":"insert","schema_id":"h","schema_version":"v1","document":{"_id":"u8","s":"`),
      bytes(0xff),
      Buffer.from('"}}'),
    ]),
    "AERO_QUERY_INVALID",
  );
  add("utf8: 5-byte form", bytes(0xf8, 0x88, 0x80, 0x80, 0x80), "AERO_QUERY_INVALID");

  // Not JSON / not an object.
  // A UTF-8 BOM is consumed by the decoder (RFC 8259 lets a parser ignore it): the query runs.
  add("a BOM before the object", `\ufeff${json({ op: "query", ...T, filter: { i: 1 }, limit: 1 })}`, "ok");
  add("whitespace only", "   ", "AERO_QUERY_INVALID");
  add("truncated object", '{"op":"insert","schema_id":"h"', "AERO_QUERY_INVALID");
  add("trailing garbage", '{"op":"query"} x', "AERO_QUERY_INVALID");
  add("NUL bytes", "\u0000\u0000", "AERO_QUERY_INVALID");
  add("single quotes", "{'op':'insert'}", "AERO_QUERY_INVALID");
  add(
    "NaN literal",
    '{"op":"insert","schema_id":"h","schema_version":"v1","document":{"_id":"n","s":"s","f":NaN}}',
    "AERO_QUERY_INVALID",
  );
  for (const value of ["1", '"insert"', "null", "true", "[]", '[{"op":"insert"}]', "1e400", "-0"]) {
    add(`non-object JSON ${value}`, value, "AERO_QUERY_INVALID");
  }

  // Deep nesting (must not crash the process).
  add("100k unclosed [", "[".repeat(100_000), "AERO_QUERY_INVALID");
  add("100k nested arrays", deep(100_000, "[", "]", ""), "AERO_QUERY_INVALID");
  add("100k nested objects", deep(100_000, '{"a":', "}", "1"), "AERO_QUERY_INVALID");
  add(
    "deep value under an unknown request key",
    `{"op":"query","x":${deep(100_000, "[", "]", "")}}`,
    "AERO_QUERY_INVALID",
  );
  add(
    "deep query filter value",
    `{"op":"query","schema_id":"h","schema_version":"v1","limit":1,"filter":{"i":${deep(50_000, "[", "]", "1")}}}`,
    "AERO_QUERY_INVALID",
  );
  add(
    "deep query filter operand",
    `{"op":"query","schema_id":"h","schema_version":"v1","limit":1,"filter":{"i":{"$eq":${deep(50_000, '{"$eq":', "}", "1")}}}}`,
    "AERO_QUERY_INVALID",
  );
  add(
    "deep explain filter (a refusal is an ok explain)",
    `{"op":"explain","schema_id":"h","schema_version":"v1","limit":1,"filter":{"i":${deep(50_000, "[", "]", "1")}}}`,
    "ok",
  );
  add(
    "deep document array",
    `{"op":"insert","schema_id":"h","schema_version":"v1","document":{"_id":"d1","s":"s","a":${deep(100_000, "[", "]", '"x"')}}}`,
    "AERO_SCHEMA_VALIDATION_FAILED",
  );
  add(
    "deep document object",
    `{"op":"insert","schema_id":"h","schema_version":"v1","document":{"_id":"d2","s":"s","o":{"city":${deep(100_000, '{"c":', "}", '"x"')}}}}`,
    "AERO_SCHEMA_VALIDATION_FAILED",
  );
  add(
    "deep unknown document field",
    `{"op":"insert","schema_id":"h","schema_version":"v1","document":{"_id":"d3","s":"s","zz":${deep(100_000, "[", "]", "")}}}`,
    "AERO_SCHEMA_VALIDATION_FAILED",
  );
  add(
    "deep update document",
    `{"op":"update","schema_id":"h","schema_version":"v1","document":{"_id":"seed-0","s":"s","zz":${deep(100_000, '{"a":', "}", "1")}}}`,
    "AERO_SCHEMA_VALIDATION_FAILED",
  );
  add(
    "deep delete _id",
    `{"op":"delete","schema_id":"h","schema_version":"v1","document":{"_id":${deep(100_000, "[", "]", "")}}}`,
    "AERO_QUERY_INVALID",
  );
  add(
    "deep schema definition",
    `{"op":"register_schema","schema":{"format_version":1,"schema_id":"deep","schema_version":"v1","indexes":[],"fields":{"_id":{"type":"string","required":true},"x":${deep(10_000, '{"type":"object","required":true,"fields":{"n":', "}}", '{"type":"int","required":true}')}}}}`,
    "AERO_SCHEMA_INVALID_DEFINITION",
  );
  add(
    "deep schema value",
    `{"op":"register_schema","schema":${deep(100_000, "[", "]", "")}}`,
    "AERO_SCHEMA_INVALID_DEFINITION",
  );

  // Sizes: a document over max_document_bytes; a line far over the line cap.
  add(
    "document over max_document_bytes",
    json({ op: "insert", ...T, document: { ...validDoc("big1"), s: "x".repeat(2 * MAX_DOCUMENT_BYTES) } }),
    "AERO_WRITE_TOO_LARGE",
  );
  add(
    "document of 1 MiB",
    json({ op: "insert", ...T, document: { ...validDoc("big2"), s: "é".repeat(MiB / 2) } }),
    "AERO_WRITE_TOO_LARGE",
  );
  add(
    "update over max_document_bytes",
    json({ op: "update", ...T, document: { ...validDoc("seed-0"), a: Array(600).fill("xy") } }),
    "AERO_WRITE_TOO_LARGE",
  );
  add(
    "line of 8 MiB",
    json({ op: "insert", ...T, document: { ...validDoc("big3"), s: "x".repeat(8 * MiB) } }),
    "AERO_QUERY_INVALID",
  );
  add("line of 3 MiB of garbage", "#".repeat(3 * MiB), "AERO_QUERY_INVALID");

  // Unknown or missing ops.
  for (const op of [
    "frobnicate",
    "INSERT",
    "",
    " insert",
    "__proto__",
    "constructor",
    "toString",
    "checkpoint",
    "backup",
    "begin",
    "commit",
    "abort",
    "gc",
  ]) {
    add(
      `unknown or unavailable op '${op}'`,
      json({ op, ...T, document: validDoc("op") }),
      "AERO_QUERY_INVALID",
    );
  }
  for (const op of [null, 1, true, ["insert"], { insert: 1 }]) {
    add(`op of type ${json(op)}`, json({ op, ...T }), "AERO_QUERY_INVALID");
  }
  add("no op", json({ ...T, document: validDoc("noop") }), "AERO_QUERY_INVALID");
  add("__proto__ holding op", '{"__proto__":{"op":"insert"},"schema_id":"h"}', "AERO_QUERY_INVALID");

  // Missing or extra fields.
  add(
    "insert without schema_id",
    json({ op: "insert", schema_version: "v1", document: validDoc("m1") }),
    "AERO_SCHEMA_REQUIRED",
  );
  add(
    "insert without schema_version",
    json({ op: "insert", schema_id: "h", document: validDoc("m2") }),
    "AERO_SCHEMA_VERSION_REQUIRED",
  );
  add("insert without document", json({ op: "insert", ...T }), "AERO_QUERY_INVALID");
  add(
    "insert with an extra key",
    json({ op: "insert", ...T, document: validDoc("m3"), extra: 1 }),
    "AERO_QUERY_INVALID",
  );
  add(
    "insert into an unknown schema",
    json({ op: "insert", schema_id: "nope", schema_version: "v1", document: validDoc("m4") }),
    "AERO_SCHEMA_UNKNOWN",
  );
  add(
    "insert into an unknown version",
    json({ op: "insert", schema_id: "h", schema_version: "v9", document: validDoc("m5") }),
    "AERO_SCHEMA_UNKNOWN_VERSION",
  );
  add(
    "insert of an existing _id",
    json({ op: "insert", ...T, document: validDoc("seed-0") }),
    "AERO_WRITE_DUPLICATE_ID",
  );
  add(
    "update of a missing _id",
    json({ op: "update", ...T, document: validDoc("missing") }),
    "AERO_WRITE_NOT_FOUND",
  );
  add(
    "delete of a missing _id (ok, nothing written)",
    json({ op: "delete", ...T, document: { _id: "missing" } }),
    "ok",
  );
  add(
    "delete with extra document keys",
    json({ op: "delete", ...T, document: { _id: "seed-0", s: "s" } }),
    "AERO_QUERY_INVALID",
  );
  add("delete without document", json({ op: "delete", ...T }), "AERO_QUERY_INVALID");
  add("query without limit", json({ op: "query", ...T, filter: { i: 1 } }), "AERO_QUERY_LIMIT_REQUIRED");
  add("query without filter", json({ op: "query", ...T, limit: 1 }), "AERO_QUERY_UNBOUNDED");
  add(
    "query with limit 0",
    json({ op: "query", ...T, filter: { i: 1 }, limit: 0 }),
    "AERO_QUERY_LIMIT_REQUIRED",
  );
  add(
    "query with limit too large",
    json({ op: "query", ...T, filter: { i: 1 }, limit: 1e9 }),
    "AERO_QUERY_LIMIT_TOO_LARGE",
  );
  add(
    "query on an unindexed field",
    json({ op: "query", ...T, filter: { f: 1 }, limit: 1 }),
    "AERO_QUERY_UNINDEXED_FIELD",
  );
  add(
    "query sorted on an unindexed field",
    json({ op: "query", ...T, filter: { i: 1 }, limit: 1, sort: "f" }),
    "AERO_QUERY_SORT_NOT_INDEXED",
  );
  add(
    "query with $in",
    json({ op: "query", ...T, filter: { i: { $in: [1] } }, limit: 1 }),
    "AERO_QUERY_INVALID",
  );
  add("query with null", json({ op: "query", ...T, filter: { i: null }, limit: 1 }), "AERO_QUERY_INVALID");
  add("register_schema without schema", json({ op: "register_schema" }), "AERO_SCHEMA_INVALID_DEFINITION");
  add(
    "register_schema with an extra key",
    json({ op: "register_schema", schema: SCHEMA, x: 1 }),
    "AERO_QUERY_INVALID",
  );
  add(
    "register_schema of an existing version",
    json({ op: "register_schema", schema: SCHEMA }),
    "AERO_SCHEMA_IMMUTABLE",
  );
  add(
    "register_schema with 5000 fields",
    json({
      op: "register_schema",
      schema: {
        ...SCHEMA,
        schema_id: "wide",
        fields: Object.fromEntries([
          ["_id", { type: "int", required: true }],
          ...Array.from({ length: 5000 }, (_, k) => [`f${k}`, { type: "int", required: false }]),
        ]),
        indexes: [],
      },
    }),
    "AERO_SCHEMA_INVALID_DEFINITION",
  );

  // Every wrong type at every place of a document (insert and update).
  const places: ReadonlyArray<{ path: string; valid: (v: unknown) => boolean }> = [
    { path: "_id", valid: (v) => typeof v === "string" && v !== "" },
    { path: "s", valid: (v) => typeof v === "string" },
    { path: "i", valid: (v) => Number.isSafeInteger(v) },
    { path: "f", valid: (v) => typeof v === "number" && Number.isFinite(v) },
    { path: "b", valid: (v) => typeof v === "boolean" },
    { path: "o", valid: () => false },
    { path: "o.city", valid: (v) => typeof v === "string" },
    { path: "a", valid: (v) => Array.isArray(v) && v.length === 0 },
    { path: "a.0", valid: (v) => typeof v === "string" },
    { path: "extra", valid: () => false },
  ];
  const values: ReadonlyArray<{ text: string; value: unknown }> = [
    "null",
    "true",
    "false",
    "0",
    "-1",
    "1.5",
    "9007199254740992",
    "-9007199254740993",
    "1e400",
    "-1e400",
    '""',
    '"x"',
    "[]",
    "[null]",
    '[1,"x"]',
    "{}",
    '{"city":1}',
    '{"city":null}',
  ].map((text) => ({ text, value: JSON.parse(text) as unknown }));
  let k = 0;
  for (const op of ["insert", "update"] as const) {
    for (const place of places) {
      for (const { text, value } of values) {
        if (place.valid(value)) continue;
        const id = op === "insert" ? `wt-${k++}` : "seed-0";
        // Build the document text by hand so that 1e400 and -0 reach the server as written.
        const doc = validDoc(id) as Record<string, unknown>;
        const marker = "\u0000MARK\u0000";
        const [top, sub] = place.path.split(".") as [string, string | undefined];
        if (sub === undefined) doc[top] = marker;
        else if (top === "o") doc.o = { city: marker };
        else doc.a = [marker];
        const line = json({ op, ...T, document: doc }).replace(json(marker), text);
        add(`${op} ${place.path} = ${text}`, line, "AERO_SCHEMA_VALIDATION_FAILED");
      }
    }
  }
  return cases;
}

function check(c: Case, line: string | undefined): Record<string, unknown> {
  expect(line, `${c.name}: no response`).toBeDefined();
  const response = parseCanonical(line as string);
  if (c.expect === "ok") {
    expect(response.status, `${c.name}: ${line}`).toBe("ok");
    if ("commit_id" in response) expect(response.commit_id, c.name).toBeNull();
    return response;
  }
  expect(response.status, `${c.name}: ${line}`).toBe("error");
  expect(response.severity, `${c.name}: ${line}`).toBe("REJECT");
  const code = response.code as ErrorCode;
  expect(ERROR_REGISTRY[code]?.severity, `${c.name}: ${code} is a registered REJECT code`).toBe("REJECT");
  if (c.expect !== "REJECT") expect(code, `${c.name}: ${line}`).toBe(c.expect);
  expect(response.message as string, c.name).not.toMatch(/\n\s+at |\/tmp\//);
  return response;
}

async function serve(): Promise<AerodbProcess> {
  const proc = new AerodbProcess(["start", "--data", data, "--config", configFile], { cwd });
  await proc.serving();
  return proc;
}

beforeAll(async () => {
  assertBuilt();
  cwd = await tempDir("hostile");
  configFile = path.join(cwd, "aerodb-test.json");
  await fs.writeFile(configFile, json({ core: { max_document_bytes: MAX_DOCUMENT_BYTES } }));
  data = await initDataDir(cwd, configFile);
  const seeded = await runAerodb(["start", "--data", data, "--config", configFile], {
    cwd,
    input: [
      { op: "register_schema", schema: SCHEMA },
      { op: "insert", ...T, document: validDoc("seed-0") },
      { op: "insert", ...T, document: validDoc("seed-1") },
    ]
      .map((r) => `${json(r)}\n`)
      .join(""),
  });
  expect(seeded.code, seeded.stderr).toBe(0);
  expect(seeded.lines.map((l) => (JSON.parse(l) as { status: string }).status)).toEqual(["ok", "ok", "ok"]);
});

afterEach(killStragglers);
afterAll(removeTempDirs);

describe("hostile stdin through `aerodb start` (core §6, §7, CORE-S-2)", () => {
  it("answers every hostile line with a typed REJECT (or a harmless ok), stays up, writes nothing", async () => {
    const cases = hostileCases();
    const proc = await serve();
    const walBefore = await snapshotTree(path.join(data, "wal"));
    const metaBefore = await snapshotTree(path.join(data, "metadata"));
    const manifestBefore = await fs.readFile(path.join(data, "MANIFEST"));

    // All at once: the server must keep the order, apply backpressure and never fall over.
    const started = Date.now();
    for (const c of cases)
      proc.write(Buffer.concat([Buffer.isBuffer(c.line) ? c.line : Buffer.from(c.line), Buffer.from("\n")]));
    await proc.responses(cases.length, 120_000);
    const lines = proc.lines;
    expect(lines.length).toBe(cases.length);
    cases.forEach((c, i) => {
      check(c, lines[i]);
    });
    expect(proc.hasExited, "the server is still running").toBe(false);
    expect(fatalLogs(proc.logs())).toEqual([]);

    expect(await snapshotTree(path.join(data, "wal")), "wal/ unchanged by rejected requests").toEqual(
      walBefore,
    );
    expect(
      await snapshotTree(path.join(data, "metadata")),
      "metadata/ unchanged by rejected requests",
    ).toEqual(metaBefore);
    expect(await fs.readFile(path.join(data, "MANIFEST"))).toEqual(manifestBefore);

    // Still serving: a valid write after all of it gets the next commit id.
    proc.send([
      { op: "insert", ...T, document: validDoc("after-hostile") },
      { op: "query", ...T, filter: { _id: "after-hostile" }, limit: 1 },
    ]);
    await proc.responses(cases.length + 2);
    const [write, read] = proc.lines.slice(cases.length).map(parseCanonical);
    expect(write).toEqual({ commit_id: 4, data: [], status: "ok" });
    expect(read?.data).toEqual([validDoc("after-hostile")]);
    const exit = await proc.stop();
    expect(exit.code, proc.stderr.slice(-2000)).toBe(0);
    expect(fatalLogs(proc.logs())).toEqual([]);
    process.stdout.write(
      `stdin-hostile: ${cases.length} hostile lines answered in ${Date.now() - started} ms\n`,
    );
  });

  it("interleaves hostile lines with valid writes: order kept, only the valid ones committed (seeded)", async () => {
    const seed = seedList("e2e:stdin-hostile:mixed", 1)[0] as number;
    process.stdout.write(`stdin-hostile mixed: seed ${seed} (replay: AERODB_SEED=${seed})\n`);
    const rng = new SeededRandom(seed);
    const hostile = hostileCases().filter((c) => c.line.length < 200_000 && c.expect !== "ok");
    const proc = await serve();
    const report = proc.recoveryReport() as { commit_high_water: number };
    let next = report.commit_high_water + 1;
    const plan: Array<{ c: Case; commit: number | null; id?: string }> = [];
    for (let k = 0; k < 400; k++) {
      if (rng.bool(0.4)) {
        const id = `mix-${seed}-${k}`;
        plan.push({
          c: {
            name: `valid ${id}`,
            line: json({ op: "insert", ...T, document: validDoc(id) }),
            expect: "ok",
          },
          commit: next++,
          id,
        });
      } else {
        plan.push({ c: rng.pick(hostile), commit: null });
      }
    }
    proc.write(
      Buffer.concat(
        plan.flatMap(({ c }) => [Buffer.isBuffer(c.line) ? c.line : Buffer.from(c.line), Buffer.from("\n")]),
      ),
    );
    await proc.responses(plan.length, 120_000);
    const lines = proc.lines;
    plan.forEach(({ c, commit }, i) => {
      if (commit === null) {
        check(c, lines[i]);
      } else {
        expect(parseCanonical(lines[i] as string), c.name).toEqual({
          commit_id: commit,
          data: [],
          status: "ok",
        });
      }
    });
    const ids = plan.flatMap((p) => (p.id ? [p.id] : []));
    proc.send(ids.map((id) => ({ op: "query", ...T, filter: { _id: id }, limit: 1 })));
    await proc.responses(plan.length + ids.length);
    proc.lines.slice(plan.length).forEach((line, i) => {
      expect(parseCanonical(line).data).toEqual([validDoc(ids[i] as string)]);
    });
    expect(fatalLogs(proc.logs())).toEqual([]);
    const exit = await proc.stop();
    expect(exit.code).toBe(0);
    // A restart replays exactly the valid writes.
    const again = await runAerodb(["start", "--data", data, "--config", configFile], { cwd });
    const replayed = again.logs.find((l) => l.event === "RECOVERY_COMPLETE")?.report as {
      commit_high_water: number;
    };
    expect(replayed.commit_high_water).toBe(next - 1);
    expect(canonicalJson(again.lines)).toBe("[]");
  });
});
