import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { allows, isReadableBy, READ, SEARCH, type Reader } from "../certificates/readable-by.js";
import { ConfigError } from "../errors.js";
import { runsAsRoot } from "../identity.js";

/**
 * Whether the reader may list `dir` (Prosody globs conf.d/*.cfg.lua). When the mode bits allow
 * it (the image's own 0755 directory, most mounts) that is the answer; otherwise the kernel is
 * asked as the reader, which also sees ACLs that grant more. A process costs ~20 ms of the start.
 */
function canList(dir: string, reader: Reader): boolean {
  const stats = statSync(dir);
  if (allows(stats, reader, READ) && allows(stats, reader, SEARCH)) return true;
  // Without root, Prosody is this process: asking as itself needs no identity switch.
  if (!runsAsRoot()) return spawnSync("test", ["-r", dir, "-a", "-x", dir]).status === 0;
  const asReader = ["--reuid", String(reader.uid), "--regid", String(reader.gids[0] ?? reader.uid), "--groups", reader.gids.join(",")];
  return spawnSync("setpriv", [...asReader, "--", "test", "-r", dir, "-a", "-x", dir]).status === 0;
}

/**
 * The user's own `*.cfg.lua` files: Prosody must be able to read them and they must parse.
 * Caught here, a mistake stops the container with 78 and names the file, instead of Prosody
 * exiting 1 halfway through its start.
 */
export function checkUserConfig(dir: string, reader: Reader, luac = "luac5.4"): string {
  if (!existsSync(dir)) return "none";
  const problems: string[] = [];
  if (!canList(dir, reader)) {
    const stat = statSync(dir);
    const mode = (stat.mode & 0o7777).toString(8).padStart(4, "0");
    throw new ConfigError([
      `${dir} (${mode} ${stat.uid}:${stat.gid}) cannot be listed by Prosody (uid ${reader.uid}). Accepted: a directory Prosody can read, e.g. chmod 0755.`,
    ]);
  }
  const files = readdirSync(dir).filter((name) => name.endsWith(".cfg.lua")).sort();
  for (const name of files) {
    const path = join(dir, name);
    const access = isReadableBy(path, reader);
    if (!access.readable) {
      const why = access.fileProblem === undefined ? access.reason : `it ${access.fileProblem}`;
      problems.push(`${path} cannot be read by Prosody: ${why}. Accepted: a file Prosody (uid ${reader.uid}) can read, e.g. chmod 0644.`);
      continue;
    }
    const parsed = spawnSync(luac, ["-p", path], { encoding: "utf8" });
    if (parsed.status !== 0) {
      problems.push(`${path} is not valid Lua: ${(parsed.stderr || parsed.error?.message || "").trim().replace(/^luac[\d.]*: /, "")}. Accepted: Prosody configuration lines (Lua), see https://prosody.im/doc/configure.`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return files.length === 0 ? "none" : files.join(", ");
}
