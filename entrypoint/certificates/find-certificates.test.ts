import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, rmSync, symlinkSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { loadCertificatePair } from "./check-certificate.js";
import { chooseCertificate, chooseCertificates, findCertificateCandidates, type CertificateChoice } from "./find-certificates.js";
import { generateRsaKeyPem } from "./issue-certificate.js";
import { writeCertbotLineage } from "../../test-support/certbot-tree.js";
import { writeSecretVolume } from "../../test-support/secret-volume.js";
import { DAY_MS, makeTempDir, stranger, testUser, writeFile } from "../../test-support/file-fixtures.js";
import { issueLeaf } from "../../test-support/test-ca.js";

// A pass-through spy: counts how often a pair is read and parsed.
vi.mock("./check-certificate.js", async (importOriginal) => {
  const original = await importOriginal<typeof import("./check-certificate.js")>();
  return { ...original, loadCertificatePair: vi.fn(original.loadCertificatePair) };
});

let cleanups: (() => void)[] = [];
let dir: string;

beforeEach(() => {
  dir = makeTempDir(cleanups);
  vi.mocked(loadCertificatePair).mockClear();
});
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

const root = { uid: 0, gids: [] };
const keyPem = generateRsaKeyPem();
const now = new Date();
const daysFromNow = (days: number) => new Date(now.getTime() + days * DAY_MS);

