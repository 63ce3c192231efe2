import { AeroError } from "@aerodb/base";
import { crc32 } from "@aerodb/wal";
import { canonicalJson } from "../canonical-json.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Small metadata files (MANIFEST, state.json) are canonical JSON carrying a `checksum`:
 * CRC-32 of the canonical JSON of every other field. Same content, same bytes.
 */
export function sealJson(value: Readonly<Record<string, unknown>>): Uint8Array {
  const { checksum: _ignored, ...rest } = value as Record<string, unknown>;
  const checksum = crc32(encoder.encode(canonicalJson(rest)));
  return encoder.encode(`${canonicalJson({ ...rest, checksum })}\n`);
}

/** Parses and verifies a sealed file; any damage is AERO_METADATA_CORRUPTION naming the file. */
export function openSealedJson(bytes: Uint8Array, file: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch {
    throw new AeroError("AERO_METADATA_CORRUPTION", `${file} is not valid JSON.`, { file, reason: "parse" });
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    throw new AeroError("AERO_METADATA_CORRUPTION", `${file} is not a JSON object.`, {
      file,
      reason: "shape",
    });
  }
  const { checksum, ...rest } = value as Record<string, unknown>;
  const expected = crc32(encoder.encode(canonicalJson(rest)));
  if (checksum !== expected) {
    throw new AeroError("AERO_METADATA_CORRUPTION", `${file} failed its checksum.`, {
      file,
      reason: "checksum",
      expected_crc: expected,
      found_crc: typeof checksum === "number" ? checksum : null,
    });
  }
  return rest;
}
