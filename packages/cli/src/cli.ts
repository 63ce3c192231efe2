import { AeroError } from "@aerodb/base";
import { COMMON_OPTIONS, type OptionSpec, type ParsedArgs, parseCommandArgs, usage } from "./args.js";
import { runBackup } from "./commands/backup.js";
import { runCheckpointCommand } from "./commands/checkpoint.js";
import { runInit } from "./commands/init.js";
import { runRestore } from "./commands/restore.js";
import { runSchemaAdd } from "./commands/schema-add.js";
import { runStart } from "./commands/start.js";
import { runStats } from "./commands/stats.js";
import { runVerify } from "./commands/verify.js";
import { COMMAND_HELP, TOP_HELP } from "./help.js";
import { type CliIo, EXIT_OK, failWith, toAeroError } from "./output.js";

interface Command {
  readonly options: OptionSpec;
  readonly run: (io: CliIo, parsed: ParsedArgs) => Promise<number>;
}

const common = (parsed: ParsedArgs) => ({ data: parsed.values.data, config: parsed.values.config });

const COMMANDS: Readonly<Record<string, Command>> = {
  init: { options: COMMON_OPTIONS, run: (io, p) => runInit(io, common(p)) },
  start: { options: COMMON_OPTIONS, run: (io, p) => runStart(io, common(p)) },
  "schema add": {
    options: { ...COMMON_OPTIONS, strings: [...COMMON_OPTIONS.strings, "file"] },
    run: (io, p) => runSchemaAdd(io, { ...common(p), file: p.values.file }),
  },
  checkpoint: { options: COMMON_OPTIONS, run: (io, p) => runCheckpointCommand(io, common(p)) },
  backup: {
    options: { ...COMMON_OPTIONS, strings: [...COMMON_OPTIONS.strings, "output"] },
    run: (io, p) => runBackup(io, { ...common(p), output: p.values.output }),
  },
  restore: {
    options: { ...COMMON_OPTIONS, strings: [...COMMON_OPTIONS.strings, "input"] },
    run: (io, p) => runRestore(io, { ...common(p), input: p.values.input }),
  },
  verify: {
    options: { ...COMMON_OPTIONS, strings: [...COMMON_OPTIONS.strings, "backup"] },
    run: (io, p) => runVerify(io, { ...common(p), backup: p.values.backup }),
  },
  stats: { options: COMMON_OPTIONS, run: (io, p) => runStats(io, common(p)) },
};

const isHelpFlag = (arg: string | undefined) => arg === "--help" || arg === "-h";

/**
 * Runs one `aerodb` command line (`argv` without the node and script paths) against `io`
 * and resolves with the exit code: 0 ok, 1 error, 2 usage. Every outcome other than help
 * text is canonical JSON: the envelope on stdout, structured logs on stderr.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const [first, second] = argv;
    if (first === undefined) throw usage("No command given.", { reason: "missing_command" });
    if (isHelpFlag(first)) return await printHelp(io, TOP_HELP);
    if (first === "help") return await printHelpOf(io, argv.slice(1));

    let name = first;
    let rest = argv.slice(1);
    if (first === "schema") {
      if (second === undefined || isHelpFlag(second)) {
        if (second !== undefined) return await printHelp(io, COMMAND_HELP["schema add"] ?? TOP_HELP);
        throw usage("`aerodb schema` needs a subcommand: add.", {
          reason: "missing_command",
          command: "schema",
        });
      }
      if (second !== "add") {
        throw usage(`Unknown command 'schema ${clip(second)}'.`, {
          reason: "unknown_command",
          command: `schema ${clip(second)}`,
        });
      }
      name = "schema add";
      rest = argv.slice(2);
    }
    const command = COMMANDS[name];
    if (command === undefined) {
      throw usage(`Unknown command '${clip(name)}'.`, { reason: "unknown_command", command: clip(name) });
    }
    const parsed = parseCommandArgs(rest, command.options);
    if (parsed.help) return await printHelp(io, COMMAND_HELP[name] ?? TOP_HELP);
    return await command.run(io, parsed);
  } catch (err) {
    return failWith(io, toAeroError(err, "AERO_INTERNAL_INVARIANT", "The command failed."));
  }
}

async function printHelpOf(io: CliIo, args: readonly string[]): Promise<number> {
  const topic = args.filter((a) => !isHelpFlag(a)).join(" ");
  if (topic === "") return printHelp(io, TOP_HELP);
  const text = COMMAND_HELP[topic === "schema" ? "schema add" : topic];
  if (text === undefined) {
    throw new AeroError("AERO_CLI_USAGE", `Unknown command '${clip(topic)}'.`, {
      reason: "unknown_command",
      command: clip(topic),
    });
  }
  return printHelp(io, text);
}

function printHelp(io: CliIo, text: string): Promise<number> {
  return new Promise((resolve) => {
    io.stdout.write(text, () => resolve(EXIT_OK));
  });
}

function clip(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}…` : text;
}
