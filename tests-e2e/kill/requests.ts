// The small schema and the requests the crash-point, restore-kill and checkpoint-kill tests
// send through `aerodb start`: `_id` a string, `n` an indexed int, one schema id per test file.

export function nSchema(schemaId: string) {
  return {
    format_version: 1,
    schema_id: schemaId,
    schema_version: "v1",
    fields: { _id: { type: "string", required: true }, n: { type: "int", required: true } },
    indexes: ["n"],
  };
}

/** Request builders for the schema `schemaId` of nSchema (and its later versions). */
export function nRequests(schemaId: string) {
  const insert = (id: string, n: number, version = "v1") => ({
    op: "insert",
    schema_id: schemaId,
    schema_version: version,
    document: { _id: id, n },
  });
  return {
    insert,
    update: (id: string, n: number) => ({ ...insert(id, n), op: "update" }),
    remove: (id: string) => ({
      op: "delete",
      schema_id: schemaId,
      schema_version: "v1",
      document: { _id: id },
    }),
    byId: (id: string, version = "v1") => ({
      op: "query",
      schema_id: schemaId,
      schema_version: version,
      filter: { _id: id },
      limit: 1,
    }),
    /** Every document (n >= 0), at most 1,000, in (n, _id) order. */
    all: { op: "query", schema_id: schemaId, schema_version: "v1", filter: { n: { $gte: 0 } }, limit: 1000 },
  };
}

/** stdin for `aerodb start`: one request per line. */
export const requestLines = (requests: readonly object[]) =>
  `${requests.map((r) => JSON.stringify(r)).join("\n")}\n`;
