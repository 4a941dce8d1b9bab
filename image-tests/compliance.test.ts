import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMPLIANCE_CHECKS, runComplianceChecks, type ComplianceResult } from "../test-support/xmpp/compliance-checks.js";
import { DOMAIN, startServicesServer, type ServicesServer } from "../test-support/services-server.js";

describe("the Conversations Compliance Tester's 21 checks, re-implemented", () => {
  let server: ServicesServer;

  beforeAll(async () => {
    // Every service at its default: what `docker run -e XMPP_DOMAINS=example.org` gives.
    server = await startServicesServer();
    await server.addUser("tester");
  });
  afterAll(async () => {
    await server?.[Symbol.asyncDispose]();
  });

  it("should pass all 21, STUN and TURN (with credentials) included", async () => {
    await using client = await server.connect("tester");
    const results = await runComplianceChecks({ client, domain: DOMAIN, directTls: { port: server.appliance.port(5223), caPem: server.caPem } });
    const failing = results.filter((result) => !result.passed).map((result) => result.name);
    // On a mismatch, the message lists what the server answered for every failing check.
    expect(failing, results.filter((result) => !result.passed).map(explain).join("\n")).toEqual([]);
    expect(results.filter((result) => result.passed)).toHaveLength(COMPLIANCE_CHECKS.length);
    expect(COMPLIANCE_CHECKS).toHaveLength(21);
  });
});

function explain(result: ComplianceResult): string {
  return `${result.name}: ${result.evidence}`;
}
