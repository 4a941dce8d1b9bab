import type { Appliance } from "./appliance.js";
import { servedCertificate } from "./xmpp-client.js";

/** The serial each listener serves for `domain`: every way a client or server can ask. */
export async function servedEverywhere(appliance: Appliance, domain: string): Promise<Record<string, string>> {
  const ask = async (port: number, mode: "starttls" | "direct-tls" | "s2s-starttls", sni: boolean) =>
    (await servedCertificate({ port: appliance.port(port), mode, domain, sni })).serial;
  return {
    "5222 STARTTLS": await ask(5222, "starttls", true),
    "5223 direct TLS with SNI": await ask(5223, "direct-tls", true),
    "5223 direct TLS without SNI": await ask(5223, "direct-tls", false),
    "5269 s2s STARTTLS": await ask(5269, "s2s-starttls", true),
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
