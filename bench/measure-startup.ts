import { sleep } from "../test-support/wait-for.js";
import { planContainer, runContainer, type Variant } from "./bench-containers.js";
import type { CertificateFixture } from "./bench-certificates.js";
import type { BenchProfile } from "./bench-profile.js";
import { dockerCli, logLinesSince, parseTimestampedLine } from "./bench-docker.js";
import { sampleMemory, type MemorySample } from "./container-memory.js";
import { createDataDirectory } from "./prosody-accounts.js";
import type { ResultRow, ResultSection } from "./results-table.js";
import { summarize } from "./summary-stats.js";
import { loginAndLogout, waitForVerifiedTls } from "./xmpp-probes.js";
import { BENCH_DOMAIN } from "./bench-containers.js";
import { BENCH_IMAGE } from "./bench-docker.js";
import { nodeAloneMs } from "./node-alone.js";

/**
 * What is started: the appliance with a mounted certbot tree (every service on, as by default),
 * the same with every service off, and with only the TURN server off, the appliance's first start on a fresh volume with no
 * certificate (it issues a self-signed one), bare Prosody from the same image, and with
 * --compare the same two appliance starts from another build.
 */
type StartVariant = "appliance" | "services-off" | "turn-off" | "fresh" | "baseline" | "compare" | "compare-fresh";

/** Only the built-in TURN server off (calls then need an external one). */
export const TURN_OFF: Record<string, string> = { XMPP_TURN: "off" };

/** Group chat, file sharing, the file-transfer proxy, push, HTTPS and the TURN server all off. */
export const SERVICES_OFF: Record<string, string> = {
  XMPP_MUC: "no",
  XMPP_UPLOAD: "no",
  XMPP_PROXY65: "no",
  XMPP_PUSH: "no",
  XMPP_HTTPS: "no",
  XMPP_TURN: "off",
};

interface RunRecord {
  variant: StartVariant;
  startSeconds: number;
  afterStart?: MemorySample;
  afterLogins?: MemorySample;
  loginFailures: number;
  /** Entrypoint step durations from its log ("find certificates: ... (7 ms)"). */
  steps: Map<string, number>;
  /** `docker run` (the CLI) → Docker's State.StartedAt. */
  containerStartMs?: number;
  /** Node's start → the entrypoint's code running, by its own clock ("entrypoint loaded (N ms ...)"). */
  entrypointLoadedMs?: number;
  /** Container start → the entrypoint's first log line. */
  entrypointFirstLineMs?: number;
  /** The "start Prosody" line → Prosody's "Activated service 'c2s_direct_tls'" line. */
  prosodyOwnStartMs?: number;
  /** Container start → Prosody's "Activated service 'c2s_direct_tls'" line. */
  directTlsListeningMs?: number;
}

export interface StartupOutcome {
  sections: ResultSection[];
  notes: string[];
}

/** Another build to start side by side (--compare REF). */
export interface CompareImage {
  image: string;
  /** How the table names it, e.g. "93153f1". */
  label: string;
}

const READY_TIMEOUT_MS = 60_000;
const MIB = 1024;

export async function measureStartupAndMemory(
  profile: BenchProfile,
  certificates: CertificateFixture,
  progress: (line: string) => void,
  compare?: CompareImage,
): Promise<StartupOutcome> {
  const records: RunRecord[] = [];
  const nodeAlone: number[] = [];
  const variants: StartVariant[] = ["appliance", "services-off", "turn-off", "baseline", "fresh", ...(compare ? (["compare", "compare-fresh"] as const) : [])];
  for (let run = 1; run <= profile.startRuns; run++) {
    const withMemory = run <= profile.memoryRuns;
    // Alternate the order so that no variant always runs first after a pause.
    const order = run % 2 === 1 ? variants : [...variants].reverse();
    for (const variant of order) {
      const measureMemory = withMemory && (variant === "appliance" || variant === "services-off" || variant === "turn-off" || variant === "baseline" || variant === "compare");
      const record = await startOnce(variant, measureMemory, profile, certificates, compare);
      records.push(record);
      progress(
        `start ${run}/${profile.startRuns} ${variant}: ${record.startSeconds.toFixed(3)} s` +
          (record.afterStart ? `, container ${(record.afterStart.containerRssKb / MIB).toFixed(1)} MiB` : ""),
      );
    }
    const alone = await nodeAloneMs(BENCH_IMAGE);
    if (alone !== undefined) nodeAlone.push(alone);
  }
  return { sections: startupSections(records, nodeAlone, profile, compare), notes: startupNotes(records, profile) };
}

