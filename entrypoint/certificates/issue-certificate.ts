import { generateKeyPairSync, randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import type Forge from "node-forge";

// Loaded on first use: most starts never issue a certificate, and parsing node-forge would
// delay every start (the entrypoint runs before Prosody can listen).
const require = createRequire(import.meta.url);
let forgeModule: typeof Forge | undefined;
function loadForge(): typeof Forge {
  forgeModule ??= require("node-forge") as typeof Forge;
  return forgeModule;
}

/** A PEM certificate and the PEM private key it was issued for. */
export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
  /** Upper-case hex, as `openssl x509 -serial` and Node's X509Certificate print it. */
  serial: string;
}

export interface IssueOptions {
  /** DNS names; the first is also the subject CN. */
  names: string[];
  /** The signer; omitted means self-signed. */
  issuer?: { certPem: string; keyPem: string };
  isCa?: boolean;
  notBefore?: Date;
  notAfter?: Date;
  /** Reuse a key (PEM) instead of generating one. */
  keyPem?: string;
  commonName?: string;
  organization?: string;
}

const DAY_MS = 86_400_000;

/** RSA keys come from Node's native crypto (fast); node-forge builds and signs the X.509. */
export function generateRsaKeyPem(bits = 2048): string {
  return generateKeyPairSync("rsa", { modulusLength: bits }).privateKey.export({
    type: "pkcs8",
    format: "pem",
  }) as string;
}

export function issueCertificate(options: IssueOptions): IssuedCertificate {
  const forge = loadForge();
  const keyPem = options.keyPem ?? generateRsaKeyPem();
  const privateKey = forge.pki.privateKeyFromPem(keyPem) as Forge.pki.rsa.PrivateKey;
  const publicKey = forge.pki.rsa.setPublicKey(privateKey.n, privateKey.e);

  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  // Positive, 16 bytes, no leading zero nibble, so hex round-trips exactly.
  const serialBytes = randomBytes(16);
  serialBytes[0] = (serialBytes[0]! & 0x7f) | 0x10;
  cert.serialNumber = serialBytes.toString("hex");
  const now = Date.now();
  cert.validity.notBefore = options.notBefore ?? new Date(now - DAY_MS);
  cert.validity.notAfter = options.notAfter ?? new Date(now + 90 * DAY_MS);

  const commonName = options.commonName ?? options.names[0] ?? "localhost";
  const subject = [{ name: "commonName", value: commonName }];
  if (options.organization) subject.push({ name: "organizationName", value: options.organization });
  cert.setSubject(subject);

  let signingKey = privateKey;
  if (options.issuer) {
    const issuerCert = forge.pki.certificateFromPem(options.issuer.certPem);
    cert.setIssuer(issuerCert.subject.attributes);
    signingKey = forge.pki.privateKeyFromPem(options.issuer.keyPem) as Forge.pki.rsa.PrivateKey;
  } else {
    cert.setIssuer(subject);
  }

  const extensions: object[] = [
    { name: "basicConstraints", cA: options.isCa === true, critical: true },
    options.isCa
      ? { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true }
      : { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ];
  if (!options.isCa) {
    extensions.push({ name: "extKeyUsage", serverAuth: true, clientAuth: true });
  }
  if (options.names.length > 0) {
    extensions.push({
      name: "subjectAltName",
      altNames: options.names.map((value) => ({ type: 2, value })),
    });
  }
  cert.setExtensions(extensions);
  cert.sign(signingKey, forge.md.sha256.create());

  return {
    // node-forge writes CRLF; certbot and openssl write LF, and files are compared as text.
    certPem: forge.pki.certificateToPem(cert).replace(/\r\n/g, "\n"),
    keyPem,
    serial: cert.serialNumber.toUpperCase(),
  };
}
