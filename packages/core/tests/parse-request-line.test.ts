import { describe, expect, it } from "vitest";
import { parseRequestLine } from "../src/index.js";

const request = { op: "query", schema_id: "users", schema_version: "v1", filter: { age: 3 }, limit: 1 };
const text = JSON.stringify(request);

describe("parseRequestLine: every transport reads a line the same way", () => {
  it("bytes and strings give the same request, with or without a leading byte-order mark", () => {
    const bom = "\uFEFF";
    const forms = [text, `${bom}${text}`, Buffer.from(text), Buffer.from(`${bom}${text}`)];
    for (const form of forms) expect(parseRequestLine(form)).toEqual(request);
  });

  it("invalid UTF-8 and invalid JSON are typed AERO_QUERY_INVALID, never another exception", () => {
    expect(() => parseRequestLine(Uint8Array.from([0x7b, 0xff, 0x7d]))).toThrow(
      expect.objectContaining({ code: "AERO_QUERY_INVALID", message: "The request is not valid UTF-8." }),
    );
    for (const bad of ["{", "", "\uFEFF\uFEFF{}"]) {
      expect(() => parseRequestLine(bad)).toThrow(
        expect.objectContaining({ code: "AERO_QUERY_INVALID", message: "The request is not valid JSON." }),
      );
    }
  });
});