const isFresh = (variant: StartVariant) => variant === "fresh" || variant === "compare-fresh";

async function startOnce(
  variant: StartVariant,
  withMemory: boolean,
  profile: BenchProfile,
  certificates: CertificateFixture,
  compare: CompareImage | undefined,
): Promise<RunRecord> {
  const data = createDataDirectory(BENCH_DOMAIN, { clients: withMemory ? profile.loginsForMemory : 0 });
  const plan = await planContainer(
    variant === "baseline" ? "baseline" : "appliance",
    { ...(isFresh(variant) ? {} : { certsDir: certificates.tree.root }), dataDir: data.path },
    variant.startsWith("compare") && compare ? { image: compare.image } : variant === "services-off" ? { env: SERVICES_OFF } : variant === "turn-off" ? { env: TURN_OFF } : {},
  );
  const startedAtMs = Date.now();
  const started = performance.now();
  const container = await runContainer(plan);
  try {
    const ready = await waitForVerifiedTls(plan.ports.directTls, isFresh(variant) ? "self-signed" : certificates.caPem, READY_TIMEOUT_MS);
    const record: RunRecord = { variant, startSeconds: (ready - started) / 1000, loginFailures: 0, steps: new Map() };
    if (withMemory) {
      await sleep(profile.settleMs);
      record.afterStart = await sampleMemory(plan.name);
      const logins = await loginAndLogout(
        { port: plan.ports.c2s[0]!, caPem: certificates.caPem },
        { count: profile.loginsForMemory },
      );
      record.loginFailures = logins.failed;
      await sleep(profile.settleMs);
      record.afterLogins = await sampleMemory(plan.name);
    }
    const containerStarted = parseTimestampedLine(
      `${(await dockerCli(["inspect", "--format", "{{.State.StartedAt}}", plan.name])).stdout.trim()} -`,
    )?.at;
    if (containerStarted !== undefined) record.containerStartMs = containerStarted - startedAtMs;
    let prosodyStartLoggedAt: number | undefined;
    for (const line of await logLinesSince(plan.name, startedAtMs - 1_000)) {
      const loaded = /^appliance info\s+entrypoint loaded \((\d+) ms after Node started\)$/.exec(line.text);
      if (loaded) record.entrypointLoadedMs = Number(loaded[1]);
      const step = /^appliance info\s+([\w .-]+?)(?::.*)? \((\d+) ms\)$/.exec(line.text);
      if (step) record.steps.set(step[1]!, Number(step[2]));
      if (step?.[1] === "start Prosody") prosodyStartLoggedAt = line.at;
      if (line.text.includes("Activated service 'c2s_direct_tls'")) {
        record.directTlsListeningMs ??= containerStarted === undefined ? undefined : line.at - containerStarted;
        if (prosodyStartLoggedAt !== undefined) record.prosodyOwnStartMs ??= line.at - prosodyStartLoggedAt;
      }
      if (containerStarted !== undefined && line.text.startsWith("appliance ")) record.entrypointFirstLineMs ??= line.at - containerStarted;
    }
    return record;
  } finally {
    await container.remove();
    data.dispose();
  }
}

function values(records: readonly RunRecord[], variant: StartVariant, pick: (record: RunRecord) => number | undefined): number[] {
  return records
    .filter((record) => record.variant === variant)
    .map(pick)
    .filter((value): value is number => value !== undefined);
}

