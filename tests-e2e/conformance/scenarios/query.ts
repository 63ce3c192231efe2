/** core.md §13, Query: scenarios 21–28. */
import { canonicalJson } from "@aerodb/core";
import { expect } from "vitest";
import type { Request, Response, Session } from "../driver.js";
import {
  expectCommit,
  expectError,
  expectExplain,
  expectRows,
  type Scenario,
  type ScenarioContext,
  sequence,
} from "./context.js";
import {
  explain,
  insert,
  PEOPLE_V1,
  PEOPLE_V2,
  type QueryShape,
  query,
  register,
  remove,
  update,
} from "./fixtures.js";

/** The people of the query scenarios (v1), commits 2..9 after the registration. */
const PEOPLE: ReadonlyArray<Record<string, unknown>> = [
  { _id: "p01", a: 1, b: 2, name: "Ann", score: 1.5, active: true },
  { _id: "p02", a: 1, b: 3, name: "Bob", score: -2.25, active: false },
  { _id: "p03", a: 2, b: 2, name: "bob", score: 10, active: true },
  { _id: "p04", a: 3, name: "Émile", score: 0.5 },
  { _id: "p05", a: 2, b: 9, name: "\u{1F600}" },
  { _id: "p06", a: 5, name: "\uFF5E" },
  { _id: "p07", b: 2, name: "Zed" },
  { _id: "p08", a: 2, name: "Ann", note: "x", addr: { city: "Kiruna" } },
];

const byId = (id: string) => PEOPLE.find((p) => p._id === id) as Record<string, unknown>;
const rows = (...ids: string[]) => ids.map(byId);

async function peopleDatabase(
  ctx: ScenarioContext,
  config?: Record<string, unknown>,
): Promise<{ dir: string; s: Session }> {
  const dir = await ctx.freshDatabase();
  const s = await ctx.start(dir, config === undefined ? undefined : { config });
  expectCommit(await s.request(register(PEOPLE_V1)), 1);
  (
    await sequence(
      s,
      PEOPLE.map((p) => insert("people", "v1", p)),
    )
  ).forEach((r, i) => {
    expectCommit(r, i + 2);
  });
  return { dir, s };
}

const q = (shape: QueryShape) => query("people", "v1", shape);
const x = (shape: QueryShape) => explain("people", "v1", shape);
const DEFAULT_MAX_SCAN = 100_000;

