/**
 * Hand-made tar headers for hostile-archive tests: any field can be set, and the checksum is
 * computed over whatever was set (unless told otherwise), so a refusal comes from the check
 * under test and not from a bad checksum.
 */
export interface RawHeader {
  name: string;
  mode?: string;
  uid?: string;
  gid?: string;
  /** Octal digits, or a number written the canonical way. */
  size?: number | string;
  mtime?: string;
  type?: string;
  linkname?: string;
  magic?: string;
  version?: string;
  uname?: string;
  gname?: string;
  devmajor?: string;
  devminor?: string;
  prefix?: string;
  /** Store this checksum text instead of the right one. */
  checksum?: string;
}

function put(h: Uint8Array, at: number, len: number, text: string): void {
  const bytes = Buffer.from(text, "latin1");
  h.set(bytes.subarray(0, len), at);
}

export function rawHeader(f: RawHeader): Uint8Array {
  const h = new Uint8Array(512);
  const type = f.type ?? "0";
  put(h, 0, 100, f.name);
  put(h, 100, 8, f.mode ?? (type === "5" ? "0000755\0" : "0000644\0"));
  put(h, 108, 8, f.uid ?? "0000000\0");
  put(h, 116, 8, f.gid ?? "0000000\0");
  const size = f.size ?? 0;
  put(h, 124, 12, typeof size === "number" ? `${size.toString(8).padStart(11, "0")}\0` : size);
  put(h, 136, 12, f.mtime ?? "00000000000\0");
  put(h, 156, 1, type);
  put(h, 157, 100, f.linkname ?? "");
  put(h, 257, 6, f.magic ?? "ustar\0");
  put(h, 263, 2, f.version ?? "00");
  put(h, 265, 32, f.uname ?? "");
  put(h, 297, 32, f.gname ?? "");
  put(h, 329, 8, f.devmajor ?? "0000000\0");
  put(h, 337, 8, f.devminor ?? "0000000\0");
  put(h, 345, 155, f.prefix ?? "");
  if (f.checksum !== undefined) {
    put(h, 148, 8, f.checksum);
  } else {
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : (h[i] as number);
    put(h, 148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  }
  return h;
}

/** Content padded to a whole number of blocks. */
export function padded(content: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(content.length / 512) * 512);
  out.set(content);
  return out;
}

export const END = new Uint8Array(1024);

export function concat(...parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts.map((p) => Buffer.from(p)));
}

export interface Part {
  header: Uint8Array;
  content: Uint8Array;
}

/** Splits a valid archive into its entries (header + unpadded content); the end is dropped. */
export function splitArchive(archive: Uint8Array): Part[] {
  const parts: Part[] = [];
  let at = 0;
  for (;;) {
    const header = archive.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const size = Number.parseInt(Buffer.from(header.subarray(124, 135)).toString("latin1"), 8);
    // Copies (Buffer#slice would share memory with the archive).
    parts.push({
      header: Uint8Array.from(header),
      content: Uint8Array.from(archive.subarray(at + 512, at + 512 + size)),
    });
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return parts;
}

/** Joins entries back into an archive (zero padding, two end blocks). */
export function joinArchive(parts: readonly Part[], end: Uint8Array = END): Uint8Array {
  return concat(...parts.flatMap((p) => [p.header, padded(p.content)]), end);
}

export function nameOf(part: Part): string {
  const h = Buffer.from(part.header);
  const field = (at: number, len: number) => {
    const raw = h.subarray(at, at + len);
    const nul = raw.indexOf(0);
    return raw.subarray(0, nul < 0 ? len : nul).toString("latin1");
  };
  const prefix = field(345, 155);
  const name = field(0, 100);
  return prefix === "" ? name : `${prefix}/${name}`;
}