function startupSections(records: RunRecord[], nodeAlone: number[], profile: BenchProfile, compare: CompareImage | undefined): ResultSection[] {
  const against = (variant: StartVariant, metric: string, pick: (record: RunRecord) => number | undefined, extra: Partial<ResultRow> = {}): ResultRow => ({
    metric,
    appliance: summarize(values(records, variant, pick)),
    baseline: summarize(values(records, "baseline", pick)),
    ...extra,
  });
  const both = (metric: string, pick: (record: RunRecord) => number | undefined, extra: Partial<ResultRow> = {}) => against("appliance", metric, pick, extra);
  const only = (variant: StartVariant, metric: string, pick: (record: RunRecord) => number | undefined): ResultRow => ({
    metric,
    appliance: summarize(values(records, variant, pick)),
  });
  const mib = (kb: number | undefined) => (kb === undefined ? undefined : kb / MIB);
  const memoryRows = (label: string, sample: (record: RunRecord) => MemorySample | undefined, variant: StartVariant = "appliance", name = ""): ResultRow[] => [
    ...(variant === "appliance" ? [both(`${label}: Prosody RSS (MiB)`, (r) => mib(sample(r)?.prosodyRssKb))] : []),
    only(variant, `${label}: entrypoint (Node) RSS (MiB)${name}`, (r) => mib(sample(r)?.entrypointRssKb)),
    only(variant, `${label}: entrypoint anonymous (private) RSS (MiB)${name}`, (r) => mib(sample(r)?.entrypointAnonKb)),
    against(variant, `${label}: whole container, RSS of all processes (MiB)${name}`, (r) => mib(sample(r)?.containerRssKb), {
      goal: { on: "appliance", atMost: 60 },
    }),
    against(variant, `${label}: whole container, docker stats (MiB)${name}`, (r) => {
      const bytes = sample(r)?.cgroupBytes;
      return bytes === undefined ? undefined : bytes / MIB / MIB;
    }),
  ];
  const runs = `${profile.startRuns} runs`;
  const ready = (r: RunRecord) => r.startSeconds;
  const startRows: ResultRow[] = [
    both(`\`docker run\` → first verified TLS handshake on 5223 (s), mounted certbot tree, ${runs}`, ready, { goal: { on: "ratio", atMost: 1.3 } }),
    against("fresh", `… first start on a fresh volume, no certificate (self-signed issued; handshake accepted when self-signed and naming the domain) (s), ${runs}`, ready, {
      goal: { on: "ratio", atMost: 1.3 },
    }),
  ];
  const servicesOff = summarize(values(records, "services-off", ready));
  startRows.push({
    metric: `… every service on (the default) against the same appliance with every service off (${Object.entries(SERVICES_OFF).map(([k, v]) => `${k}=${v}`).join(" ")}) in the Baseline columns (s), ${runs}`,
    appliance: summarize(values(records, "appliance", ready)),
    ...(servicesOff ? { baseline: servicesOff } : {}),
    goal: { on: "ratio", atMost: 1.1 },
  });
  const turnOff = summarize(values(records, "turn-off", ready));
  startRows.push({
    metric: `… TURN on (the default) against the same appliance with only XMPP_TURN=off in the Baseline columns (s), ${runs}`,
    appliance: summarize(values(records, "appliance", ready)),
    ...(turnOff ? { baseline: turnOff } : {}),
  });
  if (compare) {
    startRows.push(
      against("compare", `… build ${compare.label} (--compare), mounted certbot tree (s), ${runs}`, ready),
      against("compare-fresh", `… build ${compare.label} (--compare), fresh volume (s), ${runs}`, ready),
    );
  }

  const stepNames = [...new Set(records.filter((r) => r.variant === "appliance" || r.variant === "fresh").flatMap((r) => [...r.steps.keys()]))];
  const ms = (variant: StartVariant, metric: string, pick: (record: RunRecord) => number | undefined): ResultRow => ({
    metric,
    appliance: summarize(values(records, variant, pick)),
    digits: 0,
  });
  const breakdown: ResultRow[] = [
    { ...against("appliance", "`docker run` (CLI) → container started (Docker's StartedAt)", (r) => r.containerStartMs), digits: 0 },
    ms("appliance", "container started → the entrypoint's first log line", (r) => r.entrypointFirstLineMs),
    ms("appliance", "… of which Node's own start and loading the entrypoint (its own clock)", (r) => r.entrypointLoadedMs),
    {
      metric: "Node alone, for comparison: the image's Node with the entrypoint's flags running nothing (`-e 0`, without the entrypoint's snapshot): container started → exited",
      appliance: summarize(nodeAlone),
      digits: 0,
    },
    ...stepNames.map((name) => ms("appliance", `step "${name}"`, (r) => r.steps.get(name))),
    ms("fresh", `fresh volume: step "grant key access" (issues the self-signed certificate)`, (r) => r.steps.get("grant key access")),
    { ...against("appliance", "Prosody's own start: \"start Prosody\" logged → 5223 listening (baseline: container started → 5223 listening)", (r) =>
      r.variant === "baseline" ? r.directTlsListeningMs : r.prosodyOwnStartMs), digits: 0 },
    { ...against("appliance", "container started → 5223 listening", (r) => r.directTlsListeningMs), digits: 0 },
    ...(compare
      ? [
          { ...against("compare", `build ${compare.label}: container started → 5223 listening`, (r) => r.directTlsListeningMs), digits: 0 },
          ms("compare", `build ${compare.label}: container started → the entrypoint's first log line`, (r) => r.entrypointFirstLineMs),
        ]
      : []),
  ];

  return [
    { title: "1. Start to ready", rows: startRows },
    { title: "1a. Where the start goes (ms, medians of the runs above; appliance = mounted certbot tree)", rows: breakdown },
    {
      title: `2. Idle memory (${profile.memoryRuns} run${profile.memoryRuns > 1 ? "s" : ""}, ${profile.settleMs / 1000} s after each step)`,
      rows: [
        ...memoryRows("after start", (r) => r.afterStart),
        ...memoryRows(`after ${profile.loginsForMemory} logins`, (r) => r.afterLogins),
        ...memoryRows("after start", (r) => r.afterStart, "services-off", ", every service off"),
        ...memoryRows("after start", (r) => r.afterStart, "turn-off", ", TURN off"),
        ...(compare ? memoryRows("after start", (r) => r.afterStart, "compare", `, build ${compare.label}`) : []),
      ],
    },
  ];
}

