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

type MemoryVariant = Variant | "tuned";

interface RunRecord {
  variant: MemoryVariant;
  startSeconds: number;
  afterStart?: MemorySample;
  afterLogins?: MemorySample;
  loginFailures: number;
  /** Entrypoint step durations from its log ("choose certificates ... (154 ms)"). */
  steps: Map<string, number>;
  /** Container start (Docker's State.StartedAt) → the entrypoint's first log line. */
  entrypointFirstLineMs?: number;
  /** Container start → Prosody's "Activated service 'c2s_direct_tls'" line. */
  directTlsListeningMs?: number;
}

export interface StartupOutcome {
  sections: ResultSection[];
  notes: string[];
}

const READY_TIMEOUT_MS = 60_000;
const MIB = 1024;

export async function measureStartupAndMemory(
  profile: BenchProfile,
  certificates: CertificateFixture,
  progress: (line: string) => void,
): Promise<StartupOutcome> {
  const records: RunRecord[] = [];
  for (let run = 1; run <= profile.startRuns; run++) {
    const withMemory = run <= profile.memoryRuns;
    const order: MemoryVariant[] = run % 2 === 1 ? ["appliance", "baseline"] : ["baseline", "appliance"];
    if (withMemory) order.push("tuned");
    for (const variant of order) {
      const record = await startOnce(variant, withMemory, profile, certificates);
      records.push(record);
      progress(
        `start ${run}/${profile.startRuns} ${variant}: ${record.startSeconds.toFixed(3)} s` +
          (record.afterStart ? `, container ${(record.afterStart.containerRssKb / MIB).toFixed(1)} MiB` : ""),
      );
    }
  }
  return { sections: startupSections(records, profile), notes: startupNotes(records, profile) };
}

async function startOnce(
  variant: MemoryVariant,
  withMemory: boolean,
  profile: BenchProfile,
  certificates: CertificateFixture,
): Promise<RunRecord> {
  const data = createDataDirectory(BENCH_DOMAIN, { clients: withMemory ? profile.loginsForMemory : 0 });
  const plan = await planContainer(
    variant === "tuned" ? "appliance" : variant,
    { certsDir: certificates.tree.root, dataDir: data.path },
    variant === "tuned" ? { nodeOptions: profile.tunedNodeOptions } : {},
  );
  const startedAtMs = Date.now();
  const started = performance.now();
  const container = await runContainer(plan);
  try {
    const ready = await waitForVerifiedTls(plan.ports.directTls, certificates.caPem, READY_TIMEOUT_MS);
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
    for (const line of await logLinesSince(plan.name, startedAtMs - 1_000)) {
      const step = /^appliance info\s+([\w -]+?)(?::.*)? \((\d+) ms\)$/.exec(line.text);
      if (step) record.steps.set(step[1]!, Number(step[2]));
      if (containerStarted === undefined) continue;
      if (line.text.startsWith("appliance ")) record.entrypointFirstLineMs ??= line.at - containerStarted;
      if (line.text.includes("Activated service 'c2s_direct_tls'")) record.directTlsListeningMs ??= line.at - containerStarted;
    }
    return record;
  } finally {
    await container.remove();
    data.dispose();
  }
}

function values(records: readonly RunRecord[], variant: MemoryVariant, pick: (record: RunRecord) => number | undefined): number[] {
  return records
    .filter((record) => record.variant === variant)
    .map(pick)
    .filter((value): value is number => value !== undefined);
}

