import { describe, expect, it } from "vitest";
import {
  AeroError,
  ERROR_REGISTRY,
  type ErrorCode,
  isAeroError,
  isErrorCode,
  isFatal,
  type Severity,
} from "../src/index.js";

/**
 * The table of spec core.md §7, expanded (`X_{A,B}` = `X_A`, `X_B`). Copied here so the
 * test does not read the spec at run time: a change to either side must be deliberate.
 */
const SPEC_TABLE: Record<Severity, string[]> = {
  FATAL: [
    "CONFIG_INVALID",
    "CONFIG_UNSAFE",
    "CONFIG_IMMUTABLE",
    "CONFIG_IO_FAILED",
    "STORAGE_LOCKED",
    "STORAGE_NOT_INITIALIZED",
    "STORAGE_FORMAT_UNSUPPORTED",
    "STORAGE_WRITE_FAILED",
    "WAL_APPEND_FAILED",
    "WAL_FSYNC_FAILED",
    "WAL_CORRUPTION",
    "WAL_UNIT_INCOMPLETE",
    "DATA_CORRUPTION",
    "INDEX_CORRUPTION",
    "METADATA_CORRUPTION",
    "RECOVERY_FAILED",
    "RECOVERY_SCHEMA_MISSING",
    "RECOVERY_INCONSISTENT",
    "RECOVERY_SNAPSHOT_MISSING",
    "RECOVERY_RESTORE_INCOMPLETE",
    "SNAPSHOT_CORRUPTION",
    "RESTORE_INVALID_BACKUP",
    "RESTORE_FAILED",
    "MVCC_COMMIT_ORDER",
    "MVCC_GC_INVALID",
    "INTERNAL_INVARIANT",
  ],
  ERROR: [
    "STORAGE_READ_FAILED",
    "EXECUTION_LIMIT",
    "CHECKPOINT_FAILED",
    "CHECKPOINT_TRUNCATE_FAILED",
    "BACKUP_FAILED",
    "TXN_WRITE_CONFLICT",
    "REPL_GAP",
    "REPL_CORRUPTION",
    "REPL_DIVERGENCE",
    "REPL_IDENTITY_MISMATCH",
    "REPL_SNAPSHOT_INVALID",
    "REPL_PRIMARY_UNREACHABLE",
  ],
  REJECT: [
    "STORAGE_ALREADY_INITIALIZED",
    "SCHEMA_REQUIRED",
    "SCHEMA_VERSION_REQUIRED",
    "SCHEMA_UNKNOWN",
    "SCHEMA_UNKNOWN_VERSION",
    "SCHEMA_VALIDATION_FAILED",
    "SCHEMA_INVALID_DEFINITION",
    "SCHEMA_IMMUTABLE",
    "WRITE_DUPLICATE_ID",
    "WRITE_NOT_FOUND",
    "WRITE_TOO_LARGE",
    "QUERY_INVALID",
    "QUERY_UNBOUNDED",
    "QUERY_UNINDEXED_FIELD",
    "QUERY_LIMIT_REQUIRED",
    "QUERY_LIMIT_TOO_LARGE",
    "QUERY_SORT_NOT_INDEXED",
    "TXN_NOT_FOUND",
    "TXN_KEY_ALREADY_WRITTEN",
    "TXN_TOO_LARGE",
    "TXN_TOO_MANY",
    "REPL_NOT_PRIMARY",
    "REPL_READ_UNSAFE",
    "REPL_SNAPSHOT_REQUIRED",
    "OBSERVE_METHOD_NOT_ALLOWED",
    "OBSERVE_NOT_FOUND",
    "OBSERVE_BAD_REQUEST",
    "CLI_USAGE",
  ],
};

const codes = Object.keys(ERROR_REGISTRY) as ErrorCode[];

