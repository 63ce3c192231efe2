import * as posixPath from "node:path/posix";
import { AeroError, ensureDir, type FileSystem, readFileIfExists, writeFileAtomic } from "@aerodb/base";
import type { SchemaCatalog } from "../schema/catalog.js";
import { canonicalSchemaText } from "../schema/definition.js";
import type { SchemaDefinition } from "../schema/types.js";
import type { Layout } from "./layout.js";

const encoder = new TextEncoder();

/** The exact bytes of a schema file: canonical JSON and a newline. */
export function schemaFileBytes(def: SchemaDefinition): Uint8Array {
  return encoder.encode(`${canonicalSchemaText(def)}\n`);
}

/** Writes a registered schema's file durably (after its unit's fsync, before acknowledgement). */
export async function writeSchemaFile(fs: FileSystem, layout: Layout, def: SchemaDefinition): Promise<void> {
  await ensureDir(fs, layout.schemaDir(def.schema_id));
  await writeFileAtomic(fs, layout.schemaFile(def.schema_id, def.schema_version), schemaFileBytes(def));
}

/**
 * Recovery's schema-file check (core §9.2): every registered schema has its file with
 * exactly its canonical bytes; a file may be missing only when `mayBeMissing` says its
 * registration could have been cut off before the file was written (then it is written);
 * a file or directory nobody registered, or different bytes, is FATAL. Leftover `.tmp`
 * files of an interrupted atomic write are derived data and removed.
 */
export async function reconcileSchemaFiles(
  fs: FileSystem,
  layout: Layout,
  catalog: SchemaCatalog,
  mayBeMissing: (schemaId: string, version: string) => boolean,
): Promise<number> {
  const st = await fs.stat(layout.schemas);
  if (!st?.isDirectory) {
    throw new AeroError("AERO_METADATA_CORRUPTION", "metadata/schemas is missing.", {
      file: "metadata/schemas",
      reason: "missing",
    });
  }
  const expected = new Map<string, SchemaDefinition>();
  for (const def of catalog.all()) expected.set(`${def.schema_id}/${def.schema_version}.json`, def);
  for (const dirName of await fs.readdir(layout.schemas)) {
    const dir = posixPath.join(layout.schemas, dirName);
    const dirStat = await fs.stat(dir);
    if (!dirStat?.isDirectory) throw unaccounted(`metadata/schemas/${dirName}`);
    for (const fileName of await fs.readdir(dir)) {
      const rel = `${dirName}/${fileName}`;
      if (fileName.endsWith(".json.tmp")) {
        await fs.unlink(posixPath.join(dir, fileName));
        await fs.syncDir(dir);
        continue;
      }
      if (!expected.has(rel)) throw unaccounted(`metadata/schemas/${rel}`);
    }
  }
  let written = 0;
  for (const [rel, def] of expected) {
    const path = layout.schemaFile(def.schema_id, def.schema_version);
    const bytes = await readFileIfExists(fs, path);
    const want = schemaFileBytes(def);
    if (bytes === null) {
      if (!mayBeMissing(def.schema_id, def.schema_version)) {
        throw new AeroError("AERO_METADATA_CORRUPTION", `Schema file metadata/schemas/${rel} was removed.`, {
          file: `metadata/schemas/${rel}`,
          reason: "missing",
        });
      }
      await writeSchemaFile(fs, layout, def);
      written++;
      continue;
    }
    if (Buffer.compare(Buffer.from(bytes), Buffer.from(want)) !== 0) {
      throw new AeroError("AERO_METADATA_CORRUPTION", `Schema file metadata/schemas/${rel} was changed.`, {
        file: `metadata/schemas/${rel}`,
        reason: "modified",
      });
    }
  }
  return written;
}

function unaccounted(file: string): AeroError {
  return new AeroError("AERO_METADATA_CORRUPTION", `${file} does not belong to any registered schema.`, {
    file,
    reason: "unaccounted",
  });
}
