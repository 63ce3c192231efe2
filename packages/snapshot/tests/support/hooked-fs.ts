/**
 * A pass-through file system for tests that must order work exactly, without timers: it
 * logs every directory-level operation in the order it starts, and can hold one operation
 * on one path until the test opens a gate (the way to keep a backup inside its archive
 * phase while the test issues commits, checkpoints or close()).
 */
import {
  DelegatingFileSystem,
  type FileHandle,
  type FileSystem,
  type OpenMode,
  type OpenOptions,
} from "@aerodb/base";

/** `create` is an exclusive open (mode "wx"), `open` any other. */
export type HookedOp = "create" | "open" | "rename" | "unlink" | "mkdir" | "rmdir" | "syncDir";

export interface Gate {
  /** Resolves when the held operation has started and is waiting. */
  readonly reached: Promise<void>;
  /** Lets the held operation go on. */
  open(): void;
}

interface Hold {
  readonly op: HookedOp;
  readonly path: string;
  readonly arrived: () => void;
  readonly released: Promise<void>;
}

export class HookedFileSystem extends DelegatingFileSystem {
  /** `<op> <path>` (a rename: `rename <from> -> <to>`), in the order the operations began. */
  readonly log: string[] = [];
  private holds: Hold[] = [];

  constructor(inner: FileSystem) {
    super(inner);
  }

  /** The next `op` on `path` waits, once, until the gate is opened. */
  holdAt(op: HookedOp, path: string): Gate {
    let arrived!: () => void;
    let release!: () => void;
    const reached = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.holds.push({ op, path, arrived, released });
    return { reached, open: release };
  }

  /** The position of the first log entry equal to `entry` (-1 when absent). */
  indexOf(entry: string): number {
    return this.log.indexOf(entry);
  }

  private async enter(op: HookedOp, path: string, entry = `${op} ${path}`): Promise<void> {
    this.log.push(entry);
    const at = this.holds.findIndex((h) => h.op === op && h.path === path);
    if (at < 0) return;
    const [hold] = this.holds.splice(at, 1) as [Hold];
    hold.arrived();
    await hold.released;
  }

  override async open(path: string, mode: OpenMode, options?: OpenOptions): Promise<FileHandle> {
    await this.enter(mode === "wx" ? "create" : "open", path);
    return this.inner.open(path, mode, options);
  }
  override async mkdir(path: string) {
    await this.enter("mkdir", path);
    return this.inner.mkdir(path);
  }
  override async rename(from: string, to: string) {
    await this.enter("rename", from, `rename ${from} -> ${to}`);
    return this.inner.rename(from, to);
  }
  override async unlink(path: string) {
    await this.enter("unlink", path);
    return this.inner.unlink(path);
  }
  override async rmdir(path: string) {
    await this.enter("rmdir", path);
    return this.inner.rmdir(path);
  }
  override async syncDir(path: string) {
    await this.enter("syncDir", path);
    return this.inner.syncDir(path);
  }
}
