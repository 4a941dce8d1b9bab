import type { TestCa } from "../test-support/test-ca.js";
import { sleep } from "../test-support/wait-for.js";
import { servedCertificate } from "../test-support/xmpp/served-certificate.js";
import { BENCH_DOMAIN, planContainer, runContainer, type ContainerPlan } from "./bench-containers.js";
import { createCertificateFixture } from "./bench-certificates.js";
import { dockerCli } from "./bench-docker.js";
import type { BenchProfile } from "./bench-profile.js";
import { BENCH_PASSWORD, clientAccountName, createDataDirectory } from "./prosody-accounts.js";
import { openRawSession, type RawXmppSession } from "./raw-xmpp-session.js";
import type { ResultSection } from "./results-table.js";
import { waitForVerifiedTls } from "./xmpp-probes.js";

/** What the entrypoint holds: open files, inotify watches, resident memory. */
export interface EntrypointSample {
  fds: number;
  watches: number;
  rssKb: number;
}

// The entrypoint is the process whose command line starts with node (tini's holds it too, after "--").
const SAMPLE_SCRIPT = `
for p in /proc/[0-9]*; do
  case "$(tr '\\0' ' ' < "$p/cmdline" 2>/dev/null)" in node\\ *snapshot-blob*) pid=\${p#/proc/};; esac
done
[ -n "$pid" ] || { echo "no entrypoint process" >&2; exit 1; }
fds=$(ls "/proc/$pid/fd" | wc -l)
watches=$(cat /proc/$pid/fdinfo/* 2>/dev/null | grep -c '^inotify')
rss=$(sed -n 's/^VmRSS:[[:space:]]*\\([0-9]*\\) kB/\\1/p' "/proc/$pid/status")
echo "$fds $watches $rss"
`;

export async function sampleEntrypoint(containerName: string): Promise<EntrypointSample> {
  const { stdout } = await dockerCli(["exec", containerName, "sh", "-c", SAMPLE_SCRIPT]);
  const [fds, watches, rssKb] = stdout.trim().split(/\s+/).map(Number);
  if (![fds, watches, rssKb].every((n) => Number.isFinite(n))) throw new Error(`cannot read the entrypoint's numbers: ${stdout}`);
  return { fds: fds!, watches: watches!, rssKb: rssKb! };
}

/** Growth per step: the least-squares slope, so one noisy sample does not decide it. */
export function slope(values: readonly number[]): number {
  const n = values.length;
  if (n < 2) return 0;
  const meanX = (n - 1) / 2;
  const meanY = values.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  values.forEach((y, x) => {
    num += (x - meanX) * (y - meanY);
    den += (x - meanX) ** 2;
  });
  return num / den;
}

interface Handshakes {
  attempted: number;
  failed: number;
  firstFailure?: string;
}

async function probe(plan: ContainerPlan, caPem: string, handshakes: Handshakes): Promise<string | undefined> {
  handshakes.attempted++;
  try {
    return (await servedCertificate({ port: plan.ports.c2s[0]!, mode: "starttls", domain: BENCH_DOMAIN, sni: true, caPem, timeoutMs: 5_000 })).serial;
  } catch (error) {
    handshakes.failed++;
    handshakes.firstFailure ??= (error as Error).message;
    return undefined;
  }
}

async function openSessions(plan: ContainerPlan, caPem: string, count: number, progress: (line: string) => void): Promise<RawXmppSession[]> {
  const sessions: RawXmppSession[] = [];
  const batch = 25;
  for (let first = 1; first <= count; first += batch) {
    const opened = await Promise.all(
      Array.from({ length: Math.min(batch, count - first + 1) }, (_, i) =>
        openRawSession({ port: plan.ports.c2s[0]!, domain: BENCH_DOMAIN, username: clientAccountName(first + i), password: BENCH_PASSWORD, caPem, timeoutMs: 60_000 }),
      ),
    );
    sessions.push(...opened);
    if (sessions.length % 250 === 0) progress(`soak: ${sessions.length}/${count} sessions open`);
  }
  return sessions;
}

interface Phase {
  label: string;
  steps: number;
  samples: EntrypointSample[];
  handshakes: Handshakes;
  missed: number;
}

/**
 * Sessions held through renewals, then through a SIGHUP storm: nothing dropped, no failed
 * handshake, and the entrypoint's files, watches and memory flat (growth per step reported).
 */
