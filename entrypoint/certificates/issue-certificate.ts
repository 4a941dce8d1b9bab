import { X509Certificate, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign } from "node:crypto";
import type Forge from "node-forge";
// Only node-forge's DER encoder (a small part of it): keys and signatures are Node's native
// crypto, and loading all of node-forge would delay a first start by tens of milliseconds.
import asn1 from "node-forge/lib/asn1.js";

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
  /** Reuse a key (PEM, RSA or EC) instead of generating an ECDSA P-256 one. */
  keyPem?: string;
  commonName?: string;
  organization?: string;
}

const DAY_MS = 86_400_000;

/** ECDSA P-256: generated in well under a millisecond, and accepted by every current client. */
export function generateEcKeyPem(): string {
  return generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey.export({ type: "pkcs8", format: "pem" }) as string;
}

/** RSA keys, as certbot makes by default (tests use them for mounted certificates). */
export function generateRsaKeyPem(bits = 2048): string {
  return generateKeyPairSync("rsa", { modulusLength: bits }).privateKey.export({ type: "pkcs8", format: "pem" }) as string;
}

const OID = {
  commonName: "2.5.4.3",
  organizationName: "2.5.4.10",
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
  extKeyUsage: "2.5.29.37",
  subjectKeyIdentifier: "2.5.29.14",
  subjectAltName: "2.5.29.17",
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
  sha256WithRSAEncryption: "1.2.840.113549.1.1.11",
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
} as const;

// keyUsage bits, first bit = most significant bit of the first byte (RFC 5280 4.2.1.3).
const KEY_USAGE = { digitalSignature: 0x80, keyEncipherment: 0x20, keyCertSign: 0x04, cRLSign: 0x02 } as const;

type Node = Forge.asn1.Asn1;
const { Class, Type } = asn1;
const universal = (type: Forge.asn1.Type, value: string | Node[]) => asn1.create(Class.UNIVERSAL, type, Array.isArray(value), value);
const sequence = (items: Node[]) => universal(Type.SEQUENCE, items);
const oid = (dotted: string) => universal(Type.OID, asn1.oidToDer(dotted).getBytes());
const bytes = (buffer: Buffer) => buffer.toString("binary");
const toDer = (node: Node) => Buffer.from(asn1.toDer(node).getBytes(), "binary");
const fromDer = (der: Buffer) => asn1.fromDer(bytes(der));
const bitString = (buffer: Buffer, unusedBits = 0) => universal(Type.BITSTRING, String.fromCharCode(unusedBits) + bytes(buffer));
// RFC 5280: UTCTime through 2049, GeneralizedTime from 2050.
const time = (date: Date) =>
  date.getUTCFullYear() < 2050
    ? universal(Type.UTCTIME, asn1.dateToUtcTime(date))
    : universal(Type.GENERALIZEDTIME, asn1.dateToGeneralizedTime(date));

function name(commonName: string, organization?: string): Node {
  const attributes: [string, string][] = [[OID.commonName, commonName]];
  if (organization) attributes.push([OID.organizationName, organization]);
  return sequence(
    attributes.map(([type, value]) => universal(Type.SET, [sequence([oid(type), universal(Type.UTF8, Buffer.from(value).toString("binary"))])])),
  );
}

function extension(id: string, value: Node, critical = false): Node {
  const parts = [oid(id)];
  if (critical) parts.push(universal(Type.BOOLEAN, "\xff"));
  parts.push(universal(Type.OCTETSTRING, asn1.toDer(value).getBytes()));
  return sequence(parts);
}

function keyUsage(bits: number): Node {
  let unused = 0;
  while (unused < 7 && (bits & (1 << unused)) === 0) unused++;
  return bitString(Buffer.from([bits]), unused);
}

/** The subject of a DER certificate, as DER nodes, to become another certificate's issuer. */
function subjectOf(certPem: string): Node {
  const tbs = (fromDer(new X509Certificate(certPem).raw).value as Node[])[0]!.value as Node[];
  const hasVersion = tbs[0]!.tagClass === Class.CONTEXT_SPECIFIC;
  return tbs[hasVersion ? 5 : 4]!;
}

/**
 * An X.509 v3 certificate for `names`, signed by `issuer` or self-signed. The key is ECDSA
 * P-256 unless one is given; the signature is SHA-256 with whatever the signing key is.
 */
export function issueCertificate(options: IssueOptions): IssuedCertificate {
  const keyPem = options.keyPem ?? generateEcKeyPem();
  const spkiDer = createPublicKey(createPrivateKey(keyPem)).export({ type: "spki", format: "der" });
  const spki = fromDer(spkiDer);
  const publicKeyBits = Buffer.from(((spki.value as Node[])[1]!.value as string).slice(1), "binary");
  const isEc = createPrivateKey(keyPem).asymmetricKeyType === "ec";

  const signingKey = createPrivateKey(options.issuer?.keyPem ?? keyPem);
  const signatureAlgorithm =
    signingKey.asymmetricKeyType === "ec"
      ? sequence([oid(OID.ecdsaWithSha256)])
      : sequence([oid(OID.sha256WithRSAEncryption), universal(Type.NULL, "")]);

  // Positive, 16 bytes, no leading zero nibble, so hex round-trips exactly.
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x10;
  const now = Date.now();
  const subject = name(options.commonName ?? options.names[0] ?? "localhost", options.organization);

  const extensions = [
    extension(OID.basicConstraints, sequence(options.isCa ? [universal(Type.BOOLEAN, "\xff")] : []), true),
    extension(
      OID.keyUsage,
      keyUsage(
        options.isCa
          ? KEY_USAGE.keyCertSign | KEY_USAGE.cRLSign
          : KEY_USAGE.digitalSignature | (isEc ? 0 : KEY_USAGE.keyEncipherment),
      ),
      true,
    ),
    extension(OID.subjectKeyIdentifier, universal(Type.OCTETSTRING, bytes(createHash("sha1").update(publicKeyBits).digest()))),
  ];
  if (!options.isCa) extensions.push(extension(OID.extKeyUsage, sequence([oid(OID.serverAuth), oid(OID.clientAuth)])));
  if (options.names.length > 0) {
    const dnsNames = options.names.map((value) => asn1.create(Class.CONTEXT_SPECIFIC, 2, false, value));
    extensions.push(extension(OID.subjectAltName, sequence(dnsNames)));
  }

  const tbs = sequence([
    asn1.create(Class.CONTEXT_SPECIFIC, 0, true, [universal(Type.INTEGER, "\x02")]),
    universal(Type.INTEGER, bytes(serial)),
    signatureAlgorithm,
    options.issuer ? subjectOf(options.issuer.certPem) : subject,
    sequence([time(options.notBefore ?? new Date(now - DAY_MS)), time(options.notAfter ?? new Date(now + 90 * DAY_MS))]),
    subject,
    spki,
    asn1.create(Class.CONTEXT_SPECIFIC, 3, true, [sequence(extensions)]),
  ]);
  const signature = sign("sha256", toDer(tbs), signingKey);
  const certDer = toDer(sequence([tbs, signatureAlgorithm, bitString(signature)]));

  return {
    certPem: new X509Certificate(certDer).toString(),
    keyPem,
    serial: serial.toString("hex").toUpperCase(),
  };
}
