import { LISTENERS } from "../../entrypoint/listeners.js";
import { servedCertificate } from "../../test-support/xmpp/served-certificate.js";
import { waitFor } from "../../test-support/wait-for.js";
import type { Appliance } from "./appliance.js";

const PROBES = {
  "5222 STARTTLS": { port: LISTENERS.c2s, mode: "starttls", sni: true },
  "5223 direct TLS with SNI": { port: LISTENERS.c2sDirectTls, mode: "direct-tls", sni: true },
  "5223 direct TLS without SNI": { port: LISTENERS.c2sDirectTls, mode: "direct-tls", sni: false },
  "5269 s2s STARTTLS": { port: LISTENERS.s2s, mode: "s2s-starttls", sni: true },
  "5281 HTTPS with SNI": { port: LISTENERS.https, mode: "direct-tls", sni: true },
  "5281 HTTPS without SNI": { port: LISTENERS.https, mode: "direct-tls", sni: false },
  // The built-in TURN server (on by default) serves the primary domain's certificate.
  "5349 TURNS": { port: LISTENERS.turns, mode: "direct-tls", sni: true },
} as const;

/** The serial each listener serves for `domain`: every way a client, server or browser can ask. */
export async function servedEverywhere(appliance: Pick<Appliance, "port">, domain: string): Promise<Record<string, string>> {
  // All at once: one look at every listener, and quick enough to repeat while waiting.
  const entries = await Promise.all(
    Object.entries(PROBES).map(async ([label, probe]) => {
      const served = await servedCertificate({ port: appliance.port(probe.port), mode: probe.mode, domain, sni: probe.sni });
      return [label, served.serial] as const;
    }),
  );
  return Object.fromEntries(entries);
}

export function allServe(serial: string): Record<string, string> {
  return Object.fromEntries(Object.keys(PROBES).map((label) => [label, serial]));
}

/** The serial each service name of `domain` gets where other servers (5269) and browsers (5281) ask. */
export async function servedForServices(appliance: Appliance, domain: string): Promise<Record<string, string>> {
  const names = ["conference", "upload", "proxy"].map((sub) => `${sub}.${domain}`);
  const entries = await Promise.all(
    names.flatMap((name) => [
      servedCertificate({ port: appliance.port(LISTENERS.s2s), mode: "s2s-starttls", domain: name, sni: true }).then((c) => [`${name} 5269 s2s STARTTLS`, c.serial] as const),
      servedCertificate({ port: appliance.port(LISTENERS.https), mode: "direct-tls", domain: name, sni: true }).then((c) => [`${name} 5281 HTTPS`, c.serial] as const),
    ]),
  );
  return Object.fromEntries(entries);
}

/** Waits until every listener serves `serial` for `domain` (a renewal), failing with what each served last. */
export function untilServedEverywhere(appliance: Pick<Appliance, "port">, domain: string, serial: string, timeoutMs = 5_000): Promise<Record<string, string>> {
  return waitFor(`every listener to serve serial ${serial} for ${domain}`, async () => {
    const served = await servedEverywhere(appliance, domain);
    return Object.values(served).every((s) => s === serial) && served;
  }, { timeoutMs, intervalMs: 100 });
}
