/**
 * The embedded driver: the public API of the Phase-1 engine, called directly: @aerodb/snapshot's
 * open() (core's, with checkpoints and backups wired in), db.insert/update/delete/query/explain/
 * registerSchema/checkpoint/backup, db.recoveryReport(), db.close().
 *
 * Each envelope request is mapped onto the API call it names, and each result or AeroError
 * is converted to the envelope shape the way the envelope does it (core.md §6): writes give
 * `{status:"ok", data:[], commit_id}`, queries `{status:"ok", data, read_view}`, explain
 * `{status:"ok", data}`, errors `err.toJSON()`. It deliberately does not call
 * handleRequest: it is a second, independent route to the engine, so any difference
 * between this driver and the stdio one is a real divergence between the API and the
 * envelope.
 *
 * Requests and responses cross the boundary as JSON (cloned on the way in, canonical JSON
 * on the way out), as they would over any transport: the suite never shares an object with
 * the engine.
 */
import {
  AeroError,
  canonicalJson,
  type Database,
  initDataDir,
  isAeroError,
  open,
  restoreBackup,
} from "@aerodb/snapshot";
import {
  type ConfigInput,
  type ConformanceDriver,
  configFor,
  type ErrorResponse,
  isPlainObject,
  type RecoveryReport,
  type Request,
  type Response,
  type Session,
  StartFailed,
  type StartOptions,
} from "../driver.js";

export interface EmbeddedDriverOptions {
  readonly name?: string;
  /** Configuration merged under every start's (for later drivers: perf flags, ...). */
  readonly config?: ConfigInput;
}

export function embeddedDriver(options: EmbeddedDriverOptions = {}): ConformanceDriver {
  return {
    name: options.name ?? "embedded",
    async init(dir: string): Promise<void> {
      await initDataDir(configFor(dir, options.config, undefined));
    },
    async start(dir: string, startOptions?: StartOptions): Promise<Session> {
      let db: Database;
      try {
        db = await open(configFor(dir, options.config, startOptions));
      } catch (err) {
        if (isAeroError(err)) throw new StartFailed(toJson(err.toJSON()) as ErrorResponse);
        throw err;
      }
      return new EmbeddedSession(db);
    },
    async restore(input: string, dir: string, startOptions?: StartOptions): Promise<Response> {
      // @aerodb/snapshot's restoreBackup, the function behind `aerodb restore`.
      try {
        const result = await restoreBackup(configFor(dir, options.config, startOptions), input);
        return toJson({ status: "ok", data: result }) as Response;
      } catch (err) {
        if (isAeroError(err)) return toJson(err.toJSON()) as Response;
        throw err;
      }
    },
  };
}

class EmbeddedSession implements Session {
  private closed = false;

  constructor(private readonly db: Database) {}

  async request(request: Request): Promise<Response> {
    const req = toJson(request) as Record<string, unknown>;
    try {
      return toJson(await this.call(req)) as Response;
    } catch (err) {
      if (err instanceof NotExpressible) throw err;
      if (isAeroError(err)) return toJson(err.toJSON()) as Response;
      // As the envelope does: anything that is not an AeroError is an internal invariant.
      return toJson(
        new AeroError("AERO_INTERNAL_INVARIANT", "An unexpected internal error occurred.").toJSON(),
      ) as Response;
    }
  }

  async recoveryReport(): Promise<RecoveryReport> {
    return toJson(this.db.recoveryReport()) as RecoveryReport;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.close();
  }

  /** The API call a request names. */
  private async call(req: Record<string, unknown>): Promise<Response> {
    const { op, ...rest } = req;
    switch (op) {
      case "insert":
      case "update": {
        expressible(rest, ["schema_id", "schema_version", "document"]);
        const write = {
          schema_id: rest.schema_id as string,
          schema_version: rest.schema_version as string,
          document: rest.document as Record<string, unknown>,
        };
        const result = op === "insert" ? await this.db.insert(write) : await this.db.update(write);
        return { status: "ok", data: [], commit_id: result.commit_id };
      }
      case "delete": {
        expressible(rest, ["schema_id", "schema_version", "document"]);
        if (!isPlainObject(rest.document))
          throw new NotExpressible("a delete names its key as document: {_id}");
        expressible(rest.document, ["_id"]);
        const result = await this.db.delete({
          schema_id: rest.schema_id as string,
          schema_version: rest.schema_version as string,
          _id: rest.document._id as string,
        });
        return { status: "ok", data: [], commit_id: result.commit_id };
      }
      case "query": {
        const result = this.db.query(rest);
        return { status: "ok", data: result.data, read_view: result.read_view };
      }
      case "explain":
        return { status: "ok", data: this.db.explain(rest) };
      case "register_schema": {
        expressible(rest, ["schema"]);
        const result = await this.db.registerSchema(rest.schema);
        return { status: "ok", data: [], commit_id: result.commit_id };
      }
      case "checkpoint":
        expressible(rest, []);
        return { status: "ok", data: await this.db.checkpoint() };
      case "backup":
        expressible(rest, ["path"]);
        return { status: "ok", data: await this.db.backup(rest.path as string) };
      default:
        throw new NotExpressible(`the embedded API has no operation for op ${JSON.stringify(op)}`);
    }
  }
}

/**
 * The suite only sends requests both routes can express; a field the API call has no
 * parameter for is a bug in the suite, not something to drop silently.
 */
function expressible(value: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw new NotExpressible(`field ${key} has no parameter in the embedded API`);
  }
}

/** A request the embedded API cannot express: a bug in the suite, surfaced as a test failure. */
class NotExpressible extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NotExpressible";
  }
}

/** A JSON copy: canonical JSON text parsed back, exactly what a transport would deliver. */
function toJson(value: unknown): unknown {
  return JSON.parse(canonicalJson(value));
}
