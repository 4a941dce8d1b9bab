import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { sleep } from "../test-support/wait-for.js";
import { BENCH_DOMAIN, boundSessionCount, planContainer, runContainer, type BenchContainer, type Variant } from "./bench-containers.js";
import type { CertificateFixture } from "./bench-certificates.js";
import { logLinesSince } from "./bench-docker.js";
import type { BenchProfile } from "./bench-profile.js";
import { sampleMemory, type MemorySample } from "./container-memory.js";
import { measureMessagePairs, type MessagePairsResult } from "./message-pairs.js";
import { accountsCsv, createDataDirectory, type DataDirectory } from "./prosody-accounts.js";
import type { ResultSection } from "./results-table.js";
import { summarize } from "./summary-stats.js";
import { LOGIN_TRANSACTION, renderTsungConfig, type TsungLoginPlan } from "./tsung-config.js";
import { errorCounts, meanOfSample, totalCount } from "./tsung-log.js";
import { startTsung, type TsungRun } from "./tsung-process.js";
import { steadyRate } from "./steady-rate.js";
import { waitForVerifiedTls } from "./xmpp-probes.js";
import { startBenchPostgres, type BenchPostgres } from "./bench-postgres.js";

/** postgres: the appliance keeping its data in PostgreSQL, measured beside the appliance with files. */
const VARIANTS: readonly Variant[] = ["appliance", "baseline", "postgres"];
/** docker-proxy inherits dockerd's open-file limit (20,000 here) and needs two per connection. */
const SESSIONS_PER_PUBLISHED_PORT = 4_000;
const ANSWER_TIMEOUT_MS = 30_000;
const KIB = 1024;
const STALL_MS = 15_000;
/** A step counts as held when this share of its sessions is bound; below it, stepping stops. */
const HELD_FRACTION_TO_CONTINUE = 0.95;

interface LoginRun {
  perSecond: number;
  meanLoginMs?: number;
  completed: number;
  errors: Map<string, number>;
}

interface StepRecord {
  target: number;
  held: number;
  loginErrors: number;
  memory: MemorySample;
}

interface VariantLoad {
  logins: LoginRun[];
  messages: MessagePairsResult[];
  idleBeforeSteps?: MemorySample;
  steps: StepRecord[];
  stepStopReason?: string;
}

export interface LoadOutcome {
  sections: ResultSection[];
  notes: string[];
}

/**
 * `finishBy` (epoch ms) is a soft limit: runs and session steps that would not end before it are
 * skipped, and the table says so, so that the bench's hard limit never throws results away.
 */
