import { chownSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { PATHS, PROSODY_USER } from "../paths.js";
import type { RenderedConfig } from "./render-config.js";

/** Writes one file so that a reader sees the old or the new content, never half of one. */
export function writeFileAtomic(path: string, content: string, mode: number, gid: number): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, content, { mode });
  chownSync(temporary, 0, gid);
  renameSync(temporary, path);
}

/** Writes the generated parts that the static /etc/prosody/prosody.cfg.lua includes. */
export function writeConfig(config: RenderedConfig, paths = PATHS): void {
  mkdirSync(paths.generatedDir, { recursive: true, mode: 0o750 });
  chownSync(paths.generatedDir, 0, PROSODY_USER.gid);
  writeFileAtomic(paths.generatedGlobal, config.global, 0o640, PROSODY_USER.gid);
  writeFileAtomic(paths.generatedHosts, config.hosts, 0o640, PROSODY_USER.gid);
}
