import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { type InputItem, LineQueue, LineSplitter } from "../src/line-reader.js";

function split(max: number, chunks: Array<string | Buffer>): Array<string | number> {
  const out: Array<string | number> = [];
  const splitter = new LineSplitter(max, (item: InputItem) =>
    out.push(item.kind === "line" ? item.bytes.toString("latin1") : item.bytes),
  );
  for (const c of chunks) splitter.push(typeof c === "string" ? Buffer.from(c, "latin1") : c);
  splitter.end();
  return out;
}

describe("LineSplitter", () => {
  it("splits on \\n across chunks, drops one trailing \\r and skips empty lines", () => {
    expect(split(100, ["ab", "c\nde", "f\r\n\n\r\ng", "h"])).toEqual(["abc", "def", "gh"]);
    expect(split(100, ["\n\n", "x\n"])).toEqual(["x"]);
  });

  it("keeps the raw bytes (no UTF-8 decoding)", () => {
    const out: Buffer[] = [];
    const splitter = new LineSplitter(10, (item) => {
      if (item.kind === "line") out.push(item.bytes);
    });
    splitter.push(Buffer.from([0xff, 0xc3, 0x0a, 0xc3]));
    splitter.push(Buffer.from([0xa9, 0x0a]));
    expect(out.map((b) => [...b])).toEqual([
      [0xff, 0xc3],
      [0xc3, 0xa9],
    ]);
  });

  it("accepts a line of exactly the cap and reports a longer one by its size, however it is chunked", () => {
    expect(split(4, ["abcd\nabcde\nab", "cdef", "gh\nok"])).toEqual(["abcd", 5, 8, "ok"]);
    expect(split(4, ["abcd\r\n"])).toEqual(["abcd"]);
    expect(split(4, ["abcdX\r\n"])).toEqual([6]);
    expect(split(3, ["abcdefgh"])).toEqual([8]);
  });

  it("never holds more than the cap of an over-long line", () => {
    let seen = 0;
    const splitter = new LineSplitter(1000, (item) => {
      if (item.kind === "too_large") seen = item.bytes;
    });
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    for (let i = 0; i < 64; i++) splitter.push(chunk);
    expect((splitter as unknown as { partBytes: number }).partBytes).toBe(0);
    splitter.push(Buffer.from("\n"));
    expect(seen).toBe(64 * 64 * 1024);
  });
});

describe("LineQueue", () => {
  it("pauses its input while too many lines wait, and resumes once they are taken", async () => {
    const input = new PassThrough();
    const queue = new LineQueue(input, { maxLineBytes: 1000, highWaterBytes: 1 << 20, highWaterLines: 8 });
    input.write(`${Array.from({ length: 20 }, (_, i) => `line${i}`).join("\n")}\n`);
    await new Promise((r) => setImmediate(r));
    expect(input.isPaused()).toBe(true);
    const got: string[] = [];
    for (let i = 0; i < 16; i++) {
      const item = await queue.next();
      if (item?.kind === "line") got.push(item.bytes.toString());
    }
    expect(input.isPaused()).toBe(false);
    input.end("tail");
    for (;;) {
      const item = await queue.next();
      if (item === null) break;
      if (item.kind === "line") got.push(item.bytes.toString());
    }
    expect(got).toEqual([...Array.from({ length: 20 }, (_, i) => `line${i}`), "tail"]);
  });

  it("close() drops what is queued and wakes a waiting reader with null", async () => {
    const input = new PassThrough();
    const queue = new LineQueue(input, { maxLineBytes: 1000, highWaterBytes: 1 << 20, highWaterLines: 8 });
    const waiting = queue.next();
    queue.close();
    expect(await waiting).toBeNull();
    input.write("a\n");
    expect(await queue.next()).toBeNull();
  });
});
