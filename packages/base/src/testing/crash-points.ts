import { DelegatingFileSystem, delegatingHandle } from "../fs/delegating-fs.js";
import type { FileHandle, OpenMode, OpenOptions } from "../fs/types.js";

/**
 * Named crash points for end-to-end tests (core §12): with AERODB_CRASH_POINT=<name> the
 * process SIGKILLs itself when it reaches that point — a real kill, not an exception, so
 * nothing after it (no finally, no flush) runs. The catalogue is docs/crash-points.md.
 *
 * Two kinds of names:
 * - semantic points placed in the code: `commit:after-append`, `commit:after-fsync`,
 *   `commit:after-install`, `schema:after-fsync`, `recovery:mid-replay`, ...
 * - file-system points counted by CrashPointFileSystem: `<when>-<op>:<n>` where when is
 *   before|after, op is write|fsync|rename|unlink|truncate|mkdir|fsyncdir, and n is the
 *   1-based occurrence in this process (e.g. `after-fsync:3`).
 */
const configured = process.env.AERODB_CRASH_POINT ?? "";

export function crashPointArmed(): boolean {
  return configured !== "";
}

export function crashPoint(name: string): void {
  if (configured !== "" && configured === name) killNow();
}

function killNow(): never {
  process.kill(process.pid, "SIGKILL");
  // SIGKILL is delivered before this line runs; the loop only satisfies the type checker.
  for (;;) {
    /* unreachable */
  }
}

type CountedOp = "write" | "fsync" | "rename" | "unlink" | "truncate" | "mkdir" | "fsyncdir";

/** Wraps a FileSystem so that file-system crash points fire at the nth operation of a kind. */
export class CrashPointFileSystem extends DelegatingFileSystem {
  private readonly counts = new Map<CountedOp, number>();

  private around<T>(op: CountedOp, run: () => T): T {
    const n = (this.counts.get(op) ?? 0) + 1;
    this.counts.set(op, n);
    crashPoint(`before-${op}:${n}`);
    const result = run();
    if (result instanceof Promise) {
      return result.then((value) => {
        crashPoint(`after-${op}:${n}`);
        return value;
      }) as T;
    }
    crashPoint(`after-${op}:${n}`);
    return result;
  }

  override async open(path: string, mode: OpenMode, options?: OpenOptions): Promise<FileHandle> {
    const handle = await this.inner.open(path, mode, options);
    const around = this.around.bind(this);
    return delegatingHandle(handle, {
      write: (b, o, l, p) => around("write", () => handle.write(b, o, l, p)),
      writeSync: (b, o, l, p) => around("write", () => handle.writeSync(b, o, l, p)),
      sync: () => around("fsync", () => handle.sync()),
      truncate: (len) => around("truncate", () => handle.truncate(len)),
    });
  }
  override mkdir(path: string) {
    return this.around("mkdir", () => this.inner.mkdir(path));
  }
  override rename(from: string, to: string) {
    return this.around("rename", () => this.inner.rename(from, to));
  }
  override unlink(path: string) {
    return this.around("unlink", () => this.inner.unlink(path));
  }
  override syncDir(path: string) {
    return this.around("fsyncdir", () => this.inner.syncDir(path));
  }
}
