import { fileURLToPath } from "node:url";

import type { TestCa } from "../test-support/test-ca.js";
import { sleep } from "../test-support/wait-for.js";
import { servedCertificate } from "../test-support/xmpp/served-certificate.js";
import { BENCH_DOMAIN, planContainer, runContainer, type ContainerPlan } from "./bench-containers.js";
import { createCertificateFixture } from "./bench-certificates.js";
import { BENCH_IMAGE, dockerCli } from "./bench-docker.js";
import type { BenchProfile } from "./bench-profile.js";
import { growthPerStep } from "./growth-per-step.js";
import { BENCH_PASSWORD, clientAccountName, createDataDirectory } from "./prosody-accounts.js";
import { openRawSession, type RawXmppSession } from "./raw-xmpp-session.js";
import type { ResultSection } from "./results-table.js";
import { waitForVerifiedTls } from "./xmpp-probes.js";

/** What the entrypoint holds: open files, inotify watches, memory as it is and after a full GC. */
export interface EntrypointSample {
  fds: number;
  watches: number;
  /** VmRSS as the process stands, before the probe's GC. */
  rssKb: number;
  /** After a full GC (the bench's probe): what is retained. */
  retained: { rssKb: number; heapUsedKb: number; externalKb: number };
}

/** Mounted into the soak's container only; the image never has it (bench/entrypoint-probe/heap-probe.cjs). */
const PROBE_HOST_DIR = fileURLToPath(new URL("./entrypoint-probe/", import.meta.url));
const PROBE_DIR = "/bench-probe";
const PROBE_OUTPUT = "/tmp/bench-entrypoint-memory.json";

/**
 * The image's own entrypoint with the probe preloaded. Every V8 flag, and so the startup
 * snapshot, stay as the image has them.
 */
export function entrypointWithProbe(imageEntrypoint: readonly string[]): string[] {
  const node = imageEntrypoint.indexOf("node");
  if (node < 0) throw new Error(`the image's entrypoint does not start node: ${JSON.stringify(imageEntrypoint)}`);
  return [...imageEntrypoint.slice(0, node + 1), "--require", `${PROBE_DIR}/heap-probe.cjs`, ...imageEntrypoint.slice(node + 1)];
}

// The entrypoint is the process whose command line starts with node (tini's holds it too, after "--").
const SAMPLE_SCRIPT = `
for p in /proc/[0-9]*; do
  case "$(tr '\\0' ' ' < "$p/cmdline" 2>/dev/null)" in node\\ *snapshot-blob*) pid=\${p#/proc/};; esac
done
[ -n "$pid" ] || { echo "no entrypoint process" >&2; exit 1; }
rss() { sed -n 's/^VmRSS:[[:space:]]*\\([0-9]*\\) kB/\\1/p' "/proc/$pid/status"; }
fds=$(ls "/proc/$pid/fd" | wc -l)
watches=$(cat /proc/$pid/fdinfo/* 2>/dev/null | grep -c '^inotify')
rss=$(rss)
rm -f ${PROBE_OUTPUT}
kill -s WINCH "$pid"
i=0
while [ ! -f ${PROBE_OUTPUT} ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
[ -f ${PROBE_OUTPUT} ] || { echo "the memory probe did not answer within 5 s" >&2; exit 1; }
echo "$fds $watches $rss $(rss)"
cat ${PROBE_OUTPUT}
`;

