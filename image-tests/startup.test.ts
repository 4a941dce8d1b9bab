import { describe, expect, it } from "vitest";
import { startAppliance, waitUntilReady } from "./helpers/appliance.js";
import { containerStreams } from "../test-support/container-exec.js";
import { waitFor } from "../test-support/wait-for.js";
import { servedCertificate } from "../test-support/xmpp/served-certificate.js";
import { starttlsOffered } from "../test-support/xmpp/starttls-offered.js";

describe("a container started with only XMPP_DOMAINS", () => {
  it("should serve TLS on 5222 (STARTTLS) and 5223 (direct TLS) with a certificate for the domain", async () => {
    await using appliance = await startAppliance({ env: { XMPP_DOMAINS: "example.org" } });

    expect(await starttlsOffered({ port: appliance.port(5222), domain: "example.org" })).toBe(true);
    const starttls = await servedCertificate({ port: appliance.port(5222), mode: "starttls", domain: "example.org", sni: true });
    const direct = await servedCertificate({ port: appliance.port(5223), mode: "direct-tls", domain: "example.org", sni: true });
    const directNoSni = await servedCertificate({ port: appliance.port(5223), mode: "direct-tls", domain: "example.org", sni: false });
    for (const served of [starttls, direct, directNoSni]) {
      expect(served.subjectAltName).toContain("DNS:example.org");
      expect(served.tlsVersion).toMatch(/^TLSv1\.[23]$/);
    }
    expect(direct.serial).toBe(starttls.serial);
    expect(directNoSni.serial).toBe(starttls.serial);
  });

  it("should log one line per startup step with its duration, and warn loudly about the self-signed certificate", async () => {
    await using appliance = await startAppliance({ env: { XMPP_DOMAINS: "example.org" } });
    // The last step comes after Prosody serves (and so after the health check passes).
    const logs = await waitFor("the last startup step, watch certificates", async () => {
      const all = await appliance.logs();
      return all.includes("appliance info  watch certificates") && all;
    });
    // The entrypoint's own lines come first, on each stream: no warning from Node that a user
    // cannot act on. (Docker may put a stderr line before a stdout line written earlier.)
    const streams = await containerStreams(appliance.container);
    expect(streams.stdout.split("\n")[0]).toMatch(/^appliance info  entrypoint loaded \(\d+ ms after Node started\)$/);
    expect(streams.stderr.split("\n")[0]).toMatch(/^appliance warn  /);
    for (const stepName of ["load settings", "detect IPv6", "find certificates", "check your conf.d", "prepare data volume", "certs group", "grant key access", "write Prosody config", "start Prosody", "wait for Prosody", "watch certificates"]) {
      expect(logs).toMatch(new RegExp(`appliance info  ${stepName}.* \\(\\d+ ms\\)`));
    }
    expect(logs).toContain(
      "WARNING: no valid certificate in /etc/letsencrypt covers example.org, conference.example.org, upload.example.org, proxy.example.org: serving a SELF-SIGNED certificate",
    );
    expect(logs.match(/WARNING: no valid certificate/g)).toHaveLength(1);
    expect(logs).toContain(
      "One certificate for every name this server uses: certbot certonly --standalone -d example.org -d conference.example.org -d upload.example.org -d proxy.example.org\n",
    );
    expect(logs).toContain("Hello and welcome to Prosody version 13");
  });

  it("should keep the self-signed certificate across restarts of the same container", async () => {
    await using appliance = await startAppliance({ env: { XMPP_DOMAINS: "example.org" } });
    const before = await servedCertificate({ port: appliance.port(5223), mode: "direct-tls", domain: "example.org", sni: true });
    await appliance.container.restart({ t: 5 });
    await waitUntilReady(appliance);
    const inspected = await appliance.container.inspect();
    const port = Number(inspected.NetworkSettings.Ports["5223/tcp"]?.[0]?.HostPort);
    const after = await servedCertificate({ port, mode: "direct-tls", domain: "example.org", sni: true });
    expect(after.serial).toBe(before.serial);
  });

  it("should write a config that prosodyctl check config passes, with no feature missing on any domain", async () => {
    await using appliance = await startAppliance({ env: { XMPP_DOMAINS: "example.org, example.net" } });
    const check = await appliance.exec(["prosodyctl", "check", "config"]);
    expect(check.stdout).toContain("All checks passed");
    expect(check.stdout).not.toMatch(/missing|\(!\)/i);
    expect(check.exitCode).toBe(0);
    expect((await appliance.exec(["prosodyctl", "check", "certs"])).exitCode).toBe(0);

    const features = await appliance.exec(["prosodyctl", "check", "features"]);
    expect(features.exitCode, features.stdout).toBe(0);
    expect(features.stdout).not.toContain("(!)");
    for (const domain of ["example.org", "example.net"]) {
      const report = features.stdout.slice(features.stdout.indexOf(`\n${domain}\n`));
      for (const feature of ["Basic functionality", "Multi-device messaging and data synchronization", "Mobile optimizations", "Web connections", "User profiles", "Blocking", "Push notifications", "File sharing", "Group chats"]) {
        expect(report, `${domain}: ${feature}`).toMatch(new RegExp(`\\tOK\\t${feature}\\n`));
      }
    }
  });

  it("should serve each name its certificate on HTTPS (5281), the primary's to clients without SNI", async () => {
    await using appliance = await startAppliance({ env: { XMPP_DOMAINS: "example.org, example.net" } });
    const on5281 = (domain: string, sni = true) => servedCertificate({ port: appliance.port(5281), mode: "direct-tls", domain, sni });
    const serials = new Set<string>();
    for (const name of ["example.org", "example.net", "upload.example.org", "upload.example.net", "conference.example.org"]) {
      const served = await on5281(name);
      // Each name has its own self-signed certificate, naming it first.
      expect(served.subjectAltName, name).toMatch(new RegExp(`^DNS:${name.replace(/\./g, "\\.")}(,|$)`));
      serials.add(served.serial);
      const onXmpp = await servedCertificate({ port: appliance.port(5269), mode: "s2s-starttls", domain: name, sni: true });
      expect(onXmpp.serial, `${name} on 5269 and 5281`).toBe(served.serial);
    }
    expect(serials.size).toBe(5);
    expect((await on5281("example.org", false)).subjectAltName).toMatch(/^DNS:example\.org(,|$)/);
  });

  it("should report healthy to Docker without logging a line per probe", async () => {
    await using appliance = await startAppliance({ env: { XMPP_DOMAINS: "example.org" } });
    // TURN and the watcher start once Prosody is healthy: their start is no probe's doing.
    await waitFor("the entrypoint's last step", async () => (await appliance.logs()).includes("appliance info  watch certificates"), { timeoutMs: 30_000 });
    const before = (await appliance.logs()).length;
    for (let i = 0; i < 5; i++) expect((await appliance.exec(["appliance-healthcheck"])).exitCode).toBe(0);
    const added = (await appliance.logs()).slice(before).split("\n").filter((line) => !line.startsWith("turn ")).join("\n");
    // Prosody's own periodic lines (cron) may land meanwhile; none may come from the probes.
    // (The upload component's cron lines say "http_file_share": that word alone is no probe.)
    // coturn's own start lines ("SQLite DB connection success") may still be arriving: left out.
    expect(added).not.toMatch(/health|\bGET\b|\bHTTP\/|connect|5280/i);
  });
});
