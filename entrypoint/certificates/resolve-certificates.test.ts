import { statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { generateRsaKeyPem } from "./issue-certificate.js";
import { resolveCertificates, warnSelfSigned } from "./resolve-certificates.js";
import { writeCertbotLineage } from "../../test-support/certbot-tree.js";
import { makeTempDir } from "../../test-support/file-fixtures.js";
import { issueLeaf } from "../../test-support/test-ca.js";

const CERTS_GID = 4321;
let cleanups: (() => void)[] = [];
let letsencrypt: string;
let selfSignedDir: string;

beforeEach(() => {
  letsencrypt = makeTempDir(cleanups);
  selfSignedDir = join(makeTempDir(cleanups), "self-signed");
});
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

const resolve = (current?: ReturnType<typeof resolveCertificates>["served"]) =>
  resolveCertificates(["example.org"], { certsDir: letsencrypt, certsGid: CERTS_GID, groupFix: true, selfSignedDir, current });

describe("resolveCertificates (needs root, as in CI)", () => {
  it("should serve a valid certbot lineage from the files behind its links, readable by the certs group", () => {
    const leaf = issueLeaf({ names: ["example.org"] });
    writeCertbotLineage(letsencrypt, "example.org", leaf);
    const { served, changed, selfSigned } = resolve();
    const cert = served.get("example.org")!;
    expect(cert).toMatchObject({ source: "mounted", serial: leaf.serial, access: "group-fix" });
    expect(cert.files).toEqual({
      certPath: join(letsencrypt, "archive/example.org/fullchain1.pem"),
      keyPath: join(letsencrypt, "archive/example.org/privkey1.pem"),
    });
    expect(changed).toEqual(["example.org"]);
    expect(selfSigned).toEqual([]);
    const key = statSync(cert.files.keyPath);
    expect([(key.mode & 0o777).toString(8), key.gid]).toEqual(["640", CERTS_GID]);
    const live = statSync(join(letsencrypt, "live"));
    expect([(live.mode & 0o777).toString(8), live.gid]).toEqual(["750", CERTS_GID]);
  });

  it("should fall back to a self-signed certificate and keep it while nothing covers the name", () => {
    const first = resolve();
    expect(first.selfSigned).toEqual(["example.org"]);
    expect(first.served.get("example.org")!.files.certPath).toBe(join(selfSignedDir, "example.org.crt"));
    const again = resolve(first.served);
    expect(again.changed).toEqual([]);
    expect(again.served.get("example.org")).toBe(first.served.get("example.org"));
  });

  it("should keep the served certificate when a renewal's key does not match, naming the key file", () => {
    const good = issueLeaf({ names: ["example.org"] });
    writeCertbotLineage(letsencrypt, "example.org", good);
    const before = resolve();
    writeCertbotLineage(letsencrypt, "example.org", { fullchainPem: issueLeaf({ names: ["example.org"] }).fullchainPem, keyPem: generateRsaKeyPem() }, 2);

    const after = resolve(before.served);
    expect(after.changed).toEqual([]);
    expect(after.served.get("example.org")!.serial).toBe(good.serial);
    expect(after.refused).toEqual([
      { name: "example.org", reasons: [expect.stringContaining(`(${join(letsencrypt, "archive/example.org/privkey2.pem")}): does not match the certificate`)] },
    ]);
  });

  it("should switch to a good renewal, and from self-signed to the first real certificate", () => {
    const selfSigned = resolve();
    const first = issueLeaf({ names: ["example.org"] });
    writeCertbotLineage(letsencrypt, "example.org", first);
    const issued = resolve(selfSigned.served);
    expect(issued.changed).toEqual(["example.org"]);
    expect(issued.served.get("example.org")!.serial).toBe(first.serial);

    const renewal = issueLeaf({ names: ["example.org"] });
    writeCertbotLineage(letsencrypt, "example.org", renewal, 2);
    const renewed = resolve(issued.served);
    expect(renewed.changed).toEqual(["example.org"]);
    expect(renewed.served.get("example.org")!.files.keyPath).toBe(join(letsencrypt, "archive/example.org/privkey2.pem"));
  });
});

describe("warnSelfSigned", () => {
  it("should list every uncovered name once, with the certbot command for every name the server uses", () => {
    const lines: string[] = [];
    for (const stream of [process.stdout, process.stderr]) {
      const spy = vi.spyOn(stream, "write").mockImplementation(((chunk: string | Uint8Array) => (lines.push(String(chunk).trimEnd()), true)) as typeof stream.write);
      cleanups.push(() => spy.mockRestore());
    }
    warnSelfSigned(["conference.example.org", "upload.example.org"], "/etc/letsencrypt", ["example.org", "conference.example.org", "upload.example.org"]);
    warnSelfSigned([], "/etc/letsencrypt", ["example.org"]);
    for (const cleanup of cleanups.splice(0)) cleanup();
    expect(lines).toEqual([
      "appliance warn  WARNING: no valid certificate in /etc/letsencrypt covers conference.example.org, upload.example.org: serving a SELF-SIGNED certificate (kept in /var/lib/prosody/self-signed). Clients will warn and other servers will refuse to federate. Mount your Let's Encrypt directory whole, e.g. -v /etc/letsencrypt:/etc/letsencrypt:ro, or set XMPP_CERTS_DIR. One certificate for every name this server uses: certbot certonly --standalone -d example.org -d conference.example.org -d upload.example.org",
    ]);
  });
});