export async function sampleEntrypoint(containerName: string): Promise<EntrypointSample> {
  const { stdout } = await dockerCli(["exec", containerName, "sh", "-c", SAMPLE_SCRIPT]);
  const [counts = "", json = "{}"] = stdout.trim().split("\n");
  const [fds, watches, rssKb, rssAfterKb] = counts.trim().split(/\s+/).map(Number);
  const usage = JSON.parse(json) as Partial<NodeJS.MemoryUsage>;
  const numbers = [fds, watches, rssKb, rssAfterKb, usage.heapUsed, usage.external];
  if (!numbers.every((n) => Number.isFinite(n))) throw new Error(`cannot read the entrypoint's numbers: ${stdout}`);
  return {
    fds: fds!,
    watches: watches!,
    rssKb: rssKb!,
    retained: { rssKb: rssAfterKb!, heapUsedKb: usage.heapUsed! / 1024, externalKb: usage.external! / 1024 },
  };
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
  const imageEntrypoint = JSON.parse((await dockerCli(["image", "inspect", "--format", "{{json .Config.Entrypoint}}", BENCH_IMAGE])).stdout) as string[];
  const plan = await planContainer(
    "appliance",
    { certsDir: certificates.tree.root, dataDir: data.path },
    { entrypoint: entrypointWithProbe(imageEntrypoint), volumes: [`${PROBE_HOST_DIR}:${PROBE_DIR}:ro`] },
  );
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
      const trend = (label: string, pick: (s: EntrypointSample) => number, digits: number, atMost?: number) => ({
        metric: `${label}: ${Math.round(pick(first))} -> ${Math.round(pick(last))}, growth ${per} (second half)`,
        appliance: exact(growthPerStep(phase.samples.map(pick))),
        digits,
        ...(atMost === undefined ? {} : { goal: { on: "appliance" as const, atMost } }),
      });
      return [
        { metric: `sessions dropped of ${sessions.length} (held through all)`, appliance: exact(dropped), digits: 0, goal: { on: "appliance" as const, atMost: 0 } },
        { metric: `failed TLS handshakes of ${phase.handshakes.attempted}`, appliance: exact(phase.handshakes.failed), digits: 0, goal: { on: "appliance" as const, atMost: 0 }, ...(phase.handshakes.firstFailure ? { note: phase.handshakes.firstFailure.slice(0, 120) } : {}) },
        ...(phase.label.includes("renewal") ? [{ metric: "renewals not served within 15 s", appliance: exact(phase.missed), digits: 0, goal: { on: "appliance" as const, atMost: 0 } }] : []),
        trend("entrypoint open files", (s) => s.fds, 3),
        trend("entrypoint inotify watches", (s) => s.watches, 3),
        // Flat: under 1 KiB a step is under 100 KiB over the whole soak, in a heap of 48 MB.
        trend("entrypoint V8 heap used after a full GC (KiB)", (s) => s.retained.heapUsedKb, 1, 1),
        trend("entrypoint external memory after a full GC (KiB)", (s) => s.retained.externalKb, 1),
        trend("entrypoint RSS after a full GC (KiB)", (s) => s.retained.rssKb, 1),
        trend("entrypoint RSS before it (KiB)", (s) => s.rssKb, 1),
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
          `inotify watches (fdinfo) and VmRSS are sampled after each renewal and every 10 SIGHUPs, then the bench's probe (bench/entrypoint-probe, mounted and loaded with ` +
          "`--require`; the image's own flags and startup snapshot otherwise) runs a full GC and reports V8's heap and external memory and VmRSS again: " +
          "what the entrypoint retains, apart from garbage V8 has not collected yet (its old space may grow to 48 MB before a full GC). " +
          "Growth is the least-squares slope over the second half of the samples: the first ones are warm-up. " +
          "The forced GC at every sample also keeps the RSS before it lower than a production entrypoint's, whose garbage waits for V8's own GC. " +
          `Container still running at the end: ${running}.`,
        `Soak, every 10th sample (renewals, then SIGHUPs): ${series(renewals.samples, hangups.samples)}.`,
      ],
    };
  } finally {
    for (const session of sessions) session.close();
    await container.remove();
    data.dispose();
    certificates.dispose();
  }
}

/** Every 10th renewal's sample and every storm sample, as "heap used after GC / RSS after GC" in KiB. */
function series(renewals: readonly EntrypointSample[], hangups: readonly EntrypointSample[]): string {
  const show = (s: EntrypointSample) => `${Math.round(s.retained.heapUsedKb)}/${s.retained.rssKb}`;
  const everyTenth = renewals.filter((_, index) => index % 10 === 0 || index === renewals.length - 1);
  return `heap used/RSS after a full GC (KiB) ${everyTenth.map(show).join(", ")}; storm ${hangups.slice(1).map(show).join(", ")}`;
}

function exact(value: number) {
  return { median: value, min: value, max: value, count: 1 };
}
