import { chmodSync, chownSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isReadableBy } from "./readable-by.js";
import { writeCertbotLineage } from "../../test-support/certbot-tree.js";
import { makeTempDir, stranger, testUser, writeFile } from "../../test-support/file-fixtures.js";

let cleanups: (() => void)[] = [];
let dir: string;

beforeEach(() => {
  dir = makeTempDir(cleanups);
});
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

const pair = { fullchainPem: "cert\n", keyPem: "key\n" };
const sameGroup = { uid: stranger.uid, gids: [testUser.gid] };

describe("isReadableBy", () => {
  it("lets uid 0 read a 0600 file in a 0700 directory", () => {
    mkdirSync(join(dir, "private"), { mode: 0o700 });
    const file = writeFile(join(dir, "private", "key.pem"), "secret", 0o600);

    expect(isReadableBy(file, { uid: 0, gids: [] })).toEqual({ readable: true });
  });

  it("lets anyone read a 0644 file in world-searchable directories", () => {
    const file = writeFile(join(dir, "cert.pem"), "public", 0o644);

    expect(isReadableBy(file, stranger)).toEqual({ readable: true });
  });

  it("refuses a 0600 file to others, naming the file, its mode and owner", () => {
    const file = writeFile(join(dir, "key.pem"), "secret", 0o600);

    const result = isReadableBy(file, stranger);

    expect(result.readable).toBe(false);
    expect(!result.readable && result.reason).toMatch(new RegExp(`^${file} is 0600 \\S+:\\S+, not readable by uid 4242`));
  });

  it("grants a 0640 file to a reader holding the file's group, among others", () => {
    const file = writeFile(join(dir, "key.pem"), "secret", 0o640);

    expect(isReadableBy(file, { uid: stranger.uid, gids: [9999, testUser.gid] })).toEqual({ readable: true });
    expect(isReadableBy(file, stranger).readable).toBe(false);
  });

  it("requires search permission on every ancestor directory", () => {
    mkdirSync(join(dir, "a", "b"), { recursive: true });
    const file = writeFile(join(dir, "a", "b", "cert.pem"), "public", 0o644);
    chmodSync(join(dir, "a"), 0o744); // readable but not searchable by others

    const result = isReadableBy(file, stranger);

    expect(result).toEqual({
      readable: false,
      reason: expect.stringMatching(new RegExp(`^${join(dir, "a")} is 0744 `)),
    });
  });

  it("follows certbot's relative symlinks and blames archive/ when only it is closed", () => {
    const { keyPath } = writeCertbotLineage(dir, "example.org", pair);
    chmodSync(join(dir, "live"), 0o750);
    chmodSync(join(dir, "archive", "example.org", "privkey1.pem"), 0o640);

    const result = isReadableBy(keyPath, sameGroup);

    expect(result).toEqual({
      readable: false,
      reason: expect.stringMatching(new RegExp(`^${join(dir, "archive")} is 0700 \\S+:\\S+, not searchable by`)),
    });
  });

  it("blames live/ when the link's own directory is closed even though archive/ is open", () => {
    const { keyPath } = writeCertbotLineage(dir, "example.org", pair);
    chmodSync(join(dir, "archive"), 0o750);
    chmodSync(join(dir, "archive", "example.org", "privkey1.pem"), 0o640);

    const result = isReadableBy(keyPath, sameGroup);

    expect(!result.readable && result.reason).toMatch(new RegExp(`^${join(dir, "live")} is 0700 `));
  });

  it("accepts certbot's documented group setup and names the real file when the key is closed", () => {
    const { keyPath } = writeCertbotLineage(dir, "example.org", pair);
    chmodSync(join(dir, "live"), 0o750);
    chmodSync(join(dir, "archive"), 0o750);

    const closed = isReadableBy(keyPath, sameGroup);
    expect(!closed.readable && closed.reason).toMatch(
      new RegExp(`^${join(dir, "archive", "example.org", "privkey1.pem")} is 0600 `),
    );

    chmodSync(join(dir, "archive", "example.org", "privkey1.pem"), 0o640);
    expect(isReadableBy(keyPath, sameGroup)).toEqual({ readable: true });
  });

  it("reports a dangling symlink with its target", () => {
    const link = join(dir, "fullchain.pem");
    symlinkSync("../../archive/example.org/fullchain3.pem", link);

    expect(isReadableBy(link, { uid: 0, gids: [] })).toEqual({
      readable: false,
      reason: `${link} is a dangling symlink to ../../archive/example.org/fullchain3.pem`,
      fileProblem: "is a dangling symlink to ../../archive/example.org/fullchain3.pem",
    });
  });

  it("reports a missing file, a directory and a file used as a directory", () => {
    writeFile(join(dir, "plain"), "x");

    expect(isReadableBy(join(dir, "missing.pem"), stranger)).toEqual({
      readable: false,
      reason: `${join(dir, "missing.pem")} does not exist`,
      fileProblem: "does not exist",
    });
    expect(isReadableBy(dir, { uid: 0, gids: [] })).toEqual({
      readable: false,
      reason: `${dir} is a directory, not a regular file`,
      fileProblem: "is a directory, not a regular file",
    });
    expect(isReadableBy(join(dir, "plain", "key.pem"), stranger)).toEqual({
      readable: false,
      reason: `${join(dir, "plain")} is not a directory`,
    });
  });

  it("resolves a relative path against the working directory", () => {
    const file = writeFile(join(dir, "key.pem"), "secret", 0o600);
    const relative = join("..", ...Array(20).fill(".."), file);

    const result = isReadableBy(relative, stranger);

    expect(!result.readable && result.reason).toMatch(new RegExp(`^${file} is 0600`));
  });

  it("uses only the owner bits when the reader owns the file (needs root, as in CI)", () => {
    const file = writeFile(join(dir, "key.pem"), "secret", 0o044);
    chownSync(file, stranger.uid, stranger.gids[0]!);

    const result = isReadableBy(file, stranger);

    expect(result).toEqual({
      readable: false,
      reason: `${file} is 0044 4242:4243, not readable by uid 4242, gids 4243`,
      fileProblem: "is 0044 4242:4243, not readable by uid 4242, gids 4243",
    });
  });

  it("names owner and group from the user database (needs root, as in CI)", () => {
    const file = writeFile(join(dir, "key.pem"), "secret", 0o600);
    chownSync(file, 0, 0);

    const result = isReadableBy(file, stranger);

    expect(!result.readable && result.reason).toContain(`${file} is 0600 root:root`);
  });
});

