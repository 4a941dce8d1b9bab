import { closeSync, constants, fstatSync, openSync, readSync, realpathSync } from "node:fs";
import type { Stats } from "node:fs";

/** Certificates, keys and `_FILE` values are a few KiB; anything bigger is not one of them. */
export const MAX_READ_BYTES = 1024 * 1024;
const INITIAL_READ_BYTES = 8 * 1024;

/** A file the entrypoint refuses to read; `reason` reads after "cannot be read (". */
export class RefusedFile extends Error {
  override readonly name = "RefusedFile";

  constructor(readonly reason: string) {
    super(reason);
  }
}

export interface ReadOptions {
  /** A directory the file must really be in: links inside it are followed, links out of it are not. */
  within?: string;
  maxBytes?: number;
}

/**
 * Reads a regular file of at most `maxBytes`, as root does at startup and on every re-check.
 * A FIFO never blocks (opened non-blocking, then refused), a device (/dev/zero) or a huge sparse
 * file is refused before it is read, and with `within` a link out of that directory is refused.
 */
export function readRegularFile(path: string, options: ReadOptions = {}): Buffer {
  const maxBytes = options.maxBytes ?? MAX_READ_BYTES;
  let target = path;
  let flags = constants.O_RDONLY | constants.O_NONBLOCK;
  if (options.within !== undefined) {
    target = realpathSync(path);
    const root = realpathSync(options.within);
    if (target !== root && !target.startsWith(root.endsWith("/") ? root : `${root}/`)) {
      throw new RefusedFile(`a link out of ${options.within} (to ${target})`);
    }
    // The real path has no link left: one that appears now is refused, not followed.
    flags |= constants.O_NOFOLLOW;
  }
  const fd = openSync(target, flags);
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new RefusedFile(`not a regular file: ${kindOf(stats)}`);
    if (stats.size > maxBytes) throw new RefusedFile(`larger than ${describeSize(maxBytes)} (${stats.size} bytes)`);
    // Sized from the file, not maxBytes: a zero-filled MiB per certificate or key read cost more
    // than reading it. It grows (to one byte over maxBytes at most) for a file that grows or
    // whose size stat does not tell, as in /proc.
    let buffer = Buffer.alloc(Math.min(Math.max(stats.size + 1, INITIAL_READ_BYTES), maxBytes + 1));
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        const bigger = Buffer.alloc(Math.min(buffer.length * 2, maxBytes + 1));
        buffer.copy(bigger, 0, 0, length);
        buffer = bigger;
      }
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
      if (length > maxBytes) throw new RefusedFile(`larger than ${describeSize(maxBytes)} (it grew while read)`);
    }
    return buffer.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

/** "a FIFO", "a character device" ...: what a path that is not a regular file is instead. */
export function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return "a FIFO";
  if (stats.isDirectory()) return "a directory";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  if (stats.isSocket()) return "a socket";
  return "not a file";
}

function describeSize(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}