const query21: Scenario = {
  id: "21",
  title: "_id $eq -> PK_LOOKUP; a=1,b=2 -> INDEX_EQ on a; a range -> INDEX_RANGE",
  async run(ctx) {
    const { s } = await peopleDatabase(ctx);
    const eq = (value: unknown) => ({ value, inclusive: true });

    expectExplain(await s.request(x({ filter: { _id: "p01" }, limit: 5 })), {
      bounded: true,
      schema_id: "people",
      schema_version: "v1",
      chosen_index: "_id",
      scan_type: "PK_LOOKUP",
      index_bounds: { lower: eq("p01"), upper: eq("p01") },
      predicates: [{ field: "_id", op: "$eq", value: "p01" }],
      sort: null,
      limit: 5,
      max_scan: 1,
    });
    expectRows(await s.request(q({ filter: { _id: "p01" }, limit: 5 })), rows("p01"), 9);
    // _id wins over any other equality.
    expectExplain(await s.request(x({ filter: { a: 1, _id: "p02" }, limit: 5 })), {
      bounded: true,
      schema_id: "people",
      schema_version: "v1",
      chosen_index: "_id",
      scan_type: "PK_LOOKUP",
      index_bounds: { lower: eq("p02"), upper: eq("p02") },
      predicates: [
        { field: "_id", op: "$eq", value: "p02" },
        { field: "a", op: "$eq", value: 1 },
      ],
      sort: null,
      limit: 5,
      max_scan: 1,
    });
    expectRows(await s.request(q({ filter: { a: 1, _id: "p02" }, limit: 5 })), rows("p02"), 9);

    const indexEq = {
      bounded: true,
      schema_id: "people",
      schema_version: "v1",
      chosen_index: "a",
      scan_type: "INDEX_EQ",
      index_bounds: { lower: eq(1), upper: eq(1) },
      predicates: [
        { field: "a", op: "$eq", value: 1 },
        { field: "b", op: "$eq", value: 2 },
      ],
      sort: null,
      limit: 10,
      max_scan: DEFAULT_MAX_SCAN,
    };
    expectExplain(await s.request(x({ filter: { a: 1, b: 2 }, limit: 10 })), indexEq);
    expectExplain(await s.request(x({ filter: { b: 2, a: 1 }, limit: 10 })), indexEq);
    expectRows(await s.request(q({ filter: { b: 2, a: 1 }, limit: 10 })), rows("p01"), 9);

    // An equality beats a range, whatever the field order.
    expectExplain(await s.request(x({ filter: { a: { $gte: 2 }, b: 2 }, limit: 10 })), {
      ...indexEq,
      chosen_index: "b",
      index_bounds: { lower: eq(2), upper: eq(2) },
      predicates: [
        { field: "a", op: "$gte", value: 2 },
        { field: "b", op: "$eq", value: 2 },
      ],
    });
    expectRows(await s.request(q({ filter: { a: { $gte: 2 }, b: 2 }, limit: 10 })), rows("p03"), 9);

    // Ranges only: the first field name is scanned.
    expectExplain(await s.request(x({ filter: { b: { $gte: 2 }, a: { $lt: 3 } }, limit: 10 })), {
      ...indexEq,
      scan_type: "INDEX_RANGE",
      index_bounds: { lower: null, upper: { value: 3, inclusive: false } },
      predicates: [
        { field: "a", op: "$lt", value: 3 },
        { field: "b", op: "$gte", value: 2 },
      ],
    });
    expectRows(
      await s.request(q({ filter: { b: { $gte: 2 }, a: { $lt: 3 } }, limit: 10 })),
      rows("p01", "p02", "p03", "p05"),
      9,
    );
    expectExplain(await s.request(x({ filter: { a: { $gt: 1, $lte: 3 } }, limit: 10, sort: "-a" })), {
      ...indexEq,
      scan_type: "INDEX_RANGE",
      index_bounds: { lower: { value: 1, inclusive: false }, upper: { value: 3, inclusive: true } },
      predicates: [
        { field: "a", op: "$gt", value: 1 },
        { field: "a", op: "$lte", value: 3 },
      ],
      sort: { field: "a", order: "desc" },
    });
    await s.close();
  },
};

