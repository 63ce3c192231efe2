import * as posixPath from "node:path/posix";
import { SeededRandom } from "../random/seeded-random.js";
import { compareCodeUnits } from "./node-fs.js";
import type { FileHandle, FileStat, FileSystem, FsError, OpenMode, OpenOptions } from "./types.js";

/**
 * The simulated file system: in memory, and aware of which bytes and which directory
 * entries are durable. `crash()` produces the file system a restarted process would see,
 * keeping a seeded choice of what was not yet synced. Faults (EIO, ENOSPC, short writes,
 * fsync failure, a crash at the Nth operation) are injected by operation count, so a
 * failing run is replayed exactly from its seed and numbers.
 */

export type SimOp =
  | "open"
  | "create"
  | "read"
  | "write"
  | "sync"
  | "truncate"
  | "rename"
  | "unlink"
  | "mkdir"
  | "rmdir"
  | "syncDir"
  | "readFile"
  | "readdir"
  | "stat";

/** The operations after which a crash can leave a different durable state. */
export const CRASH_BOUNDARY_OPS: ReadonlySet<SimOp> = new Set<SimOp>([
  "create",
  "write",
  "sync",
  "truncate",
  "rename",
  "unlink",
  "mkdir",
  "rmdir",
  "syncDir",
]);

export type FaultKind = "EIO" | "ENOSPC" | "short";

export interface FaultRule {
  readonly op: SimOp;
  /** 1-based: the rule fires on the nth matching operation counted from its injection. */
  readonly nth: number;
  readonly kind: FaultKind;
  /** Only operations on a path containing this text match. */
  readonly pathIncludes?: string;
  /** Keep failing every later matching operation too. */
  readonly sticky?: boolean;
}

/** What happened to a file's unsynced writes in a crash (recorded for the test's report). */
export type CrashFate = "all" | "none" | "prefix" | "torn" | "flip";

export class SimulatedCrash extends Error {
  constructor(readonly opNumber: number) {
    super(`simulated crash at boundary operation #${opNumber}`);
    this.name = "SimulatedCrash";
  }
}

/**
 * Is `err` a simulated crash (a power loss or a named crash point)? By name, not instanceof: a
 * test's copy of @aerodb/base and the engine's may be two module instances. Code that catches
 * errors rethrows these untouched, since after a crash nothing of the process may run on.
 */
export function isSimulatedCrash(err: unknown): boolean {
  return err instanceof Error && err.name === "SimulatedCrash";
}

type Mutation = { kind: "write"; pos: number; bytes: Uint8Array } | { kind: "truncate"; length: number };

/** A growable byte image of a file (its current or its durable content). */
class ByteImage {
  data: Uint8Array;
  size: number;

  constructor(initial: Uint8Array = new Uint8Array(0)) {
    this.data = initial.slice();
    this.size = initial.length;
  }

  content(): Uint8Array {
    return this.data.subarray(0, this.size);
  }

  applyWrite(pos: number, bytes: Uint8Array): void {
    if (bytes.length === 0) return; // POSIX: a zero-length write changes nothing, even past EOF
    const end = pos + bytes.length;
    if (end > this.data.length) {
      const grown = new Uint8Array(Math.max(end, this.data.length * 2, 64));
      grown.set(this.data.subarray(0, this.size));
      this.data = grown;
    }
    if (pos > this.size) this.data.fill(0, this.size, pos);
    this.data.set(bytes, pos);
    this.size = Math.max(this.size, end);
  }

  applyTruncate(length: number): void {
    if (length < this.size) {
      this.size = length;
    } else if (length > this.size) {
      this.applyWrite(this.size, new Uint8Array(length - this.size));
    }
  }

  apply(m: Mutation): void {
    if (m.kind === "write") this.applyWrite(m.pos, m.bytes);
    else this.applyTruncate(m.length);
  }
}

class Inode extends ByteImage {
  private readonly durableImage: ByteImage;
  pending: Mutation[] = [];

  constructor(initial: Uint8Array = new Uint8Array(0)) {
    super(initial);
    this.durableImage = new ByteImage(initial);
  }

  /** The durable content (a view: copy before keeping it). */
  get durable(): Uint8Array {
    return this.durableImage.content();
  }

