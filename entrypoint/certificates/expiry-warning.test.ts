import { describe, expect, it } from "vitest";
import { expiryWarningDue } from "./expiry-warning.js";
import type { ServedCertificate } from "./resolve-certificates.js";

const DAY_MS = 86_400_000;
const now = new Date("2026-11-24T12:00:00Z");

function expiringIn(days: number, fingerprint256 = "AA"): ServedCertificate {
  return {
    name: "example.org",
    files: { certPath: "/c", keyPath: "/k" },
    source: "mounted",
    serial: "01",
    fingerprint256,
    notAfter: new Date(now.getTime() + days * DAY_MS),
  };
}

describe("expiryWarningDue", () => {
  it("should say nothing while more than 30 days are left", () => {
    expect(expiryWarningDue(expiringIn(45), now, new Map())).toBeUndefined();
  });

  it("should warn once at each of 30, 14 and 7 days", () => {
    const warned = new Map<string, number>();
    expect(expiryWarningDue(expiringIn(29), now, warned)).toBe(30);
    expect(expiryWarningDue(expiringIn(20), now, warned)).toBeUndefined();
    expect(expiryWarningDue(expiringIn(13), now, warned)).toBe(14);
    expect(expiryWarningDue(expiringIn(6), now, warned)).toBe(7);
    expect(expiryWarningDue(expiringIn(2), now, warned)).toBeUndefined();
  });

  it("should start over for a renewed certificate", () => {
    const warned = new Map<string, number>();
    expect(expiryWarningDue(expiringIn(10, "OLD"), now, warned)).toBe(14);
    expect(expiryWarningDue(expiringIn(25, "NEW"), now, warned)).toBe(30);
  });
});
