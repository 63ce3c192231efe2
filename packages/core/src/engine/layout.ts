import * as posixPath from "node:path/posix";

/** The data directory's layout (ARCHITECTURE §3). */
export interface Layout {
  readonly root: string;
  readonly manifest: string;
  readonly lock: string;
  readonly wal: string;
  readonly metadata: string;
  readonly schemas: string;
  readonly state: string;
  readonly checkpoint: string;
  readonly snapshots: string;
  schemaDir(schemaId: string): string;
  schemaFile(schemaId: string, version: string): string;
}

export function layoutOf(root: string): Layout {
  const metadata = posixPath.join(root, "metadata");
  const schemas = posixPath.join(metadata, "schemas");
  return {
    root,
    manifest: posixPath.join(root, "MANIFEST"),
    lock: posixPath.join(root, "LOCK"),
    wal: posixPath.join(root, "wal"),
    metadata,
    schemas,
    state: posixPath.join(metadata, "state.json"),
    checkpoint: posixPath.join(root, "checkpoint.json"),
    snapshots: posixPath.join(root, "snapshots"),
    schemaDir: (schemaId) => posixPath.join(schemas, schemaId),
    schemaFile: (schemaId, version) => posixPath.join(schemas, schemaId, `${version}.json`),
  };
}
