import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeTempDir, writeFile } from "../test-support/file-fixtures.js";
import { readRegularFile } from "./read-regular-file.js";

let cleanups: (() => void)[] = [];
let dir: string;
beforeEach(() => {
  dir = makeTempDir(cleanups);
});
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

describe("readRegularFile", () => {
  it("reads a regular file, and a link that stays inside `within` (certbot's live/ -> ../../archive/)", () => {
    mkdirSync(join(dir, "archive"));
    mkdirSync(join(dir, "live"));
    writeFile(join(dir, "archive", "cert1.pem"), "pem");
    symlinkSync("../archive/cert1.pem", join(dir, "live", "cert.pem"));
    expect(readRegularFile(join(dir, "live", "cert.pem"), { within: dir }).toString()).toBe("pem");
  });

  it("refuses a FIFO at once instead of waiting for a writer", () => {
    execFileSync("mkfifo", [join(dir, "fifo")]);
    expect(() => readRegularFile(join(dir, "fifo"))).toThrow("not a regular file: a FIFO");
  });

  it("refuses a device such as /dev/zero", () => {
    expect(() => readRegularFile("/dev/zero")).toThrow("not a regular file: a character device");
  });

  it("refuses a link out of `within`", () => {
    symlinkSync("/etc/hostname", join(dir, "link"));
    expect(() => readRegularFile(join(dir, "link"), { within: dir })).toThrow(`a link out of ${dir} (to /etc/hostname)`);
  });

  it("refuses a file over the size cap before reading it", () => {
    writeFile(join(dir, "sparse"), "");
    truncateSync(join(dir, "sparse"), 1024 * 1024 + 1);
    expect(() => readRegularFile(join(dir, "sparse"))).toThrow("larger than 1 MiB (1048577 bytes)");
  });
});