const query22: Scenario = {
  id: "22",
  title: "each §5 refusal -> its code (query and explain alike), first failure wins",
  async run(ctx) {
    const { s } = await peopleDatabase(ctx);
    const base = { op: "query", schema_id: "people", schema_version: "v1" };
    const cases: Array<[string, Record<string, unknown>, Record<string, unknown>?]> = [
      // shape
      ["AERO_QUERY_INVALID", { ...base, filter: { a: 1 }, limit: 5, bogus: 1 }, { field: "bogus" }],
      ["AERO_QUERY_INVALID", { ...base, filter: [1], limit: 5 }],
      // schema id and version present
      ["AERO_SCHEMA_REQUIRED", { op: "query", schema_version: "v1", filter: { a: 1 }, limit: 5 }],
      ["AERO_SCHEMA_VERSION_REQUIRED", { op: "query", schema_id: "people", filter: { a: 1 }, limit: 5 }],
      // both known
      ["AERO_SCHEMA_UNKNOWN", { ...base, schema_id: "nobody", filter: { a: 1 }, limit: 5 }],
      ["AERO_SCHEMA_UNKNOWN_VERSION", { ...base, schema_version: "v9", filter: { a: 1 }, limit: 5 }],
      // limit
      ["AERO_QUERY_LIMIT_REQUIRED", { ...base, filter: { a: 1 } }],
      ["AERO_QUERY_LIMIT_REQUIRED", { ...base, filter: { a: 1 }, limit: 0 }],
      ["AERO_QUERY_LIMIT_REQUIRED", { ...base, filter: { a: 1 }, limit: -1 }],
      ["AERO_QUERY_LIMIT_REQUIRED", { ...base, filter: { a: 1 }, limit: 1.5 }],
      ["AERO_QUERY_LIMIT_REQUIRED", { ...base, filter: { a: 1 }, limit: "5" }],
      ["AERO_QUERY_LIMIT_REQUIRED", { ...base, filter: { a: 1 }, limit: null }],
      ["AERO_QUERY_LIMIT_TOO_LARGE", { ...base, filter: { a: 1 }, limit: 1001 }, { max_query_limit: 1000 }],
      // filter fields and types
      ["AERO_QUERY_INVALID", { ...base, filter: { a: null }, limit: 5 }],
      ["AERO_QUERY_INVALID", { ...base, filter: { a: { $ne: 1 } }, limit: 5 }],
      ["AERO_QUERY_INVALID", { ...base, filter: { a: {} }, limit: 5 }],
      ["AERO_QUERY_INVALID", { ...base, filter: { zz: 1 }, limit: 5 }],
      ["AERO_QUERY_INVALID", { ...base, filter: { a: "1" }, limit: 5 }],
      ["AERO_QUERY_INVALID", { ...base, filter: { a: 1.5 }, limit: 5 }],
      ["AERO_QUERY_INVALID", { ...base, filter: { name: 1 }, limit: 5 }],
      ["AERO_QUERY_INVALID", { ...base, filter: { a: { $gt: null } }, limit: 5 }],
      ["AERO_QUERY_INVALID", { ...base, filter: { active: { $gt: false } }, limit: 5 }],
      ["AERO_QUERY_INVALID", { ...base, filter: { active: "true" }, limit: 5 }],
      ["AERO_QUERY_INVALID", { ...base, filter: { a: { $eq: 1, $gt: 0 } }, limit: 5 }],
      ["AERO_QUERY_INVALID", { ...base, filter: { a: { $gt: 1, $gte: 1 } }, limit: 5 }],
      ["AERO_QUERY_INVALID", { ...base, filter: { a: { $lt: 1, $lte: 1 } }, limit: 5 }],
      ["AERO_QUERY_INVALID", { ...base, filter: { a: [1] }, limit: 5 }],
      ["AERO_QUERY_INVALID", { ...base, filter: { addr: { city: "Kiruna" } }, limit: 5 }],
      // filter indexed
      ["AERO_QUERY_UNINDEXED_FIELD", { ...base, filter: { note: "x" }, limit: 5 }, { field: "note" }],
      ["AERO_QUERY_UNINDEXED_FIELD", { ...base, filter: { a: 1, note: "x" }, limit: 5 }, { field: "note" }],
      // sort indexed
      [
        "AERO_QUERY_SORT_NOT_INDEXED",
        { ...base, filter: { a: 1 }, limit: 5, sort: "note" },
        { field: "note" },
      ],
      ["AERO_QUERY_INVALID", { ...base, filter: { a: 1 }, limit: 5, sort: "zz" }],
      ["AERO_QUERY_INVALID", { ...base, filter: { a: 1 }, limit: 5, sort: [] }],
      ["AERO_QUERY_INVALID", { ...base, filter: { a: 1 }, limit: 5, sort: [{ field: "a", order: "up" }] }],
      // filter non-empty
      ["AERO_QUERY_UNBOUNDED", { ...base, filter: {}, limit: 5 }],
      ["AERO_QUERY_UNBOUNDED", { ...base, limit: 5 }],
      // first failure wins
      ["AERO_SCHEMA_VERSION_REQUIRED", { op: "query", schema_id: "nobody", filter: { zz: 1 }, limit: 0 }],
      ["AERO_SCHEMA_UNKNOWN", { ...base, schema_id: "nobody", filter: {}, limit: 0 }],
      ["AERO_QUERY_LIMIT_REQUIRED", { ...base, filter: { zz: null }, sort: "note" }],
      ["AERO_QUERY_LIMIT_TOO_LARGE", { ...base, filter: { note: "x" }, limit: 5000 }],
      ["AERO_QUERY_INVALID", { ...base, filter: { note: "x", zz: 1 }, limit: 5 }],
      ["AERO_QUERY_UNINDEXED_FIELD", { ...base, filter: { note: "x" }, limit: 5, sort: "note" }],
      ["AERO_QUERY_SORT_NOT_INDEXED", { ...base, filter: {}, limit: 5, sort: "-note" }],
    ];
    for (const [code, request, details] of cases) {
      const error = expectError(await s.request(request), code, details);
      const explained = await s.request({ ...request, op: "explain" });
      expect(explained, JSON.stringify(request)).toMatchObject({
        status: "ok",
        data: { bounded: false, rejection: { code } },
      });
      expect((explained as { data: { rejection: { details: unknown } } }).data.rejection.details).toEqual(
        error.details ?? {},
      );
    }
    await s.close();
  },
};

