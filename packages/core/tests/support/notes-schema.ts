/** A minimal schema for tests that only need documents of a chosen size: an int `_id` and a text. */
export const NOTES = {
  format_version: 1,
  schema_id: "notes",
  schema_version: "v1",
  fields: { _id: { type: "int", required: true }, text: { type: "string", required: true } },
  indexes: [],
};
