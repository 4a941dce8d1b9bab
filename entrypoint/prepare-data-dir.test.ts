import * as fs from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { makeTempDir, writeFile } from "../test-support/file-fixtures.js";
import { PROSODY_USER } from "./paths.js";
import { prepareDataDir } from "./prepare-data-dir.js";

/** Called with each path the code under test lstat()s: lets a test act between the check and the change. */
let afterLstat: (path: string) => void = () => {};
vi.mock("node:fs", async (importOriginal) => {
  const original = await importOriginal<typeof import("node:fs")>();
  return {
    ...original,
    lstatSync: ((path: fs.PathLike, options?: fs.StatSyncOptions) => {
      const stats = original.lstatSync(path, options);
      afterLstat(String(path));
      return stats;
    }) as typeof original.lstatSync,
  };
});

let cleanups: (() => void)[] = [];
beforeEach(() => {
  vi.spyOn(process.stderr, "write").mockImplementation(() => true);
});
afterEach(() => {
  afterLstat = () => {};
  for (const cleanup of cleanups.splice(0)) cleanup();
});

describe("prepareDataDir", () => {
  it("should give the whole tree to prosody when it belonged to someone else", () => {
    const data = makeTempDir(cleanups);
    fs.mkdirSync(join(data, "example%2eorg"));
    writeFile(join(data, "example%2eorg", "accounts.dat"), "x");
    fs.chownSync(data, 4242, 4242);
    prepareDataDir(data);
    expect(fs.lstatSync(join(data, "example%2eorg", "accounts.dat"))).toMatchObject({ uid: PROSODY_USER.uid, gid: PROSODY_USER.gid });
  });

  it("should not follow a directory swapped for a link between its check and its takeover", () => {
    const data = makeTempDir(cleanups);
    const victim = makeTempDir(cleanups);
    writeFile(join(victim, "shadow"), "x");
    fs.chownSync(join(victim, "shadow"), 4242, 4242);
    const swapped = join(data, "sub");
    fs.mkdirSync(swapped);
    fs.chownSync(data, 4242, 4242);
    afterLstat = (path) => {
      if (path !== swapped) return;
      afterLstat = () => {};
      fs.rmSync(swapped, { recursive: true });
      fs.symlinkSync(victim, swapped);
    };

    prepareDataDir(data);

    expect(fs.lstatSync(join(victim, "shadow"))).toMatchObject({ uid: 4242, gid: 4242 });
    expect(fs.lstatSync(victim).uid).not.toBe(PROSODY_USER.uid);
  });
});