  /** Applies the pending mutations to the durable image: O(pending), not O(file size). */
  makeDurable(): void {
    for (const m of this.pending) this.durableImage.apply(m);
    this.pending = [];
  }
}

type Entry = { kind: "file"; inode: Inode } | { kind: "dir"; dir: DirNode };

class DirNode {
  entries = new Map<string, Entry>();
  durable = new Map<string, Entry>();
  /**
   * Entry changes since the last syncDir, in order: a crash keeps a prefix of them. Each
   * element is one atomic change (a rename within the directory is two entry changes that a
   * crash keeps together, as journaling file systems do).
   */
  log: Array<Array<{ name: string; entry: Entry | null }>> = [];

  set(name: string, entry: Entry | null): void {
    this.setAtomically([{ name, entry }]);
  }

  setAtomically(changes: Array<{ name: string; entry: Entry | null }>): void {
    for (const { name, entry } of changes) {
      if (entry === null) this.entries.delete(name);
      else this.entries.set(name, entry);
    }
    this.log.push(changes);
  }

  makeDurable(): void {
    this.durable = new Map(this.entries);
    this.log = [];
  }
}

function fsError(code: string, op: string, path: string): FsError {
  const err = new Error(`${code}: ${op} '${path}'`) as FsError;
  err.code = code;
  return err;
}

interface ActiveFault extends FaultRule {
  seen: number;
  fired: boolean;
}

export interface SimFileSystemOptions {
  /** Crash (throw SimulatedCrash, and every later call too) at this boundary operation, 1-based. */
  readonly crashAtBoundary?: number;
}

export class SimFileSystem implements FileSystem {
  private root = new DirNode();
  private faults: ActiveFault[] = [];
  private readonly opCounts = new Map<SimOp, number>();
  private boundaryOps = 0;
  private crashAtBoundary: number | undefined;
  private dead = false;
  /** The fates chosen by the last crash() that produced this file system, for reports. */
  readonly crashFates: Array<{ path: string; fate: CrashFate }> = [];

  constructor(options: SimFileSystemOptions = {}) {
    this.crashAtBoundary = options.crashAtBoundary;
  }

  // ---- test controls -------------------------------------------------------------------

  injectFault(rule: FaultRule): void {
    this.faults.push({ ...rule, seen: 0, fired: false });
  }

  clearFaults(): void {
    this.faults = [];
  }

  /** Arm a crash at the nth boundary operation from now (1 = the next one). */
  crashAfter(boundaryOpsFromNow: number): void {
    this.crashAtBoundary = this.boundaryOps + boundaryOpsFromNow;
  }

  /** How many boundary operations (writes, syncs, renames, ...) have run so far. */
  get boundaryOpCount(): number {
    return this.boundaryOps;
  }

  opCount(op: SimOp): number {
    return this.opCounts.get(op) ?? 0;
  }

  get isDead(): boolean {
    return this.dead;
  }

  /**
   * The file system a restarted process sees after power loss: durable state plus a seeded
   * choice of the unsynced changes. This instance is dead afterwards.
   */
  crash(seed: number): SimFileSystem {
    const rnd = new SeededRandom(seed);
    this.dead = true;
    const next = new SimFileSystem();
    const inodeMap = new Map<Inode, Inode>();
    const rebuildDir = (from: DirNode, path: string): DirNode => {
      const keep = from.log.length === 0 ? 0 : rnd.int(0, from.log.length);
      const visible = new Map(from.durable);
      for (const change of from.log.slice(0, keep).flat()) {
        if (change.entry === null) visible.delete(change.name);
        else visible.set(change.name, change.entry);
      }
      const out = new DirNode();
      for (const name of [...visible.keys()].sort(compareCodeUnits)) {
        const entry = visible.get(name) as Entry;
        const childPath = posixPath.join(path, name);
        if (entry.kind === "dir") {
          out.entries.set(name, { kind: "dir", dir: rebuildDir(entry.dir, childPath) });
        } else {
          let inode = inodeMap.get(entry.inode);
          if (!inode) {
            inode = new Inode(this.crashedContent(entry.inode, rnd, childPath, next));
            inodeMap.set(entry.inode, inode);
          }
          out.entries.set(name, { kind: "file", inode });
        }
      }
      out.makeDurable();
      return out;
    };
    next.root = rebuildDir(this.root, "/");
    return next;
  }

