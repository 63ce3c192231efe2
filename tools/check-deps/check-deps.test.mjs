// node --test tools/  — builds tiny fake workspaces in a temp dir and checks that each kind of
// violation is caught, and that a clean workspace passes.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, test } from "node:test";
import { checkDeps, importsOf } from "./check-deps.mjs";

const SHORT = ["base", "wal", "core", "snapshot", "mvcc", "replication", "perf", "observe", "cli"];
const roots = [];

/**
 * A workspace with every package of the phase order, each with an empty src/index.ts, a package.json
 * and a tsconfig.src.json mirroring its deps. `overrides` per short name: { deps, devDeps, peers,
 * refs (short names, default = workspace deps), files: { "src/x.ts": "…" } }.
 */
function workspace(overrides = {}, rootDevDeps = { vitest: "1.0.0" }) {
  const root = mkdtempSync(path.join(tmpdir(), "check-deps-test-"));
  roots.push(root);
  const write = (rel, text) => {
    const file = path.join(root, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  };
  write("package.json", JSON.stringify({ name: "root", private: true, devDependencies: rootDevDeps }));
  for (const short of SHORT) {
    const o = overrides[short] ?? {};
    const asDeps = (list = []) =>
      Object.fromEntries(list.map((n) => [n, n.startsWith("@aerodb/") ? "workspace:*" : "1.0.0"]));
    write(
      `packages/${short}/package.json`,
      JSON.stringify({
        name: `@aerodb/${short}`,
        dependencies: asDeps(o.deps),
        devDependencies: asDeps(o.devDeps),
        peerDependencies: asDeps(o.peers),
      }),
    );
    const refs =
      o.refs ??
      [...(o.deps ?? []), ...(o.peers ?? [])].filter((n) => n.startsWith("@aerodb/")).map((n) => n.slice(8));
    write(
      `packages/${short}/tsconfig.src.json`,
      // JSON with comments and a trailing comma, as tsconfig files may be.
      `{\n  // composite build\n  "references": [${refs.map((r) => `{ "path": "../${r}/tsconfig.src.json" }`).join(", ")}],\n}\n`,
    );
    write(`packages/${short}/src/index.ts`, "export {};\n");
    for (const [rel, text] of Object.entries(o.files ?? {})) write(`packages/${short}/${rel}`, text);
  }
  return root;
}

const kinds = (violations) => violations.map((v) => v.kind);

afterEach(() => {
  while (roots.length > 0) rmSync(roots.pop(), { recursive: true, force: true });
});

describe("checkDeps", () => {
  test("a clean workspace passes", () => {
    const root = workspace({
      wal: {
        deps: ["@aerodb/base", "pure-rand"],
        devDeps: ["fast-check"],
        files: {
          "src/index.ts": [
            'import { x } from "@aerodb/base";',
            'import type { Y } from "@aerodb/base";',
            'import rand from "pure-rand/distribution";',
            'import { readFile } from "node:fs/promises";',
            'import path from "path";',
            'export * from "./local.js";',
            "// import nope from 'left-pad';",
            'const s = "import(\\"left-pad\\")";',
            "export { x, rand, readFile, path, s };",
            "export type { Y };",
          ].join("\n"),
          "src/local.ts": "export const local = 1;\n",
          "tests/wal.test.ts": [
            'import { describe } from "vitest";',
            'import fc from "fast-check";',
            'import { local } from "../src/local.js";',
            'const m = await import("@aerodb/base");',
            "export { describe, fc, local, m };",
          ].join("\n"),
        },
      },
      core: { deps: ["@aerodb/base", "@aerodb/wal"] },
      cli: {
        deps: ["@aerodb/core", "@aerodb/perf"],
        files: { "src/index.ts": 'const perf = await import("@aerodb/perf");\nexport { perf };\n' },
      },
    });
    const stats = {};
    assert.deepEqual(checkDeps(root, stats), []);
    assert.equal(stats.packages, 9);
    assert.ok(stats.imports >= 10);
  });

  test("importing a later phase is caught, in src and in tests", () => {
    const root = workspace({
      wal: {
        deps: ["@aerodb/core"],
        devDeps: ["@aerodb/snapshot"],
        files: {
          "src/index.ts": 'import { c } from "@aerodb/core";\nexport { c };\n',
          "tests/a.test.ts": 'import { s } from "@aerodb/snapshot";\nexport { s };\n',
        },
      },
    });
    const v = checkDeps(root).filter((x) => x.kind === "phase-order");
    assert.deepEqual(v.map((x) => [x.file, x.line ?? 0, x.specifier]).sort(), [
      ["packages/wal/package.json", 0, "@aerodb/core"],
      ["packages/wal/package.json", 0, "@aerodb/snapshot"],
      ["packages/wal/src/index.ts", 1, "@aerodb/core"],
      ["packages/wal/tests/a.test.ts", 1, "@aerodb/snapshot"],
    ]);
  });

  test("a package importing itself by name (same phase) is caught", () => {
    const root = workspace({
      core: { files: { "tests/a.test.ts": 'export * from "@aerodb/core";\n' } },
    });
    assert.deepEqual(kinds(checkDeps(root)), ["phase-order"]);
  });

  test("an undeclared import is caught (workspace and npm, static, dynamic and re-export)", () => {
    const root = workspace({
      core: {
        files: {
          "src/index.ts": [
            'import { b } from "@aerodb/base";',
            'export { z } from "zod";',
            'const lazy = () => import("lodash/fp");',
            "export { b, lazy };",
          ].join("\n"),
        },
      },
    });
    const v = checkDeps(root);
    assert.deepEqual(
      v.map((x) => [x.kind, x.specifier, x.line]),
      [
        ["undeclared", "@aerodb/base", 1],
        ["undeclared", "zod", 2],
        ["undeclared", "lodash/fp", 3],
      ],
    );
  });

  test("src may not use devDependencies; tests may, and may use root devDependencies", () => {
    const root = workspace({
      snapshot: {
        devDeps: ["fast-check"],
        files: {
          "src/index.ts": 'import fc from "fast-check";\nimport { it } from "vitest";\nexport { fc, it };\n',
          "tests/a.test.ts":
            'import fc from "fast-check";\nimport { it } from "vitest";\nexport { fc, it };\n',
        },
      },
    });
    const v = checkDeps(root);
    assert.deepEqual(
      v.map((x) => [x.kind, x.file, x.specifier]),
      [
        ["undeclared", "packages/snapshot/src/index.ts", "fast-check"],
        ["undeclared", "packages/snapshot/src/index.ts", "vitest"],
      ],
    );
    assert.match(v[0].message, /only a devDependency/);
  });

  test("only @aerodb/cli may import or declare @aerodb/perf", () => {
    const root = workspace({
      observe: {
        deps: ["@aerodb/perf"],
        files: { "src/index.ts": 'const p = await import("@aerodb/perf");\nexport { p };\n' },
      },
    });
    const v = checkDeps(root);
    assert.deepEqual(kinds(v), ["perf-import", "perf-import"]);
    assert.deepEqual(
      v.map((x) => x.file),
      ["packages/observe/package.json", "packages/observe/src/index.ts"],
    );
  });

  test("tsconfig.src.json references must mirror the declared workspace deps exactly", () => {
    const root = workspace({
      core: { deps: ["@aerodb/base", "@aerodb/wal"], refs: ["base"] }, // missing wal
      snapshot: { deps: ["@aerodb/base"], refs: ["base", "wal"] }, // extra wal
      mvcc: { refs: ["nowhere"] }, // not a package
    });
    const v = checkDeps(root);
    assert.deepEqual(kinds(v), ["tsconfig-references", "tsconfig-references", "tsconfig-references"]);
    assert.deepEqual(
      v.map((x) => [x.pkg, x.specifier]),
      [
        ["@aerodb/core", "@aerodb/wal"],
        ["@aerodb/mvcc", "../nowhere/tsconfig.src.json"],
        ["@aerodb/snapshot", "@aerodb/wal"],
      ],
    );
  });

  test("a relative import that leaves the package is caught", () => {
    const root = workspace({
      core: { files: { "src/index.ts": 'export * from "../../base/src/index.js";\n' } },
    });
    assert.deepEqual(kinds(checkDeps(root)), ["relative-escape"]);
  });

  test("a package outside the phase order is caught", () => {
    const root = workspace();
    mkdirSync(path.join(root, "packages/extra"));
    writeFileSync(path.join(root, "packages/extra/package.json"), JSON.stringify({ name: "@aerodb/extra" }));
    writeFileSync(path.join(root, "packages/extra/tsconfig.src.json"), "{}");
    assert.deepEqual(kinds(checkDeps(root)), ["unknown-package"]);
  });
});

describe("importsOf", () => {
  test("finds every import form with its line, ignoring comments and strings", () => {
    const src = [
      'import a from "a";',
      'import type { B } from "b";',
      'export * from "c";',
      'export { d } from "d";',
      'import "e";',
      'const f = await import("f");',
      'import g = require("g");',
      'type H = import("h").H;',
      "/* import x from 'x'; */ const s = 'import y from \"y\"';",
      "const dyn = (n: string) => import(n);",
    ].join("\n");
    assert.deepEqual(
      importsOf("x.ts", src).map((i) => `${i.line}:${i.specifier}${i.typeOnly ? ":type" : ""}`),
      ["1:a", "2:b:type", "3:c", "4:d", "5:e", "6:f", "7:g", "8:h:type"],
    );
  });
});