const query23: Scenario = {
  id: "23",
  title: '{"a":1} is $eq; "-a" is desc; two sort keys or $in -> QUERY_INVALID',
  async run(ctx) {
    const { s } = await peopleDatabase(ctx);
    const same = async (requests: Request[]) => {
      const responses = await sequence(s, requests);
      for (const r of responses.slice(1)) expect(r).toEqual(responses[0]);
      expect(responses[0]?.status).toBe("ok");
      return responses[0] as Response;
    };
    expectRows(
      await same([q({ filter: { a: 2 }, limit: 10 }), q({ filter: { a: { $eq: 2 } }, limit: 10 })]),
      rows("p03", "p05", "p08"),
    );
    await same([x({ filter: { a: 2 }, limit: 10 }), x({ filter: { a: { $eq: 2 } }, limit: 10 })]);
    const range = { a: { $gte: 1 } };
    expectRows(
      await same([
        q({ filter: range, limit: 10, sort: "-a" }),
        q({ filter: range, limit: 10, sort: ["-a"] }),
        q({ filter: range, limit: 10, sort: [{ field: "a", order: "desc" }] }),
      ]),
      rows("p06", "p04", "p03", "p05", "p08", "p01", "p02"),
    );
    await same([
      x({ filter: range, limit: 10, sort: "-a" }),
      x({ filter: range, limit: 10, sort: [{ field: "a", order: "desc" }] }),
    ]);
    expectRows(
      await same([
        q({ filter: range, limit: 10, sort: "a" }),
        q({ filter: range, limit: 10, sort: [{ field: "a", order: "asc" }] }),
        q({ filter: range, limit: 10 }),
      ]),
      rows("p01", "p02", "p03", "p05", "p08", "p04", "p06"),
    );
    expectError(
      await s.request(
        q({
          filter: range,
          limit: 10,
          sort: [
            { field: "a", order: "asc" },
            { field: "b", order: "asc" },
          ],
        }),
      ),
      "AERO_QUERY_INVALID",
    );
    expectError(await s.request(q({ filter: range, limit: 10, sort: ["a", "-b"] })), "AERO_QUERY_INVALID");
    expectError(await s.request(q({ filter: { a: { $in: [1, 2] } }, limit: 10 })), "AERO_QUERY_INVALID");
    await s.close();
  },
};

const query24: Scenario = {
  id: "24",
  title: "explain (and query) twice -> the same bytes, across a restart too",
  async run(ctx) {
    const { dir, s } = await peopleDatabase(ctx);
    const requests = [
      x({ filter: { b: { $gte: 2 }, a: { $lt: 3 } }, limit: 10, sort: "-score" }),
      x({ filter: { name: { $gt: "A" } }, limit: 3 }),
      x({ filter: { note: "x" }, limit: 3 }),
      q({ filter: { b: { $gte: 2 }, a: { $lt: 3 } }, limit: 10, sort: "-score" }),
      q({ filter: { name: { $gt: "A" } }, limit: 3, sort: "-name" }),
    ];
    const first = (await sequence(s, requests)).map(canonicalJson);
    const second = (await sequence(s, requests)).map(canonicalJson);
    expect(second).toEqual(first);
    await s.close();
    const s2 = await ctx.start(dir);
    expect((await sequence(s2, requests)).map(canonicalJson)).toEqual(first);
    await s2.close();
  },
};

