import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { generateRsaKeyPem } from "../entrypoint/certificates/issue-certificate.js";
import { sleep } from "./wait-for.js";
import type { IssuedLeaf, TestCa } from "./test-ca.js";

/** certbot's ALL_FOUR, in the order it re-points them. */
export const PEM_KINDS = ["cert", "privkey", "chain", "fullchain"] as const;
export type PemKind = (typeof PEM_KINDS)[number];

export interface LineageSpec {
  /** Directory name under live/ and archive/, e.g. "example.org" or "example.org-0001". */
  name: string;
  /** DNS names on the certificate; wildcards allowed. */
  names: string[];
}

export type RenewalVariant = "good" | "mismatched-key" | "expired" | "truncated";

/**
 * "certbot" does what certbot's storage.py does: previous_*.pem recovery links, then per link
 * `unlink` + `symlink` (a link is briefly missing), then the recovery links are removed.
 * "atomic-rename" replaces each link with rename(2) of a fresh symlink instead.
 */
export type LinkUpdateStyle = "certbot" | "atomic-rename";

export interface RenewOptions {
  variant?: RenewalVariant;
  /** Pause between re-pointing one live/ link and the next. Default 50 ms. */
  delayMs?: number;
  /** certbot --reuse-key: privkeyN+1.pem is a symlink to the previous key file. */
  reuseKey?: boolean;
  linkUpdate?: LinkUpdateStyle;
}

export interface IssuanceResult {
  version: number;
  /** Serial of the new certificate (upper-case hex). */
  serial: string;
  /** For bad variants: the broken archive file, relative to the tree root. */
  badFile?: string;
}

export interface GroupFixOptions {
  /**
   * Mode for live/ and archive/. certbot's docs say 0755; 0750 is the stricter variant, in
   * which case the two directories are also given to the group.
   */
  dirMode?: number;
}

export interface CertbotTree {
  /** Host directory to bind-mount at /etc/letsencrypt. */
  root: string;
  /** Serial of the certificate the live/ links currently point to. */
  serial(lineage: string): string;
  /** N of the archive files the live/ links currently point to. */
  version(lineage: string): number;
  /** Host path of live/<lineage>/<kind>.pem. */
  livePath(lineage: string, kind: PemKind): string;
  /** A lineage appearing while the server runs, written in certbot's order (first issuance). */
  addLineage(spec: LineageSpec, options?: { delayMs?: number }): Promise<IssuanceResult>;
  /** Writes archive/<lineage>/*N+1.pem, then re-points the four live/ links one by one. */
  renew(lineage: string, options?: RenewOptions): Promise<IssuanceResult>;
  /**
   * certbot's documented fix for servers that drop root: chmod live/ and archive/, then
   * chgrp + chmod 0640 the current privkey (through the live/ link). certbot keeps the key's
   * group and group bits on renewal; lineages created later start out 0600 root again.
   */
  applyGroupFix(gid: number, options?: GroupFixOptions): void;
  dispose(): void;
}

export interface CertbotTreeOptions {
  /**
   * Where the tree is mounted in the container. certbot's previous_*.pem links are absolute,
   * so they are written as they would be inside the container.
   */
  mountPoint?: string;
}

/** Where live/<lineage>/<kind>.pem points: relative, as certbot links. */
const relativeArchiveTarget = (lineage: string, kind: PemKind, version: number) => `../../archive/${lineage}/${kind}${version}.pem`;

/**
 * One version of a lineage, written at once without a CA (for unit tests that bring their own
 * pair): archive/<lineage>/fullchainN.pem and privkeyN.pem, relative links in live/<lineage>/,
 * live/ and archive/ 0700, privkey 0600. createCertbotTree below writes whole trees in
 * certbot's order, with all four files, for image tests and the bench.
 */
export function writeCertbotLineage(
  letsencryptDir: string,
  lineage: string,
  pair: { fullchainPem: string; keyPem: string },
  version = 1,
): { certPath: string; keyPath: string } {
  const archive = join(letsencryptDir, "archive", lineage);
  const live = join(letsencryptDir, "live", lineage);
  mkdirSync(archive, { recursive: true });
  mkdirSync(live, { recursive: true });
  chmodSync(join(letsencryptDir, "archive"), 0o700);
  chmodSync(join(letsencryptDir, "live"), 0o700);
  writeFileWithMode(join(archive, `fullchain${version}.pem`), pair.fullchainPem, 0o644);
  writeFileWithMode(join(archive, `privkey${version}.pem`), pair.keyPem, BASE_PRIVKEY_MODE);
  const certPath = join(live, "fullchain.pem");
  const keyPath = join(live, "privkey.pem");
  rmSync(certPath, { force: true });
  rmSync(keyPath, { force: true });
  symlinkSync(relativeArchiveTarget(lineage, "fullchain", version), certPath);
  symlinkSync(relativeArchiveTarget(lineage, "privkey", version), keyPath);
  writeFileWithMode(join(letsencryptDir, "live", "README"), LIVE_README, 0o644);
  return { certPath, keyPath };
}

