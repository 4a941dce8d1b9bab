import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const CERTIFICATE_NAMES_FILE = "certificate-names";

/**
 * Tells a certbot companion which names to issue for: `<dir>/certificate-names`, one name a line,
 * the primary domain first (certbot's --cert-name). Replaced whole by a rename, so a reader never
 * sees half a list; written at every start, so a changed setting reaches certbot.
 */
export function writeCertificateRequest(dir: string, names: readonly string[]): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, CERTIFICATE_NAMES_FILE);
  const temporary = `${path}.tmp`;
  writeFileSync(temporary, names.map((name) => `${name}\n`).join(""), { mode: 0o644 });
  renameSync(temporary, path);
  return path;
}
