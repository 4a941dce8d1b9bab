import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDirPerTest, writeFile } from "../test-support/file-fixtures.js";
import { readRegularFile } from "./read-regular-file.js";

const temp = tempDirPerTest();

describe("readRegularFile", () => {
  it("reads a regular file, and a link that stays inside `within` (certbot's live/ -> ../../archive/)", () => {
    mkdirSync(join(temp.dir(), "archive"));
    mkdirSync(join(temp.dir(), "live"));
    writeFile(join(temp.dir(), "archive", "cert1.pem"), "pem");
    symlinkSync("../archive/cert1.pem", join(temp.dir(), "live", "cert.pem"));
    expect(readRegularFile(join(temp.dir(), "live", "cert.pem"), { within: temp.dir() }).toString()).toBe("pem");
  });

  it("refuses a FIFO at once instead of waiting for a writer", () => {
    execFileSync("mkfifo", [join(temp.dir(), "fifo")]);
    expect(() => readRegularFile(join(temp.dir(), "fifo"))).toThrow("not a regular file: a FIFO");
  });

  it("refuses a device such as /dev/zero", () => {
    expect(() => readRegularFile("/dev/zero")).toThrow("not a regular file: a character device");
  });

  it("refuses a link out of `within`", () => {
    symlinkSync("/etc/hostname", join(temp.dir(), "link"));
    expect(() => readRegularFile(join(temp.dir(), "link"), { within: temp.dir() })).toThrow(`a link out of ${temp.dir()} (to /etc/hostname)`);
  });

  it("refuses a file over the size cap before reading it", () => {
    writeFile(join(temp.dir(), "sparse"), "");
    truncateSync(join(temp.dir(), "sparse"), 1024 * 1024 + 1);
    expect(() => readRegularFile(join(temp.dir(), "sparse"))).toThrow("larger than 1 MiB (1048577 bytes)");
  });
});
