import { X509Certificate, createPrivateKey } from "node:crypto";
import { chmodSync, chownSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { checkCertificate } from "./check-certificate.js";
import { generateRsaKeyPem, issueCertificate } from "./issue-certificate.js";
import { DAY_MS, makeTempDir, testUser, writeFile } from "../../test-support/file-fixtures.js";
import { ensureSelfSigned } from "./self-signed.js";

let cleanups: (() => void)[] = [];
let store: string;

beforeEach(() => {
  store = join(makeTempDir(cleanups), "self-signed");
});
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

const owner = { uid: testUser.uid, gid: testUser.gid };
const domain = "example.org";
const serialOf = (certPath: string) => new X509Certificate(readFileSync(certPath)).serialNumber;
const modeOf = (path: string) => statSync(path).mode & 0o7777;

describe("ensureSelfSigned", () => {
  it("creates the store and a certificate for the domain and its subdomains", () => {
    const result = ensureSelfSigned(store, domain, owner);

    expect(result).toEqual({ certPath: join(store, "example.org.crt"), keyPath: join(store, "example.org.key"), generated: true });
    const reader = { uid: owner.uid, gids: [owner.gid] };
    for (const name of ["example.org", "conference.example.org"]) {
      expect(checkCertificate(result, { name, reader }).names).toEqual(["example.org", "*.example.org"]);
    }
    const cert = new X509Certificate(readFileSync(result.certPath));
    expect(cert.issuer).toBe(cert.subject);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(new Date(cert.validTo).getTime() - Date.now()).toBeGreaterThan(300 * DAY_MS);
    expect(cert.publicKey.asymmetricKeyDetails).toEqual({ namedCurve: "prime256v1" });
  });

  it("writes the key 0640 and the certificate 0644, owned as asked, leaving no temporary files", () => {
    const result = ensureSelfSigned(store, domain, owner);

    expect(modeOf(result.keyPath)).toBe(0o640);
    expect(modeOf(result.certPath)).toBe(0o644);
    expect(statSync(result.keyPath)).toMatchObject({ uid: owner.uid, gid: owner.gid });
    expect(readdirSync(store).sort()).toEqual(["example.org.crt", "example.org.key"]);
  });

  it("keeps the same certificate across calls", () => {
    const first = ensureSelfSigned(store, domain, owner);
    const serial = serialOf(first.certPath);

    const second = ensureSelfSigned(store, domain, owner);

    expect(second.generated).toBe(false);
    expect(serialOf(second.certPath)).toBe(serial);
  });

  it("repairs a loosened key mode without replacing the certificate", () => {
    const first = ensureSelfSigned(store, domain, owner);
    const serial = serialOf(first.certPath);
    chmodSync(first.keyPath, 0o644);

    const second = ensureSelfSigned(store, domain, owner);

    expect(second.generated).toBe(false);
    expect(serialOf(second.certPath)).toBe(serial);
    expect(modeOf(second.keyPath)).toBe(0o640);
  });

  const replacements: [string, (files: { certPath: string; keyPath: string }) => void][] = [
    ["the certificate is missing", (files) => rmSync(files.certPath)],
    ["the key is missing", (files) => rmSync(files.keyPath)],
    ["the certificate does not parse", (files) => writeFile(files.certPath, "-----BEGIN CERTIFICATE-----\nMIIB")],
    [
      "the key belongs to another certificate",
      (files) => writeFile(files.keyPath, issueCertificate({ names: [domain] }).keyPem, 0o640),
    ],
    [
      "the certificate is for another domain",
      (files) => {
        const other = issueCertificate({ names: ["example.net"] });
        writeFile(files.certPath, other.certPem);
        writeFile(files.keyPath, other.keyPem, 0o640);
      },
    ],
    [
      "the certificate expires within 30 days",
      (files) => {
        const expiring = issueCertificate({ names: [domain], notAfter: new Date(Date.now() + 29 * DAY_MS) });
        writeFile(files.certPath, expiring.certPem);
        writeFile(files.keyPath, expiring.keyPem, 0o640);
      },
    ],
  ];

  it.each(replacements)("replaces it when %s", (_, spoil) => {
    const first = ensureSelfSigned(store, domain, owner);
    const serial = serialOf(first.certPath);
    spoil(first);

    const second = ensureSelfSigned(store, domain, owner);

    expect(second.generated).toBe(true);
    expect(serialOf(second.certPath)).not.toBe(serial);
    const key = createPrivateKey(readFileSync(second.keyPath));
    expect(new X509Certificate(readFileSync(second.certPath)).checkPrivateKey(key)).toBe(true);
    expect(modeOf(second.keyPath)).toBe(0o640);
  });

  it("keeps a certificate with more than 30 days left", () => {
    const lasting = issueCertificate({ names: [domain], notAfter: new Date(Date.now() + 31 * DAY_MS) });
    ensureSelfSigned(store, domain, owner);
    writeFile(join(store, "example.org.crt"), lasting.certPem);
    writeFile(join(store, "example.org.key"), lasting.keyPem, 0o640);

    expect(ensureSelfSigned(store, domain, owner).generated).toBe(false);
    expect(serialOf(join(store, "example.org.crt"))).toBe(lasting.serial);
  });

  it("keeps the 2048-bit RSA certificate an earlier image wrote into the volume", () => {
    const earlier = issueCertificate({
      names: [domain, `*.${domain}`],
      organization: "prosody-appliance self-signed",
      keyPem: generateRsaKeyPem(),
      notAfter: new Date(Date.now() + 300 * DAY_MS),
    });
    ensureSelfSigned(store, domain, owner);
    writeFile(join(store, "example.org.crt"), earlier.certPem);
    writeFile(join(store, "example.org.key"), earlier.keyPem, 0o640);

    expect(ensureSelfSigned(store, domain, owner).generated).toBe(false);
    expect(serialOf(join(store, "example.org.crt"))).toBe(earlier.serial);
    expect(new X509Certificate(readFileSync(join(store, "example.org.crt"))).publicKey.asymmetricKeyType).toBe("rsa");
  });

  it("replaces a symlinked key instead of touching its target", () => {
    const first = ensureSelfSigned(store, domain, owner);
    const outside = writeFile(join(store, "..", "outside.key"), readFileSync(first.keyPath), 0o600);
    rmSync(first.keyPath);
    symlinkSync(outside, first.keyPath);

    const second = ensureSelfSigned(store, domain, owner);

    expect(second.generated).toBe(true);
    expect(lstatSync(second.keyPath).isFile()).toBe(true);
    expect(modeOf(outside)).toBe(0o600);
  });

  it("refuses a domain that would escape the store", () => {
    expect(() => ensureSelfSigned(store, "../etc/passwd", owner)).toThrow(/not a usable domain/);
    expect(() => ensureSelfSigned(store, "", owner)).toThrow(/not a usable domain/);
  });

  it("hands the key to another uid and gid (needs root, as in CI)", () => {
    const result = ensureSelfSigned(store, domain, { uid: 0, gid: 4243 });

    expect(statSync(result.keyPath)).toMatchObject({ uid: 0, gid: 4243 });
    expect(modeOf(result.keyPath) & 0o007).toBe(0);

    const moved = ensureSelfSigned(store, domain, { uid: 4242, gid: 4243 });
    expect(moved.generated).toBe(false);
    expect(statSync(moved.keyPath)).toMatchObject({ uid: 4242, gid: 4243 });
  });

  it("never writes through a store that is a link (Prosody owns the data volume and could plant one)", () => {
    const victim = makeTempDir(cleanups);
    symlinkSync(victim, store);

    const result = ensureSelfSigned(store, domain, owner);

    expect(readdirSync(victim)).toEqual([]);
    expect(lstatSync(store).isDirectory()).toBe(true);
    expect(result.certPath).toBe(join(store, "example.org.crt"));
  });

  it("does not trust a store owned by someone else: it is moved aside and made anew", () => {
    mkdirSync(store);
    writeFile(join(store, "planted"), "x");
    chownSync(store, 4242, 4242);

    ensureSelfSigned(store, domain, owner);

    expect(lstatSync(store)).toMatchObject({ uid: owner.uid, gid: owner.gid });
    expect(readdirSync(store).sort()).toEqual(["example.org.crt", "example.org.key"]);
  });
});
