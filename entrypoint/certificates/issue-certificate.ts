import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign } from "node:crypto";
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

/** RSA keys come from Node's native crypto (fast); node-forge builds the X.509 structure. */
export function generateRsaKeyPem(bits = 2048): string {
  return generateKeyPairSync("rsa", { modulusLength: bits }).privateKey.export({
    type: "pkcs8",
    format: "pem",
  }) as string;
}

export function issueCertificate(options: IssueOptions): IssuedCertificate {
  const forge = loadForge();
  const keyPem = options.keyPem ?? generateRsaKeyPem();
  const publicKeyPem = createPublicKey(createPrivateKey(keyPem)).export({ type: "spki", format: "pem" }) as string;

  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKeyPem);
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

  let signingKeyPem = keyPem;
  if (options.issuer) {
    const issuerCert = forge.pki.certificateFromPem(options.issuer.certPem);
    cert.setIssuer(issuerCert.subject.attributes);
    signingKeyPem = options.issuer.keyPem;
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
  // node-forge lays out the certificate; the RSA signature comes from Node's native crypto,
  // which is ~10x faster than forge's JavaScript big-number arithmetic.
  cert.signatureOid = cert.siginfo.algorithmOid = forge.pki.oids.sha256WithRSAEncryption!;
  // getTBSCertificate is public node-forge API, missing from its type definitions.
  const pki = forge.pki as typeof forge.pki & { getTBSCertificate(c: Forge.pki.Certificate): Forge.asn1.Asn1 };
  const tbs = pki.getTBSCertificate(cert);
  (cert as Forge.pki.Certificate & { tbsCertificate: Forge.asn1.Asn1 }).tbsCertificate = tbs;
  const tbsDer = Buffer.from(forge.asn1.toDer(tbs).getBytes(), "binary");
  cert.signature = sign("sha256", tbsDer, signingKeyPem).toString("binary");

  return {
    // node-forge writes CRLF; certbot and openssl write LF, and files are compared as text.
    certPem: forge.pki.certificateToPem(cert).replace(/\r\n/g, "\n"),
    keyPem,
    serial: cert.serialNumber.toUpperCase(),
  };
}
