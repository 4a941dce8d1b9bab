import { createCertbotTree, type CertbotTree } from "../../test-support/certbot-tree.js";
import { createTestCa, type TestCa } from "../../test-support/test-ca.js";

export interface LetsEncryptFixture extends Disposable {
  ca: TestCa;
  tree: CertbotTree;
  /** The bind mount that puts the tree where certbot's would be. */
  bind: string;
}

/** A test CA and a certbot tree for the given domains, with certbot's own modes (root-only keys). */
export function letsEncryptFixture(lineages: Array<{ name: string; names: string[] }>, options: { readOnly?: boolean } = {}): LetsEncryptFixture {
  const ca = createTestCa();
  const tree = createCertbotTree(ca, lineages);
  const dispose = () => tree.dispose();
  return {
    ca,
    tree,
    bind: `${tree.root}:/etc/letsencrypt${options.readOnly === false ? "" : ":ro"}`,
    [Symbol.dispose]: dispose,
  };
}