function startupNotes(records: RunRecord[], profile: BenchProfile): string[] {
  const notes = [
    "Start to ready: the clock starts before `docker run -d` (the CLI) and stops at the first direct-TLS " +
      "handshake on 5223 (SNI example.org, through the published 127.0.0.1 port) whose chain verifies against " +
      "the test root and names example.org; polled every 10 ms. Variants alternate; each run gets a fresh container and data directory. " +
      "Other work on the same 2 cores (other engineers' builds and tests) makes single runs noisy: compare medians of one run.",
    `Memory: RSS from \`docker top\` (host view). "Whole container" sums every long-lived process (tini, Node, ` +
      "Prosody, coturn, and two bash: the watchdog and the waiter of Prosody's early start; exec'd prosodyctl/healthcheck " +
      "excluded), so pages shared between processes count twice; " +
      "`docker stats` is the cgroup's usage minus inactive page cache and leaves out file pages (libnode) already " +
      `charged elsewhere. Logins: ${profile.loginsForMemory} verified STARTTLS logins (SCRAM-SHA-1) and logouts, 10 at a time, ` +
      "with @xmpp/client through test-support/xmpp/connect-client.ts; these Node-client accounts are stored with 64 SCRAM iterations " +
      "because the client's SCRAM is pure JavaScript (~0.5 s per login at 10,000); no Node-client login is timed anywhere in the bench.",
  ];
  const failures = records.reduce((sum, record) => sum + record.loginFailures, 0);
  if (failures > 0) notes.push(`Memory runs: ${failures} of the logins failed.`);
  notes.push(
    "Where the start goes (1a): Docker's timestamps on the container's log lines against its StartedAt, the entrypoint's " +
      "own step durations (each step logs its ms), and Node's process.uptime() when the entrypoint's code first runs " +
      "(time since Node's process started). A fresh volume mounts no certificates and an empty data directory, so the " +
      "appliance issues its self-signed certificate on that start. The entrypoint starts from a V8 startup snapshot built " +
      "into the image (entrypoint/snapshot.ts): Debian's Node has no snapshot or code cache of its own. The snapshot is " +
      "built without Node's code cache for its ~320 built-in modules (withoutCodeCache, 2.2 MB of blob instead of 5.3 MB): " +
      "the ones the entrypoint uses are already evaluated in it. The steps " +
      "before Prosody ran once while that snapshot was built (entrypoint/warm-up.ts), so their code is already compiled. " +
      "\"Node alone\" runs the same Node with the same flags and no code of the appliance's (bench/node-alone.ts): without a " +
      "snapshot Node bootstraps its own JavaScript, which the entrypoint's snapshot spares it, so this is about what any " +
      "Node program costs here before its first line of code runs. Of that, measured by hand in the image on this machine: " +
      "`node --version` takes ~12 ms (exec, linking and libnode's static start; Debian's Node is a shared libnode linked with " +
      "BIND_NOW, so all ~60,000 symbol relocations are resolved at every start), and an empty startup snapshot of the same Node " +
      "reaches its main function ~22 ms after Node starts, against 24–25 ms for the entrypoint's. " +
      "The appliance's Prosody loads its Lua from bytecode compiled into the image (server/bytecode/) and, while it starts, " +
      "finds its modules from directory listings instead of ~2,200 failed opens (server/bytecode/plugin-lookup.lua); the baseline, " +
      "started as `prosody`, compiles it from source, as any Prosody does. The appliance's Prosody process starts with the " +
      "container, beside Node (server/start-appliance), and does the part of its start that needs no configuration while " +
      "Node starts: \"Prosody's own start\" is only the rest, and Node's own start is slower for it (the start is CPU-bound here).",
  );
  return notes;
}
