import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAppliance, type Appliance } from "./helpers/appliance.js";
import { letsEncryptFixture, type LetsEncryptFixture } from "./helpers/lets-encrypt-fixture.js";
import { untilServedEverywhere } from "./helpers/served-everywhere.js";
import { httpsRequest } from "../test-support/https-request.js";
import { sampleOf } from "../test-support/openmetrics.js";
import { METRICS_PORT, metrics, scrape } from "./helpers/scrape-metrics.js";
import { waitFor } from "../test-support/wait-for.js";
import { connectClient } from "../test-support/xmpp/connect-client.js";
import { servedCertificate } from "../test-support/xmpp/served-certificate.js";

const DOMAIN = "example.org";
let le: LetsEncryptFixture;
let open: Appliance;
let restricted: Appliance;

beforeAll(async () => {
  // One certificate for the domain only: its conference., upload. and proxy. names are self-signed.
  le = letsEncryptFixture([{ name: DOMAIN, names: [DOMAIN] }]);
  [open, restricted] = await Promise.all([
    startAppliance({ env: { XMPP_METRICS: `0.0.0.0:${METRICS_PORT}` }, binds: [le.bind], extraPorts: [METRICS_PORT] }),
    startAppliance({ env: { XMPP_METRICS: `0.0.0.0:${METRICS_PORT}`, XMPP_METRICS_ALLOW: "192.0.2.0/24" }, binds: [le.bind], extraPorts: [METRICS_PORT] }),
  ]);
});
afterAll(async () => {
  await Promise.all([open?.[Symbol.asyncDispose](), restricted?.[Symbol.asyncDispose]()]);
  le?.[Symbol.dispose]();
});

describe("XMPP_METRICS", () => {
  it("should show each name's served certificate: expiry, serial and source, and count a renewal", async () => {
    const served = await servedCertificate({ port: open.port(5223), mode: "direct-tls", domain: DOMAIN, sni: true });
    const before = await metrics(open);
    expect(sampleOf(before, "appliance_certificate_expiry_timestamp_seconds", { name: DOMAIN }).value).toBe(Date.parse(served.validTo) / 1000);
    expect(sampleOf(before, "appliance_certificate", { name: DOMAIN }).labels).toEqual({ name: DOMAIN, serial: served.serial, source: "mounted" });
    expect(sampleOf(before, "appliance_certificate", { name: `conference.${DOMAIN}` }).labels.source).toBe("self-signed");
    expect(sampleOf(before, "appliance_certificate_renewals", { name: DOMAIN, outcome: "done" }).value).toBe(0);
    expect(sampleOf(before, "appliance_turn_up").value).toBe(1);

    const renewed = await le.tree.renew(DOMAIN);
    await untilServedEverywhere(open, DOMAIN, renewed.serial, 8_000);
    // Listeners serve it a moment before every one of them has been verified and the renewal kept.
    await waitFor("the renewal to be kept", async () => (await open.logs()).includes(`certificate for ${DOMAIN} renewed: serial`));
    const now = await servedCertificate({ port: open.port(5223), mode: "direct-tls", domain: DOMAIN, sni: true });
    const after = await metrics(open);
    expect(sampleOf(after, "appliance_certificate", { name: DOMAIN }).labels.serial).toBe(renewed.serial);
    expect(sampleOf(after, "appliance_certificate_expiry_timestamp_seconds", { name: DOMAIN }).value).toBe(Date.parse(now.validTo) / 1000);
    expect(sampleOf(after, "appliance_certificate_renewals", { name: DOMAIN, outcome: "done" }).value).toBe(1);
    expect(sampleOf(after, "appliance_certificate_renewals", { name: DOMAIN, outcome: "refused" }).value).toBe(0);
  });

  it("should include Prosody's own OpenMetrics, which count a logged-in client", async () => {
    const added = await open.exec(["prosodyctl", "adduser", `alice@${DOMAIN}`], { stdin: "pw-alice\npw-alice\n" });
    expect(added.exitCode, added.stdout + added.stderr).toBe(0);
    await using alice = await connectClient({ port: open.port(5222), mode: "starttls", domain: DOMAIN, username: "alice", password: "pw-alice", caPem: le.ca.root.certPem });
    expect(alice.jid).toContain(`alice@${DOMAIN}`);
    const families = await metrics(open);
    expect(sampleOf(families, "appliance_prosody_metrics_up").value).toBe(1);
    expect(families.has("appliance_database_up")).toBe(false); // file storage: no database to watch
    const prosodyFamilies = [...families.keys()].filter((name) => name.startsWith("prosody_"));
    expect(prosodyFamilies.length).toBeGreaterThan(5);
    // Prosody's gauge of established client sessions, by host, type and IP family: alice's is the one.
    const c2s = families.get("prosody_mod_c2s__connections")?.samples ?? [];
    const sessions = c2s.filter((s) => s.labels.host === DOMAIN && s.labels.type === "c2s").reduce((sum, s) => sum + s.value, 0);
    expect(sessions, JSON.stringify(c2s)).toBe(1);
  });

  it("should refuse a scraper outside XMPP_METRICS_ALLOW, and Prosody's endpoint answers no one on the public HTTPS port", async () => {
    const refused = await scrape(restricted);
    expect([refused.status, refused.body]).toEqual([403, "403 not in XMPP_METRICS_ALLOW\n"]);
    const viaHttps = await httpsRequest(`https://${DOMAIN}:5281/metrics`, { caPem: le.ca.root.certPem, portMap: { 5281: open.port(5281) } });
    expect(viaHttps.status).toBe(403);
  });
});
