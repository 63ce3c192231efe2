/** The schema definition format of core.md §3, as the code sees it after validation. */
export type FieldType = "string" | "int" | "float" | "bool" | "object" | "array";

/** A node under `items` of an array: like a field, but without `required`. */
export interface ItemNode {
  readonly type: FieldType;
  readonly fields?: Readonly<Record<string, FieldNode>>;
  readonly items?: ItemNode;
}

export interface FieldNode extends ItemNode {
  readonly required: boolean;
}

export interface SchemaDefinition {
  readonly format_version: 1;
  readonly schema_id: string;
  readonly schema_version: string;
  readonly description?: string;
  readonly fields: Readonly<Record<string, FieldNode>>;
  /** Declared secondary indexes (distinct top-level scalar fields). `_id` is always indexed. */
  readonly indexes: readonly string[];
}

/** A document's primary key value. */
export type DocId = string | number;

/** Values an index orders: bool < number < string (strings by UTF-16 code unit). */
export type ScalarValue = string | number | boolean;

export type ValidationReason =
  | "missing_field"
  | "unknown_field"
  | "wrong_type"
  | "null_value"
  | "not_safe_integer"
  | "not_finite";