describe("isReadableBy's fileProblem", () => {
  it("is the reason without the path, when it is about the file as given or behind its link, for a message that names it already", () => {
    const file = writeFile(join(dir, "key1.pem"), "secret", 0o600);
    symlinkSync("key1.pem", join(dir, "key.pem"));

    const direct = isReadableBy(file, stranger);
    expect(!direct.readable && direct.fileProblem).toMatch(/^is 0600 \S+:\S+, not readable by uid 4242/);
    const linked = isReadableBy(join(dir, "key.pem"), stranger);
    expect(!linked.readable && [linked.reason, linked.fileProblem]).toEqual([`${file} ${!direct.readable && direct.fileProblem}`, !direct.readable && direct.fileProblem]);
    const missing = isReadableBy(join(dir, "gone.pem"), stranger);
    expect(!missing.readable && missing.fileProblem).toBe("does not exist");
  });

  it("is absent when the reason is about a directory on the way", () => {
    mkdirSync(join(dir, "private"), { mode: 0o700 });
    const file = writeFile(join(dir, "private", "key.pem"), "secret", 0o644);

    const result = isReadableBy(file, stranger);
    expect(!result.readable && result.reason).toMatch(new RegExp(`^${join(dir, "private")} is 0700 `));
    expect(!result.readable && result.fileProblem).toBeUndefined();
  });
});