  private crashedContent(inode: Inode, rnd: SeededRandom, path: string, next: SimFileSystem): Uint8Array {
    if (inode.pending.length === 0) return inode.durable.slice();
    const fate = rnd.pick<CrashFate>(["all", "none", "prefix", "torn", "flip"]);
    next.crashFates.push({ path, fate });
    const image = new Inode(inode.durable);
    const apply = (m: Mutation) =>
      m.kind === "write" ? image.applyWrite(m.pos, m.bytes) : image.applyTruncate(m.length);
    switch (fate) {
      case "all":
        inode.pending.forEach(apply);
        break;
      case "none":
        break;
      case "prefix":
        inode.pending.slice(0, rnd.int(0, inode.pending.length)).forEach(apply);
        break;
      case "torn": {
        const cut = rnd.int(0, inode.pending.length - 1);
        inode.pending.slice(0, cut).forEach(apply);
        const m = inode.pending[cut] as Mutation;
        if (m.kind === "write") image.applyWrite(m.pos, m.bytes.subarray(0, rnd.int(0, m.bytes.length)));
        break;
      }
      case "flip": {
        inode.pending.forEach(apply);
        const writes = inode.pending.filter((m) => m.kind === "write" && m.bytes.length > 0);
        const m = writes.length > 0 ? (rnd.pick(writes) as Extract<Mutation, { kind: "write" }>) : undefined;
        if (m) {
          const at = m.pos + rnd.index(m.bytes.length);
          if (at < image.size) image.data[at] = (image.data[at] as number) ^ (1 << rnd.int(0, 7));
        }
        break;
      }
    }
    return image.content().slice();
  }

  // ---- plumbing ------------------------------------------------------------------------

  /** Counts an operation, fires a matching fault or the armed crash. Returns a fault kind. */
  private enter(op: SimOp, path: string): FaultKind | null {
    if (this.dead) throw new SimulatedCrash(this.boundaryOps);
    this.opCounts.set(op, (this.opCounts.get(op) ?? 0) + 1);
    if (CRASH_BOUNDARY_OPS.has(op)) {
      this.boundaryOps++;
      if (this.crashAtBoundary !== undefined && this.boundaryOps >= this.crashAtBoundary) {
        this.dead = true;
        // A write interrupted by the crash may have reached the page cache in part: the
        // caller applies it volatile before throwing (see write()).
        if (op !== "write") throw new SimulatedCrash(this.boundaryOps);
        return null;
      }
    }
    // Every matching rule counts this operation (each counts from its own injection); the
    // first that is due fires, a later one that is also due fires on the next match.
    let kind: FaultKind | null = null;
    for (const fault of this.faults) {
      if (fault.op !== op) continue;
      if (fault.pathIncludes !== undefined && !path.includes(fault.pathIncludes)) continue;
      if (fault.fired && !fault.sticky) continue;
      fault.seen++;
      if (kind === null && fault.seen >= fault.nth) {
        fault.fired = true;
        kind = fault.kind;
      }
    }
    return kind;
  }

  private throwFault(kind: FaultKind | null, op: string, path: string): void {
    if (kind === "EIO" || kind === "ENOSPC") throw fsError(kind, op, path);
  }

  private split(path: string): { parent: string; name: string } {
    const norm = posixPath.resolve("/", path);
    return { parent: posixPath.dirname(norm), name: posixPath.basename(norm) };
  }

  private lookup(path: string): Entry | undefined {
    const norm = posixPath.resolve("/", path);
    if (norm === "/") return { kind: "dir", dir: this.root };
    let dir = this.root;
    const parts = norm.split("/").filter(Boolean);
    for (let i = 0; i < parts.length; i++) {
      const entry = dir.entries.get(parts[i] as string);
      if (!entry) return undefined;
      if (i === parts.length - 1) return entry;
      if (entry.kind !== "dir") return undefined;
      dir = entry.dir;
    }
    return undefined;
  }

