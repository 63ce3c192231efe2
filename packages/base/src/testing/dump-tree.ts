import * as posixPath from "node:path/posix";
import type { FileSystem } from "../fs/types.js";

/**
 * Every directory and file under `root`, in readdir order (sorted), each file with its bytes in
 * base64: what tests compare for "byte-identical" trees. `skip` leaves relative paths out (LOCK,
 * say); a missing root gives []. It only reads: no boundary operation a crash could be armed on.
 */
export async function dumpTree(
  fs: FileSystem,
  root: string,
  skip: (relative: string) => boolean = () => false,
): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = [];
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const name of await fs.readdir(dir)) {
      const path = posixPath.join(dir, name);
      const relative = rel === "" ? name : `${rel}/${name}`;
      if (skip(relative)) continue;
      const st = await fs.stat(path);
      if (st?.isDirectory) {
        out.push([`${relative}/`, "dir"]);
        await walk(path, relative);
      } else {
        out.push([relative, Buffer.from(await fs.readFile(path)).toString("base64")]);
      }
    }
  };
  // A missing root is an empty tree: tests compare "nothing there" too.
  if ((await fs.stat(root))?.isDirectory) await walk(root, "");
  return out;
}
