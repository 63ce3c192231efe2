#!/usr/bin/env node
// The `aerodb` binary: runs one command line, then exits with its code once stdout and
// stderr have been handed to the OS (a response is never lost to process.exit).
import { writeSync } from "node:fs";
import { AeroError } from "@aerodb/base";
import { canonicalJson } from "@aerodb/core";
import { runCli } from "./cli.js";
import { flush } from "./output.js";

// A reader that went away (EPIPE) must not crash the process with an unhandled error event;
// `aerodb start` notices it and stops.
process.stdout.on("error", () => undefined);
process.stderr.on("error", () => undefined);

// Last line of defence: a bug never prints a stack trace or an internal path, only one
// FATAL log line, and the process stops (recovery handles whatever was in flight).
const die = () => {
  const error = new AeroError("AERO_INTERNAL_INVARIANT", "An unexpected internal error occurred.");
  try {
    writeSync(2, `${canonicalJson({ error: error.toJSON(), event: "FATAL", level: "fatal" })}\n`);
  } finally {
    process.exit(1);
  }
};
process.on("uncaughtException", die);
process.on("unhandledRejection", die);

const code = await runCli(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  cwd: process.cwd(),
});
await Promise.all([flush(process.stdout), flush(process.stderr)]);
process.exit(code);