  private dirAt(path: string, op: string): DirNode {
    const entry = this.lookup(path);
    if (!entry) throw fsError("ENOENT", op, path);
    if (entry.kind !== "dir") throw fsError("ENOTDIR", op, path);
    return entry.dir;
  }

  private fileAt(path: string, op: string): Inode {
    const entry = this.lookup(path);
    if (!entry) throw fsError("ENOENT", op, path);
    if (entry.kind !== "file") throw fsError("EISDIR", op, path);
    return entry.inode;
  }

  // ---- FileSystem ----------------------------------------------------------------------

  async open(path: string, mode: OpenMode, options?: OpenOptions): Promise<FileHandle> {
    if (mode === "wx") {
      const { parent, name } = this.split(path);
      this.throwFault(this.enter("create", path), "open", path);
      const dir = this.dirAt(parent, "open");
      if (dir.entries.has(name)) throw fsError("EEXIST", "open", path);
      const inode = new Inode();
      dir.set(name, { kind: "file", inode });
      return new SimFileHandle(this, path, inode, options?.dsync === true, true);
    }
    this.throwFault(this.enter("open", path), "open", path);
    return new SimFileHandle(this, path, this.fileAt(path, "open"), options?.dsync === true, mode === "r+");
  }

  async readFile(path: string): Promise<Uint8Array> {
    this.throwFault(this.enter("readFile", path), "read", path);
    return this.fileAt(path, "read").content().slice();
  }

  async readdir(path: string): Promise<string[]> {
    this.throwFault(this.enter("readdir", path), "readdir", path);
    return [...this.dirAt(path, "readdir").entries.keys()].sort(compareCodeUnits);
  }

  async stat(path: string): Promise<FileStat | null> {
    this.throwFault(this.enter("stat", path), "stat", path);
    const entry = this.lookup(path);
    if (!entry) return null;
    return entry.kind === "file"
      ? { size: entry.inode.size, isFile: true, isDirectory: false }
      : { size: 0, isFile: false, isDirectory: true };
  }

  async mkdir(path: string): Promise<void> {
    const { parent, name } = this.split(path);
    this.throwFault(this.enter("mkdir", path), "mkdir", path);
    const dir = this.dirAt(parent, "mkdir");
    if (dir.entries.has(name)) throw fsError("EEXIST", "mkdir", path);
    const child = new DirNode();
    child.makeDurable();
    dir.set(name, { kind: "dir", dir: child });
  }

  async rename(from: string, to: string): Promise<void> {
    this.throwFault(this.enter("rename", from), "rename", from);
    const src = this.split(from);
    const dst = this.split(to);
    const srcDir = this.dirAt(src.parent, "rename");
    const dstDir = this.dirAt(dst.parent, "rename");
    const entry = srcDir.entries.get(src.name);
    if (!entry) throw fsError("ENOENT", "rename", from);
    const existing = dstDir.entries.get(dst.name);
    if (existing?.kind === "dir" && (entry.kind !== "dir" || existing.dir.entries.size > 0)) {
      throw fsError(entry.kind === "dir" ? "ENOTEMPTY" : "EISDIR", "rename", to);
    }
    if (existing?.kind === "file" && entry.kind === "dir") throw fsError("ENOTDIR", "rename", to);
    if (srcDir === dstDir) {
      srcDir.setAtomically([
        { name: src.name, entry: null },
        { name: dst.name, entry },
      ]);
    } else {
      srcDir.set(src.name, null);
      dstDir.set(dst.name, entry);
    }
  }

  async unlink(path: string): Promise<void> {
    this.throwFault(this.enter("unlink", path), "unlink", path);
    const { parent, name } = this.split(path);
    const dir = this.dirAt(parent, "unlink");
    const entry = dir.entries.get(name);
    if (!entry) throw fsError("ENOENT", "unlink", path);
    if (entry.kind === "dir") throw fsError("EISDIR", "unlink", path);
    dir.set(name, null);
  }

