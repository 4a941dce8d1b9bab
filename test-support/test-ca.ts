import { issueCertificate, type IssuedCertificate } from "../entrypoint/certificates/issue-certificate.js";

export interface LeafOptions {
  /** Subject CN; default the first name. */
  commonName?: string;
  notBefore?: Date;
  notAfter?: Date;
  /** Reuse a key (PEM), e.g. to renew with the same key as certbot's `--reuse-key`. */
  keyPem?: string;
}

/** A leaf signed by the intermediate, with the files certbot would write for it. */
export interface IssuedLeaf extends IssuedCertificate {
  /** The intermediate only: what certbot writes to `chain.pem`. */
  chainPem: string;
  /** Leaf then intermediate: what certbot writes to `fullchain.pem`. */
  fullchainPem: string;
}

/**
 * Root -> intermediate -> leaves, like Let's Encrypt. Clients are given only the root, so a
 * server that sends the leaf without the intermediate fails verification, as it would in the
 * wild.
 */
export interface TestCa {
  root: IssuedCertificate;
  intermediate: IssuedCertificate;
  issueLeaf(names: string[], options?: LeafOptions): IssuedLeaf;
}

/** What the CA's certificates are called: each run's own label, or fixed names a test expects. */
export interface TestCaNames {
  root: string;
  intermediate: string;
  organization?: string;
}

const YEAR_MS = 365 * 86_400_000;

export function createTestCa(
  label = "prosody-appliance test",
  names: TestCaNames = { root: `${label} root CA`, intermediate: `${label} intermediate CA`, organization: label },
): TestCa {
  const caValidity = { notBefore: new Date(Date.now() - YEAR_MS), notAfter: new Date(Date.now() + 10 * YEAR_MS) };
  const organization = names.organization ? { organization: names.organization } : {};
  const root = issueCertificate({ names: [], isCa: true, commonName: names.root, ...organization, ...caValidity });
  const intermediate = issueCertificate({
    names: [],
    isCa: true,
    commonName: names.intermediate,
    ...organization,
    issuer: root,
    ...caValidity,
  });

  return {
    root,
    intermediate,
    issueLeaf(leafNames, options = {}) {
      const leaf = issueCertificate({ names: leafNames, issuer: intermediate, ...options });
      return {
        ...leaf,
        chainPem: intermediate.certPem,
        fullchainPem: leaf.certPem + intermediate.certPem,
      };
    },
  };
}

// RSA key generation dominates the cost of unit-test fixtures: those tests share one CA.
let shared: TestCa | undefined;

/** One CA per test process, named as the unit tests' expectations say. Never disposed. */
export function sharedTestCa(): TestCa {
  shared ??= createTestCa("Test", { root: "Test Root CA", intermediate: "Test Intermediate R1" });
  return shared;
}

/** A leaf from the shared CA, for unit tests. */
export function issueLeaf({ names, ...options }: LeafOptions & { names: string[] }): IssuedLeaf {
  return sharedTestCa().issueLeaf(names, options);
}
