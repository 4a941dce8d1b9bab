import { chmodSync, chownSync, mkdirSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Writes a Secret volume the way kubelet's atomic writer (pkg/volume/util/atomic_writer.go)
 * does, first time and every update alike: the files go into a new hidden
 * `..YYYY_MM_DD_hh_mm_ss.NNNNNNNNN` directory, a `..data_tmp` link to it is renamed over
 * `..data` (the one atomic step), each visible name is a link `name -> ..data/name` (made once),
 * and the previous version directory is removed. Returns the new version directory's name.
 */
export interface SecretVolumeOptions {
  /** The Secret's `defaultMode`; kubelet's default is 0644, the manifests here ask for 0440. */
  mode?: number;
  /** The pod's `fsGroup`: kubelet gives the files that group. */
  gid?: number;
}

export function writeSecretVolume(dir: string, files: Record<string, string | Buffer>, { mode = 0o440, gid }: SecretVolumeOptions = {}): string {
  const now = new Date();
  const previous = versionDirectory(dir);
  const version = versionName(now, previous);
  mkdirSync(join(dir, version), { mode: 0o755 });
  for (const [name, contents] of Object.entries(files)) {
    const path = join(dir, version, name);
    writeFileSync(path, contents);
    if (gid !== undefined) chownSync(path, 0, gid);
    chmodSync(path, mode);
  }
  symlinkSync(version, join(dir, "..data_tmp"));
  renameSync(join(dir, "..data_tmp"), join(dir, "..data"));
  for (const name of Object.keys(files)) {
    if (!readdirSync(dir).includes(name)) symlinkSync(join("..data", name), join(dir, name));
  }
  if (previous) rmSync(join(dir, previous), { recursive: true, force: true });
  return version;
}

/** The version directory `..data` points at now, if any. */
function versionDirectory(dir: string): string | undefined {
  try {
    return readlinkSync(join(dir, "..data"));
  } catch {
    return undefined;
  }
}

function versionName(now: Date, previous: string | undefined): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  const stamp =
    `..${now.getUTCFullYear()}_${pad(now.getUTCMonth() + 1)}_${pad(now.getUTCDate())}_` +
    `${pad(now.getUTCHours())}_${pad(now.getUTCMinutes())}_${pad(now.getUTCSeconds())}.${pad(now.getUTCMilliseconds() * 1_000_000 + Math.floor(Math.random() * 1_000_000), 9)}`;
  return stamp === previous ? `${stamp.slice(0, -1)}${(Number(stamp.at(-1)) + 1) % 10}` : stamp;
}
