import * as fs from "node:fs/promises";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  assertBuilt,
  initDb,
  insertUser,
  parseCanonical,
  parseLogs,
  queryAges,
  recoveryReport,
  removeTempDirs,
  runAerodb,
  Server,
  USERS_SCHEMA,
} from "./helpers.js";

beforeAll(assertBuilt);
afterAll(removeTempDirs);

describe("aerodb start", () => {
  it("answers a stream of requests in order, one canonical line each", async () => {
    const { cwd, data } = await initDb();
    const requests = [
      { op: "register_schema", schema: USERS_SCHEMA },
      insertUser("u1", 31),
      insertUser("u2", 27),
      insertUser("u3", 45),
      {
        op: "query",
        schema_id: "users",
        schema_version: "v1",
        filter: { age: { $gte: 27, $lt: 40 } },
        sort: "-age",
        limit: 10,
      },
      { op: "explain", schema_id: "users", schema_version: "v1", filter: { age: 31 }, limit: 5 },
      { op: "query", schema_id: "users", schema_version: "v1", filter: {}, limit: 10 },
      insertUser("u1", 99),
      { op: "update", schema_id: "users", schema_version: "v1", document: { _id: "u2", age: 28 } },
      { op: "delete", schema_id: "users", schema_version: "v1", document: { _id: "nobody" } },
      { op: "query", schema_id: "users", schema_version: "v1", filter: { _id: "u2" }, limit: 1 },
      { op: "checkpoint" },
    ];
    const input = `${requests.map((r) => JSON.stringify(r)).join("\n")}\n\n`;
    const result = await runAerodb(["start", "--data", data], { cwd, input });
    expect(result.code, result.stderr).toBe(0);
    expect(result.lines).toHaveLength(requests.length);
    const r = result.lines.map(parseCanonical);
    expect(r[0]).toEqual({ status: "ok", data: [], commit_id: 1 });
    expect(r[1]).toEqual({ status: "ok", data: [], commit_id: 2 });
    expect(r[2]).toEqual({ status: "ok", data: [], commit_id: 3 });
    expect(r[3]).toEqual({ status: "ok", data: [], commit_id: 4 });
    expect(r[4]).toEqual({
      status: "ok",
      data: [
        { _id: "u1", age: 31 },
        { _id: "u2", age: 27 },
      ],
      read_view: 4,
    });
    expect(r[5]).toMatchObject({
      status: "ok",
      data: { bounded: true, chosen_index: "age", scan_type: "INDEX_EQ", limit: 5 },
    });
    expect(r[6]).toMatchObject({ status: "error", code: "AERO_QUERY_UNBOUNDED", severity: "REJECT" });
    expect(r[7]).toMatchObject({ status: "error", code: "AERO_WRITE_DUPLICATE_ID" });
    expect(r[8]).toEqual({ status: "ok", data: [], commit_id: 5 });
    expect(r[9]).toEqual({ status: "ok", data: [], commit_id: null });
    expect(r[10]).toEqual({ status: "ok", data: [{ _id: "u2", age: 28 }], read_view: 5 });
    // A checkpoint over stdin: the snapshot at commit 5; the whole (sealed) log is at or below
    // its boundary, so its one segment is removed.
    expect(r[11]).toMatchObject({
      status: "ok",
      data: { snapshot_id: "snap-00000000000000000005", commit_boundary: 5, segments_removed: 1 },
    });

    const logs = parseLogs(result.stderr);
    expect(logs.map((l) => l.event)).toEqual([
      "RECOVERY_COMPLETE",
      "AERODB_SERVING",
      "AERODB_STOPPING",
      "AERODB_STOPPED",
    ]);
    expect(logs[2]).toMatchObject({ level: "info", reason: "eof" });
    expect(result.stdout + result.stderr).not.toContain(cwd);
  });

  it("answers invalid UTF-8 and over-long lines with AERO_QUERY_INVALID and goes on", async () => {
    const { cwd, data } = await initDb();
    // max_document_bytes 1024 -> lines are capped at 2 * 1024 + 1 MiB bytes.
    await fs.writeFile(path.join(cwd, "aerodb.json"), JSON.stringify({ core: { max_document_bytes: 1024 } }));
    const cap = 2 * 1024 + 1024 * 1024;
    const input = Buffer.concat([
      Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a]),
      Buffer.from(`${"x".repeat(2 * cap)}\n`),
      Buffer.from('{"op":"nope"}\r\n\r\n\n'),
      Buffer.from(
        `{"op":"explain","schema_id":"users","schema_version":"v1","filter":{"age":1},"limit":1,"pad":"${"y".repeat(cap - 200)}"}\n`,
      ),
      Buffer.from(`{"op":"query","schema_id":"users","schema_version":"v1","filter":{"age":1},"limit":1}`),
    ]);
    const result = await runAerodb(["start", "--data", data], { cwd, input });
    expect(result.code, result.stderr).toBe(0);
    const r = result.lines.map(parseCanonical);
    expect(r).toHaveLength(5);
    expect(r[0]).toMatchObject({ code: "AERO_QUERY_INVALID", message: "The request is not valid UTF-8." });
    expect(r[1]).toMatchObject({
      code: "AERO_QUERY_INVALID",
      details: { reason: "request_too_large", bytes: 2 * cap, max_bytes: cap },
    });
    expect(r[2]).toMatchObject({ code: "AERO_QUERY_INVALID" });
    // A line just under the cap is parsed (and refused for its extra field, not its size).
    expect(r[3]).toMatchObject({ status: "ok", data: { bounded: false } });
    // The last line has no newline: EOF delivers it.
    expect(r[4]).toMatchObject({ code: "AERO_SCHEMA_UNKNOWN" });
  });

  it("refuses a second start on the same directory at once, and stops on SIGINT", async () => {
    const { cwd, data } = await initDb();
    const first = new Server(["--data", data], { cwd });
    await first.serving();
    const t0 = Date.now();
    const [second, stats, verify] = await Promise.all([
      runAerodb(["start", "--data", data], { cwd, input: `${JSON.stringify(queryAges(0))}\n` }),
      runAerodb(["stats", "--data", data], { cwd }),
      runAerodb(["verify", "--data", data], { cwd }),
    ]);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(second.code).toBe(1);
    expect(second.stdout).toBe("");
    const fatal = parseLogs(second.stderr).filter((l) => l.event === "FATAL");
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toMatchObject({
      level: "fatal",
      error: { code: "AERO_STORAGE_LOCKED", severity: "FATAL" },
    });
    expect(stats.code).toBe(1);
    expect(parseCanonical(stats.lines[0] as string)).toMatchObject({ code: "AERO_STORAGE_LOCKED" });
    expect(verify.code).toBe(1);
    expect(parseCanonical(verify.lines[0] as string)).toMatchObject({ code: "AERO_STORAGE_LOCKED" });

    first.send({ op: "register_schema", schema: USERS_SCHEMA });
    await first.responses(1);
    first.child.kill("SIGINT");
    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(first.logs().find((l) => l.event === "AERODB_STOPPED")).toMatchObject({ reason: "SIGINT" });
  });

  it("stops cleanly on SIGTERM after the request in flight", async () => {
    const { cwd, data } = await initDb();
    const server = new Server(["--data", data], { cwd });
    await server.serving();
    server.send({ op: "register_schema", schema: USERS_SCHEMA }, insertUser("a", 1));
    await server.responses(2);
    server.child.kill("SIGTERM");
    expect(await server.exited).toEqual({ code: 0, signal: null });
    const restart = await runAerodb(["start", "--data", data], {
      cwd,
      input: `${JSON.stringify(queryAges(0))}\n`,
    });
    expect(recoveryReport(restart.stderr)).toMatchObject({ clean_shutdown_flag: true, stale_lock: false });
    expect(parseCanonical(restart.lines[0] as string)).toEqual({
      status: "ok",
      data: [{ _id: "a", age: 1 }],
      read_view: 2,
    });
  });

  it("keeps every acknowledged insert across a SIGKILL; the restart's recovery report says so", async () => {
    const { cwd, data } = await initDb();
    const server = new Server(["--data", data], { cwd });
    await server.serving();
    server.send({ op: "register_schema", schema: USERS_SCHEMA });
    await server.responses(1);
    const total = 400;
    server.send(...Array.from({ length: total }, (_, i) => insertUser(`k${i}`, i)));
    await server.responses(41);
    server.child.kill("SIGKILL");
    expect((await server.exited).signal).toBe("SIGKILL");
    const acked = server.lines
      .slice(1)
      .map(parseCanonical)
      .filter((r) => r.status === "ok");
    expect(acked.length).toBeGreaterThanOrEqual(40);
    expect(acked.map((r) => r.commit_id)).toEqual(acked.map((_, i) => i + 2));

    const restart = await runAerodb(["start", "--data", data], {
      cwd,
      input: `${JSON.stringify(queryAges(0))}\n`,
    });
    expect(restart.code, restart.stderr).toBe(0);
    const report = recoveryReport(restart.stderr);
    expect(report).toMatchObject({
      clean_shutdown_flag: false,
      stale_lock: true,
      outcome: "RECOVERY_COMPLETE",
    });
    expect(report.commit_high_water as number).toBeGreaterThanOrEqual(acked.length + 1);
    const rows = (parseCanonical(restart.lines[0] as string).data as Array<{ _id: string }>).map(
      (d) => d._id,
    );
    for (let i = 0; i < acked.length; i++) expect(rows).toContain(`k${i}`);
    expect(rows.length).toBe((report.commit_high_water as number) - 1);
  });

  it("dies at a semantic crash point after the fsync; the unacknowledged insert is still durable", async () => {
    const { cwd, data } = await initDb();
    const input = `${[{ op: "register_schema", schema: USERS_SCHEMA }, insertUser("c", 7), insertUser("d", 8)]
      .map((r) => JSON.stringify(r))
      .join("\n")}\n`;
    const crashed = await runAerodb(["start", "--data", data], {
      cwd,
      input,
      env: { AERODB_CRASH_POINT: "commit:after-fsync" },
    });
    expect(crashed.signal).toBe("SIGKILL");
    expect(crashed.lines).toEqual(['{"commit_id":1,"data":[],"status":"ok"}']);
    const restart = await runAerodb(["start", "--data", data], {
      cwd,
      input: `${JSON.stringify(queryAges(0))}\n`,
    });
    expect(parseCanonical(restart.lines[0] as string)).toEqual({
      status: "ok",
      data: [{ _id: "c", age: 7 }],
      read_view: 2,
    });
  });

  it("on a FATAL error answers that request, logs one FATAL line and exits 1 without going on", async () => {
    const { cwd, data } = await initDb();
    const server = new Server(["--data", data], { cwd });
    await server.serving();
    server.send(
      { op: "register_schema", schema: USERS_SCHEMA },
      insertUser("victim", 5, { email: "MARKER-abcdef" }),
    );
    await server.responses(2);
    // Damage the stored document under the running server: its next read verifies the checksum.
    const walDir = path.join(data, "wal");
    const [segment] = await fs.readdir(walDir);
    const file = path.join(walDir, segment as string);
    const bytes = await fs.readFile(file);
    const at = bytes.indexOf("MARKER-abcdef");
    expect(at).toBeGreaterThan(0);
    const handle = await fs.open(file, "r+");
    await handle.write(Buffer.from("N"), 0, 1, at);
    await handle.close();

    server.send(
      { op: "query", schema_id: "users", schema_version: "v1", filter: { _id: "victim" }, limit: 1 },
      insertUser("after", 6),
    );
    const exit = await server.exited;
    expect(exit).toEqual({ code: 1, signal: null });
    expect(server.lines).toHaveLength(3);
    expect(parseCanonical(server.lines[2] as string)).toMatchObject({
      code: "AERO_DATA_CORRUPTION",
      severity: "FATAL",
    });
    const fatal = server.logs().filter((l) => l.event === "FATAL");
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toMatchObject({ error: { code: "AERO_DATA_CORRUPTION" } });
  });
});
