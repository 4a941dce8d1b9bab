import { X509Certificate } from "node:crypto";
import { chmodSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CertificateError, checkCertificate, coversName, daysLeft, loadCertificatePair } from "./check-certificate.js";
import { generateRsaKeyPem, issueCertificate } from "./issue-certificate.js";
import { writeCertbotLineage } from "../../test-support/certbot-tree.js";
import { DAY_MS, makeTempDir, stranger, testUser, writeFile } from "../../test-support/file-fixtures.js";
import { issueLeaf, sharedTestCa } from "../../test-support/test-ca.js";

let cleanups: (() => void)[] = [];
let dir: string;

beforeEach(() => {
  dir = makeTempDir(cleanups);
});
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

const root = { uid: 0, gids: [] };
const keyPem = generateRsaKeyPem();

function writePair(certPem: string, key = keyPem): { certPath: string; keyPath: string } {
  return {
    certPath: writeFile(join(dir, "fullchain.pem"), certPem),
    keyPath: writeFile(join(dir, "privkey.pem"), key, 0o600),
  };
}

function failureOf(run: () => unknown): CertificateError {
  try {
    run();
  } catch (error) {
    if (error instanceof CertificateError) return error;
    throw error;
  }
  throw new Error("expected a CertificateError");
}

describe("checkCertificate", () => {
  it("describes a valid certbot lineage through its symlinks", () => {
    const leaf = issueLeaf({ names: ["example.org", "*.example.org"], keyPem });
    const files = writeCertbotLineage(dir, "example.org", leaf);

    const checked = checkCertificate(files, { name: "conference.example.org", reader: root });

    const x509 = new X509Certificate(leaf.certPem);
    expect(checked).toEqual({
      certPath: files.certPath,
      keyPath: files.keyPath,
      realCertPath: join(dir, "archive", "example.org", "fullchain1.pem"),
      realKeyPath: join(dir, "archive", "example.org", "privkey1.pem"),
      names: ["example.org", "*.example.org"],
      serial: leaf.serial,
      issuer: "Test Intermediate R1",
      notBefore: new Date(x509.validFrom),
      notAfter: new Date(x509.validTo),
      fingerprint256: x509.fingerprint256,
      chainLength: 2,
    });
    expect(checked.serial).toMatch(/^[0-9A-F]+$/);
  });

  it("refuses files the reader cannot open, naming the blocking directory", () => {
    const leaf = issueLeaf({ names: ["example.org"], keyPem });
    const files = writeCertbotLineage(dir, "example.org", leaf);

    const error = failureOf(() => checkCertificate(files, { name: "example.org", reader: stranger }));

    expect(error.file).toBe(files.certPath);
    expect(error.reason).toMatch(new RegExp(`^${join(dir, "live")} is 0700 `));
    expect(error.message).toBe(`${error.file} (${join(dir, "archive", "example.org", "fullchain1.pem")}): ${error.reason}`);
  });

  it("refuses a key only root can read while the certificate is readable", () => {
    const leaf = issueLeaf({ names: ["example.org"], keyPem });
    const files = writePair(leaf.fullchainPem);

    const error = failureOf(() => checkCertificate(files, { name: "example.org", reader: stranger }));

    expect(error.file).toBe(files.keyPath);
    // The key is named once: the reason about it does not repeat its path.
    expect(error.reason).toMatch(/^is 0600 .*not readable by uid 4242/);
    expect(error.message).toBe(`${files.keyPath}: ${error.reason}`);
  });

  it("accepts a key readable through the reader's group", () => {
    const leaf = issueLeaf({ names: ["example.org"], keyPem });
    const files = writePair(leaf.fullchainPem);
    chmodSync(files.keyPath, 0o640);

    const checked = checkCertificate(files, { name: "example.org", reader: { uid: stranger.uid, gids: [testUser.gid] } });

    expect(checked.serial).toBe(leaf.serial);
  });

  it.each([
    ["an empty file", "", /^is empty$/],
    ["garbage", "hello world\n", /^holds no PEM certificate$/],
    ["a private key", keyPem, /^holds a private key, not a certificate$/],
  ])("refuses a certificate file holding %s", (_, contents, reason) => {
    const error = failureOf(() => checkCertificate(writePair(contents), { name: "example.org", reader: root }));

    expect(error.file).toBe(join(dir, "fullchain.pem"));
    expect(error.reason).toMatch(reason);
  });

  it("refuses a truncated certificate file, naming the cut certificate", () => {
    const leaf = issueLeaf({ names: ["example.org"], keyPem });
    const truncated = leaf.fullchainPem.slice(0, leaf.certPem.length + 200);

    const error = failureOf(() => checkCertificate(writePair(truncated), { name: "example.org", reader: root }));

    expect(error.message).toBe(`${join(dir, "fullchain.pem")}: is truncated: certificate 2 has no END line`);
  });

  it("refuses a certificate whose base64 is damaged", () => {
    const leaf = issueLeaf({ names: ["example.org"], keyPem });
    // The first line holds the outer ASN.1 header: zeroing it breaks the structure.
    const lines = leaf.certPem.split(/\r?\n/);
    lines[1] = "A".repeat(64);
    const damaged = lines.join("\n");

    const error = failureOf(() => checkCertificate(writePair(damaged), { name: "example.org", reader: root }));

    expect(error.reason).toMatch(/^certificate 1 does not parse/);
  });

  it("refuses a DER certificate, saying Prosody needs PEM", () => {
    const leaf = issueLeaf({ names: ["example.org"], keyPem });
    const der = new X509Certificate(leaf.certPem).raw;
    const files = writePair("");
    writeFile(files.certPath, der);

    const error = failureOf(() => checkCertificate(files, { name: "example.org", reader: root }));

    expect(error.reason).toBe("is a DER (binary) certificate; Prosody needs PEM");
  });

  it.each([
    ["garbage", "not a key\n", /^does not parse as a private key/],
    ["a truncated key", keyPem.slice(0, 300), /^is truncated: the private key has no END line$/],
    ["an encrypted key", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n", /passphrase/],
  ])("refuses a key file holding %s", (_, key, reason) => {
    const leaf = issueLeaf({ names: ["example.org"], keyPem });

    const error = failureOf(() => checkCertificate(writePair(leaf.fullchainPem, key), { name: "example.org", reader: root }));

    expect(error.file).toBe(join(dir, "privkey.pem"));
    expect(error.reason).toMatch(reason);
  });

  it("refuses a key from another pair, as seen mid-renewal", () => {
    const leaf = issueLeaf({ names: ["example.org"], keyPem });
    const otherKey = generateRsaKeyPem();

    const error = failureOf(() => checkCertificate(writePair(leaf.fullchainPem, otherKey), { name: "example.org", reader: root }));

    expect(error.file).toBe(join(dir, "privkey.pem"));
    expect(error.reason).toMatch(/^does not match the certificate/);
  });

  it("says so when the key matches a later certificate: the leaf is not first", () => {
    const leaf = issueLeaf({ names: ["example.org"], keyPem });
    const { intermediate } = sharedTestCa();

    const error = failureOf(() =>
      checkCertificate(writePair(intermediate.certPem + leaf.certPem), { name: "example.org", reader: root }),
    );

    expect(error.reason).toBe("matches certificate 2 of the chain, not the first: the leaf must come first");
  });

  it("refuses a certificate for other names, listing the names it has", () => {
    const leaf = issueLeaf({ names: ["example.net", "www.example.net"], keyPem });

    const error = failureOf(() => checkCertificate(writePair(leaf.fullchainPem), { name: "example.org", reader: root }));

    expect(error.reason).toBe("does not cover example.org (it covers example.net, www.example.net)");
  });

  it("falls back to the subject CN only when there is no SAN", () => {
    const leaf = issueLeaf({ names: [], commonName: "example.org", keyPem });
    const withSan = issueLeaf({ names: ["example.net"], commonName: "example.org", keyPem });

    expect(checkCertificate(writePair(leaf.fullchainPem), { name: "example.org", reader: root }).names).toEqual([
      "example.org",
    ]);
    expect(() => checkCertificate(writePair(withSan.fullchainPem), { name: "example.org", reader: root })).toThrow(
      /does not cover example.org/,
    );
  });

  it("refuses a certificate that is not valid yet, with its start date", () => {
    const notBefore = new Date(Date.UTC(2030, 0, 1));
    const leaf = issueLeaf({ names: ["example.org"], keyPem, notBefore, notAfter: new Date(Date.UTC(2030, 3, 1)) });

    const error = failureOf(() => checkCertificate(writePair(leaf.fullchainPem), { name: "example.org", reader: root }));

    expect(error.reason).toBe("is not valid yet: valid from 2030-01-01T00:00:00.000Z");
  });

  it("refuses an expired certificate, with its end date, and honours `now`", () => {
    const notAfter = new Date(Date.UTC(2024, 5, 30, 12));
    const leaf = issueLeaf({ names: ["example.org"], keyPem, notBefore: new Date(Date.UTC(2024, 3, 1)), notAfter });
    const files = writePair(leaf.fullchainPem);

    const error = failureOf(() => checkCertificate(files, { name: "example.org", reader: root }));
    expect(error.reason).toBe("expired on 2024-06-30T12:00:00.000Z");

    const checked = checkCertificate(files, { name: "example.org", reader: root, now: new Date(Date.UTC(2024, 5, 1)) });
    expect(checked.notAfter).toEqual(notAfter);
  });

  it("refuses a chain out of order, naming the position", () => {
    const leaf = issueLeaf({ names: ["example.org"], keyPem });
    const { root: rootCa, intermediate } = sharedTestCa();

    const error = failureOf(() =>
      checkCertificate(writePair(leaf.certPem + rootCa.certPem + intermediate.certPem), {
        name: "example.org",
        reader: root,
      }),
    );

    expect(error.reason).toBe(
      "chain order: certificate 1 of 3 (CN=example.org) is not issued by certificate 2 (CN=Test Root CA); " +
        "expected the leaf first, then each issuer",
    );
  });

  it("refuses a chain whose issuer name matches but whose signature does not", () => {
    const leaf = issueLeaf({ names: ["example.org"], keyPem });
    const impostor = issueCertificate({ names: [], commonName: "Test Intermediate R1", isCa: true });

    const error = failureOf(() =>
      checkCertificate(writePair(leaf.certPem + impostor.certPem), { name: "example.org", reader: root }),
    );

    expect(error.reason).toMatch(/^chain order: certificate 1 of 2 \(CN=example.org\) is not issued by certificate 2/);
  });

  it("accepts a full chain up to the root, and a lone self-signed certificate", () => {
    const leaf = issueLeaf({ names: ["example.org"], keyPem });
    const { root: rootCa } = sharedTestCa();
    const selfSigned = issueCertificate({ names: ["example.org"], keyPem });

    expect(checkCertificate(writePair(leaf.fullchainPem + rootCa.certPem), { name: "example.org", reader: root }).chainLength).toBe(3);
    const lone = checkCertificate(writePair(selfSigned.certPem), { name: "example.org", reader: root });
    expect(lone).toMatchObject({ chainLength: 1, issuer: "example.org", serial: selfSigned.serial });
  });
});

describe("loadCertificatePair", () => {
  it("reads once and checks many names; unparsable pairs might cover any name", () => {
    const leaf = issueLeaf({ names: ["example.org", "*.example.org"], keyPem });
    const files = writePair(leaf.fullchainPem);
    const pair = loadCertificatePair(files, root);
    writeFile(files.certPath, "overwritten after loading");

    expect(pair.names).toEqual(["example.org", "*.example.org"]);
    expect(pair.mightCover("upload.example.org")).toBe(true);
    expect(pair.mightCover("example.net")).toBe(false);
    expect(pair.checkFor("upload.example.org").serial).toBe(leaf.serial);
    expect(pair.checkFor("example.org").serial).toBe(leaf.serial);

    const broken = loadCertificatePair(files, root);
    expect(broken.names).toBeUndefined();
    expect(broken.mightCover("example.net")).toBe(true);
    expect(readFileSync(files.certPath, "utf8")).toBe("overwritten after loading");
  });
});

describe("coversName", () => {
  const names = ["example.org", "*.example.org"];

  it.each([
    ["example.org", true],
    ["EXAMPLE.org.", true],
    ["conference.example.org", true],
    ["a.b.example.org", false],
    ["example.net", false],
    ["badexample.org", false],
  ])("%s -> %s", (name, covered) => {
    expect(coversName(names, name)).toBe(covered);
  });

  it("does not let a wildcard cover its own base domain", () => {
    expect(coversName(["*.example.org"], "example.org")).toBe(false);
    expect(coversName(["*.example.org"], ".example.org")).toBe(false);
  });
});

describe("daysLeft", () => {
  it("counts whole days until notAfter, negative once expired", () => {
    const now = new Date(Date.UTC(2025, 0, 1));

    expect(daysLeft({ notAfter: new Date(now.getTime() + 30 * DAY_MS) }, now)).toBe(30);
    expect(daysLeft({ notAfter: new Date(now.getTime() + 30 * DAY_MS - 1) }, now)).toBe(29);
    expect(daysLeft({ notAfter: new Date(now.getTime() - 1) }, now)).toBe(-1);
  });
});