const DEFAULT_DELAY_MS = 50;
const DAY_MS = 86_400_000;
const BASE_PRIVKEY_MODE = 0o600;
// certbot's MASK_FOR_PRIVATE_KEY_PERMISSIONS: group rwx and other r survive a renewal.
const PRESERVED_PRIVKEY_BITS = 0o074;
const RUNNING_AS_ROOT = process.getuid?.() === 0;

interface LineageState {
  names: string[];
  version: number;
  serial: string;
}

export function createCertbotTree(
  ca: TestCa,
  lineages: LineageSpec[],
  { mountPoint = "/etc/letsencrypt" }: CertbotTreeOptions = {},
): CertbotTree {
  const root = mkdtempSync(join(tmpdir(), "letsencrypt-"));
  // mkdtemp makes 0700; the mount point must be traversable by the server's user.
  chmodSync(root, 0o755);
  const state = new Map<string, LineageState>();

  const archiveDir = (lineage: string) => join(root, "archive", lineage);
  const liveDir = (lineage: string) => join(root, "live", lineage);
  const archiveFile = (lineage: string, kind: PemKind, version: number) =>
    join(archiveDir(lineage), `${kind}${version}.pem`);
  const livePath = (lineage: string, kind: PemKind) => join(liveDir(lineage), `${kind}.pem`);

  function lineageState(lineage: string): LineageState {
    const found = state.get(lineage);
    if (!found) throw new Error(`No certbot lineage "${lineage}" in ${root}`);
    return found;
  }

  function ensureTopDirectories(): void {
    for (const top of ["live", "archive", "renewal"]) {
      const path = join(root, top);
      if (!existsSync(path)) {
        mkdirSync(path);
        chmodSync(path, 0o700);
      }
    }
    const readme = join(root, "live", "README");
    if (!existsSync(readme)) writeFileWithMode(readme, LIVE_README, 0o644);
  }

  /** certbot's new_lineage: dangling live/ links first, then the files written through them. */
  function newLineageSteps(spec: LineageSpec): { steps: Array<() => void>; serial: string } {
    if (state.has(spec.name)) throw new Error(`Lineage "${spec.name}" already exists in ${root}`);
    const leaf = ca.issueLeaf(spec.names);
    const contents = fileContents(leaf);
    const steps = [
      () => {
        ensureTopDirectories();
        for (const dir of [archiveDir(spec.name), liveDir(spec.name)]) {
          mkdirSync(dir);
          chmodSync(dir, 0o755);
        }
        for (const kind of PEM_KINDS) {
          symlinkSync(relativeArchiveTarget(spec.name, kind, 1), livePath(spec.name, kind));
        }
      },
      ...PEM_KINDS.map((kind) => () => {
        const mode = kind === "privkey" ? BASE_PRIVKEY_MODE : 0o644;
        writeFileWithMode(archiveFile(spec.name, kind, 1), contents[kind], mode);
      }),
      () => {
        writeFileWithMode(join(liveDir(spec.name), "README"), LINEAGE_README, 0o644);
        state.set(spec.name, { names: spec.names, version: 1, serial: leaf.serial });
      },
    ];
    return { steps, serial: leaf.serial };
  }

  async function addLineage(spec: LineageSpec, { delayMs = DEFAULT_DELAY_MS } = {}): Promise<IssuanceResult> {
    const { steps, serial } = newLineageSteps(spec);
    for (const [index, step] of steps.entries()) {
      if (index > 0) await pause(delayMs);
      step();
    }
    return { version: 1, serial };
  }

  async function renew(lineage: string, options: RenewOptions = {}): Promise<IssuanceResult> {
    const { variant = "good", delayMs = DEFAULT_DELAY_MS, reuseKey = false, linkUpdate = "certbot" } = options;
    const current = lineageState(lineage);
    const previous = current.version;
    const next = previous + 1;
    const previousKeyPath = archiveFile(lineage, "privkey", previous);

    const { leaf, writtenKeyPem, badKind } = issueForVariant(ca, current.names, variant, {
      reusedKeyPem: reuseKey ? readText(previousKeyPath) : undefined,
    });
    const contents = fileContents(leaf);
    if (badKind === "privkey") contents.privkey = writtenKeyPem;
    if (variant === "truncated") contents.fullchain = truncatePem(contents.fullchain);

    // certbot's save_successor: key first (keeping the old key's group), then the rest.
    const nextKeyPath = archiveFile(lineage, "privkey", next);
    if (reuseKey && badKind !== "privkey") {
      symlinkSync(readlinkOrSelf(previousKeyPath, `privkey${previous}.pem`), nextKeyPath);
    } else {
      writeFileWithMode(nextKeyPath, contents.privkey, BASE_PRIVKEY_MODE);
      const old = statSync(previousKeyPath);
      if (RUNNING_AS_ROOT) chownSync(nextKeyPath, 0, old.gid);
      chmodSync(nextKeyPath, BASE_PRIVKEY_MODE | (old.mode & PRESERVED_PRIVKEY_BITS));
    }
    for (const kind of ["cert", "chain", "fullchain"] as const) {
      writeFileWithMode(archiveFile(lineage, kind, next), contents[kind], 0o644);
    }

    if (linkUpdate === "certbot") {
      await relinkLikeCertbot(lineage, previous, next, delayMs);
    } else {
      await relinkAtomically(lineage, next, delayMs);
    }
    current.version = next;
    current.serial = leaf.serial;
    const result: IssuanceResult = { version: next, serial: leaf.serial };
    if (badKind) result.badFile = `archive/${lineage}/${badKind}${next}.pem`;
    return result;
  }

  async function relinkLikeCertbot(lineage: string, previous: number, next: number, delayMs: number) {
    const recoveryLinks = PEM_KINDS.map((kind) => join(liveDir(lineage), `previous_${kind}.pem`));
    PEM_KINDS.forEach((kind, index) => {
      symlinkSync(`${mountPoint}/archive/${lineage}/${kind}${previous}.pem`, recoveryLinks[index]!);
    });
    for (const [index, kind] of PEM_KINDS.entries()) {
      if (index > 0) await pause(delayMs);
      unlinkSync(livePath(lineage, kind));
      symlinkSync(relativeArchiveTarget(lineage, kind, next), livePath(lineage, kind));
    }
    await pause(delayMs);
    for (const link of recoveryLinks) unlinkSync(link);
  }

  async function relinkAtomically(lineage: string, next: number, delayMs: number) {
    for (const [index, kind] of PEM_KINDS.entries()) {
      if (index > 0) await pause(delayMs);
      // No "fullchain"/"privkey" in the name: Prosody would index such a file mid-renewal.
      const temporary = join(liveDir(lineage), ".relink.tmp");
      symlinkSync(relativeArchiveTarget(lineage, kind, next), temporary);
      renameSync(temporary, livePath(lineage, kind));
    }
  }

  function applyGroupFix(gid: number, { dirMode = 0o755 }: GroupFixOptions = {}): void {
    for (const top of ["live", "archive"]) {
      const path = join(root, top);
      if (dirMode !== 0o755) chownSync(path, 0, gid);
      chmodSync(path, dirMode);
    }
    for (const lineage of state.keys()) {
      // chown/chmod follow the live/ link to the current archive key, as in the docs.
      chownSync(livePath(lineage, "privkey"), 0, gid);
      chmodSync(livePath(lineage, "privkey"), 0o640);
    }
  }

  const tree: CertbotTree = {
    root,
    serial: (lineage) => lineageState(lineage).serial,
    version: (lineage) => lineageState(lineage).version,
    livePath,
    addLineage,
    renew,
    applyGroupFix,
    dispose() {
      rmSync(root, { recursive: true, force: true });
    },
  };

  ensureTopDirectories();
  // Set up before the server starts: nothing to race with, so no pauses.
  for (const spec of lineages) {
    for (const step of newLineageSteps(spec).steps) step();
  }
  return tree;
}