const query25: Scenario = {
  id: "25",
  title: "v2 documents are not in a v1 query; no match -> []",
  async run(ctx) {
    const { s } = await peopleDatabase(ctx);
    expectCommit(await s.request(register(PEOPLE_V2)), 10);
    expectCommit(await s.request(insert("people", "v2", { _id: "q01", a: 1 })), 11);
    const a1 = { filter: { a: 1 }, limit: 10 };
    expectRows(await s.request(q(a1)), rows("p01", "p02"), 11);
    expectRows(await s.request(query("people", "v2", a1)), [{ _id: "q01", a: 1 }], 11);
    // Moving p01 to v2 takes it out of v1 queries.
    expectCommit(await s.request(update("people", "v2", { _id: "p01", a: 1, name: "Ann" })), 12);
    expectRows(await s.request(q(a1)), rows("p02"), 12);
    expectRows(
      await s.request(query("people", "v2", a1)),
      [
        { _id: "p01", a: 1, name: "Ann" },
        { _id: "q01", a: 1 },
      ],
      12,
    );
    expectRows(await s.request(q({ filter: { _id: "p01" }, limit: 1 })), [], 12);
    expectRows(await s.request(q({ filter: { a: 42 }, limit: 10 })), [], 12);
    expectRows(await s.request(query("people", "v2", { filter: { name: "Nobody" }, limit: 10 })), [], 12);
    await s.close();
  },
};

const query26: Scenario = {
  id: "26",
  title: "rows ordered by key then _id (UTF-16 code units); $gt/$lt exclusive, $gte/$lte inclusive",
  async run(ctx) {
    const { s } = await peopleDatabase(ctx);
    const cases: Array<[QueryShape, string[]]> = [
      [{ filter: { a: { $gte: 1 } }, limit: 100 }, ["p01", "p02", "p03", "p05", "p08", "p04", "p06"]],
      [{ filter: { a: { $gt: 1, $lt: 5 } }, limit: 100 }, ["p03", "p05", "p08", "p04"]],
      [
        { filter: { a: { $gte: 1, $lte: 5 } }, limit: 100 },
        ["p01", "p02", "p03", "p05", "p08", "p04", "p06"],
      ],
      [{ filter: { a: { $gt: 2 } }, limit: 100 }, ["p04", "p06"]],
      [{ filter: { a: { $lte: 2 } }, limit: 100 }, ["p01", "p02", "p03", "p05", "p08"]],
      [{ filter: { a: { $gte: 1 } }, limit: 3 }, ["p01", "p02", "p03"]],
      [{ filter: { a: { $gte: 1 } }, limit: 4, sort: "-a" }, ["p06", "p04", "p03", "p05"]],
      // Strings by UTF-16 code unit: "A" < "B" < "Z" < "b" < "É" < U+1F600 (D83D DE00) < U+FF5E.
      [
        { filter: { name: { $gte: "" } }, limit: 100 },
        ["p01", "p08", "p02", "p07", "p03", "p04", "p05", "p06"],
      ],
      [{ filter: { name: { $gt: "Ann", $lt: "bob" } }, limit: 100 }, ["p02", "p07"]],
      [{ filter: { name: { $gt: "\u{1F600}" } }, limit: 100 }, ["p06"]],
      // Floats, negative ones included.
      [{ filter: { score: { $gt: -3 } }, limit: 100 }, ["p02", "p04", "p01", "p03"]],
      [{ filter: { score: { $gt: -2.25, $lt: 10 } }, limit: 100 }, ["p04", "p01"]],
      [{ filter: { score: 10 }, limit: 100 }, ["p03"]],
      // Bool.
      [{ filter: { active: true }, limit: 100 }, ["p01", "p03"]],
      [{ filter: { active: false }, limit: 100 }, ["p02"]],
      // Sorting on another field collects, sorts, ties by _id; absent values last.
      [
        { filter: { a: { $gte: 1 } }, limit: 100, sort: "score" },
        ["p02", "p04", "p01", "p03", "p05", "p06", "p08"],
      ],
      [
        { filter: { a: { $gte: 1 } }, limit: 100, sort: "-score" },
        ["p03", "p01", "p04", "p02", "p05", "p06", "p08"],
      ],
      [{ filter: { b: 2 }, limit: 2, sort: "-name" }, ["p03", "p07"]],
      [{ filter: { a: 2 }, limit: 100, sort: "name" }, ["p08", "p03", "p05"]],
    ];
    for (const [shape, ids] of cases) {
      const response = await s.request(q(shape));
      expect(response, JSON.stringify(shape)).toEqual({ status: "ok", data: rows(...ids), read_view: 9 });
    }
    await s.close();
  },
};

