import { daysLeft } from "./check-certificate.js";
import type { ServedCertificate } from "./resolve-certificates.js";

export const EXPIRY_WARNING_DAYS = [30, 14, 7] as const;

/**
 * The warning threshold (30, 14 or 7 days) a certificate has newly crossed, if any. `warned`
 * remembers, per fingerprint, the last threshold said, so each is said once.
 */
export function expiryWarningDue(cert: ServedCertificate, now: Date, warned: Map<string, number>): number | undefined {
  const left = daysLeft(cert, now);
  const threshold = [...EXPIRY_WARNING_DAYS].reverse().find((days) => left <= days);
  if (threshold === undefined || warned.get(cert.fingerprint256) === threshold) return undefined;
  warned.set(cert.fingerprint256, threshold);
  return threshold;
}
