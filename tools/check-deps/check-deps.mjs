#!/usr/bin/env node
// check:deps: enforces the dependency rule of ARCHITECTURE.md §2 on every package in packages/*.
//
//   node tools/check-deps/check-deps.mjs [rootDir]      (pnpm check:deps)
//
// Violations (each is reported with its file and line where there is one):
//   phase-order          a package imports (or declares) an @aerodb package of the same or a later phase.
//                        Phases: base < wal < core < snapshot < mvcc < replication < perf < observe < cli.
//                        Importing itself by name counts as the same phase: use a relative path.
//   perf-import          anything other than @aerodb/cli imports (or declares) @aerodb/perf.
//   undeclared           an import of a package (workspace or npm; node: builtins and relative paths
//                        excluded) that package.json does not declare. src/ may use dependencies and
//                        peerDependencies; tests/ may also use devDependencies, including the root
//                        package.json's devDependencies (shared tooling such as vitest).
//   tsconfig-references  tsconfig.src.json "references" do not mirror, exactly, the @aerodb workspace
//                        packages declared in dependencies/peerDependencies.
//   relative-escape      a relative import leaves its package directory (bypasses the rule above).
//   unknown-package      a workspace package, or an imported @aerodb package, that is not in the phase order.
//
// The pure function checkDeps(rootDir) returns the violations; this file's CLI wrapper prints them and
// exits 1 when there are any. Source files are parsed with the TypeScript compiler API (a root
// devDependency), so comments and strings never count as imports.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";

/** The phase order of ARCHITECTURE.md §2 (plus the Phase-0 base package), earliest first. */
export const PHASES = Object.freeze([
  "@aerodb/base",
  "@aerodb/wal",
  "@aerodb/core",
  "@aerodb/snapshot",
  "@aerodb/mvcc",
  "@aerodb/replication",
  "@aerodb/perf",
  "@aerodb/observe",
  "@aerodb/cli",
]);
export const PERF_PACKAGE = "@aerodb/perf";
export const COMPOSITION_ROOT = "@aerodb/cli";

const SCOPE = "@aerodb/";
const SOURCE_EXT = /\.(?:ts|tsx|mts|cts)$/;
const SCANNED_DIRS = /** @type {const} */ (["src", "tests"]);
const SKIP_DIRS = new Set(["node_modules", "dist", ".turbo", "coverage"]);
const BUILTINS = new Set(builtinModules);

const toPosix = (p) => p.split(path.sep).join("/");
const readJson = (file) => JSON.parse(readFileSync(file, "utf8"));

/** Reads a tsconfig (JSON with comments and trailing commas) with TypeScript's own parser. */
function readTsconfig(file) {
  const { config, error } = ts.parseConfigFileTextToJson(file, readFileSync(file, "utf8"));
  if (error) throw new Error(`${file}: ${ts.flattenDiagnosticMessageText(error.messageText, "\n")}`);
  return config ?? {};
}

function walk(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) walk(full, out);
    } else if (entry.isFile() && SOURCE_EXT.test(entry.name)) {
      out.push(full);
    }
  }
  return out;
}