const query27: Scenario = {
  id: "27",
  title: "an updated-away value stops matching; deletes survive a restart",
  async run(ctx) {
    const { dir, s } = await peopleDatabase(ctx);
    const moved = { ...byId("p01"), a: 7 };
    expectCommit(await s.request(update("people", "v1", moved)), 10);
    expectCommit(await s.request(remove("people", "v1", "p03")), 11);
    const checks = async (session: Session) => {
      expectRows(await session.request(q({ filter: { a: 1 }, limit: 10 })), rows("p02"), 11);
      expectRows(await session.request(q({ filter: { a: 7 }, limit: 10 })), [moved], 11);
      expectRows(await session.request(q({ filter: { a: { $gte: 1 } }, limit: 10, sort: "-a" })), [
        moved,
        ...rows("p06", "p04", "p05", "p08", "p02"),
      ]);
      expectRows(await session.request(q({ filter: { _id: "p03" }, limit: 1 })), [], 11);
      expectRows(await session.request(q({ filter: { active: true }, limit: 10 })), [moved], 11);
      expectRows(await session.request(q({ filter: { name: "bob" }, limit: 10 })), [], 11);
    };
    await checks(s);
    await s.close();
    const s2 = await ctx.start(dir);
    expect(await s2.recoveryReport()).toMatchObject({ commit_high_water: 11, versions_verified: 10 });
    await checks(s2);
    await s2.close();
  },
};

const query28: Scenario = {
  id: "28",
  title: "a range past max_scan -> EXECUTION_LIMIT, no rows",
  async run(ctx) {
    const { s } = await peopleDatabase(ctx, { core: { max_scan_candidates: 4 } });
    expectExplain(await s.request(x({ filter: { a: { $gte: 2 } }, limit: 10 })), {
      bounded: true,
      schema_id: "people",
      schema_version: "v1",
      chosen_index: "a",
      scan_type: "INDEX_RANGE",
      index_bounds: { lower: { value: 2, inclusive: true }, upper: null },
      predicates: [{ field: "a", op: "$gte", value: 2 }],
      sort: null,
      limit: 10,
      max_scan: 4,
    });
    // 7 documents have `a`: a full range walks 7 entries > 4.
    const limitError = {
      schema_id: "people",
      schema_version: "v1",
      chosen_index: "a",
      scan_type: "INDEX_RANGE",
      max_scan: 4,
    };
    const over: QueryShape[] = [
      { filter: { a: { $gte: 1 } }, limit: 10 },
      { filter: { a: { $gte: 2 } }, limit: 10 }, // 5 entries
      { filter: { a: { $gte: 1 } }, limit: 5 }, // the 5th row needs a 5th entry
      { filter: { a: { $gte: 1 } }, limit: 1, sort: "name" }, // collects the whole range
      { filter: { a: { $gte: 1 }, b: { $gte: 9 } }, limit: 2 }, // one match: the walk goes on past 4
    ];
    for (const shape of over) {
      expectError(await s.request(q(shape)), "AERO_EXECUTION_LIMIT", limitError);
    }
    // Exactly max_scan entries is within the bound; a walk in index order stops at the limit.
    expectRows(
      await s.request(q({ filter: { a: { $gte: 2, $lte: 3 } }, limit: 10 })),
      rows("p03", "p05", "p08", "p04"),
      9,
    );
    expectRows(
      await s.request(q({ filter: { a: { $gte: 1 } }, limit: 4 })),
      rows("p01", "p02", "p03", "p05"),
      9,
    );
    expectRows(
      await s.request(q({ filter: { a: { $gte: 2 } }, limit: 3, sort: "-a" })),
      rows("p06", "p04", "p03"),
      9,
    );
    expectRows(await s.request(q({ filter: { a: 2 }, limit: 10 })), rows("p03", "p05", "p08"), 9);
    expectRows(await s.request(q({ filter: { _id: "p07" }, limit: 10 })), rows("p07"), 9);
    // EXECUTION_LIMIT is an ERROR: the instance goes on serving writes too.
    expectCommit(await s.request(insert("people", "v1", { _id: "p09", a: 9 })), 10);
    await s.close();
  },
};

export const queryScenarios: readonly Scenario[] = [
  query21,
  query22,
  query23,
  query24,
  query25,
  query26,
  query27,
  query28,
];