export async function measureLoad(
  profile: BenchProfile,
  certificates: CertificateFixture,
  tsungAvailable: boolean,
  finishBy: number,
  progress: (line: string) => void,
): Promise<LoadOutcome> {
  const workDir = mkdtempSync(join(tmpdir(), "bench-tsung-"));
  const results = new Map<Variant, VariantLoad>(VARIANTS.map((variant) => [variant, { logins: [], messages: [], steps: [] }]));
  const postgres = await startBenchPostgres();
  const setup = { certificates, postgres };
  try {
    await loginsAndMessages(profile, setup, tsungAvailable, workDir, results, finishBy, progress);
    if (tsungAvailable) {
      // The variants step in turn; each may use an equal share of what is left.
      for (const [index, variant] of VARIANTS.entries()) {
        const share = (finishBy - Date.now()) / (VARIANTS.length - index);
        const result = results.get(variant)!;
        // One variant that fails (or does not start in time) costs its own rows, not the others'.
        try {
          await heldSessions(variant, profile, setup, workDir, result, Date.now() + share, progress);
        } catch (error) {
          result.stepStopReason = `not measured further: ${(error as Error).message.split("\n")[0]}`;
          progress(`sessions ${variant}: ${result.stepStopReason}`);
        }
      }
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
    await postgres.dispose();
  }
  return { sections: loadSections(results, profile), notes: loadNotes(results, profile, tsungAvailable) };
}

interface LoadSetup {
  certificates: CertificateFixture;
  postgres: BenchPostgres;
}

async function startReady(
  variant: Variant,
  accounts: { load?: number; clients?: number },
  c2sPorts: number,
  { certificates, postgres }: LoadSetup,
  readyBy: number,
): Promise<{ container: BenchContainer; data: DataDirectory }> {
  const data = createDataDirectory(BENCH_DOMAIN, accounts);
  // The accounts are written as files; the PostgreSQL variant migrates them at its start.
  const storage = variant === "postgres" ? { env: await postgres.freshDatabase(), network: postgres.network } : {};
  const plan = await planContainer(variant, { certsDir: certificates.tree.root, dataDir: data.path }, { c2sPorts, ...storage });
  const container = await runContainer(plan);
  try {
    // The PostgreSQL variant migrates its accounts first: given until the step's time is up, not past it.
    await waitForVerifiedTls(plan.ports.directTls, certificates.caPem, variant === "postgres" ? Math.max(60_000, readyBy - Date.now()) : 60_000);
  } catch (error) {
    await container.remove();
    data.dispose();
    throw error;
  }
  return { container, data };
}

async function loginsAndMessages(
  profile: BenchProfile,
  setup: LoadSetup,
  tsungAvailable: boolean,
  workDir: string,
  results: Map<Variant, VariantLoad>,
  finishBy: number,
  progress: (line: string) => void,
): Promise<void> {
  // Logins and messages may use at most half of the time left; the session steps need the rest.
  const halfway = Date.now() + (finishBy - Date.now()) / 2;
  const accounts = { load: Math.max(profile.loginsPerRun, profile.messagePairs * 2) };
  const running = new Map<Variant, { container: BenchContainer; data: DataDirectory }>();
  try {
    for (const variant of VARIANTS) running.set(variant, await startReady(variant, accounts, 1, setup, halfway));
    const csvPath = join(workDir, "logins.csv");
    writeFileSync(csvPath, accountsCsv(1, profile.loginsPerRun));

    for (let run = 1; tsungAvailable && run <= profile.loginRuns && (run === 1 || Date.now() < halfway); run++) {
      for (const variant of run % 2 === 1 ? VARIANTS : [...VARIANTS].reverse()) {
        const { container } = running.get(variant)!;
        const login = await loginRate(container, csvPath, profile, workDir, `login-${variant}-${run}`);
        results.get(variant)!.logins.push(login);
        progress(`logins ${run}/${profile.loginRuns} ${variant}: ${login.perSecond.toFixed(0)}/s (${login.completed} completed)`);
        await sleep(2_000);
      }
    }
    for (let run = 1; run <= profile.messageRuns && (run === 1 || Date.now() < halfway); run++) {
      for (const variant of run % 2 === 1 ? VARIANTS : [...VARIANTS].reverse()) {
        const { container } = running.get(variant)!;
        const messages = await measureMessagePairs({
          port: container.plan.ports.c2s[0]!,
          caPem: setup.certificates.caPem,
          pairs: profile.messagePairs,
          window: profile.messageWindow,
          seconds: profile.messageSeconds,
        });
        results.get(variant)!.messages.push(messages);
        progress(`messages ${run}/${profile.messageRuns} ${variant}: ${messages.perSecond.toFixed(0)}/s delivered`);
        await sleep(2_000);
      }
    }
  } finally {
    for (const { container, data } of running.values()) {
      await container.remove();
      data.dispose();
    }
  }
}

async function loginRate(
  container: BenchContainer,
  csvPath: string,
  profile: BenchProfile,
  workDir: string,
  id: string,
): Promise<LoginRun> {
  const plan: TsungLoginPlan = {
    domain: BENCH_DOMAIN,
    servers: container.plan.ports.c2s.map((port) => ({ port })),
    accountsCsvPath: csvPath,
    users: profile.loginsPerRun,
    arrivalPerSecond: profile.loginArrivalPerSecond,
    afterLogin: { kind: "close" },
    answerTimeoutMs: ANSWER_TIMEOUT_MS,
  };
  const startedAt = Date.now();
  const tsung = startTsung({ id, configXml: renderTsungConfig(plan), workDir: join(workDir, id) });
  await waitForLogins(tsung, profile.loginsPerRun, startedAt + (profile.loginsPerRun / 20) * 1000 + 60_000);
  await tsung.stop();
  const dumps = tsung.readDumps();
  if (totalCount(dumps, `tr_${LOGIN_TRANSACTION}`) === 0) {
    throw new Error(`tsung completed no login (exit ${await tsung.exited}): ${tsung.outputTail()}`);
  }

  // The rate as the server saw it: Docker's timestamps on Prosody's "Authenticated as" lines.
  const authenticated = (await logLinesSince(container.plan.name, startedAt - 500))
    .filter((line) => line.text.includes("Authenticated as"))
    .map((line) => line.at);
  const mean = meanOfSample(dumps, `tr_${LOGIN_TRANSACTION}`);
  return {
    perSecond: steadyRate(authenticated) ?? 0,
    ...(mean !== undefined ? { meanLoginMs: mean } : {}),
    completed: totalCount(dumps, `tr_${LOGIN_TRANSACTION}`),
    errors: errorCounts(dumps),
  };
}

async function heldSessions(
  variant: Variant,
  profile: BenchProfile,
  setup: LoadSetup,
  workDir: string,
  result: VariantLoad,
  finishBy: number,
  progress: (line: string) => void,
): Promise<void> {
  const most = Math.max(...profile.sessionSteps);
  const ports = Math.max(1, Math.ceil(most / SESSIONS_PER_PUBLISHED_PORT));
  const { container, data } = await startReady(variant, { load: most }, ports, setup, finishBy);
  const tsungs: TsungRun[] = [];
  try {
    await sleep(profile.settleMs);
    result.idleBeforeSteps = await sampleMemory(container.plan.name);
    let previous = 0;
    let loginsPerSecond = 100;
    for (const [index, target] of profile.sessionSteps.entries()) {
      const users = target - previous;
      const expectedMs = (users / loginsPerSecond) * 1000 + 15_000;
      if (index > 0 && Date.now() + expectedMs > finishBy) {
        result.stepStopReason = `stopped before the ${target.toLocaleString("en-US")} step: the bench's time limit was near`;
        break;
      }
      const stepStarted = Date.now();
      const id = `hold-${variant}-${index + 1}`;
      const csvPath = join(workDir, `${id}.csv`);
      writeFileSync(csvPath, accountsCsv(previous + 1, target));
      const tsung = startTsung({
        id,
        workDir: join(workDir, id),
        configXml: renderTsungConfig({
          domain: BENCH_DOMAIN,
          servers: container.plan.ports.c2s.map((port) => ({ port })),
          accountsCsvPath: csvPath,
          users,
          arrivalPerSecond: profile.sessionArrivalPerSecond,
          afterLogin: { kind: "hold", seconds: 3_600 },
          answerTimeoutMs: ANSWER_TIMEOUT_MS,
        }),
      });
      tsungs.push(tsung);

      const limit = Math.min(Date.now() + (users / 40) * 1000 + ANSWER_TIMEOUT_MS + 30_000, finishBy + 60_000);
      const { completed: done, failed } = await waitForLogins(tsung, users, limit);
      loginsPerSecond = Math.max(20, done / Math.max(1, (Date.now() - stepStarted) / 1000));
      await sleep(3_000);
      const held = await boundSessionCount(container);
      const memory = await sampleMemory(container.plan.name);
      result.steps.push({ target, held, loginErrors: failed, memory });
      progress(
        `sessions ${variant}: step ${target}: ${held} held, Prosody ${(memory.prosodyRssKb / KIB).toFixed(1)} MiB, ` +
          `container ${(memory.containerRssKb / KIB).toFixed(1)} MiB${failed ? `, ${failed} login errors` : ""}`,
      );
      if (held < target * HELD_FRACTION_TO_CONTINUE) {
        result.stepStopReason = `stopped stepping at ${target}: only ${held} sessions held (${failed} tsung errors)`;
        break;
      }
      previous = target;
    }
  } finally {
    await Promise.all(tsungs.map((tsung) => tsung.stop()));
    await container.remove();
    data.dispose();
  }
}

/**
 * Until `users` logins completed or failed, tsung ended, nothing moved for STALL_MS (a few
 * sessions can hang in tsung without a timeout), or the limit.
 */
async function waitForLogins(tsung: TsungRun, users: number, limit: number): Promise<{ completed: number; failed: number }> {
  let exited = false;
  void tsung.exited.then(() => (exited = true));
  let completed = 0;
  let failed = 0;
  let lastProgress = "";
  let lastChangeAt = Date.now();
  while (Date.now() < limit && !exited) {
    await sleep(1_000);
    const dumps = tsung.readDumps();
    completed = totalCount(dumps, `tr_${LOGIN_TRANSACTION}`);
    failed = [...errorCounts(dumps).values()].reduce((sum, count) => sum + count, 0);
    if (completed + failed >= users) break;
    const progress = `${totalCount(dumps, "users_count")}/${completed}/${failed}/${totalCount(dumps, "finish_users_count")}`;
    if (progress !== lastProgress) {
      lastProgress = progress;
      lastChangeAt = Date.now();
    } else if (completed > 0 && Date.now() - lastChangeAt > STALL_MS) {
      break;
    }
  }
  return { completed, failed };
}

function loadSections(results: Map<Variant, VariantLoad>, profile: BenchProfile): ResultSection[] {
  const appliance = results.get("appliance")!;
  const baseline = results.get("baseline")!;
  const maxHeld = (load: VariantLoad) => (load.steps.length > 0 ? Math.max(...load.steps.map((step) => step.held)) : undefined);
  const perSession = (load: VariantLoad, pick: (sample: MemorySample) => number) => {
    const top = load.steps.at(-1);
    if (!top || !load.idleBeforeSteps || top.held === 0) return undefined;
    return (pick(top.memory) - pick(load.idleBeforeSteps)) / top.held;
  };
  const one = (value: number | undefined) => (value === undefined ? undefined : summarize([value]));
  const top = (load: VariantLoad) => load.steps.at(-1);
  const postgres = results.get("postgres")!;
  return [
    {
      title: "5. XMPP load (127.0.0.1, STARTTLS on 5222)",
      rows: [
        {
          metric: `logins per second (tsung; ${profile.loginsPerRun} per run, offered ${profile.loginArrivalPerSecond}/s)`,
          appliance: summarize(appliance.logins.map((run) => run.perSecond)),
          baseline: summarize(baseline.logins.map((run) => run.perSecond)),
          goal: { on: "ratio", atLeast: 0.9 },
        },
        {
          metric: "… mean time per login at that load (ms)",
          appliance: summarize(appliance.logins.flatMap((run) => (run.meanLoginMs === undefined ? [] : [run.meanLoginMs]))),
          baseline: summarize(baseline.logins.flatMap((run) => (run.meanLoginMs === undefined ? [] : [run.meanLoginMs]))),
        },
        {
          metric: `messages per second between connected pairs (Node generator; ${profile.messagePairs} pairs, both ways, ${profile.messageWindow} in flight each, ${profile.messageSeconds} s)`,
          appliance: summarize(appliance.messages.map((run) => run.perSecond)),
          baseline: summarize(baseline.messages.map((run) => run.perSecond)),
          goal: { on: "ratio", atLeast: 0.9 },
        },
        {
          metric: `most concurrent authenticated sessions held (tsung, stepping to ${Math.max(...profile.sessionSteps).toLocaleString("en-US")})`,
          appliance: one(maxHeld(appliance)),
          baseline: one(maxHeld(baseline)),
          digits: 0,
        },
        {
          metric: "… Prosody RSS at that count (MiB)",
          appliance: one(top(appliance) && top(appliance)!.memory.prosodyRssKb / KIB),
          baseline: one(top(baseline) && top(baseline)!.memory.prosodyRssKb / KIB),
        },
        {
          metric: "… Prosody memory per session (KiB, RSS growth / sessions)",
          appliance: one(perSession(appliance, (sample) => sample.prosodyRssKb)),
          baseline: one(perSession(baseline, (sample) => sample.prosodyRssKb)),
        },
        {
          metric: "… whole container memory per session (KiB, RSS growth / sessions)",
          appliance: one(perSession(appliance, (sample) => sample.containerRssKb)),
          baseline: one(perSession(baseline, (sample) => sample.containerRssKb)),
        },
      ],
    },
    {
      title: "5b. PostgreSQL storage (XMPP_STORAGE=postgres, in the Appliance columns) beside file storage (the appliance with its files, in the Baseline columns)",
      rows: [
        {
          metric: `logins per second (tsung; ${profile.loginsPerRun} per run, offered ${profile.loginArrivalPerSecond}/s)`,
          appliance: summarize(postgres.logins.map((run) => run.perSecond)),
          baseline: summarize(appliance.logins.map((run) => run.perSecond)),
        },
        {
          metric: `messages per second between connected pairs (${profile.messagePairs} pairs, every message archived)`,
          appliance: summarize(postgres.messages.map((run) => run.perSecond)),
          baseline: summarize(appliance.messages.map((run) => run.perSecond)),
        },
        {
          metric: "most concurrent authenticated sessions held",
          appliance: one(maxHeld(postgres)),
          baseline: one(maxHeld(appliance)),
          digits: 0,
        },
        {
          metric: "… Prosody memory per session (KiB, RSS growth / sessions)",
          appliance: one(perSession(postgres, (sample) => sample.prosodyRssKb)),
          baseline: one(perSession(appliance, (sample) => sample.prosodyRssKb)),
        },
      ],
    },
  ];
}

function loadNotes(results: Map<Variant, VariantLoad>, profile: BenchProfile, tsungAvailable: boolean): string[] {
  const notes = [
    "Load tool: Debian's tsung 1.7 for logins and held sessions (STARTTLS, SASL PLAIN over TLS, resource bind, one Erlang VM per step, " +
      "all on 127.0.0.1). Login rate is the server's: Docker's timestamps on Prosody's \"Authenticated as\" lines, counted between " +
      "the 5th and 95th percentile of those times (ramp-up and stragglers left out). " +
      "Messages use a Node generator instead (bench/message-pairs.ts): tsung counts received stamped messages with one regexp " +
      "match per TCP read, so in a trial here it counted 155 of 4,000 delivered messages, and its fire-and-forget sends measure " +
      "socket buffers, not the server. The Node generator logs in like tsung (verified STARTTLS, SASL PLAIN, bind, presence) with a " +
      "minimal client of its own rather than @xmpp/client, whose stream-management acks went backwards under this load (Prosody then " +
      "closes the session); it counts each delivery at the receiver and keeps " +
      `${profile.messageWindow} messages in flight per sender. Every message is also archived (mod_mam) and subject to the configured 10 kB/s per-session read limit, in both variants.`,
    `Sessions: steps of ${profile.sessionSteps.join(", ")} (cumulative), offered ${profile.sessionArrivalPerSecond} logins/s ` +
      "(below the login rate: offered faster, a few percent of tsung's sessions end between docker-proxy and tsung without an error); " +
      `stepping continues while at least ${HELD_FRACTION_TO_CONTINUE * 100}% of a step's sessions are bound; ` +
      "after each step the bound sessions are counted inside Prosody (prosody.full_sessions via prosodyctl shell) and memory sampled. " +
      `5222 is published on several 127.0.0.1 ports (one per ${SESSIONS_PER_PUBLISHED_PORT.toLocaleString("en-US")} sessions): each docker-proxy ` +
      "inherits dockerd's open-file limit (20,000 here) and needs two descriptors per connection. Containers run with nofile=20000 (dockerd here may not grant more).",
  ];
  if (!tsungAvailable) notes.push("tsung was not available: login rate and held sessions were not measured.");
  for (const [variant, load] of results) {
    if (load.steps.length > 0) {
      notes.push(
        `Steps (${variant}): ` +
          load.steps
            .map((step) => `${step.target.toLocaleString("en-US")} → ${step.held.toLocaleString("en-US")} held, Prosody ${(step.memory.prosodyRssKb / KIB).toFixed(0)} MiB, container ${(step.memory.containerRssKb / KIB).toFixed(0)} MiB${step.loginErrors ? `, ${step.loginErrors} tsung errors` : ""}`)
            .join("; ") +
          (load.stepStopReason ? ` (${load.stepStopReason})` : "") +
          ".",
      );
    }
    const errors = new Map<string, number>();
    for (const run of load.logins) for (const [name, count] of run.errors) errors.set(name, (errors.get(name) ?? 0) + count);
    const lost = load.messages.reduce((sum, run) => sum + run.lost, 0);
    const loginFailures = load.messages.reduce((sum, run) => sum + run.loginFailures, 0);
    const sessionsClosed = load.messages.reduce((sum, run) => sum + run.sessionsClosed, 0);
    const firstLoginError = load.messages.find((run) => run.firstLoginError)?.firstLoginError;
    const problems = [
      ...[...errors].map(([name, count]) => `${count} tsung ${name}`),
      ...(lost ? [`${lost} messages lost`] : []),
      ...(loginFailures ? [`${loginFailures} message-session logins failed (first: ${firstLoginError})`] : []),
      ...(sessionsClosed ? [`${sessionsClosed} message sessions closed during a run`] : []),
    ];
    if (problems.length > 0) notes.push(`Errors (${variant}): ${problems.join(", ")}.`);
  }
  return notes;
}
