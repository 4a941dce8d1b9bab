import { mkdirSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../errors.js";
import { PATHS, PROSODY_USER } from "../paths.js";
import { describeNonRoot, ownPathForReading, runsAsRoot } from "../identity.js";
import { CERTIFICATE_LINKS_DIR, type RenderedConfig } from "./render-config.js";

/** Writes one file so that a reader sees the old or the new content, never half of one. */
export function writeFileAtomic(path: string, content: string, mode: number, gid: number): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, content, { mode });
  ownPathForReading(temporary, gid);
  renameSync(temporary, path);
}

function linkAtomic(target: string, path: string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  rmSync(temporary, { force: true });
  symlinkSync(target, temporary);
  renameSync(temporary, path);
}

/** `<name>.crt`/`.key` links to the files each name serves; links for other names go. */
function writeCertificateLinks(links: RenderedConfig["certificateLinks"], dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o750 });
  ownPathForReading(dir);
  const wanted = new Set<string>();
  for (const link of links) {
    linkAtomic(link.certPath, join(dir, `${link.name}.crt`));
    linkAtomic(link.keyPath, join(dir, `${link.name}.key`));
    wanted.add(`${link.name}.crt`).add(`${link.name}.key`);
  }
  for (const entry of readdirSync(dir)) if (!wanted.has(entry)) rmSync(join(dir, entry), { force: true });
}

/** Writes the generated parts that the static /etc/prosody/prosody.cfg.lua includes. */
export function writeConfig(config: RenderedConfig, paths = PATHS): void {
  try {
    mkdirSync(paths.generatedDir, { recursive: true, mode: 0o750 });
    ownPathForReading(paths.generatedDir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EACCES" && !runsAsRoot()) {
      throw new ConfigError([
        `${paths.generatedDir} cannot be created by ${describeNonRoot()}: the generated Prosody configuration is written there. Accepted: a tmpfs at /run that this uid owns, e.g. --tmpfs /run:uid=${PROSODY_USER.uid},gid=${PROSODY_USER.gid} (compose: tmpfs: ["/run:uid=${PROSODY_USER.uid},gid=${PROSODY_USER.gid}"]), or running as root (no --user).`,
      ]);
    }
    if (code !== "EROFS") throw error;
    throw new ConfigError([
      `${paths.generatedDir} is on a read-only file system (docker run --read-only): the generated Prosody configuration is written there. Accepted: a writable tmpfs at /run, e.g. --tmpfs /run (compose: tmpfs: [/run]).`,
    ]);
  }
  writeFileAtomic(paths.generatedGlobal, config.global, 0o640, PROSODY_USER.gid);
  writeFileAtomic(paths.generatedHosts, config.hosts, 0o640, PROSODY_USER.gid);
  writeCertificateLinks(config.certificateLinks, CERTIFICATE_LINKS_DIR);
}
