import * as fs from "node:fs";
import { lstatSync, mkdirSync, readFileSync, renameSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { makeTempDir, writeFile } from "../../test-support/file-fixtures.js";
import { PROSODY_USER } from "../paths.js";
import type { CheckedCertificate } from "./check-certificate.js";
import { chooseCertificate } from "./find-certificates.js";
import { generateRsaKeyPem } from "./issue-certificate.js";
import { grantKeyAccess, privateCopy } from "./key-access.js";
import { writeCertbotLineage } from "../../test-support/certbot-tree.js";
import { issueLeaf } from "../../test-support/test-ca.js";
import { writeSecretVolume } from "../../test-support/secret-volume.js";

/** Called with each path the code under test lstat()s or opens: lets a test act between a check and a change. */
let afterCheck: (path: string) => void = () => {};
vi.mock("node:fs", async (importOriginal) => {
  const original = await importOriginal<typeof import("node:fs")>();
  const hooked = <F extends (path: never, ...rest: never[]) => unknown>(f: F) =>
    ((path: fs.PathLike, ...rest: unknown[]) => {
      const result = (f as unknown as (...args: unknown[]) => unknown)(path, ...rest);
      afterCheck(String(path));
      return result;
    }) as unknown as F;
  return { ...original, lstatSync: hooked(original.lstatSync), openSync: hooked(original.openSync) };
});

let cleanups: (() => void)[] = [];
let certsDir: string;
let base: string;
let cert: CheckedCertificate;

beforeEach(() => {
  certsDir = makeTempDir(cleanups);
  base = makeTempDir(cleanups);
  writeFile(join(certsDir, "example.org.crt"), "CERT");
  writeFile(join(certsDir, "example.org.key"), "KEY", 0o600);
  cert = {
    realCertPath: join(certsDir, "example.org.crt"),
    realKeyPath: join(certsDir, "example.org.key"),
    fingerprint256: "AB:CD:EF:01:23:45:67:89:AB:CD",
  } as CheckedCertificate;
});
afterEach(() => {
  afterCheck = () => {};
  for (const cleanup of cleanups.splice(0)) cleanup();
});

const modeOf = (path: string) => (lstatSync(path).mode & 0o7777).toString(8);

describe("privateCopy", () => {
  it("should copy the pair into a fresh directory root:prosody 0750, key 0640", () => {
    const files = privateCopy(certsDir, "example.org", cert, join(base, "keys"));
    expect(readFileSync(files.keyPath, "utf8")).toBe("KEY");
    expect([modeOf(join(base, "keys")), modeOf(files.keyPath), modeOf(files.certPath)]).toEqual(["750", "640", "644"]);
    expect(lstatSync(files.keyPath)).toMatchObject({ uid: 0, gid: PROSODY_USER.gid });
  });

  it("should replace a link planted at the copy directory, never chown or write through it", () => {
    const victim = makeTempDir(cleanups);
    const before = statSync(victim);
    symlinkSync(victim, join(base, "keys"));

    const files = privateCopy(certsDir, "example.org", cert, join(base, "keys"));

    expect(lstatSync(join(base, "keys")).isDirectory()).toBe(true);
    expect(statSync(victim)).toMatchObject({ uid: before.uid, gid: before.gid, mode: before.mode });
    expect(files.keyPath.startsWith(join(base, "keys") + "/")).toBe(true);
  });

  it("should not write a key copy through a link planted at its name", () => {
    const victim = writeFile(join(makeTempDir(cleanups), "victim"), "untouched");
    mkdirSync(join(base, "keys"));
    symlinkSync(victim, join(base, "keys", "example.org-ABCDEF0123456789.key"));

    privateCopy(certsDir, "example.org", cert, join(base, "keys"));

    expect(readFileSync(victim, "utf8")).toBe("untouched");
  });

  it("should refuse to copy a key that links out of the certificate directory", () => {
    const outside = writeFile(join(makeTempDir(cleanups), "key"), "OUTSIDE", 0o600);
    expect(() => privateCopy(certsDir, "example.org", { ...cert, realKeyPath: outside }, join(base, "keys"))).toThrow(
      `a link out of ${certsDir}`,
    );
  });
});

describe("grantKeyAccess on a writable mount with certbot's root-only defaults", () => {
  function certbotDefaults() {
    const pair = issueLeaf({ names: ["example.org"], keyPem: generateRsaKeyPem() });
    writeCertbotLineage(certsDir, "example.org", pair);
    const chosen = chooseCertificate(certsDir, "example.org", { reader: { uid: 0, gids: [0] } }).chosen!;
    return { chosen, before: snapshot() };
  }
  const snapshot = () =>
    ["live", "archive", "archive/example.org/privkey1.pem"].map((path) => {
      const stats = lstatSync(join(certsDir, path));
      return `${path} ${(stats.mode & 0o7777).toString(8)} ${stats.gid}`;
    });

  it("should change nothing on the mount when XMPP_CERTS_GID is auto, serving a private copy", () => {
    const { chosen, before } = certbotDefaults();
    const access = grantKeyAccess(certsDir, "example.org", chosen, 990, { groupFix: false, copyDir: join(base, "keys") });
    expect(access.how).toBe("private-copy");
    expect(snapshot()).toEqual(before);
  });

  it("should apply certbot's group fix when XMPP_CERTS_GID names the group", () => {
    const { chosen } = certbotDefaults();
    const access = grantKeyAccess(certsDir, "example.org", chosen, 990, { groupFix: true, copyDir: join(base, "keys") });
    expect(access.how).toBe("group-fix");
    expect(snapshot()).toEqual(["live 750 990", "archive 750 990", "archive/example.org/privkey1.pem 640 990"]);
  });

  it("should not follow a directory swapped for a link between its check and the group fix", () => {
    const { chosen } = certbotDefaults();
    const victim = makeTempDir(cleanups);
    const before = statSync(victim);
    const swapped = join(certsDir, "live");
    afterCheck = (path) => {
      if (path !== swapped) return;
      afterCheck = () => {};
      renameSync(swapped, `${swapped}.moved`);
      symlinkSync(victim, swapped);
    };

    grantKeyAccess(certsDir, "example.org", chosen, 990, { groupFix: true, copyDir: join(base, "keys") });

    expect(statSync(victim)).toMatchObject({ gid: before.gid, mode: before.mode });
  });
});

describe("grantKeyAccess on a Kubernetes Secret volume", () => {
  it("should serve a private copy even where Prosody could read the Secret in place, which kubelet deletes on its next update", () => {
    const keyPem = generateRsaKeyPem();
    const pair = issueLeaf({ names: ["example.org"], keyPem });
    writeSecretVolume(certsDir, { "tls.crt": pair.fullchainPem, "tls.key": keyPem }, { mode: 0o444 });
    const chosen = chooseCertificate(certsDir, "example.org", { reader: { uid: 0, gids: [0] } }).chosen!;

    const access = grantKeyAccess(certsDir, "example.org", chosen, 990, { groupFix: false, copyDir: join(base, "keys") });
    writeSecretVolume(certsDir, { "tls.crt": "RENEWED", "tls.key": "RENEWED" }, { mode: 0o444 });

    expect(access.how).toBe("private-copy");
    expect(readFileSync(access.files.keyPath, "utf8")).toBe(keyPem);
  });
});
