import { readlinkSync } from "node:fs";

import type { TestCa } from "../test-support/test-ca.js";
import { sleep } from "../test-support/wait-for.js";
import { connectClient, type XmppTestClient } from "../test-support/xmpp/connect-client.js";
import { servedCertificate } from "../test-support/xmpp/served-certificate.js";
import { BENCH_DOMAIN, planContainer, runContainer, type ContainerPlan, type Variant } from "./bench-containers.js";
import { createCertificateFixture } from "./bench-certificates.js";
import { dockerCli, logLinesSince } from "./bench-docker.js";
import type { BenchProfile } from "./bench-profile.js";
import { BENCH_PASSWORD, clientAccountName, createDataDirectory } from "./prosody-accounts.js";
import type { ResultSection } from "./results-table.js";
import { summarize } from "./summary-stats.js";
import { waitForVerifiedTls } from "./xmpp-probes.js";

type RenewalMode = "hot" | "restart";

interface VariantRenewals {
  mode: RenewalMode;
  /** Why the appliance was measured by restarting, when it was. */
  fallbackReason?: string;
  /** Seconds from the last live/ link re-pointed (hot) or `docker restart` (restart) to the new serial on both probes. */
  both: number[];
  starttls: number[];
  directNoSni: number[];
  missed: number;
  /** Hot reload: link re-pointed → Prosody's "Certificates reloaded" log line (ms). */
  reloadLoggedMs: number[];
  handshakes: { attempted: number; failed: number; firstFailure?: string };
  sessions: { connected: number; stillOnline: number };
}

export interface RenewalOutcome {
  sections: ResultSection[];
  notes: string[];
}

const RESTART_WAIT_MS = 60_000;
const PAUSE_BETWEEN_RENEWALS_MS = 300;

export async function measureRenewal(profile: BenchProfile, ca: TestCa, progress: (line: string) => void): Promise<RenewalOutcome> {
  const appliance = await renewalsFor("appliance", profile.renewals, profile, ca, progress);
  const baseline = await renewalsFor("baseline", profile.baselineRenewals, profile, ca, progress);
  return { sections: renewalSections(appliance, baseline, profile), notes: renewalNotes(appliance, baseline, profile) };
}

async function renewalsFor(
  variant: Variant,
  renewals: number,
  profile: BenchProfile,
  ca: TestCa,
  progress: (line: string) => void,
): Promise<VariantRenewals> {
  const certificates = createCertificateFixture(ca);
  const data = createDataDirectory(BENCH_DOMAIN, { clients: profile.sessionsDuringRenewals });
  const plan = await planContainer(variant, { certsDir: certificates.tree.root, dataDir: data.path });
  const container = await runContainer(plan);
  const clients: XmppTestClient[] = [];
  const result: VariantRenewals = {
    mode: variant === "baseline" ? "restart" : "hot",
    both: [],
    starttls: [],
    directNoSni: [],
    missed: 0,
    reloadLoggedMs: [],
    handshakes: { attempted: 0, failed: 0 },
    sessions: { connected: 0, stillOnline: 0 },
  };
  const tally = (ok: boolean, problem?: string) => {
    result.handshakes.attempted++;
    if (!ok) {
      result.handshakes.failed++;
      result.handshakes.firstFailure ??= problem;
    }
  };
  let prober: { stop(): Promise<void> } | undefined;
  const relinkedAtWall: number[] = [];
  const startedAtWall = Date.now();
  try {
    await waitForVerifiedTls(plan.ports.directTls, certificates.caPem, 60_000);
    for (let index = 1; index <= profile.sessionsDuringRenewals; index++) {
      const direct = index % 2 === 0;
      clients.push(
        await connectClient({
          port: direct ? plan.ports.directTls : plan.ports.c2s[0]!,
          mode: direct ? "direct-tls" : "starttls",
          domain: BENCH_DOMAIN,
          username: clientAccountName(index),
          password: BENCH_PASSWORD,
          caPem: certificates.caPem,
        }),
      );
    }
    result.sessions.connected = clients.length;
    prober = startBackgroundProber(plan, certificates.caPem, tally);

    for (let renewal = 1; renewal <= renewals; renewal++) {
      const fullchain = certificates.tree.livePath(certificates.lineage, "fullchain");
      if (result.mode === "hot") {
        const relinked = whenLinkChanges(fullchain);
        const renewed = await certificates.tree.renew(certificates.lineage);
        const t0 = await relinked;
        relinkedAtWall.push(Date.now() - (performance.now() - t0));
        const seen = await waitForSerial(plan, certificates.caPem, renewed.serial, t0, profile.hotReloadWaitMs, tally);
        if (seen.starttlsAt !== undefined && seen.directAt !== undefined) {
          record(result, t0, seen);
        } else if (renewal === 1) {
          result.mode = "restart";
          result.fallbackReason =
            `no hot reload yet: ${profile.hotReloadWaitMs / 1000} s after the last link was re-pointed, ` +
            `5222 served ${seen.starttlsAt === undefined ? "the old" : "the new"} serial and 5223 without SNI ` +
            `${seen.directAt === undefined ? "the old" : "the new"} one`;
          progress(`renewal: ${result.fallbackReason}; measuring docker restart instead`);
          await restartAndRecord(result, plan, certificates.caPem, renewed.serial, tally);
        } else {
          result.missed++;
        }
      } else {
        const renewed = await certificates.tree.renew(certificates.lineage);
        await restartAndRecord(result, plan, certificates.caPem, renewed.serial, tally);
      }
      progress(
        `renewal ${renewal}/${renewals} ${variant} (${result.mode}): ` +
          `${result.both.at(-1)?.toFixed(3) ?? "missed"} s, failed handshakes so far ${result.handshakes.failed}`,
      );
      await sleep(PAUSE_BETWEEN_RENEWALS_MS);
    }
    await prober.stop();
    prober = undefined;
    result.sessions.stillOnline = clients.filter((client) => client.isOnline() && !client.wasDropped()).length;
    if (result.mode === "hot") {
      const reloads = (await logLinesSince(plan.name, startedAtWall))
        .filter((line) => line.text.includes("Certificates reloaded"))
        .map((line) => line.at);
      for (const at of relinkedAtWall) {
        const reload = reloads.find((reloadAt) => reloadAt >= at);
        if (reload !== undefined) result.reloadLoggedMs.push(reload - at);
      }
    }
    return result;
  } finally {
    await prober?.stop();
    await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
    await container.remove();
    data.dispose();
    certificates.dispose();
  }
}

