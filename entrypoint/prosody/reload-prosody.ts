import { log } from "../log.js";
import { sleep } from "../sleep.js";
import { probeServedCertificate, type ProbeOptions } from "./probe-served-certificate.js";

export const LISTENERS = { c2s: 5222, c2sDirectTls: 5223, s2s: 5269 } as const;

export interface ListenerTopology {
  primary: string;
  federation: boolean;
}

/** Every way a client or server can reach `name`'s certificate. */
export function probesFor(name: string, topology: ListenerTopology): ProbeOptions[] {
  const probes: ProbeOptions[] = [
    { port: LISTENERS.c2s, mode: "starttls", domain: name, sni: true },
    { port: LISTENERS.c2sDirectTls, mode: "direct-tls", domain: name, sni: true },
  ];
  if (name === topology.primary) {
    probes.push({ port: LISTENERS.c2sDirectTls, mode: "direct-tls", domain: name, sni: false });
  }
  if (topology.federation) probes.push({ port: LISTENERS.s2s, mode: "s2s-starttls", domain: name, sni: true });
  return probes;
}

export function describeProbe(probe: ProbeOptions): string {
  const how = probe.mode === "direct-tls" ? `direct TLS${probe.sni ? "" : " without SNI"}` : probe.mode === "starttls" ? "STARTTLS" : "s2s STARTTLS";
  return `${probe.port} ${how}`;
}

export interface Expected {
  name: string;
  fingerprint256: string;
}

/**
 * Polls every listener until it serves the expected certificate. Returns the listeners that
 * still do not after `timeoutMs`, with what they serve instead (or why they could not be asked).
 */
export async function verifyServed(
  expected: Expected[],
  topology: ListenerTopology,
  timeoutMs = 5_000,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let pending = expected.flatMap((e) => probesFor(e.name, topology).map((probe) => ({ probe, fingerprint256: e.fingerprint256 })));
  let problems: string[] = [];
  while (true) {
    const results = await Promise.all(
      pending.map(async (item) => {
        try {
          const served = await probeServedCertificate({ ...item.probe, timeoutMs: 2_000 });
          return served.fingerprint256 === item.fingerprint256 ? undefined : `${describeProbe(item.probe)} for ${item.probe.domain} serves serial ${served.serial}`;
        } catch (error) {
          return `${describeProbe(item.probe)} for ${item.probe.domain}: ${(error as Error).message}`;
        }
      }),
    );
    problems = results.filter((r): r is string => r !== undefined);
    pending = pending.filter((_, i) => results[i] !== undefined);
    if (pending.length === 0 || Date.now() >= deadline) return problems;
    log("debug", `waiting for ${pending.length} listeners to serve the new certificate`);
    await sleep(50);
  }
}
