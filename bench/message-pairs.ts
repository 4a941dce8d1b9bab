import { sleep } from "../test-support/wait-for.js";
import { BENCH_DOMAIN } from "./bench-containers.js";
import { accountName, BENCH_PASSWORD } from "./prosody-accounts.js";
import { openRawSession, type RawXmppSession } from "./raw-xmpp-session.js";

export interface MessagePairsPlan {
  port: number;
  caPem: string;
  pairs: number;
  /** Messages each sender keeps in flight: it sends the next one when one has been delivered. */
  window: number;
  seconds: number;
  /** First account (user1 ...) of the 2 × pairs used. */
  firstAccount?: number;
}

export interface MessagePairsResult {
  /** Delivered to the partner within the measured time. */
  delivered: number;
  seconds: number;
  perSecond: number;
  /** Still in flight 10 s after the end, or in flight on a session the server closed. */
  lost: number;
  /** Sessions that were closed during the run. */
  sessionsClosed: number;
  loginFailures: number;
  firstLoginError?: string;
}

const BODY = "x".repeat(64);
const DRAIN_MS = 10_000;

/**
 * Closed-loop message throughput: pairs of logged-in sessions message each other in both
 * directions, each sender keeping `window` messages in flight, for a fixed time. Deliveries are
 * counted at the receiver, so socket buffers cannot inflate the rate.
 */
export async function measureMessagePairs(plan: MessagePairsPlan): Promise<MessagePairsResult> {
  const first = plan.firstAccount ?? 1;
  const sessions: RawXmppSession[] = [];
  let loginFailures = 0;
  let firstLoginError: string | undefined;
  try {
    const logins = await Promise.allSettled(
      Array.from({ length: plan.pairs * 2 }, (_, index) =>
        openRawSession({
          port: plan.port,
          domain: BENCH_DOMAIN,
          username: accountName(first + index),
          password: BENCH_PASSWORD,
          caPem: plan.caPem,
          timeoutMs: 60_000,
        }),
      ),
    );
    for (const login of logins) {
      if (login.status === "fulfilled") {
        sessions.push(login.value);
      } else {
        loginFailures++;
        firstLoginError ??= (login.reason as Error).message;
      }
    }
    await sleep(1_000);

    let delivered = 0;
    let inFlight = 0;
    let lastDelivery = 0;
    const started = performance.now();
    const deadline = started + plan.seconds * 1000;
    const stanzaTo = (session: RawXmppSession) =>
      `<message to='${session.jid.split("/")[0]}' type='chat'><body>${BODY}</body></message>`;
    for (let index = 0; index + 1 < sessions.length; index += 2) {
      const a = sessions[index]!;
      const b = sessions[index + 1]!;
      const toA = stanzaTo(a);
      const toB = stanzaTo(b);
      // Each session receives only from its partner, so what it receives answers what its partner sent.
      b.onMessages((count) => settle(count, () => a.send(toB)));
      a.onMessages((count) => settle(count, () => b.send(toA)));
      for (let sent = 0; sent < plan.window; sent++) {
        a.send(toB);
        b.send(toA);
        inFlight += 2;
      }
    }
    function settle(count: number, sendNext: () => void): void {
      inFlight -= count;
      const now = performance.now();
      if (now > deadline) return;
      delivered += count;
      lastDelivery = now;
      for (let sent = 0; sent < count; sent++) sendNext();
      inFlight += count;
    }

    await sleep(plan.seconds * 1000);
    const drainUntil = performance.now() + DRAIN_MS;
    while (inFlight > 0 && performance.now() < drainUntil && sessions.some((s) => s.isOpen())) await sleep(50);
    const seconds = (Math.min(lastDelivery, deadline) - started) / 1000;
    return {
      delivered,
      seconds,
      perSecond: seconds > 0 ? delivered / seconds : 0,
      lost: Math.max(inFlight, 0),
      sessionsClosed: sessions.filter((session) => !session.isOpen()).length,
      loginFailures,
      ...(firstLoginError ? { firstLoginError } : {}),
    };
  } finally {
    for (const session of sessions) session.close();
  }
}
