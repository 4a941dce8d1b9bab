import { certificateNames } from "../entrypoint/certificate-names.js";
import { loadSettings } from "../entrypoint/settings.js";
import { createCertbotTree, type CertbotTree } from "../test-support/certbot-tree.js";
import { createTestCa, type TestCa } from "../test-support/test-ca.js";
import { BENCH_DOMAIN } from "./bench-containers.js";
import { PROSODY_IDS } from "./prosody-accounts.js";

export interface CertificateFixture {
  ca: TestCa;
  /** The only trust anchor the bench's clients accept. */
  caPem: string;
  tree: CertbotTree;
  /** The certbot lineage (live/<lineage>/) holding BENCH_DOMAIN's certificate. */
  lineage: string;
  dispose(): void;
}

/**
 * A test CA and a certbot-style /etc/letsencrypt for BENCH_DOMAIN, group-readable by the
 * prosody group (certbot's documented fix), so the baseline's Prosody can read the key too. One
 * certificate names every name the appliance serves by default (the domain and its services'
 * names), as certbot's would: no start spends time on a self-signed fallback.
 */
export function createCertificateFixture(ca = createTestCa("prosody-appliance bench")): CertificateFixture {
  const names = [...certificateNames(loadSettings({ XMPP_DOMAINS: BENCH_DOMAIN }))];
  const tree = createCertbotTree(ca, [{ name: BENCH_DOMAIN, names }]);
  tree.applyGroupFix(PROSODY_IDS.gid);
  return {
    ca,
    caPem: ca.root.certPem,
    tree,
    lineage: BENCH_DOMAIN,
    dispose: () => tree.dispose(),
  };
}
