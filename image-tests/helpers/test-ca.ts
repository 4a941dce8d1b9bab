import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { issueCertificate, type IssuedCertificate } from "../../entrypoint/certificates/issue-certificate.js";

export interface LeafOptions {
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
  /** The root certificate, written to a temporary file (e.g. for NODE_EXTRA_CA_CERTS or a mount). */
  rootPemPath: string;
  issueLeaf(names: string[], options?: LeafOptions): IssuedLeaf;
  /** Removes the temporary directory holding `rootPemPath`. */
  dispose(): void;
}

const YEAR_MS = 365 * 86_400_000;

export function createTestCa(label = "prosody-appliance test"): TestCa {
  const caValidity = { notBefore: new Date(Date.now() - YEAR_MS), notAfter: new Date(Date.now() + 10 * YEAR_MS) };
  const root = issueCertificate({
    names: [],
    isCa: true,
    commonName: `${label} root CA`,
    organization: label,
    ...caValidity,
  });
  const intermediate = issueCertificate({
    names: [],
    isCa: true,
    commonName: `${label} intermediate CA`,
    organization: label,
    issuer: root,
    ...caValidity,
  });

  const directory = mkdtempSync(join(tmpdir(), "test-ca-"));
  const rootPemPath = join(directory, "root.pem");
  writeFileSync(rootPemPath, root.certPem, { mode: 0o644 });

  return {
    root,
    intermediate,
    rootPemPath,
    issueLeaf(names, options = {}) {
      const leaf = issueCertificate({ names, issuer: intermediate, ...options });
      return {
        ...leaf,
        chainPem: intermediate.certPem,
        fullchainPem: leaf.certPem + intermediate.certPem,
      };
    },
    dispose() {
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

