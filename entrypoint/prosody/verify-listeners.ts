import { LISTENERS } from "../listeners.js";
import { log } from "../log.js";
import { sleep } from "../sleep.js";
import type { ProbedCertificate, ProbeOptions } from "./probe-served-certificate.js";

/** What decides which certificate each listener serves a name. */
export interface ListenerTopology {
  /** Clients that send no server name (SNI) get the primary domain's certificate. */
  primary: string;
  /** Without federation there is no s2s listener to verify. */
  federation: boolean;
  /** The hosted domains, which clients log in to on 5222/5223; components are reached over s2s and HTTPS. */
  domains: readonly string[];
  /** Whether 5281 is open (XMPP_HTTPS). */
  https: boolean;
  /** Names only the HTTPS listener serves (XMPP_PUBLIC_URL's host): not a Prosody host. */
  httpsOnly: readonly string[];
  /** Whether the built-in TURN server serves the primary's certificate on 5349 (XMPP_TURN=builtin). */
  turn: boolean;
}

const isDomain = (name: string, { domains }: ListenerTopology) => domains.includes(name);
const isProsodyHost = (name: string, { httpsOnly }: ListenerTopology) => !httpsOnly.includes(name);

type ProbeMethod = Pick<ProbeOptions, "mode" | "sni">;

/**
 * How each listener is asked for a name's certificate. Keyed by the listeners in LISTENERS, so a
 * listener added there does not compile until it says here how it is verified.
 */
const PROBE_METHODS: { [listener in keyof typeof LISTENERS]: (name: string, topology: ListenerTopology) => ProbeMethod[] } = {
  c2s: (name, topology) => (isDomain(name, topology) ? [{ mode: "starttls", sni: true }] : []),
  c2sDirectTls: (name, topology) => (isDomain(name, topology) ? withoutSniForPrimary(name, topology) : []),
  s2s: (name, topology) => (topology.federation && isProsodyHost(name, topology) ? [{ mode: "s2s-starttls", sni: true }] : []),
  https: (name, topology) => (topology.https ? withoutSniForPrimary(name, topology) : []),
  // coturn has one certificate and no SNI: the primary domain's, which clients are told to use.
  turns: (name, topology) => (topology.turn && name === topology.primary ? [{ mode: "direct-tls", sni: true }] : []),
};

/** Direct TLS by name, and for the primary also without one: that is the default certificate. */
function withoutSniForPrimary(name: string, { primary }: ListenerTopology): ProbeMethod[] {
  return [{ mode: "direct-tls", sni: true }, ...(name === primary ? [{ mode: "direct-tls", sni: false } as const] : [])];
}

/** Every way a client or server can reach `name`'s certificate. */
export function probesFor(name: string, topology: ListenerTopology): ProbeOptions[] {
  return (Object.keys(PROBE_METHODS) as Array<keyof typeof LISTENERS>).flatMap((listener) =>
    PROBE_METHODS[listener](name, topology).map((method) => ({ port: LISTENERS[listener], domain: name, ...method })),
  );
}

export function describeProbe(probe: ProbeOptions): string {
  const tls = probe.port === LISTENERS.https ? "HTTPS" : probe.port === LISTENERS.turns ? "TURNS" : "direct TLS";
  const how = probe.mode === "direct-tls" ? `${tls}${probe.sni ? "" : " without SNI"}` : probe.mode === "starttls" ? "STARTTLS" : "s2s STARTTLS";
  return `${probe.port} ${how}`;
}

export interface ExpectedCertificate {
  name: string;
  fingerprint256: string;
}

/**
 * How long verification waits. A listener that answers with another certificate is still
 * switching over after the reload for `switchMs`; one that does not answer at all (busy, slow
 * under load) is retried for `answerMs`, each attempt allowed twice as long as the one before.
 */
export interface VerifyBudget {
  switchMs: number;
  answerMs: number;
  firstAttemptMs: number;
  retryDelayMs: number;
}

export const VERIFY_BUDGET: VerifyBudget = { switchMs: 5_000, answerMs: 20_000, firstAttemptMs: 2_000, retryDelayMs: 50 };

export interface VerifyOptions {
  topology: ListenerTopology;
  /** Asks one listener which certificate it serves: probeServedCertificate, or a fake in tests. */
  probe(options: ProbeOptions): Promise<ProbedCertificate>;
  budget?: Partial<VerifyBudget>;
}

type Attempt = { outcome: "serves expected" } | { outcome: "serves another" | "no answer"; problem: string };

/**
 * Asks every listener until it serves the expected certificate. Returns, in listener order, the
 * ones that still serve another certificate after `switchMs` or never answered within
 * `answerMs`, with what they serve instead or why they could not be asked.
 */
export async function verifyListeners(expected: ExpectedCertificate[], options: VerifyOptions): Promise<string[]> {
  const budget = { ...VERIFY_BUDGET, ...options.budget };
  const started = Date.now();
  const failures: Array<{ order: number; problem: string }> = [];
  let pending = expected
    .flatMap((e) => probesFor(e.name, options.topology).map((probe) => ({ probe, fingerprint256: e.fingerprint256 })))
    .map((item, order) => ({ ...item, order, attemptMs: budget.firstAttemptMs }));

  const attempt = async (item: (typeof pending)[number]): Promise<Attempt> => {
    const timeoutMs = Math.max(1, Math.min(item.attemptMs, started + budget.answerMs - Date.now()));
    try {
      const served = await options.probe({ ...item.probe, timeoutMs });
      if (served.fingerprint256 === item.fingerprint256) return { outcome: "serves expected" };
      return { outcome: "serves another", problem: `${describeProbe(item.probe)} for ${item.probe.domain} serves serial ${served.serial}` };
    } catch (error) {
      return { outcome: "no answer", problem: `${describeProbe(item.probe)} for ${item.probe.domain}: ${(error as Error).message}` };
    }
  };

  while (true) {
    const attempts = await Promise.all(pending.map(attempt));
    const elapsed = Date.now() - started;
    const again: typeof pending = [];
    attempts.forEach((result, i) => {
      const item = pending[i]!;
      if (result.outcome === "serves expected") return;
      const outOfTime = result.outcome === "serves another" ? elapsed >= budget.switchMs : elapsed >= budget.answerMs;
      if (outOfTime) failures.push({ order: item.order, problem: result.problem });
      else again.push(result.outcome === "no answer" ? { ...item, attemptMs: item.attemptMs * 2 } : item);
    });
    pending = again;
    if (pending.length === 0) return failures.sort((a, b) => a.order - b.order).map((f) => f.problem);
    log("debug", `waiting for ${pending.length} listeners to serve the new certificate`);
    await sleep(budget.retryDelayMs);
  }
}
