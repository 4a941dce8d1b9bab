import { describe, expect, it } from "vitest";
import { parseOpenMetrics, sampleOf } from "../../test-support/openmetrics.js";
import type { ServedCertificate } from "../certificates/resolve-certificates.js";
import { renderApplianceMetrics } from "./appliance-metrics.js";

const served = (name: string, serial: string, source: ServedCertificate["source"], notAfter: string): [string, ServedCertificate] => [
  name,
  { name, serial, source, notAfter: new Date(notAfter), fingerprint256: "", files: { certPath: "", keyPath: "" } },
];

describe("renderApplianceMetrics", () => {
  it("should give every name its expiry, serial, source and renewal counts, in strict OpenMetrics", () => {
    const text = renderApplianceMetrics({
      served: new Map([served("example.org", "0A1B", "mounted", "2027-01-02T03:04:05.000Z"), served('we"ird\\name', "FF", "self-signed", "2026-12-31T00:00:00.500Z")]),
      outcomes: new Map([["example.org", { done: 2, refused: 1, rolled_back: 0 }]]),
      turnUp: () => false,
      prosodyUp: true,
    });
    const families = parseOpenMetrics(`${text}# EOF\n`);

    expect(sampleOf(families, "appliance_certificate_expiry_timestamp_seconds", { name: "example.org" }).value).toBe(Date.parse("2027-01-02T03:04:05Z") / 1000);
    expect(sampleOf(families, "appliance_certificate_expiry_timestamp_seconds", { name: 'we"ird\\name' }).value).toBe(Date.parse("2026-12-31T00:00:00.5Z") / 1000);
    expect(sampleOf(families, "appliance_certificate", { name: "example.org" }).labels).toEqual({ name: "example.org", serial: "0A1B", source: "mounted" });
    expect(sampleOf(families, "appliance_certificate", { name: 'we"ird\\name' }).labels.source).toBe("self-signed");
    expect(families.get("appliance_certificate_renewals")!.samples.filter((s) => s.labels.name === "example.org").map((s) => `${s.labels.outcome} ${s.value}`)).toEqual([
      "done 2",
      "refused 1",
      "rolled_back 0",
    ]);
    expect(sampleOf(families, "appliance_certificate_renewals", { name: 'we"ird\\name', outcome: "done" }).value).toBe(0);
    expect(sampleOf(families, "appliance_turn_up").value).toBe(0);
    expect(sampleOf(families, "appliance_prosody_metrics_up").value).toBe(1);
    expect(families.has("appliance_database_up")).toBe(false); // file storage: no database to be up
  });

  it.each([
    [true, 1],
    [false, 0],
  ])("should say whether the SQL database answered (%s -> %d)", (databaseUp, value) => {
    const families = parseOpenMetrics(`${renderApplianceMetrics({ served: new Map(), outcomes: new Map(), prosodyUp: true, databaseUp })}# EOF\n`);
    expect(sampleOf(families, "appliance_database_up").value).toBe(value);
  });

  it("should leave TURN out when there is no built-in TURN server", () => {
    const families = parseOpenMetrics(`${renderApplianceMetrics({ served: new Map(), outcomes: new Map(), prosodyUp: false })}# EOF\n`);
    expect(families.has("appliance_turn_up")).toBe(false);
    expect(sampleOf(families, "appliance_prosody_metrics_up").value).toBe(0);
  });
});

describe("parseOpenMetrics (test-support), strict", () => {
  it.each([
    ["a counter sample without _total", "# TYPE x counter\nx 1\n# EOF\n", /x is not a sample of the family before it/],
    ["no # EOF", "# TYPE x gauge\nx 1\n", /not "# EOF"/],
    ["a split family", "# TYPE x gauge\nx 1\n# TYPE y gauge\ny 1\n# TYPE x gauge\n# EOF\n", /family x is split/],
    ["an unquoted label", '# TYPE x gauge\nx{a=b} 1\n# EOF\n', /bad label/],
    ["a value that is no number", "# TYPE x gauge\nx one\n# EOF\n", /is not a number/],
    ["a unit the name does not end with", "# TYPE x_bytes gauge\n# UNIT x_bytes seconds\n# EOF\n", /does not end with its unit/],
  ])("should refuse %s", (_, text, error) => {
    expect(() => parseOpenMetrics(text)).toThrow(error);
  });
});
