import { readFile } from "node:fs/promises";
import * as path from "node:path";
import { AeroError } from "@aerodb/base";
import { type Database, handleRequest } from "@aerodb/core";
import { usage } from "../args.js";
import { type CliIo, EXIT_ERROR, EXIT_OK, failWith, toAeroError, writeResponse } from "../output.js";
import { type CommonValues, commandConfig, commandFileSystem, openDatabase } from "../runtime.js";

export interface SchemaAddValues extends CommonValues {
  readonly file?: string | undefined;
}

/**
 * `aerodb schema add --file <schema.json>`: offline registration: open, register the
 * definition (one durable unit, then its schema file), close. Prints the same envelope
 * as a `register_schema` request.
 */
export async function runSchemaAdd(io: CliIo, values: SchemaAddValues): Promise<number> {
  let db: Database | null = null;
  try {
    if (values.file === undefined)
      throw usage("schema add needs --file <schema.json>.", { reason: "missing_option", option: "--file" });
    const config = await commandConfig(io, values);
    const definition = await readDefinition(io.cwd, values.file);
    db = await openDatabase(io, config, commandFileSystem());
    const response = await handleRequest(db, { op: "register_schema", schema: definition });
    const opened = db;
    db = null;
    await opened.close();
    await writeResponse(io, response);
    return response.status === "ok" ? EXIT_OK : EXIT_ERROR;
  } catch (err) {
    await db?.close().catch(() => undefined);
    return failWith(io, toAeroError(err, "AERO_RECOVERY_FAILED", "The schema add command failed."));
  }
}

async function readDefinition(cwd: string, file: string): Promise<unknown> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path.resolve(cwd, file));
  } catch (err) {
    throw new AeroError("AERO_SCHEMA_INVALID_DEFINITION", "The schema file could not be read.", {
      reason: "unreadable",
      file,
      errno: (err as { code?: unknown })?.code ?? "unknown",
    });
  }
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new AeroError("AERO_SCHEMA_INVALID_DEFINITION", "The schema file is not valid JSON.", {
      reason: "not_json",
      file,
    });
  }
}
