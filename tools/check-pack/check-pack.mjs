#!/usr/bin/env node
// check:pack: proves every publishable package installs and resolves as a user would get it.
//
//   node tools/check-pack/check-pack.mjs        (pnpm check:pack; run `pnpm build` first)
//
// For every package in packages/* that is not private:
//   1. its dist/ and every file its "exports" name must exist (else: run `pnpm build` first);
//   2. `pnpm pack` it into a temp dir (pnpm rewrites workspace:* to real versions);
//   3. lint it with publint (which packs it with pnpm too); any error or warning fails (suggestions are
//      only printed).
// Then, in a fresh temp project, `npm install` all the tarballs in one command (so they resolve each
// other; third-party dependencies come from the registry), check that every @aerodb package was
// installed from its tarball (not from the registry, no duplicates, no workspace: ranges left), and
// run `node --input-type=module -e "await import('@aerodb/<name>')"` for each package.
// Temp dirs are deleted at the end.
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { publint } from "publint";
import { formatMessage } from "publint/utils";

const rootDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const failures = [];
const fail = (message) => {
  failures.push(message);
  console.error(`  FAIL ${message}`);
};

/** Every string target in an "exports" value (conditions and subpaths, recursively). */
function exportTargets(value) {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(exportTargets);
  if (value && typeof value === "object") return Object.values(value).flatMap(exportTargets);
  return [];
}

function sh(command, args, cwd) {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw new Error(`could not run ${command}: ${result.error.message}`);
  return result;
}

/** The environment for npm, without the pnpm-only settings pnpm exports to scripts (npm warns about them). */
function npmEnv() {
  const env = { ...process.env };
  for (const key of [
    "npm_config_verify_deps_before_run",
    "npm_config_npm_globalconfig",
    "npm_config__jsr_registry",
    "npm_config_reporter",
  ]) {
    delete env[key];
  }
  return env;
}

function publishablePackages() {
  const dir = path.join(rootDir, "packages");
  return readdirSync(dir)
    .sort()
    .map((name) => path.join(dir, name))
    .filter((pkgDir) => existsSync(path.join(pkgDir, "package.json")))
    .map((pkgDir) => ({
      dir: pkgDir,
      json: JSON.parse(readFileSync(path.join(pkgDir, "package.json"), "utf8")),
    }))
    .filter((p) => p.json.private !== true);
}

async function main() {
  const packages = publishablePackages();
  if (packages.length === 0) {
    console.log("check:pack: no publishable packages");
    return;
  }

  // 1. Built?
  const unbuilt = [];
  for (const { dir, json } of packages) {
    const missing = exportTargets(json.exports ?? json.main ?? [])
      .filter((t) => t.startsWith("./") && !t.includes("*"))
      .filter((t) => !existsSync(path.join(dir, t)));
    if (!existsSync(path.join(dir, "dist")) || missing.length > 0) {
      unbuilt.push(`${json.name}: ${missing.length > 0 ? `missing ${missing.join(", ")}` : "no dist/"}`);
    }
  }
  if (unbuilt.length > 0) {
    console.error("check:pack: the packages are not built; run `pnpm build` first.");
    for (const line of unbuilt) console.error(`  ${line}`);
    process.exit(1);
  }

  const temp = mkdtempSync(path.join(tmpdir(), "aerodb-check-pack-"));
  try {
    const tarballDir = path.join(temp, "tarballs");
    const tarballs = [];

    // 2 + 3. Pack and lint.
    for (const { dir, json } of packages) {
      console.log(`\n${json.name}`);
      const packed = sh("pnpm", ["pack", "--pack-destination", tarballDir, "--json"], dir);
      if (packed.status !== 0) {
        fail(`${json.name}: pnpm pack exited with ${packed.status}\n${packed.stderr}${packed.stdout}`);
        continue;
      }
      let info;
      try {
        info = JSON.parse(packed.stdout.slice(packed.stdout.indexOf("{")));
      } catch {
        fail(`${json.name}: could not read the output of pnpm pack --json:\n${packed.stdout}`);
        continue;
      }
      const tarball = path.resolve(tarballDir, info.filename);
      tarballs.push({ name: json.name, tarball });
      console.log(`  packed ${path.basename(tarball)} (${info.files?.length ?? "?"} files)`);

      // publint packs the package itself (with pnpm, lifecycle scripts ignored), which lets it tell
      // files that are missing apart from files that exist but are not published.
      const { messages, pkg } = await publint({ pkgDir: dir, level: "suggestion", pack: "pnpm" });
      for (const message of messages) {
        const text = formatMessage(message, pkg, { color: false }) ?? message.code;
        if (message.type === "suggestion") console.log(`  publint suggestion: ${text}`);
        else fail(`${json.name}: publint ${message.type}: ${text}`);
      }
      if (!messages.some((m) => m.type !== "suggestion")) console.log("  publint: no errors or warnings");
    }
    if (failures.length > 0) return;

    // 4. Install all tarballs together in a fresh project.
    const project = path.join(temp, "project");
    mkdirSync(project, { recursive: true });
    writeFileSync(
      path.join(project, "package.json"),
      `${JSON.stringify({ name: "aerodb-check-pack", version: "0.0.0", private: true, type: "module" }, null, 2)}\n`,
    );
    console.log(`\nnpm install of ${tarballs.length} tarballs in ${project}`);
    const install = spawnSync(
      "npm",
      ["install", "--no-audit", "--no-fund", "--prefer-offline", ...tarballs.map((t) => t.tarball)],
      { cwd: project, stdio: "inherit", env: npmEnv() },
    );
    if (install.status !== 0) {
      fail(`npm install of the tarballs exited with ${install.status ?? install.signal}`);
      return;
    }

    const lock = JSON.parse(readFileSync(path.join(project, "package-lock.json"), "utf8"));
    for (const [where, entry] of Object.entries(lock.packages ?? {})) {
      if (!/(^|\/)node_modules\/@aerodb\//.test(where)) continue;
      if (!tarballs.some((t) => where === `node_modules/${t.name}`)) {
        fail(
          `${where}: an extra copy of an @aerodb package was installed (${entry.resolved ?? entry.version})`,
        );
      } else if (!String(entry.resolved ?? "").startsWith("file:")) {
        fail(`${where}: installed from ${entry.resolved ?? "?"}, not from its tarball`);
      }
    }
    for (const { name } of tarballs) {
      const installed = readFileSync(path.join(project, "node_modules", name, "package.json"), "utf8");
      if (installed.includes('"workspace:'))
        fail(`${name}: its packed package.json still has a workspace: range`);
    }

    // 5. Every package resolves and loads.
    for (const { name } of tarballs) {
      const code = `const m = await import(${JSON.stringify(name)}); console.log(Object.keys(m).length);`;
      const result = sh(process.execPath, ["--input-type=module", "-e", code], project);
      if (result.status !== 0) {
        fail(`import('${name}') failed:\n${result.stderr}`);
      } else {
        console.log(`  import('${name}') ok: ${result.stdout.trim()} export(s)`);
      }
    }
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

await main();
if (failures.length > 0) {
  console.error(`\ncheck:pack: ${failures.length} failure(s)`);
  process.exit(1);
}
console.log("\ncheck:pack: OK");