describe("findCertificateCandidates", () => {
  function certbotTree() {
    writeCertbotLineage(dir, "example.org", issueLeaf({ names: ["example.org"], keyPem }));
    writeCertbotLineage(dir, "example.net", issueLeaf({ names: ["example.net"], keyPem }));
    mkdirSync(join(dir, "live", "broken"));
    symlinkSync("../../archive/broken/fullchain1.pem", join(dir, "live", "broken", "fullchain.pem"));
    symlinkSync("../../archive/broken/privkey1.pem", join(dir, "live", "broken", "privkey.pem"));
  }

  const certbotCandidates = () => [
    {
      certPath: join(dir, "live", "example.net", "fullchain.pem"),
      keyPath: join(dir, "live", "example.net", "privkey.pem"),
      lineage: "example.net",
      layout: "certbot",
    },
    {
      certPath: join(dir, "live", "example.org", "fullchain.pem"),
      keyPath: join(dir, "live", "example.org", "privkey.pem"),
      lineage: "example.org",
      layout: "certbot",
    },
  ];

  it("lists certbot lineages from the letsencrypt root, reporting README and dangling links", () => {
    certbotTree();

    const search = findCertificateCandidates(dir);

    expect(search.candidates).toEqual(certbotCandidates());
    expect(search.skipped).toEqual([
      {
        path: join(dir, "live", "README"),
        reason: "is not a certificate lineage directory",
        kind: "ignored",
      },
      {
        path: join(dir, "live", "broken", "fullchain.pem"),
        reason: expect.stringMatching(
          /^is a dangling symlink to \.\.\/\.\.\/archive\/broken\/fullchain1\.pem \(mount the whole \/etc\/letsencrypt/,
        ),
        kind: "unusable",
      },
    ]);
  });

  it("finds the same lineages from live/ itself", () => {
    certbotTree();

    expect(findCertificateCandidates(join(dir, "live")).candidates).toEqual(certbotCandidates());
  });

  it("takes a single lineage directory as one candidate", () => {
    certbotTree();

    expect(findCertificateCandidates(join(dir, "live", "example.org")).candidates).toEqual([certbotCandidates()[1]]);
  });

  it("lists plain directories and .crt/.key and .pem/.key pairs", () => {
    const leaf = issueLeaf({ names: ["example.org"], keyPem });
    mkdirSync(join(dir, "example.org"));
    writeFile(join(dir, "example.org", "fullchain.pem"), leaf.fullchainPem);
    writeFile(join(dir, "example.org", "privkey.pem"), keyPem, 0o600);
    writeFile(join(dir, "chat.example.org.crt"), leaf.fullchainPem);
    writeFile(join(dir, "chat.example.org.key"), keyPem, 0o600);
    writeFile(join(dir, "upload.pem"), leaf.fullchainPem);
    writeFile(join(dir, "upload.key"), keyPem, 0o600);
    writeFile(join(dir, "chain.pem"), leaf.fullchainPem); // no key: a bundle, not a candidate
    writeFile(join(dir, "README"), "hello");
    mkdirSync(join(dir, "empty"));
    symlinkSync("gone.crt", join(dir, "gone.crt"));

    const search = findCertificateCandidates(dir);

    expect(search.candidates).toEqual([
      {
        certPath: join(dir, "chat.example.org.crt"),
        keyPath: join(dir, "chat.example.org.key"),
        lineage: "chat.example.org",
        layout: "plain-files",
      },
      {
        certPath: join(dir, "example.org", "fullchain.pem"),
        keyPath: join(dir, "example.org", "privkey.pem"),
        lineage: "example.org",
        layout: "plain-directory",
      },
      { certPath: join(dir, "upload.pem"), keyPath: join(dir, "upload.key"), lineage: "upload", layout: "plain-files" },
    ]);
    expect(search.skipped).toEqual([
      { path: join(dir, "README"), reason: "is not a certificate (.crt, or .pem beside a .key)", kind: "ignored" },
      { path: join(dir, "empty"), reason: "has no fullchain.pem or tls.crt", kind: "ignored" },
      { path: join(dir, "gone.crt"), reason: expect.stringContaining("cannot be opened (ELOOP"), kind: "unusable" },
    ]);
  });

  it("takes a Kubernetes TLS Secret mounted at the directory itself, or one per subdirectory", () => {
    const leaf = issueLeaf({ names: ["example.org"], keyPem });
    mkdirSync(join(dir, "example.org"));
    writeSecretVolume(join(dir, "example.org"), { "tls.crt": leaf.fullchainPem, "tls.key": keyPem, "ca.crt": "" });

    const secret = {
      certPath: join(dir, "example.org", "tls.crt"),
      keyPath: join(dir, "example.org", "tls.key"),
      lineage: "example.org",
      layout: "kubernetes-tls",
    };
    expect(findCertificateCandidates(dir)).toEqual({ candidates: [secret], skipped: [] });
    expect(findCertificateCandidates(join(dir, "example.org"))).toEqual({ candidates: [secret], skipped: [] });
  });

  it("reports a missing directory instead of throwing", () => {
    const search = findCertificateCandidates(join(dir, "nothing-here"));

    expect(search).toEqual({
      candidates: [],
      skipped: [{ path: join(dir, "nothing-here"), reason: expect.stringContaining("ENOENT"), kind: "unusable" }],
    });
  });
});

describe("chooseCertificate", () => {
  it("picks the newest valid certificate covering the name and explains the rejects", () => {
    const older = issueLeaf({ names: ["example.org"], keyPem, notBefore: daysFromNow(-60), notAfter: daysFromNow(30) });
    const newer = issueLeaf({ names: ["example.org"], keyPem, notBefore: daysFromNow(-1), notAfter: daysFromNow(89) });
    const expired = issueLeaf({ names: ["example.org"], keyPem, notBefore: daysFromNow(-100), notAfter: daysFromNow(-10) });
    const otherDomain = issueLeaf({ names: ["example.net"], keyPem });
    const olderFiles = writeCertbotLineage(dir, "a-older", older);
    const newerFiles = writeCertbotLineage(dir, "b-newer", newer);
    const expiredFiles = writeCertbotLineage(dir, "c-expired", expired);
    writeCertbotLineage(dir, "d-other", otherDomain);
    const mismatched = writeCertbotLineage(dir, "e-mismatched", { fullchainPem: newer.fullchainPem, keyPem: generateRsaKeyPem() });

    const choice = chooseCertificate(dir, "example.org", { reader: root, now });

    expect(choice.chosen).toMatchObject({ certPath: newerFiles.certPath, serial: newer.serial });
    expect(choice.rejected).toEqual([
      { certPath: expiredFiles.certPath, reason: expect.stringMatching(/: expired on /) },
      { certPath: mismatched.certPath, reason: `${mismatched.keyPath} (${join(dir, "archive", "e-mismatched", "privkey1.pem")}): does not match the certificate (mid-renewal, or from another lineage?)` },
    ]);
    expect(olderFiles.certPath).not.toBe(choice.chosen?.certPath);
  });

  it("breaks a notBefore tie by the later notAfter", () => {
    const notBefore = daysFromNow(-1);
    const shorter = issueLeaf({ names: ["example.org"], keyPem, notBefore, notAfter: daysFromNow(30) });
    const longer = issueLeaf({ names: ["example.org"], keyPem, notBefore, notAfter: daysFromNow(60) });
    writeCertbotLineage(dir, "b-shorter", shorter);
    writeCertbotLineage(dir, "a-longer", longer);

    expect(chooseCertificate(dir, "example.org", { reader: root, now }).chosen?.serial).toBe(longer.serial);
  });

  it("uses a wildcard certificate for a subdomain", () => {
    const wildcard = issueLeaf({ names: ["example.org", "*.example.org"], keyPem });
    writeCertbotLineage(dir, "example.org", wildcard);

    expect(chooseCertificate(dir, "conference.example.org", { reader: root, now }).chosen?.serial).toBe(wildcard.serial);
    expect(chooseCertificate(dir, "a.b.example.org", { reader: root, now })).toEqual({ rejected: [] });
  });

  it("rejects a certificate Prosody cannot read and offers dangling links as possible causes", () => {
    const files = writeCertbotLineage(dir, "example.org", issueLeaf({ names: ["example.org"], keyPem }));
    mkdirSync(join(dir, "live", "broken"));
    symlinkSync("../../archive/broken/fullchain1.pem", join(dir, "live", "broken", "fullchain.pem"));
    const reader = { uid: stranger.uid, gids: [testUser.gid] };

    const closed = chooseCertificate(dir, "example.org", { reader, now });

    expect(closed.chosen).toBeUndefined();
    expect(closed.rejected).toEqual([
      { certPath: join(dir, "live", "broken", "fullchain.pem"), reason: expect.stringContaining("dangling symlink") },
      { certPath: files.certPath, reason: expect.stringMatching(new RegExp(`^${files.certPath} \\(${join(dir, "archive", "example.org", "fullchain1.pem")}\\): ${join(dir, "live")} is 0700 `)) },
    ]);

    chmodSync(join(dir, "live"), 0o750);
    chmodSync(join(dir, "archive"), 0o750);
    chmodSync(join(dir, "archive", "example.org", "privkey1.pem"), 0o640);
    expect(chooseCertificate(dir, "example.org", { reader, now }).chosen?.certPath).toBe(files.certPath);
  });

  it("rejects an unparsable certificate for every name, since it might have covered any", () => {
    mkdirSync(join(dir, "broken"));
    writeFile(join(dir, "broken", "fullchain.pem"), "-----BEGIN CERTIFICATE-----\nMIIB");
    writeFile(join(dir, "broken", "privkey.pem"), keyPem, 0o600);

    const choices = chooseCertificates(dir, ["example.org", "example.net"], { reader: root, now });

    for (const name of ["example.org", "example.net"]) {
      expect(choices.get(name)).toEqual({
        rejected: [
          {
            certPath: join(dir, "broken", "fullchain.pem"),
            reason: `${join(dir, "broken", "fullchain.pem")}: is truncated: certificate 1 has no END line`,
          },
        ],
      });
    }
  });
});

describe("chooseCertificate in a Kubernetes Secret volume", () => {
  it("follows kubelet's links inside the mount, and after an atomic update chooses the new pair", () => {
    const first = issueLeaf({ names: ["example.org"], keyPem });
    const firstVersion = writeSecretVolume(dir, { "tls.crt": first.fullchainPem, "tls.key": keyPem });
    const before = chooseCertificate(dir, "example.org", { reader: root, now }).chosen;
    expect(before).toMatchObject({ certPath: join(dir, "tls.crt"), realCertPath: join(dir, firstVersion, "tls.crt"), serial: first.serial });

    const renewedKey = generateRsaKeyPem();
    const renewed = issueLeaf({ names: ["example.org"], keyPem: renewedKey });
    const secondVersion = writeSecretVolume(dir, { "tls.crt": renewed.fullchainPem, "tls.key": renewedKey });

    const after = chooseCertificate(dir, "example.org", { reader: root, now });
    expect(after).toEqual({ chosen: expect.objectContaining({ realKeyPath: join(dir, secondVersion, "tls.key"), serial: renewed.serial }), rejected: [] });
  });

  it("refuses a Secret whose ..data leads out of the mount", () => {
    const outside = makeTempDir(cleanups);
    const leaf = issueLeaf({ names: ["example.org"], keyPem });
    writeSecretVolume(outside, { "tls.crt": leaf.fullchainPem, "tls.key": keyPem });
    symlinkSync(join(outside, "..data"), join(dir, "..data"));
    symlinkSync("..data/tls.crt", join(dir, "tls.crt"));
    symlinkSync("..data/tls.key", join(dir, "tls.key"));

    const choice = chooseCertificate(dir, "example.org", { reader: root, now });

    expect(choice.chosen).toBeUndefined();
    expect(choice.rejected).toEqual([
      { certPath: join(dir, "tls.crt"), reason: expect.stringContaining(`cannot be read (a link out of ${dir} (to ${outside}/..`) },
    ]);
  });
});

describe("chooseCertificates", () => {
  it("chooses for every name while loading each pair once", () => {
    const org = issueLeaf({ names: ["example.org", "*.example.org"], keyPem });
    const net = issueLeaf({ names: ["example.net"], keyPem });
    writeCertbotLineage(dir, "example.org", org);
    writeCertbotLineage(dir, "example.net", net);
    const names = ["example.org", "conference.example.org", "upload.example.org", "example.net", "example.com"];

    const choices = chooseCertificates(dir, names, { reader: root, now });

    expect(loadCertificatePair).toHaveBeenCalledTimes(2);
    expect([...choices.keys()]).toEqual(names);
    expect(names.map((name) => choices.get(name)?.chosen?.serial)).toEqual([
      org.serial,
      org.serial,
      org.serial,
      net.serial,
      undefined,
    ]);
    expect(choices.get("example.com")).toEqual({ rejected: [] });
  });
});

describe("chooseCertificates in a hostile directory", () => {
  const fullchain = () => join(dir, "live", "example.org", "fullchain.pem");
  const reasonFor = (choices: Map<string, CertificateChoice>) => choices.get("example.org")?.rejected.map((r) => r.reason);

  beforeEach(() => {
    writeCertbotLineage(dir, "example.org", issueLeaf({ names: ["example.org"], keyPem }));
    rmSync(fullchain());
  });

  it("refuses a FIFO as fullchain.pem without blocking on it", () => {
    execFileSync("mkfifo", [fullchain()]);
    expect(reasonFor(chooseCertificates(dir, ["example.org"], { reader: root, now }))).toEqual([
      `${fullchain()}: is a FIFO, not a regular file`,
    ]);
  });

  it("refuses a link out of the certificate directory, even to a readable file", () => {
    const outside = makeTempDir(cleanups);
    writeFile(join(outside, "fullchain.pem"), issueLeaf({ names: ["example.org"], keyPem }).fullchainPem);
    symlinkSync(join(outside, "fullchain.pem"), fullchain());
    expect(reasonFor(chooseCertificates(dir, ["example.org"], { reader: root, now }))).toEqual([
      `${fullchain()} (${join(outside, "fullchain.pem")}): cannot be read (a link out of ${dir} (to ${join(outside, "fullchain.pem")}))`,
    ]);
  });

  it("refuses a link to /dev/zero without reading it", () => {
    symlinkSync("/dev/zero", fullchain());
    expect(reasonFor(chooseCertificates(dir, ["example.org"], { reader: root, now }))).toEqual([
      `${fullchain()} (/dev/zero): is a character device, not a regular file`,
    ]);
  });

  it("refuses a sparse 600 MB file before reading it", () => {
    writeFile(fullchain(), "");
    truncateSync(fullchain(), 600 * 1024 * 1024);
    expect(reasonFor(chooseCertificates(dir, ["example.org"], { reader: root, now }))).toEqual([
      `${fullchain()}: cannot be read (larger than 1 MiB (629145600 bytes))`,
    ]);
  });

  // The regex scan was quadratic in BEGIN lines (about 20 s for this 1 MiB); linear, it takes milliseconds.
  it("reports 1 MiB of unterminated PEM blocks as truncated", () => {
    writeFile(fullchain(), "-----BEGIN CERTIFICATE-----\n".repeat(Math.floor((1024 * 1024) / 28)));
    expect(reasonFor(chooseCertificates(dir, ["example.org"], { reader: root, now }))).toEqual([
      `${fullchain()}: is truncated: certificate 1 has no END line`,
    ]);
  }, 10_000);
});