function startupSections(records: RunRecord[], profile: BenchProfile): ResultSection[] {
  const both = (metric: string, pick: (record: RunRecord) => number | undefined, extra: Partial<ResultRow> = {}): ResultRow => ({
    metric,
    appliance: summarize(values(records, "appliance", pick)),
    baseline: summarize(values(records, "baseline", pick)),
    ...extra,
  });
  const mib = (kb: number | undefined) => (kb === undefined ? undefined : kb / MIB);
  const memoryRows = (label: string, sample: (record: RunRecord) => MemorySample | undefined): ResultRow[] => [
    both(`${label}: Prosody RSS (MiB)`, (r) => mib(sample(r)?.prosodyRssKb)),
    both(`${label}: entrypoint (Node) RSS (MiB)`, (r) => mib(sample(r)?.entrypointRssKb)),
    both(`${label}: entrypoint anonymous (private) RSS (MiB)`, (r) => mib(sample(r)?.entrypointAnonKb)),
    both(`${label}: whole container, RSS of all processes (MiB)`, (r) => mib(sample(r)?.containerRssKb), {
      goal: { on: "appliance", atMost: 60 },
    }),
    both(`${label}: whole container, docker stats (MiB)`, (r) => {
      const bytes = sample(r)?.cgroupBytes;
      return bytes === undefined ? undefined : bytes / MIB / MIB;
    }),
  ];
  const tuned = (pick: (record: RunRecord) => number | undefined) => summarize(values(records, "tuned", pick));
  const plain = summarize(values(records, "appliance", (r) => mib(r.afterStart?.entrypointRssKb)));
  const tunedEntrypoint = tuned((r) => mib(r.afterStart?.entrypointRssKb));
  const tunedContainer = tuned((r) => mib(r.afterStart?.containerRssKb));

  return [
    {
      title: "1. Start to ready",
      rows: [
        both(`\`docker run\` → first verified TLS handshake on 5223 (s), ${profile.startRuns} runs`, (r) => r.startSeconds, {
          goal: { on: "ratio", atMost: 1.3 },
        }),
        {
          metric: `… appliance with NODE_OPTIONS="${profile.tunedNodeOptions}" (s), ${profile.memoryRuns} run${profile.memoryRuns > 1 ? "s" : ""}`,
          appliance: summarize(values(records, "tuned", (r) => r.startSeconds)),
          baseline: summarize(values(records, "baseline", (r) => r.startSeconds)),
        },
      ],
    },
    {
      title: `2. Idle memory (${profile.memoryRuns} run${profile.memoryRuns > 1 ? "s" : ""}, ${profile.settleMs / 1000} s after each step)`,
      rows: [
        ...memoryRows("after start", (r) => r.afterStart),
        ...memoryRows(`after ${profile.loginsForMemory} logins`, (r) => r.afterLogins),
        {
          metric: `after start, entrypoint RSS with NODE_OPTIONS="${profile.tunedNodeOptions}" (MiB)`,
          appliance: tunedEntrypoint,
          note:
            plain && tunedEntrypoint
              ? `${(plain.median - tunedEntrypoint.median).toFixed(1)} MiB less than without`
              : "not measured",
        },
        {
          metric: `after start, entrypoint anonymous RSS with that NODE_OPTIONS (MiB)`,
          appliance: tuned((r) => mib(r.afterStart?.entrypointAnonKb)),
        },
        {
          metric: `after start, whole container RSS with that NODE_OPTIONS (MiB)`,
          appliance: tunedContainer,
          goal: { on: "appliance", atMost: 60 },
        },
      ],
    },
  ];
}

function startupNotes(records: RunRecord[], profile: BenchProfile): string[] {
  const notes = [
    "Start to ready: the clock starts before `docker run -d` (the CLI) and stops at the first direct-TLS " +
      "handshake on 5223 (SNI example.org, through the published 127.0.0.1 port) whose chain verifies against " +
      "the test root and names example.org; polled every 10 ms. Variants alternate; each run gets a fresh container and data directory.",
    `Memory: RSS from \`docker top\` (host view). "Whole container" sums every long-lived process (tini, Node, ` +
      "Prosody; exec'd prosodyctl/healthcheck excluded), so pages shared between processes count twice; " +
      "`docker stats` is the cgroup's usage minus inactive page cache and leaves out file pages (libnode) already " +
      `charged elsewhere. Logins: ${profile.loginsForMemory} verified STARTTLS logins (SCRAM-SHA-1) and logouts, 10 at a time, ` +
      "with @xmpp/client through test-support/xmpp/connect-client.ts; these Node-client accounts are stored with 64 SCRAM iterations " +
      "because the client's SCRAM is pure JavaScript (~0.5 s per login at 10,000); no Node-client login is timed anywhere in the bench.",
  ];
  const failures = records.reduce((sum, record) => sum + record.loginFailures, 0);
  if (failures > 0) notes.push(`Memory runs: ${failures} of the logins failed.`);
  const stepNames = [...new Set(records.flatMap((record) => [...record.steps.keys()]))];
  if (stepNames.length > 0) {
    const described = stepNames.map((name) => {
      const summary = summarize(values(records, "appliance", (r) => r.steps.get(name)));
      return summary ? `${name} ${summary.median} ms` : name;
    });
    notes.push(`Entrypoint steps inside the appliance's start (medians, from its own log): ${described.join(", ")}.`);
  }
  const median = (variant: MemoryVariant, pick: (record: RunRecord) => number | undefined) =>
    summarize(values(records, variant, pick))?.median.toFixed(0) ?? "?";
  notes.push(
    "From Docker's StartedAt to log lines (medians): the entrypoint's first line after " +
      `${median("appliance", (r) => r.entrypointFirstLineMs)} ms (Node starting and loading the entrypoint's modules); ` +
      `Prosody listening on 5223 after ${median("appliance", (r) => r.directTlsListeningMs)} ms in the appliance and ` +
      `${median("baseline", (r) => r.directTlsListeningMs)} ms in the baseline.`,
  );
  return notes;
}
