// Every README's example that imports an @aerodb package runs, as printed, against the built
// packages: a README is the API documentation users copy from (issue 3 "runnable examples"), so
// an example that no longer runs is a bug. Each runs in a fresh process and a fresh working
// directory (examples use ./aerodb-data), must exit 0 and write nothing to stderr, and what it
// prints is checked against the `// ...` comment of each `console.log` line that states a value.
import { execFile } from "node:child_process";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const E2E_MODULES = path.join(ROOT, "tests-e2e", "node_modules");

interface Example {
  readonly readme: string;
  readonly line: number;
  readonly code: string;
}

/** The fenced ts/js blocks of a README that import an @aerodb package, with their first line. */
async function examplesOf(readme: string): Promise<Example[]> {
  const lines = (await fs.readFile(path.join(ROOT, readme), "utf8")).split("\n");
  const examples: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|js|mjs)$/.test(lines[i] as string)) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end] !== "```") end++;
    const code = lines.slice(start, end).join("\n");
    if (/from "@aerodb\//.test(code)) examples.push({ readme, line: start + 1, code });
    i = end;
  }
  return examples;
}

async function readmes(): Promise<string[]> {
  const packages = await fs.readdir(path.join(ROOT, "packages"));
  const found = ["README.md"];
  for (const name of packages.sort()) {
    const file = path.join("packages", name, "README.md");
    if (await fs.stat(path.join(ROOT, file)).catch(() => null)) found.push(file);
  }
  return found;
}

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true });
});

/** Runs an example as an ES module in a fresh directory that resolves the workspace's packages. */
async function run(example: Example): Promise<{ code: number; stdout: string; stderr: string }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "aerodb-readme-"));
  dirs.push(dir);
  await fs.symlink(E2E_MODULES, path.join(dir, "node_modules"), "dir");
  await fs.writeFile(path.join(dir, "example.mjs"), example.code);
  return new Promise((resolve) => {
    execFile(process.execPath, ["example.mjs"], { cwd: dir, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/**
 * The values the example's comments promise: `console.log(...); // <value>`, or a `// <value>`
 * line right below a `console.log(...)` line, where the comment reads as a printed value (an
 * object, a code, numbers), not as prose. Whitespace is compared collapsed, so that a value
 * util.inspect spreads over several lines matches its one-line comment.
 */
function promisedOutputs(code: string): string[] {
  const out: string[] = [];
  const lines = code.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const trailing = /^\s*console\.log\(.*\);\s*\/\/ (.+)$/.exec(line);
    const below = /^\s*console\.log\(.*\);\s*$/.test(line) ? /^\s*\/\/ (.+)$/.exec(lines[i + 1] ?? "") : null;
    const m = trailing ?? below;
    if (!m) continue;
    const comment = (m[1] as string).trim();
    // "// AERO_QUERY_UNBOUNDED: refused before it runs" promises the part before the colon.
    const value = /^[A-Z_]+:\s/.test(comment) ? comment.slice(0, comment.indexOf(":")) : comment;
    // Prose (two lowercase words in a row) describes the output rather than quotes it, and "..."
    // marks an abridged value.
    if (/[a-z]{2,} [a-z0-9]/.test(value) || value.includes("...")) continue;
    out.push(collapse(value));
  }
  return out;
}

const collapse = (text: string) => text.replace(/\s+/g, " ").trim();

const all = await Promise.all((await readmes()).map(examplesOf)).then((lists) => lists.flat());

describe("README examples", () => {
  it("finds the examples of the root README and of each package that has one", () => {
    const where = new Set(all.map((e) => e.readme));
    for (const readme of [
      "README.md",
      "packages/base/README.md",
      "packages/core/README.md",
      "packages/wal/README.md",
      "packages/snapshot/README.md",
    ]) {
      expect(where, readme).toContain(readme);
    }
  });

  it.each(all.map((e) => [`${e.readme}:${e.line}`, e] as const))("%s runs as printed", async (_, example) => {
    const result = await run(example);
    expect(result.stderr, result.stdout).toBe("");
    expect(result.code).toBe(0);
    const printed = collapse(result.stdout);
    for (const value of promisedOutputs(example.code)) expect(printed).toContain(value);
  });
});