function record(result: VariantRenewals, t0: number, seen: { starttlsAt?: number; directAt?: number }): void {
  const starttls = (seen.starttlsAt! - t0) / 1000;
  const direct = (seen.directAt! - t0) / 1000;
  result.starttls.push(starttls);
  result.directNoSni.push(direct);
  result.both.push(Math.max(starttls, direct));
}

async function restartAndRecord(
  result: VariantRenewals,
  plan: ContainerPlan,
  caPem: string,
  serial: string,
  tally: (ok: boolean, problem?: string) => void,
): Promise<void> {
  const t0 = performance.now();
  await dockerCli(["restart", "-t", "10", plan.name]);
  const seen = await waitForSerial(plan, caPem, serial, t0, RESTART_WAIT_MS, tally);
  if (seen.starttlsAt !== undefined && seen.directAt !== undefined) record(result, t0, seen);
  else result.missed++;
}

/** performance.now() when the link points somewhere else (polled every millisecond). */
function whenLinkChanges(path: string): Promise<number> {
  const before = readlinkSync(path);
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      try {
        if (readlinkSync(path) !== before) {
          clearInterval(timer);
          resolve(performance.now());
        }
      } catch {
        // certbot unlinks before it links again: the link is briefly missing
      }
    }, 1);
  });
}

const probeStarttls = (plan: ContainerPlan, caPem: string) =>
  servedCertificate({ port: plan.ports.c2s[0]!, mode: "starttls", domain: BENCH_DOMAIN, sni: true, caPem, timeoutMs: 3_000 });
const probeDirectNoSni = (plan: ContainerPlan, caPem: string) =>
  servedCertificate({ port: plan.ports.directTls, mode: "direct-tls", domain: BENCH_DOMAIN, sni: false, caPem, timeoutMs: 3_000 });

/** Handshakes on both probes until each has served `serial` (verified), or the time is up. */
async function waitForSerial(
  plan: ContainerPlan,
  caPem: string,
  serial: string,
  t0: number,
  waitMs: number,
  tally: (ok: boolean, problem?: string) => void,
): Promise<{ starttlsAt?: number; directAt?: number }> {
  const seen: { starttlsAt?: number; directAt?: number } = {};
  while (performance.now() < t0 + waitMs && (seen.starttlsAt === undefined || seen.directAt === undefined)) {
    const [starttls, direct] = await Promise.allSettled([probeStarttls(plan, caPem), probeDirectNoSni(plan, caPem)]);
    const now = performance.now();
    for (const [outcome, key] of [[starttls, "starttlsAt"], [direct, "directAt"]] as const) {
      if (outcome.status === "rejected") {
        tally(false, (outcome.reason as Error).message);
        continue;
      }
      tally(outcome.value.authorized, outcome.value.authorizationError);
      if (outcome.value.authorized && outcome.value.serial === serial) seen[key] ??= now;
    }
    if (starttls.status === "rejected" && direct.status === "rejected") await sleep(20);
  }
  return seen;
}