export async function measureSoak(profile: BenchProfile, ca: TestCa, progress: (line: string) => void): Promise<{ sections: ResultSection[]; notes: string[] }> {
  const certificates = createCertificateFixture(ca);
  const data = createDataDirectory(BENCH_DOMAIN, { clients: profile.soakSessions });
  const plan = await planContainer("appliance", { certsDir: certificates.tree.root, dataDir: data.path });
  const container = await runContainer(plan);
  let sessions: RawXmppSession[] = [];
  try {
    await waitForVerifiedTls(plan.ports.directTls, certificates.caPem, 60_000);
    sessions = await openSessions(plan, certificates.caPem, profile.soakSessions, progress);
    const before = await sampleEntrypoint(plan.name);

    const renewals: Phase = { label: `${profile.soakRenewals} renewals`, steps: profile.soakRenewals, samples: [before], handshakes: { attempted: 0, failed: 0 }, missed: 0 };
    for (let n = 1; n <= profile.soakRenewals; n++) {
      const renewed = await certificates.tree.renew(certificates.lineage, { delayMs: 5 });
      const deadline = Date.now() + 15_000;
      let served: string | undefined;
      while (served !== renewed.serial && Date.now() < deadline) {
        served = await probe(plan, certificates.caPem, renewals.handshakes);
        if (served !== renewed.serial) await sleep(100);
      }
      if (served !== renewed.serial) renewals.missed++;
      renewals.samples.push(await sampleEntrypoint(plan.name));
      if (n % 10 === 0) progress(`soak: renewal ${n}/${profile.soakRenewals}, ${JSON.stringify(renewals.samples.at(-1))}`);
    }

    const hangups: Phase = { label: `${profile.soakHangups} SIGHUPs in ${profile.soakHangupSeconds} s`, steps: profile.soakHangups, samples: [renewals.samples.at(-1)!], handshakes: { attempted: 0, failed: 0 }, missed: 0 };
    const interval = (profile.soakHangupSeconds * 1000) / profile.soakHangups;
    let storming = true;
    const prober = (async () => {
      while (storming) {
        await probe(plan, certificates.caPem, hangups.handshakes);
        await sleep(50);
      }
    })();
    for (let n = 1; n <= profile.soakHangups; n++) {
      const started = Date.now();
      await dockerCli(["kill", "-s", "HUP", plan.name]);
      if (n % 10 === 0) hangups.samples.push(await sampleEntrypoint(plan.name));
      await sleep(Math.max(0, interval - (Date.now() - started)));
    }
    await sleep(5_000); // the last reloads finish
    storming = false;
    await prober;
    hangups.samples.push(await sampleEntrypoint(plan.name));

    const running = (await dockerCli(["inspect", "-f", "{{.State.Running}}", plan.name])).stdout.trim() === "true";
    const open = sessions.filter((s) => s.isOpen()).length;
    const dropped = sessions.length - open;
    progress(`soak: ${dropped} of ${sessions.length} sessions dropped; container running: ${running}`);

    const rows = (phase: Phase) => {
      const first = phase.samples[0]!;
      const last = phase.samples.at(-1)!;
      const per = phase.label.includes("SIGHUP") ? "per 10 SIGHUPs" : "per renewal";
      const growth = (pick: (s: EntrypointSample) => number) => slope(phase.samples.map(pick));
      return [
        { metric: `sessions dropped of ${sessions.length} (held through all)`, appliance: exact(dropped), digits: 0, goal: { on: "appliance" as const, atMost: 0 } },
        { metric: `failed TLS handshakes of ${phase.handshakes.attempted}`, appliance: exact(phase.handshakes.failed), digits: 0, goal: { on: "appliance" as const, atMost: 0 }, ...(phase.handshakes.firstFailure ? { note: phase.handshakes.firstFailure.slice(0, 120) } : {}) },
        ...(phase.label.includes("renewal") ? [{ metric: "renewals not served within 15 s", appliance: exact(phase.missed), digits: 0, goal: { on: "appliance" as const, atMost: 0 } }] : []),
        { metric: `entrypoint open files: ${first.fds} -> ${last.fds}, growth ${per}`, appliance: exact(growth((s) => s.fds)), digits: 3 },
        { metric: `entrypoint inotify watches: ${first.watches} -> ${last.watches}, growth ${per}`, appliance: exact(growth((s) => s.watches)), digits: 3 },
        { metric: `entrypoint RSS (KiB): ${first.rssKb} -> ${last.rssKb}, growth ${per}`, appliance: exact(growth((s) => s.rssKb)), digits: 1 },
      ];
    };
    return {
      sections: [
        { title: `Soak: ${sessions.length} sessions through ${renewals.label}`, rows: rows(renewals) },
        { title: `Soak: the same sessions through ${hangups.label}`, rows: rows(hangups) },
      ],
      notes: [
        `Soak: ${sessions.length} STARTTLS sessions stay open while the certificate is renewed ${profile.soakRenewals} times (each waited for until 5222 serves it), ` +
          `then ${profile.soakHangups} \`docker kill -s HUP\` in ${profile.soakHangupSeconds} s with a handshake every 50 ms. The entrypoint's /proc fd count, ` +
          `inotify watches (fdinfo) and VmRSS are sampled after each renewal and every 10 SIGHUPs; growth is the least-squares slope. Container still running at the end: ${running}.`,
      ],
    };
  } finally {
    for (const session of sessions) session.close();
    await container.remove();
    data.dispose();
    certificates.dispose();
  }
}

function exact(value: number) {
  return { median: value, min: value, max: value, count: 1 };
}
