import { LISTENERS } from "../../entrypoint/listeners.js";
import { servedCertificate } from "../../test-support/xmpp/served-certificate.js";
import type { Appliance } from "./appliance.js";

/** The serial each listener serves for `domain`: every way a client or server can ask. */
export async function servedEverywhere(appliance: Appliance, domain: string): Promise<Record<string, string>> {
  const ask = async (port: number, mode: "starttls" | "direct-tls" | "s2s-starttls", sni: boolean) =>
    (await servedCertificate({ port: appliance.port(port), mode, domain, sni })).serial;
  return {
    "5222 STARTTLS": await ask(LISTENERS.c2s, "starttls", true),
    "5223 direct TLS with SNI": await ask(LISTENERS.c2sDirectTls, "direct-tls", true),
    "5223 direct TLS without SNI": await ask(LISTENERS.c2sDirectTls, "direct-tls", false),
    "5269 s2s STARTTLS": await ask(LISTENERS.s2s, "s2s-starttls", true),
  };
}

export function allServe(serial: string): Record<string, string> {
  return {
    "5222 STARTTLS": serial,
    "5223 direct TLS with SNI": serial,
    "5223 direct TLS without SNI": serial,
    "5269 s2s STARTTLS": serial,
  };
}
