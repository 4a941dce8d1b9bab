import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, symlinkSync, truncateSync } from "node:fs";
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

  it("reads a file bigger than its first read buffer whole, and one whose size stat does not tell (/proc)", () => {
    const big = Buffer.from(Array.from({ length: 100_000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join(""));
    writeFile(join(temp.dir(), "big"), big.toString());
    expect(readRegularFile(join(temp.dir(), "big")).equals(big)).toBe(true);
    // A Node process's smaps runs to 50 KiB or more, over the 8 KiB first read; its last mapping is
    // the vsyscall page.
    const smaps = readRegularFile("/proc/self/smaps").toString();
    expect(smaps.length).toBeGreaterThan(16 * 1024);
    expect(smaps.split("\n")[0]).toBe(readFileSync("/proc/self/smaps", "utf8").split("\n")[0]);
    expect(smaps.slice(smaps.lastIndexOf("\n", smaps.lastIndexOf("[vsyscall]")))).toMatch(/^\n[0-9a-f]+-[0-9a-f]+ .*\[vsyscall\]\n(?:[A-Za-z_]+:.*\n)+$/);
  });

  it("refuses a file that turns out bigger than the cap while it is read (size 0 in stat, as in /proc)", () => {
    expect(() => readRegularFile("/proc/self/maps", { maxBytes: 100 })).toThrow("larger than 100 bytes (it grew while read)");
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
