import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LISTENERS } from "../entrypoint/listeners.js";
import type { SecureMode } from "../entrypoint/xmpp-wire.js";
import { startAppliance, type Appliance } from "./helpers/appliance.js";
import { letsEncryptFixture } from "./helpers/lets-encrypt-fixture.js";
import { assertTestsslInstalled, intermediateProfileProblems, testssl, type TestsslFinding } from "./helpers/testssl.js";
import { servedCertificate } from "../test-support/xmpp/served-certificate.js";

/** The test CA's certificates are RSA: RSA key transport could be offered, so its absence means something. */
const DOMAIN = "example.org";
const fixture = letsEncryptFixture([{ name: DOMAIN, names: [DOMAIN, `conference.${DOMAIN}`, `upload.${DOMAIN}`] }]);

afterAll(() => fixture[Symbol.dispose]());

describe("TLS profile modern", () => {
  let modern: Appliance;
  beforeAll(async () => {
    modern = await startAppliance({ binds: [fixture.bind], env: { XMPP_TLS_PROFILE: "modern" } });
  });
  afterAll(() => modern?.dispose());

  const listeners: Array<[string, number, SecureMode]> = [
    ["5222 STARTTLS", LISTENERS.c2s, "starttls"],
    ["5223 direct TLS", LISTENERS.c2sDirectTls, "direct-tls"],
    ["5269 s2s STARTTLS", LISTENERS.s2s, "s2s-starttls"],
    ["5281 HTTPS", LISTENERS.https, "direct-tls"],
  ];

  const handshake = (port: number, mode: SecureMode, version: "TLSv1.2" | "TLSv1.3") =>
    servedCertificate({ port: modern.port(port), mode, domain: "example.org", sni: true, caPem: fixture.ca.root.certPem, versions: { minVersion: version, maxVersion: version } });

  it.each(listeners)("should refuse TLS 1.2 and accept TLS 1.3 on %s, with the mounted certificate", async (_name, port, mode) => {
    await expect(handshake(port, mode, "TLSv1.2")).rejects.toThrow(/protocol version|handshake failure|alert/i);
    const served = await handshake(port, mode, "TLSv1.3");
    expect({ tlsVersion: served.tlsVersion, authorized: served.authorized }).toEqual({ tlsVersion: "TLSv1.3", authorized: true });
  });

  it("should offer no TLS on 5349, whose coturn cannot speak TLS 1.3, and say so at start", async () => {
    await expect(handshake(LISTENERS.turns, "direct-tls", "TLSv1.2")).rejects.toThrow();
    await expect(handshake(LISTENERS.turns, "direct-tls", "TLSv1.3")).rejects.toThrow();
    expect(await modern.logs()).toContain(
      "XMPP_TLS_PROFILE=modern: the built-in TURN server (coturn 4.6.1) speaks TLS 1.2 at most, so it offers no TURNS on 5349; calls use TURN over UDP and TCP on 3478.",
    );
  });
});

describe("TLS profile intermediate (the default), as testssl.sh sees it", () => {
  let appliance: Appliance;
  const findings = new Map<number, TestsslFinding[]>();

  // testssl.sh is slow (a shell script, thousands of forks): one scan per port, all at once.
  beforeAll(async () => {
    await assertTestsslInstalled();
    appliance = await startAppliance({ binds: [fixture.bind] });
    const scans = [{ port: LISTENERS.c2s, xmppHost: DOMAIN }, { port: LISTENERS.c2sDirectTls }, { port: LISTENERS.https }, { port: LISTENERS.turns }];
    await Promise.all(scans.map(async ({ port, xmppHost }) => findings.set(port, await testssl(appliance.port(port), xmppHost ? { xmppHost } : {}))));
  }, 1_200_000);
  afterAll(() => appliance?.dispose());

  it.each([
    ["5222 STARTTLS", LISTENERS.c2s, "offered with final"],
    ["5223 direct TLS", LISTENERS.c2sDirectTls, "offered with final"],
    ["5281 HTTPS", LISTENERS.https, "offered with final"],
    // Debian trixie's coturn 4.6.1 has no TLS 1.3.
    ["5349 TURNS", LISTENERS.turns, "not offered + downgraded to weaker protocol"],
  ])("should offer %s over TLS 1.2+ with forward-secret AEAD ciphers only, no vulnerability flagged", (_name, port, tls13) => {
    expect(intermediateProfileProblems(findings.get(port)!, tls13)).toEqual([]);
  });
});
