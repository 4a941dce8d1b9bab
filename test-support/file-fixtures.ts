import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach } from "vitest";

/* Files and users for unit tests that read certificates from disk. */

export const DAY_MS = 86_400_000;

/** Who runs the tests; files the tests create belong to this uid and gid. */
export const testUser = { uid: process.getuid!(), gid: process.getgid!() };
/** A reader that is neither the files' owner nor in their group. */
export const stranger = { uid: 4242, gids: [4243] };

/** A world-searchable temporary directory (mkdtemp makes 0700), removed by one of `cleanups`. */
export function makeTempDir(cleanups: (() => void)[]): string {
  const dir = mkdtempSync(join(tmpdir(), "certificates-test-"));
  chmodSync(dir, 0o755);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function writeFile(path: string, contents: string | Buffer, mode = 0o644): string {
  writeFileSync(path, contents);
  chmodSync(path, mode);
  return path;
}

/**
 * A fresh world-searchable temporary directory for each test of the file, removed after it;
 * `cleanups` takes more. Call at the top level of a test file.
 */
export function tempDirPerTest(): { dir(): string; cleanups: (() => void)[] } {
  const cleanups: (() => void)[] = [];
  let current: string | undefined;
  beforeEach(() => {
    current = makeTempDir(cleanups);
  });
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });
  return {
    dir: () => current ?? (() => { throw new Error("tempDirPerTest: no test is running"); })(),
    cleanups,
  };
}