function issueForVariant(
  ca: TestCa,
  names: string[],
  variant: RenewalVariant,
  { reusedKeyPem }: { reusedKeyPem: string | undefined },
): { leaf: IssuedLeaf; writtenKeyPem: string; badKind?: PemKind } {
  switch (variant) {
    case "good": {
      const leaf = ca.issueLeaf(names, { keyPem: reusedKeyPem });
      return { leaf, writtenKeyPem: leaf.keyPem };
    }
    case "mismatched-key": {
      const leaf = ca.issueLeaf(names);
      return { leaf, writtenKeyPem: generateRsaKeyPem(), badKind: "privkey" };
    }
    case "expired": {
      const now = Date.now();
      const leaf = ca.issueLeaf(names, {
        keyPem: reusedKeyPem,
        notBefore: new Date(now - 91 * DAY_MS),
        notAfter: new Date(now - DAY_MS),
      });
      return { leaf, writtenKeyPem: leaf.keyPem, badKind: "fullchain" };
    }
    case "truncated": {
      const leaf = ca.issueLeaf(names, { keyPem: reusedKeyPem });
      return { leaf, writtenKeyPem: leaf.keyPem, badKind: "fullchain" };
    }
  }
}

function fileContents(leaf: IssuedLeaf): Record<PemKind, string> {
  return { cert: leaf.certPem, privkey: leaf.keyPem, chain: leaf.chainPem, fullchain: leaf.fullchainPem };
}

/** Cut inside the leaf's base64, as a disk-full or interrupted copy would. */
function truncatePem(pem: string): string {
  return pem.slice(0, Math.floor(pem.indexOf("-----END") / 2));
}

function writeFileWithMode(path: string, content: string, mode: number): void {
  writeFileSync(path, content, { mode });
  chmodSync(path, mode); // the umask may have trimmed the creation mode
}

function readText(path: string): string {
  return readFileSync(path, "utf8");
}

function readlinkOrSelf(path: string, self: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return self;
  }
}

function pause(ms: number): Promise<void> {
  return ms > 0 ? sleep(ms) : Promise.resolve();
}

// certbot leaves README files next to the links; the appliance must skip them. Our own words.
const LIVE_README = "Test tree laid out like certbot's: one directory of links per lineage.\n";
const LINEAGE_README = "Links to the current files of this lineage in ../../archive.\n";
