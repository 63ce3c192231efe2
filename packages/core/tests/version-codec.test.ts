import { describe, expect, it } from "vitest";
import { bodyRange, decodeVersion, encodeVersion, type VersionRecord } from "../src/store/version-codec.js";

const body = (doc: unknown) => new TextEncoder().encode(JSON.stringify(doc));

describe("VERSION records", () => {
  it("decode what they encode, string and integer ids, tombstones", () => {
    const records: VersionRecord[] = [
      {
        schemaId: "users",
        schemaVersion: "v1",
        id: "u-1",
        tombstone: false,
        body: body({ _id: "u-1", n: 1 }),
      },
      { schemaId: "users", schemaVersion: "v2", id: 42, tombstone: false, body: body({ _id: 42 }) },
      { schemaId: "posts", schemaVersion: "v1", id: "p", tombstone: true, body: new Uint8Array(0) },
    ];
    for (const record of records) {
      const payload = encodeVersion(record);
      const decoded = decodeVersion(payload);
      expect({ ...decoded, body: [...decoded.body] }).toEqual({ ...record, body: [...record.body] });
      const { start, end } = bodyRange(payload);
      expect([...payload.subarray(start, end)]).toEqual([...record.body]);
    }
  });

  it("decode the schema id and version in the buffer now, not the one decoded before from the same bytes", () => {
    // Readers reuse their buffers: a decoder that remembered a view of the bytes it decoded
    // (Buffer#slice is a view) would see them change and answer with the old text.
    const users = encodeVersion({
      schemaId: "reused-users",
      schemaVersion: "r1",
      id: "a",
      tombstone: false,
      body: body({ _id: "a" }),
    });
    const posts = encodeVersion({
      schemaId: "reused-posts",
      schemaVersion: "r9",
      id: "a",
      tombstone: false,
      body: body({ _id: "a" }),
    });
    expect(users.length).toBe(posts.length);
    const reused = Buffer.alloc(1 << 20);
    reused.set(users, 4096);
    expect(decodeVersion(reused.subarray(4096, 4096 + users.length))).toMatchObject({
      schemaId: "reused-users",
      schemaVersion: "r1",
    });
    reused.set(posts, 4096);
    expect(decodeVersion(reused.subarray(4096, 4096 + posts.length))).toMatchObject({
      schemaId: "reused-posts",
      schemaVersion: "r9",
    });
  });

  it("refuse malformed payloads with AERO_DATA_CORRUPTION", () => {
    const payload = encodeVersion({
      schemaId: "users",
      schemaVersion: "v1",
      id: "a",
      tombstone: false,
      body: body({ _id: "a" }),
    });
    for (const bad of [
      payload.subarray(0, 1),
      payload.subarray(0, payload.length - 1),
      Uint8Array.of(2, 0, 0, 0),
    ]) {
      expect(() => decodeVersion(bad)).toThrow(expect.objectContaining({ code: "AERO_DATA_CORRUPTION" }));
      expect(() => bodyRange(bad)).toThrow(expect.objectContaining({ code: "AERO_DATA_CORRUPTION" }));
    }
  });
});
