import { connectClient } from "../test-support/xmpp/connect-client.js";
import { servedCertificate } from "../test-support/xmpp/served-certificate.js";
import { sleep } from "../test-support/wait-for.js";
import { BENCH_DOMAIN } from "./bench-containers.js";
import { BENCH_PASSWORD, clientAccountName } from "./prosody-accounts.js";

/**
 * Polls direct TLS until a handshake verifies against `caPem` for BENCH_DOMAIN; resolves with
 * performance.now() at that moment.
 */
/**
 * The first direct-TLS handshake on `port` whose certificate names example.org and verifies
 * against `caPem`, or, with "self-signed", whose certificate is self-issued and names it.
 */
export async function waitForVerifiedTls(port: number, caPem: string | "self-signed", timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  let lastProblem = "no attempt finished";
  while (performance.now() < deadline) {
    try {
      const trust = caPem === "self-signed" ? {} : { caPem };
      const served = await servedCertificate({ port, mode: "direct-tls", domain: BENCH_DOMAIN, sni: true, ...trust, timeoutMs: 2_000 });
      if (served.authorized) return performance.now();
      if (caPem === "self-signed" && served.issuer === served.subject && served.subjectAltName.includes(`DNS:${BENCH_DOMAIN}`)) return performance.now();
      lastProblem = `unverified certificate: ${served.authorizationError ?? "?"}`;
    } catch (error) {
      lastProblem = (error as Error).message;
    }
    await sleep(10);
  }
  throw new Error(`no verified TLS handshake on 127.0.0.1:${port} within ${timeoutMs} ms; last: ${lastProblem}`);
}

export interface LoginTally {
  succeeded: number;
  failed: number;
  firstError?: string;
}

/** Logs client accounts first..first+count-1 in over STARTTLS (verified) and out again, `concurrency` at a time. */
export async function loginAndLogout(
  { port, caPem }: { port: number; caPem: string },
  { first = 1, count, concurrency = 10 }: { first?: number; count: number; concurrency?: number },
): Promise<LoginTally> {
  const tally: LoginTally = { succeeded: 0, failed: 0 };
  let next = first;
  const last = first + count - 1;
  async function worker(): Promise<void> {
    while (next <= last) {
      const index = next++;
      try {
        const client = await connectClient({
          port,
          mode: "starttls",
          domain: BENCH_DOMAIN,
          username: clientAccountName(index),
          password: BENCH_PASSWORD,
          caPem,
        });
        await client.close();
        tally.succeeded++;
      } catch (error) {
        tally.failed++;
        tally.firstError ??= (error as Error).message;
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return tally;
}
