// node --test tools/  — the file operations of test:no-perf, on a tiny fake workspace.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { copyWorkspace, stripPerf } from "./test-no-perf.mjs";

const temp = mkdtempSync(path.join(tmpdir(), "strip-perf-test-"));
after(() => rmSync(temp, { recursive: true, force: true }));

function write(root, rel, text) {
  const file = path.join(root, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
}
const readJson = (root, rel) => JSON.parse(readFileSync(path.join(root, rel), "utf8"));

test("copyWorkspace leaves out installs, build output, VCS and data; stripPerf removes every mention", () => {
  const src = path.join(temp, "src");
  write(src, "package.json", JSON.stringify({ name: "root", private: true }));
  write(
    src,
    "tsconfig.json",
    '{ "files": [], "references": [{ "path": "./packages/base/tsconfig.src.json" }, { "path": "./packages/perf/tsconfig.src.json" }] }',
  );
  write(src, "packages/base/package.json", JSON.stringify({ name: "@aerodb/base" }));
  write(src, "packages/base/src/index.ts", "export {};\n");
  write(src, "packages/base/dist/index.js", "");
  write(src, "packages/base/node_modules/x/index.js", "");
  write(src, "packages/perf/package.json", JSON.stringify({ name: "@aerodb/perf" }));
  write(
    src,
    "packages/cli/package.json",
    JSON.stringify({
      name: "@aerodb/cli",
      dependencies: { "@aerodb/base": "workspace:*", "@aerodb/perf": "workspace:*" },
      devDependencies: { "@aerodb/perf": "workspace:*" },
    }),
  );
  write(
    src,
    "packages/cli/tsconfig.src.json",
    '{\n  // comment\n  "references": [{ "path": "../base/tsconfig.src.json" }, { "path": "../perf/tsconfig.src.json" },],\n}\n',
  );
  write(src, ".git/HEAD", "");
  write(src, ".turbo/cache", "");
  write(src, "node_modules/y/index.js", "");
  write(src, "bench/results/run.json", "{}");
  write(src, "bench/results.md", "kept");
  write(src, "tests-e2e/aerodb-data/MANIFEST", "");

  const dst = path.join(temp, "dst");
  copyWorkspace(src, dst);
  for (const gone of [
    ".git",
    ".turbo",
    "node_modules",
    "bench/results",
    "tests-e2e/aerodb-data",
    "packages/base/dist",
    "packages/base/node_modules",
  ]) {
    assert.equal(existsSync(path.join(dst, gone)), false, `${gone} should not be copied`);
  }
  assert.equal(existsSync(path.join(dst, "bench/results.md")), true);
  assert.equal(existsSync(path.join(dst, "packages/base/src/index.ts")), true);

  const removed = stripPerf(dst);
  assert.deepEqual(removed, [
    "deleted packages/perf/",
    "removed @aerodb/perf from dependencies of packages/cli/package.json",
    "removed @aerodb/perf from devDependencies of packages/cli/package.json",
    'removed reference "./packages/perf/tsconfig.src.json" from tsconfig.json',
    'removed reference "../perf/tsconfig.src.json" from packages/cli/tsconfig.src.json',
  ]);
  assert.equal(existsSync(path.join(dst, "packages/perf")), false);
  assert.deepEqual(readJson(dst, "packages/cli/package.json").dependencies, {
    "@aerodb/base": "workspace:*",
  });
  assert.deepEqual(readJson(dst, "packages/cli/tsconfig.src.json").references, [
    { path: "../base/tsconfig.src.json" },
  ]);
  assert.deepEqual(readJson(dst, "tsconfig.json").references, [
    { path: "./packages/base/tsconfig.src.json" },
  ]);
  // The source workspace is untouched.
  assert.equal(existsSync(path.join(src, "packages/perf/package.json")), true);
});