/** Keeps handshaking on both probes (every ~25 ms) for the whole series, counting failures. */
function startBackgroundProber(plan: ContainerPlan, caPem: string, tally: (ok: boolean, problem?: string) => void) {
  let running = true;
  const loop = (async () => {
    for (let turn = 0; running; turn++) {
      try {
        const served = await (turn % 2 === 0 ? probeStarttls(plan, caPem) : probeDirectNoSni(plan, caPem));
        tally(served.authorized, served.authorizationError);
      } catch (error) {
        tally(false, (error as Error).message);
      }
      await sleep(25);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}

function renewalSections(appliance: VariantRenewals, baseline: VariantRenewals, profile: BenchProfile): ResultSection[] {
  const how = (result: VariantRenewals) =>
    result.mode === "hot" ? "hot reload" : `restart-based (\`docker restart\` → new serial)`;
  const applianceNote =
    appliance.mode === "hot"
      ? `appliance: hot reload${appliance.missed ? `, ${appliance.missed} renewal(s) not picked up within ${profile.hotReloadWaitMs / 1000} s` : ""}; baseline: ${how(baseline)}`
      : `appliance: ${how(appliance)} — ${appliance.fallbackReason ?? ""}; baseline: ${how(baseline)}`;
  return [
    {
      title: `4. Certificate renewal (${appliance.both.length + appliance.missed} renewals, baseline ${baseline.both.length + baseline.missed}, ${profile.sessionsDuringRenewals} sessions connected)`,
      rows: [
        {
          metric: "last link re-pointed → new serial on 5222 and on 5223 without SNI (s)",
          appliance: summarize(appliance.both),
          baseline: summarize(baseline.both),
          goal: { on: "appliance", atMost: 0.5 },
          note: applianceNote,
        },
        { metric: "… new serial on 5222, STARTTLS (s)", appliance: summarize(appliance.starttls), baseline: summarize(baseline.starttls) },
        { metric: "… new serial on 5223, direct TLS without SNI (s)", appliance: summarize(appliance.directNoSni), baseline: summarize(baseline.directNoSni) },
        {
          metric: "failed handshakes during the renewals (count)",
          appliance: summarize([appliance.handshakes.failed]),
          baseline: summarize([baseline.handshakes.failed]),
          digits: 0,
          goal: { on: "appliance", atMost: 0 },
          note: `of ${appliance.handshakes.attempted} (appliance) and ${baseline.handshakes.attempted} (baseline) attempted`,
        },
        {
          metric: `sessions still connected afterwards (of ${profile.sessionsDuringRenewals})`,
          appliance: summarize([appliance.sessions.stillOnline]),
          baseline: summarize([baseline.sessions.stillOnline]),
          digits: 0,
        },
      ],
    },
  ];
}

function renewalNotes(appliance: VariantRenewals, baseline: VariantRenewals, profile: BenchProfile): string[] {
  const notes = [
    "Renewal: the certbot-style tree (test-support/certbot-tree.ts) re-points cert, privkey, chain, fullchain one by one, " +
      "50 ms apart, with a new key each time; the clock starts when fullchain.pem points to the new file (polled every 1 ms). " +
      "Probes handshake back to back on 5222 (STARTTLS, SNI) and 5223 (direct TLS, no SNI) until both serve the new serial in a chain " +
      "that verifies. A background prober keeps handshaking on both ports (~40/s) for the whole series; every failed or unverified handshake counts. " +
      `${profile.sessionsDuringRenewals} logged-in sessions (half STARTTLS, half direct TLS) stay connected throughout.`,
  ];
  for (const [name, result] of [["appliance", appliance], ["baseline", baseline]] as const) {
    if (result.handshakes.firstFailure) notes.push(`First failed handshake (${name}): ${result.handshakes.firstFailure}.`);
  }
  const reloadLogged = summarize(appliance.reloadLoggedMs);
  if (reloadLogged) {
    notes.push(
      `Appliance: Prosody logged "Certificates reloaded" ${reloadLogged.median.toFixed(0)} ms (median; ${reloadLogged.min.toFixed(0)}–${reloadLogged.max.toFixed(0)}) ` +
        "after fullchain.pem was re-pointed. certbot's last change to live/ is removing the previous_*.pem links 50 ms after that, " +
        "and the entrypoint waits for a quiet period (DEBOUNCE_MS in entrypoint/renewal/renewal.ts) before it checks and reloads.",
    );
  }
  if (appliance.mode === "restart") {
    notes.push(`The appliance was measured restart-based: ${appliance.fallbackReason}.`);
  }
  return notes;
}