/** The package a bare specifier names: "@scope/name/sub" -> "@scope/name", "name/sub" -> "name". */
export function packageNameOf(specifier) {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/** "@scope/name" -> "@types/scope__name", "name" -> "@types/name". */
const typesPackageOf = (name) => `@types/${name.startsWith("@") ? name.slice(1).replace("/", "__") : name}`;

/**
 * Every static import/export, `import x = require()`, dynamic `import("…")`, `require("…")` and
 * `import("…")` type with a literal specifier in one source file.
 * @returns {{ specifier: string, line: number, typeOnly: boolean }[]}
 */
export function importsOf(fileName, text) {
  const kind = fileName.endsWith(".tsx") ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, kind);
  const found = [];
  const add = (literal, typeOnly) => {
    if (literal && (ts.isStringLiteral(literal) || ts.isNoSubstitutionTemplateLiteral(literal))) {
      const line = sf.getLineAndCharacterOfPosition(literal.getStart(sf)).line + 1;
      found.push({ specifier: literal.text, line, typeOnly });
    }
  };
  const visit = (node) => {
    if (ts.isImportDeclaration(node)) {
      add(node.moduleSpecifier, Boolean(node.importClause?.isTypeOnly));
    } else if (ts.isExportDeclaration(node)) {
      if (node.moduleSpecifier) add(node.moduleSpecifier, node.isTypeOnly);
    } else if (ts.isImportEqualsDeclaration(node)) {
      if (ts.isExternalModuleReference(node.moduleReference)) {
        add(node.moduleReference.expression, node.isTypeOnly);
      }
    } else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const isImport = callee.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(callee) && callee.text === "require";
      if ((isImport || isRequire) && node.arguments.length > 0) add(node.arguments[0], false);
    } else if (ts.isImportTypeNode(node)) {
      if (ts.isLiteralTypeNode(node.argument)) add(node.argument.literal, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/** The workspace packages: every packages/<dir>/package.json, sorted by directory. */
function readWorkspace(rootDir) {
  const packagesDir = path.join(rootDir, "packages");
  if (!existsSync(packagesDir)) return [];
  return readdirSync(packagesDir)
    .sort()
    .map((name) => path.join(packagesDir, name))
    .filter((dir) => statSync(dir).isDirectory() && existsSync(path.join(dir, "package.json")))
    .map((dir) => {
      const json = readJson(path.join(dir, "package.json"));
      return {
        dir,
        rel: toPosix(path.relative(rootDir, dir)),
        name: json.name,
        deps: Object.keys(json.dependencies ?? {}),
        peers: Object.keys(json.peerDependencies ?? {}),
        devDeps: Object.keys(json.devDependencies ?? {}),
      };
    });
}

/**
 * Checks the dependency rule on the workspace at rootDir.
 * @param {string} rootDir
 * @param {{ files?: number, imports?: number, packages?: number }} [stats] filled with counts, if given
 * @returns {{ kind: string, pkg: string, file: string, line?: number, specifier?: string, message: string }[]}
 */
export function checkDeps(rootDir, stats = {}) {
  rootDir = path.resolve(rootDir);
  const violations = [];
  const report = (v) => violations.push(v);
  const rootJsonPath = path.join(rootDir, "package.json");
  const rootJson = existsSync(rootJsonPath) ? readJson(rootJsonPath) : {};
  const rootDevDeps = new Set([
    ...Object.keys(rootJson.devDependencies ?? {}),
    ...Object.keys(rootJson.dependencies ?? {}),
  ]);
  const workspace = readWorkspace(rootDir);
  const byName = new Map(workspace.map((p) => [p.name, p]));
  const phaseOf = (name) => PHASES.indexOf(name);
  stats.packages = workspace.length;
  stats.files = 0;
  stats.imports = 0;

  for (const pkg of workspace) {
    const pkgJsonRel = `${pkg.rel}/package.json`;
    const myPhase = phaseOf(pkg.name);
    if (myPhase < 0) {
      report({
        kind: "unknown-package",
        pkg: pkg.name,
        file: pkgJsonRel,
        message: `${pkg.name} (${pkg.rel}) is not in the phase order; add it to PHASES in tools/check-deps/check-deps.mjs`,
      });
    }

    // Declared @aerodb dependencies obey the same order as imports.
    for (const [field, names] of [
      ["dependencies", pkg.deps],
      ["peerDependencies", pkg.peers],
      ["devDependencies", pkg.devDeps],
    ]) {
      for (const dep of names.filter((n) => n.startsWith(SCOPE))) {
        if (dep === PERF_PACKAGE && pkg.name !== COMPOSITION_ROOT && pkg.name !== PERF_PACKAGE) {
          report({
            kind: "perf-import",
            pkg: pkg.name,
            file: pkgJsonRel,
            specifier: dep,
            message: `${pkg.name} declares ${dep} in ${field}; only ${COMPOSITION_ROOT} may depend on it`,
          });
        } else if (myPhase >= 0 && phaseOf(dep) >= myPhase) {
          report({
            kind: "phase-order",
            pkg: pkg.name,
            file: pkgJsonRel,
            specifier: dep,
            message: `${pkg.name} declares ${dep} in ${field}, which is not of an earlier phase`,
          });
        }
      }
    }

    // tsconfig.src.json references mirror the declared @aerodb workspace dependencies exactly.
    const tsconfigPath = path.join(pkg.dir, "tsconfig.src.json");
    const tsconfigRel = `${pkg.rel}/tsconfig.src.json`;
    if (!existsSync(tsconfigPath)) {
      report({ kind: "tsconfig-references", pkg: pkg.name, file: tsconfigRel, message: "missing" });
    } else {
      const expected = new Set([...pkg.deps, ...pkg.peers].filter((n) => byName.has(n) && n !== pkg.name));
      const actual = new Set();
      for (const ref of readTsconfig(tsconfigPath).references ?? []) {
        let target = path.resolve(pkg.dir, ref.path ?? "");
        if (existsSync(target) && statSync(target).isDirectory()) target = path.join(target, "tsconfig.json");
        const owner = workspace.find((p) => path.join(p.dir, "tsconfig.src.json") === target);
        if (!owner) {
          report({
            kind: "tsconfig-references",
            pkg: pkg.name,
            file: tsconfigRel,
            specifier: ref.path,
            message: `reference "${ref.path}" is not a workspace package's tsconfig.src.json`,
          });
        } else {
          actual.add(owner.name);
        }
      }
      for (const name of [...expected].filter((n) => !actual.has(n)).sort()) {
        report({
          kind: "tsconfig-references",
          pkg: pkg.name,
          file: tsconfigRel,
          specifier: name,
          message: `declares ${name} but has no reference to ../${path.basename(byName.get(name).dir)}/tsconfig.src.json`,
        });
      }
      for (const name of [...actual].filter((n) => !expected.has(n)).sort()) {
        report({
          kind: "tsconfig-references",
          pkg: pkg.name,
          file: tsconfigRel,
          specifier: name,
          message: `references ${name} but does not declare it in dependencies/peerDependencies`,
        });
      }
    }

    // Imports in src/ and tests/.
    for (const area of SCANNED_DIRS) {
      const runtime = new Set([...pkg.deps, ...pkg.peers]);
      const allowed = area === "src" ? runtime : new Set([...runtime, ...pkg.devDeps, ...rootDevDeps]);
      for (const file of walk(path.join(pkg.dir, area))) {
        stats.files++;
        const fileRel = toPosix(path.relative(rootDir, file));
        for (const { specifier, line, typeOnly } of importsOf(file, readFileSync(file, "utf8"))) {
          stats.imports++;
          const at = { pkg: pkg.name, file: fileRel, line, specifier };
          if (specifier.startsWith(".") || specifier.startsWith("/")) {
            const target = path.resolve(path.dirname(file), specifier);
            if (target !== pkg.dir && !target.startsWith(pkg.dir + path.sep)) {
              report({
                kind: "relative-escape",
                ...at,
                message: `relative import "${specifier}" leaves ${pkg.rel}; import the package by name instead`,
              });
            }
            continue;
          }
          if (specifier.startsWith("#")) continue; // the package's own "imports" map
          if (specifier.startsWith("node:")) continue;
          if (/^[a-z][a-z0-9+.-]*:/i.test(specifier)) {
            report({ kind: "undeclared", ...at, message: `unsupported import scheme "${specifier}"` });
            continue;
          }
          const name = packageNameOf(specifier);
          if (BUILTINS.has(name)) continue;

          if (name.startsWith(SCOPE)) {
            const theirPhase = phaseOf(name);
            if (name === PERF_PACKAGE && pkg.name !== COMPOSITION_ROOT) {
              report({
                kind: "perf-import",
                ...at,
                message: `${pkg.name} imports ${PERF_PACKAGE}; only ${COMPOSITION_ROOT} may (ARCHITECTURE.md §2)`,
              });
            } else if (theirPhase < 0) {
              report({ kind: "unknown-package", ...at, message: `${name} is not in the phase order` });
            } else if (myPhase >= 0 && theirPhase >= myPhase) {
              report({
                kind: "phase-order",
                ...at,
                message:
                  name === pkg.name
                    ? `${pkg.name} imports itself by name; use a relative path`
                    : `${pkg.name} imports ${name}, which is not of an earlier phase`,
              });
            }
          }

          const declared = allowed.has(name) || (typeOnly && allowed.has(typesPackageOf(name)));
          if (!declared && name !== pkg.name) {
            const onlyDev = area === "src" && (pkg.devDeps.includes(name) || rootDevDeps.has(name));
            report({
              kind: "undeclared",
              ...at,
              message: onlyDev
                ? `${name} is only a devDependency; src/ may use dependencies and peerDependencies`
                : `${name} is not declared in ${pkg.rel}/package.json`,
            });
          }
        }
      }
    }
  }

  return violations.sort(
    (a, b) =>
      (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.kind < b.kind ? -1 : 1),
  );
}

/** One line per violation: "file:line  [kind]  message". */
export function formatViolation(v) {
  return `${v.file}${v.line ? `:${v.line}` : ""}  [${v.kind}]  ${v.message}`;
}

function main() {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const rootDir = path.resolve(process.argv[2] ?? path.join(here, "..", ".."));
  const stats = {};
  const violations = checkDeps(rootDir, stats);
  if (violations.length > 0) {
    console.error(
      `check:deps: ${violations.length} violation(s) of the dependency rule (ARCHITECTURE.md §2):`,
    );
    for (const v of violations) console.error(`  ${formatViolation(v)}`);
    process.exit(1);
  }
  console.log(
    `check:deps: OK (${stats.packages} packages, ${stats.files} source files, ${stats.imports} imports checked)`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) main();
