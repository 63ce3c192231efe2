#!/usr/bin/env node
// test:no-perf: proves the compile-time disablement of Phase 3 (ARCHITECTURE.md §2): a workspace
// without packages/perf must install, build and pass every remaining test.
//
//   node tools/test-no-perf/test-no-perf.mjs           (pnpm test:no-perf)
//
// Steps: copy the workspace (without node_modules, dist, .turbo, .git, bench/results and any
// aerodb-data directory) into a fresh temp dir; delete packages/perf there; remove @aerodb/perf from
// every package.json dependency list and from every tsconfig "references" list (packages and root
// tsconfig.json); then run, with inherited stdio, `pnpm install --no-frozen-lockfile --prefer-offline`,
// `pnpm build` and `pnpm test`. Exits with the status of the first failing step; the temp dir is
// always deleted at the end.
//
// Environment:
//   AERODB_NO_PERF_SKIP_TEST=1  stop after `pnpm build` (skip `pnpm test`). Meant only for checking
//                               this script itself on a busy machine; CI never sets it.
//   AERODB_NO_PERF_KEEP=1       keep the temp dir (its path is printed) for debugging.
//
// Note: `node --test tools/` also picks this file up (its name matches test-*.mjs); under the test
// runner (NODE_TEST_CONTEXT is set) it does nothing.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";

export const PERF_PACKAGE = "@aerodb/perf";
const PERF_DIR = "packages/perf";
const DEP_FIELDS = [
  "dependencies",
  "devDependencies",
  "peerDependencies",
  "optionalDependencies",
  "peerDependenciesMeta",
];
const EXCLUDED_NAMES = new Set(["node_modules", "dist", ".turbo", ".git", "aerodb-data"]);
const EXCLUDED_PATHS = new Set(["bench/results"]);

// Read once here; these variables belong to this script, not to any turbo task.
const { AERODB_NO_PERF_SKIP_TEST, AERODB_NO_PERF_KEEP, NODE_TEST_CONTEXT } = process.env;
const skipTest = AERODB_NO_PERF_SKIP_TEST === "1";
const keepTemp = AERODB_NO_PERF_KEEP === "1";

const toPosix = (p) => p.split(path.sep).join("/");

/** Copies the workspace at `from` into `to`, leaving out build output, installs, VCS and data. */
export function copyWorkspace(from, to) {
  cpSync(from, to, {
    recursive: true,
    filter: (src) => {
      const rel = toPosix(path.relative(from, src));
      if (rel === "") return true;
      return !EXCLUDED_NAMES.has(path.basename(src)) && !EXCLUDED_PATHS.has(rel);
    },
  });
}

/** package.json files of the root and of every workspace package (packages/*, tools/*). */
function packageJsonFiles(root) {
  const files = [path.join(root, "package.json")];
  for (const group of ["packages", "tools"]) {
    const dir = path.join(root, group);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      const file = path.join(dir, name, "package.json");
      if (existsSync(file)) files.push(file);
    }
  }
  return files;
}

/** tsconfig*.json files of the root and of every workspace package (packages/*, tools/*). */
function tsconfigFiles(root) {
  const dirs = [root];
  for (const group of ["packages", "tools"]) {
    const dir = path.join(root, group);
    if (!existsSync(dir)) continue;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) dirs.push(path.join(dir, entry.name));
    }
  }
  return dirs.flatMap((dir) =>
    readdirSync(dir)
      .filter((name) => /^tsconfig.*\.json$/.test(name))
      .sort()
      .map((name) => path.join(dir, name)),
  );
}

/**
 * Deletes packages/perf from the workspace at `root` and every mention of it in package.json
 * dependency lists and tsconfig references. Returns a description of each removal.
 */
export function stripPerf(root) {
  const removed = [];
  const perfDir = path.join(root, PERF_DIR);
  if (existsSync(perfDir)) {
    rmSync(perfDir, { recursive: true, force: true });
    removed.push(`deleted ${PERF_DIR}/`);
  }
  for (const file of packageJsonFiles(root)) {
    const json = JSON.parse(readFileSync(file, "utf8"));
    let changed = false;
    for (const field of DEP_FIELDS) {
      if (json[field] && Object.hasOwn(json[field], PERF_PACKAGE)) {
        delete json[field][PERF_PACKAGE];
        changed = true;
        removed.push(`removed ${PERF_PACKAGE} from ${field} of ${toPosix(path.relative(root, file))}`);
      }
    }
    if (changed) writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
  }
  for (const file of tsconfigFiles(root)) {
    const { config, error } = ts.parseConfigFileTextToJson(file, readFileSync(file, "utf8"));
    if (error || !config || !Array.isArray(config.references)) continue;
    const keep = config.references.filter((ref) => {
      const target = path.resolve(path.dirname(file), ref.path ?? "");
      return target !== perfDir && !target.startsWith(perfDir + path.sep);
    });
    if (keep.length !== config.references.length) {
      for (const ref of config.references.filter((r) => !keep.includes(r))) {
        removed.push(`removed reference "${ref.path}" from ${toPosix(path.relative(root, file))}`);
      }
      config.references = keep;
      writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
    }
  }
  return removed;
}

function run(cwd, command, args) {
  console.log(`\n[test:no-perf] $ ${command} ${args.join(" ")}`);
  const result = spawnSync(command, args, { cwd, stdio: "inherit" });
  if (result.error) {
    console.error(`[test:no-perf] could not run ${command}: ${result.error.message}`);
    return 1;
  }
  return result.status ?? 1;
}

function main() {
  const rootDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
  const temp = mkdtempSync(path.join(tmpdir(), "aerodb-no-perf-"));
  let status = 0;
  const cleanup = () => {
    if (keepTemp) {
      console.log(`[test:no-perf] kept ${temp}`);
    } else {
      rmSync(temp, { recursive: true, force: true });
    }
  };
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.on(signal, () => {
      cleanup();
      process.exit(130);
    });
  }
  try {
    console.log(`[test:no-perf] copying ${rootDir} -> ${temp}`);
    copyWorkspace(rootDir, temp);
    const removed = stripPerf(temp);
    console.log("[test:no-perf] removed:");
    for (const line of removed) console.log(`  - ${line}`);
    if (!removed.some((line) => line.startsWith("deleted"))) {
      console.error(`[test:no-perf] ${PERF_DIR} was not found: nothing to disable`);
      status = 1;
      return;
    }
    const steps = [
      ["pnpm", ["install", "--no-frozen-lockfile", "--prefer-offline"]],
      ["pnpm", ["build"]],
    ];
    if (skipTest) {
      console.log("[test:no-perf] AERODB_NO_PERF_SKIP_TEST=1: `pnpm test` will be skipped");
    } else {
      steps.push(["pnpm", ["test"]]);
    }
    for (const [command, args] of steps) {
      status = run(temp, command, args);
      if (status !== 0) {
        console.error(`\n[test:no-perf] FAILED: ${command} ${args.join(" ")} exited with ${status}`);
        return;
      }
    }
    console.log(
      skipTest
        ? "\n[test:no-perf] OK up to `pnpm build` (tests skipped): the workspace without packages/perf installs and builds"
        : "\n[test:no-perf] OK: the workspace without packages/perf installs, builds and passes its tests",
    );
  } finally {
    cleanup();
    process.exitCode = status;
  }
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (isMain && NODE_TEST_CONTEXT) {
  console.log("test-no-perf.mjs: not a test file; does nothing under `node --test`");
} else if (isMain) {
  main();
}