describe("ERROR_REGISTRY", () => {
  it("every code is AERO_ + upper-case words and has a valid severity, an invariant and a meaning", () => {
    expect(codes.length).toBeGreaterThan(0);
    for (const code of codes) {
      const spec = ERROR_REGISTRY[code];
      expect(code).toMatch(/^AERO_[A-Z]+(_[A-Z]+)+$/);
      expect(["FATAL", "ERROR", "REJECT"]).toContain(spec.severity);
      expect(spec.invariant.trim(), code).not.toBe("");
      expect(spec.meaning.trim(), code).not.toBe("");
    }
  });

  it("holds every code of the spec's table with the severity the table gives", () => {
    const missing: string[] = [];
    const wrong: string[] = [];
    for (const [severity, names] of Object.entries(SPEC_TABLE) as Array<[Severity, string[]]>) {
      for (const name of names) {
        const code = `AERO_${name}`;
        if (!isErrorCode(code)) missing.push(code);
        else if (ERROR_REGISTRY[code].severity !== severity) {
          wrong.push(`${code}: ${ERROR_REGISTRY[code].severity} != ${severity}`);
        }
      }
    }
    expect(missing).toEqual([]);
    expect(wrong).toEqual([]);
  });

  it("the spec's table lists no code twice", () => {
    const all = Object.values(SPEC_TABLE).flat();
    expect(new Set(all).size).toBe(all.length);
  });

  it("isErrorCode accepts registry codes only, not inherited properties", () => {
    expect(isErrorCode("AERO_WAL_CORRUPTION")).toBe(true);
    expect(isErrorCode("AERO_NOT_A_CODE")).toBe(false);
    expect(isErrorCode("toString")).toBe(false);
    expect(isErrorCode("__proto__")).toBe(false);
    expect(isErrorCode("")).toBe(false);
  });
});

describe("AeroError", () => {
  it("takes severity and invariant from the registry for every code", () => {
    for (const code of codes) {
      const err = new AeroError(code, "msg");
      expect(err.code).toBe(code);
      expect(err.severity).toBe(ERROR_REGISTRY[code].severity);
      expect(err.invariant).toBe(ERROR_REGISTRY[code].invariant);
    }
  });

  it("is an Error with name AeroError, a message, details and a cause", () => {
    const cause = new Error("disk on fire");
    const err = new AeroError("AERO_WAL_FSYNC_FAILED", "fsync failed", { segment: 3 }, { cause });
    expect(err).toBeInstanceOf(Error);
    expect(err).toBeInstanceOf(AeroError);
    expect(err.name).toBe("AeroError");
    expect(err.message).toBe("fsync failed");
    expect(err.details).toEqual({ segment: 3 });
    expect(err.cause).toBe(cause);
    expect(typeof err.stack).toBe("string");
    expect(new AeroError("AERO_CLI_USAGE", "x").details).toBeUndefined();
  });

  it("toJSON has exactly the documented keys, and no stack, cause or name", () => {
    const cause = new Error("/var/secret/path");
    const withDetails = new AeroError(
      "AERO_QUERY_LIMIT_TOO_LARGE",
      "limit too large",
      { limit: 5000 },
      { cause },
    );
    const json = withDetails.toJSON();
    expect(Object.keys(json).sort()).toEqual([
      "code",
      "details",
      "invariant",
      "message",
      "severity",
      "status",
    ]);
    expect(json).toEqual({
      status: "error",
      code: "AERO_QUERY_LIMIT_TOO_LARGE",
      severity: "REJECT",
      message: "limit too large",
      invariant: "CORE-Q-1",
      details: { limit: 5000 },
    });
    const text = JSON.stringify(withDetails);
    expect(JSON.parse(text)).toEqual(json);
    expect(text).not.toContain("stack");
    expect(text).not.toContain("secret");
    expect(text).not.toContain("AeroError");

    const plain = new AeroError("AERO_INTERNAL_INVARIANT", "bug").toJSON();
    expect(Object.keys(plain).sort()).toEqual(["code", "invariant", "message", "severity", "status"]);
    expect("details" in plain).toBe(false);
  });

  it("isAeroError and isFatal classify values", () => {
    const fatal = new AeroError("AERO_DATA_CORRUPTION", "bad checksum");
    const error = new AeroError("AERO_TXN_WRITE_CONFLICT", "conflict");
    const reject = new AeroError("AERO_SCHEMA_REQUIRED", "no schema");
    expect(isAeroError(fatal)).toBe(true);
    expect(isAeroError(new Error("x"))).toBe(false);
    expect(isAeroError({ code: "AERO_DATA_CORRUPTION", severity: "FATAL" })).toBe(false);
    expect(isAeroError(null)).toBe(false);
    expect(isFatal(fatal)).toBe(true);
    expect(isFatal(error)).toBe(false);
    expect(isFatal(reject)).toBe(false);
    expect(isFatal(new Error("fatal"))).toBe(false);
    expect(isFatal(undefined)).toBe(false);
  });
});
