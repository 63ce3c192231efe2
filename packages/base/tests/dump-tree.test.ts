import { describe, expect, it } from "vitest";
import { dumpTree, isSimulatedCrash, SimFileSystem, SimulatedCrash } from "../src/index.js";

describe("dumpTree", () => {
  it("lists directories and files (base64) in sorted order, leaves out what skip names, and reads a missing root as empty", async () => {
    const fs = new SimFileSystem();
    await fs.mkdir("/d");
    await fs.mkdir("/d/sub");
    for (const [path, text] of [
      ["/d/b", "bee"],
      ["/d/a", "ay"],
      ["/d/sub/LOCK", "x"],
      ["/d/sub/c", ""],
    ] as const) {
      const h = await fs.open(path, "wx");
      await h.write(new TextEncoder().encode(text), 0, text.length, 0);
      await h.close();
    }
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    expect(await dumpTree(fs, "/d")).toEqual([
      ["a", b64("ay")],
      ["b", b64("bee")],
      ["sub/", "dir"],
      ["sub/LOCK", b64("x")],
      ["sub/c", ""],
    ]);
    expect((await dumpTree(fs, "/d", (rel) => rel.endsWith("LOCK"))).map(([p]) => p)).toEqual([
      "a",
      "b",
      "sub/",
      "sub/c",
    ]);
    expect(await dumpTree(fs, "/missing")).toEqual([]);
  });
});

describe("isSimulatedCrash", () => {
  it("tells a simulated crash (from any copy of this module: by name) from other errors", () => {
    expect(isSimulatedCrash(new SimulatedCrash(3))).toBe(true);
    const foreign = new Error("crash");
    foreign.name = "SimulatedCrash";
    expect(isSimulatedCrash(foreign)).toBe(true);
    expect(isSimulatedCrash(new Error("EIO"))).toBe(false);
    expect(isSimulatedCrash({ name: "SimulatedCrash" })).toBe(false);
    expect(isSimulatedCrash(undefined)).toBe(false);
  });
});
