import { parseArgs } from "node:util";
import { AeroError } from "@aerodb/base";

/** The options of a command: each takes a string value, except the booleans listed. */
export interface OptionSpec {
  readonly strings: readonly string[];
  readonly booleans?: readonly string[];
}

/** The options every command accepts. */
export const COMMON_OPTIONS: OptionSpec = { strings: ["data", "config"], booleans: ["help"] };

export interface ParsedArgs {
  readonly help: boolean;
  readonly values: Readonly<Record<string, string | undefined>>;
  readonly flags: Readonly<Record<string, boolean>>;
}

/**
 * Parses a command's arguments with node:util parseArgs, then checks the tokens itself so
 * that every mistake is one typed AERO_CLI_USAGE error with a stable reason:
 * unknown_option, missing_value, unexpected_value, unexpected_argument, repeated_option.
 * `--help`/`-h` anywhere (without a value) wins over every other problem.
 */
export function parseCommandArgs(args: readonly string[], spec: OptionSpec): ParsedArgs {
  const stringNames = new Set(spec.strings);
  const booleanNames = new Set(spec.booleans ?? []);
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {};
  for (const name of stringNames) options[name] = { type: "string" };
  for (const name of booleanNames)
    options[name] = name === "help" ? { type: "boolean", short: "h" } : { type: "boolean" };

  const { tokens } = parseArgs({
    args: [...args],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  if (tokens.some((t) => t.kind === "option" && t.name === "help" && !t.inlineValue)) {
    return { help: true, values: {}, flags: {} };
  }
  const values: Record<string, string | undefined> = {};
  const flags: Record<string, boolean> = {};
  for (const token of tokens) {
    if (token.kind === "option-terminator") continue;
    if (token.kind === "positional") {
      throw usage(`Unexpected argument '${clip(token.value)}'.`, {
        reason: "unexpected_argument",
        argument: clip(token.value),
      });
    }
    const option = clip(token.rawName);
    if (stringNames.has(token.name)) {
      const value = token.value;
      const looksLikeOption = !token.inlineValue && typeof value === "string" && /^-./.test(value);
      if (value === undefined || value === "" || looksLikeOption) {
        throw usage(`The option ${option} needs a value.`, { reason: "missing_value", option });
      }
      if (values[token.name] !== undefined) {
        throw usage(`The option ${option} is given more than once.`, { reason: "repeated_option", option });
      }
      values[token.name] = value;
    } else if (booleanNames.has(token.name)) {
      if (token.inlineValue) {
        throw usage(`The option ${option} takes no value.`, { reason: "unexpected_value", option });
      }
      flags[token.name] = true;
    } else {
      throw usage(`Unknown option '${option}'.`, { reason: "unknown_option", option });
    }
  }
  return { help: false, values, flags };
}

export function usage(message: string, details: Record<string, unknown>): AeroError {
  return new AeroError("AERO_CLI_USAGE", message, details);
}

function clip(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}…` : text;
}