  async rmdir(path: string): Promise<void> {
    this.throwFault(this.enter("rmdir", path), "rmdir", path);
    const { parent, name } = this.split(path);
    const dir = this.dirAt(parent, "rmdir");
    const entry = dir.entries.get(name);
    if (!entry) throw fsError("ENOENT", "rmdir", path);
    if (entry.kind !== "dir") throw fsError("ENOTDIR", "rmdir", path);
    if (entry.dir.entries.size > 0) throw fsError("ENOTEMPTY", "rmdir", path);
    dir.set(name, null);
  }

  async syncDir(path: string): Promise<void> {
    this.throwFault(this.enter("syncDir", path), "fsync", path);
    this.dirAt(path, "fsync").makeDurable();
  }

  // ---- used by SimFileHandle -----------------------------------------------------------

  /** @internal */
  handleWrite(
    handle: SimFileHandle,
    inode: Inode,
    bytes: Uint8Array,
    position: number,
    dsync: boolean,
  ): number {
    const fault = this.enter("write", handle.path);
    if (this.dead) {
      // Crashed inside the write: part of it may have reached the page cache.
      inode.applyWrite(position, bytes);
      inode.pending.push({ kind: "write", pos: position, bytes: bytes.slice() });
      throw new SimulatedCrash(this.boundaryOps);
    }
    this.throwFault(fault, "write", handle.path);
    const written = fault === "short" ? Math.min(bytes.length, Math.max(1, bytes.length >> 1)) : bytes.length;
    const part = bytes.slice(0, written);
    inode.applyWrite(position, part);
    inode.pending.push({ kind: "write", pos: position, bytes: part });
    if (dsync) inode.makeDurable();
    return written;
  }

  /** @internal */
  handleSync(handle: SimFileHandle, inode: Inode): void {
    this.throwFault(this.enter("sync", handle.path), "fsync", handle.path);
    inode.makeDurable();
  }

  /** @internal */
  handleTruncate(handle: SimFileHandle, inode: Inode, length: number): void {
    this.throwFault(this.enter("truncate", handle.path), "truncate", handle.path);
    inode.applyTruncate(length);
    inode.pending.push({ kind: "truncate", length });
  }

  /** @internal */
  handleRead(
    handle: SimFileHandle,
    inode: Inode,
    target: Uint8Array,
    offset: number,
    length: number,
    position: number,
  ): number {
    this.throwFault(this.enter("read", handle.path), "read", handle.path);
    const available = Math.max(0, Math.min(length, inode.size - position));
    target.set(inode.data.subarray(position, position + available), offset);
    return available;
  }
}

class SimFileHandle implements FileHandle {
  private closed = false;

  constructor(
    private readonly fs: SimFileSystem,
    readonly path: string,
    private readonly inode: Inode,
    private readonly dsync: boolean,
    private readonly writable: boolean,
  ) {}

  private check(): void {
    if (this.closed) throw fsError("EBADF", "use", this.path);
  }

  async read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return this.readSync(buffer, offset, length, position);
  }

  readSync(buffer: Uint8Array, offset: number, length: number, position: number): number {
    this.check();
    return this.fs.handleRead(this, this.inode, buffer, offset, length, position);
  }

  async write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    this.check();
    if (!this.writable) throw fsError("EBADF", "write", this.path); // as write(2) on O_RDONLY
    return this.fs.handleWrite(
      this,
      this.inode,
      buffer.subarray(offset, offset + length),
      position,
      this.dsync,
    );
  }

  writeSync(buffer: Uint8Array, offset: number, length: number, position: number): number {
    this.check();
    if (!this.writable) throw fsError("EBADF", "write", this.path); // as write(2) on O_RDONLY
    return this.fs.handleWrite(
      this,
      this.inode,
      buffer.subarray(offset, offset + length),
      position,
      this.dsync,
    );
  }

  async sync(): Promise<void> {
    this.check();
    this.fs.handleSync(this, this.inode);
  }

  async truncate(length: number): Promise<void> {
    this.check();
    if (!this.writable) throw fsError("EINVAL", "truncate", this.path); // as ftruncate(2) on O_RDONLY
    this.fs.handleTruncate(this, this.inode, length);
  }

  async size(): Promise<number> {
    this.check();
    if (this.fs.isDead) throw new SimulatedCrash(this.fs.boundaryOpCount);
    return this.inode.size;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
