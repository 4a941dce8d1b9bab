import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { createTestCa } from "../test-support/test-ca.js";
import { assertEngineAnswers } from "../test-support/docker-engine.js";
import { createCertificateFixture } from "./bench-certificates.js";
import { BENCH_IMAGE, dockerCli, removeBenchContainers } from "./bench-docker.js";
import { FULL_PROFILE, QUICK_PROFILE, type BenchProfile } from "./bench-profile.js";
import { machineInfo } from "./machine-info.js";
import { measureImage } from "./measure-image.js";
import { measureLoad } from "./measure-load.js";
import { measureRenewal } from "./measure-renewal.js";
import { measureSoak } from "./measure-soak.js";
import { measureStartupAndMemory, type CompareImage } from "./measure-startup.js";
import { imageAtRef } from "../test-support/image-at-ref.js";
import { renderReadmeSection, renderResultsMarkdown, replaceMarkedSection } from "./results-document.js";
import { renderResultsTable, type ResultSection } from "./results-table.js";
import { ensureTsung, epmdPids, stopAllTsung } from "./tsung-process.js";

const SECTIONS = ["start", "image", "renewal", "load", "soak"] as const;
type SectionName = (typeof SECTIONS)[number];

const USAGE = `npm run bench [-- --quick] [--skip-build] [--compare=REF] [--only=${SECTIONS.join(",")}]
  --quick       ~3 minutes: fewer runs, 5 renewals, at most 1,000 sessions (soak: 300 sessions, 20 renewals)
  --skip-build  measure the existing ${BENCH_IMAGE} instead of running npm run build:image
  --compare=REF also build the image of git ref REF (prosody-appliance:ref-<commit>, built once)
                and report its start to ready, start breakdown, memory and size in the same run
  --only=...    run only these sections (results are then written to bench/results/partial.md.tmp)`;

const RESULTS_PATH = fileURLToPath(new URL("./results/latest.md", import.meta.url));
const PARTIAL_PATH = fileURLToPath(new URL("./results/partial.md.tmp", import.meta.url));
const BUILD_LOG_PATH = fileURLToPath(new URL("./results/build-image.log", import.meta.url));
const COMPARE_BUILD_LOG_PATH = fileURLToPath(new URL("./results/build-compare.log", import.meta.url));
const README_PATH = fileURLToPath(new URL("../README.md", import.meta.url));
const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));

const startedAt = Date.now();
const progress = (line: string) => {
  const elapsed = Math.round((Date.now() - startedAt) / 1000);
  console.error(`[bench ${String(Math.floor(elapsed / 60)).padStart(2, "0")}:${String(elapsed % 60).padStart(2, "0")}] ${line}`);
};

const cleanups: Array<() => void | Promise<void>> = [];
let cleaningUp: Promise<void> | undefined;
function cleanUp(): Promise<void> {
  cleaningUp ??= (async () => {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        progress(`cleanup: ${(error as Error).message}`);
      }
    }
  })();
  return cleaningUp;
}

function parseArguments(argv: readonly string[]): { profile: BenchProfile; build: boolean; only: Set<SectionName>; compare?: string } {
  let profile = FULL_PROFILE;
  let build = true;
  let only = new Set<SectionName>(SECTIONS);
  let compare: string | undefined;
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index]!;
    if (argument === "--quick") profile = QUICK_PROFILE;
    else if (argument === "--compare" && argv[index + 1] && !argv[index + 1]!.startsWith("--")) compare = argv[++index];
    else if (argument.startsWith("--compare=") && argument.length > "--compare=".length) compare = argument.slice("--compare=".length);
    else if (argument === "--skip-build") build = false;
    else if (argument.startsWith("--only=")) {
      const names = argument.slice("--only=".length).split(",");
      const unknown = names.filter((name) => !(SECTIONS as readonly string[]).includes(name));
      if (unknown.length > 0) throw new Error(`unknown section(s) ${unknown.join(", ")}\n${USAGE}`);
      only = new Set(names as SectionName[]);
    } else {
      throw new Error(`${argument === "--help" ? "" : `unknown argument ${argument}\n`}${USAGE}`);
    }
  }
  return { profile, build, only, ...(compare ? { compare } : {}) };
}

function buildImage(): Promise<void> {
  progress(`building ${BENCH_IMAGE}: npm run build:image (log: bench/results/build-image.log)`);
  return new Promise((resolve, reject) => {
    const child = spawn("npm", ["run", "build:image"], {
      cwd: REPO_ROOT,
      env: { ...process.env, IMAGE: BENCH_IMAGE },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const output: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => output.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => output.push(chunk));
    const timer = setTimeout(() => child.kill("SIGTERM"), 20 * 60_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      const text = Buffer.concat(output).toString("utf8");
      writeFileSync(BUILD_LOG_PATH, text);
      if (code === 0) resolve();
      else reject(new Error(`npm run build:image failed (${code}):\n${text.split("\n").slice(-25).join("\n")}`));
    });
  });
}

async function describeImage(): Promise<string> {
  const { stdout } = await dockerCli([
    "image", "inspect", "--format", '{{.Id}} {{index .Config.Labels "org.opencontainers.image.version"}}', BENCH_IMAGE,
  ]);
  const [id, version] = stdout.trim().split(" ");
  return `image \`${BENCH_IMAGE}\` ${id?.replace("sha256:", "").slice(0, 12)} (version ${version || "?"})`;
}

async function main(): Promise<void> {
  const { profile, build, only, compare: compareRef } = parseArguments(process.argv.slice(2));
  if (process.getuid?.() !== 0) {
    throw new Error("the bench must run as root: it gives bind-mounted data and certificates to uid/gid 101 like a host running certbot would");
  }
  await assertEngineAnswers();
  cleanups.push(async () => {
    const removed = await removeBenchContainers("own");
    if (removed > 0) progress(`removed ${removed} container(s)`);
  });
  const leftovers = await removeBenchContainers("leftovers");
  if (leftovers > 0) progress(`removed ${leftovers} container(s) left by an earlier run`);

  if (build) await buildImage();
  let compare: CompareImage | undefined;
  if (compareRef) {
    progress(`building the image of ${compareRef} for --compare (once; log: bench/results/build-compare.log)`);
    const built = await imageAtRef(compareRef, { logPath: COMPARE_BUILD_LOG_PATH });
    compare = { image: built.image, label: compareRef === built.commit ? compareRef : `${compareRef} (${built.commit})` };
    progress(`${built.built ? "built" : "reusing"} ${built.image}`);
  }
  const image = `${await describeImage()}${compare ? `; compared with \`${compare.image}\` (--compare ${compareRef})` : ""}`;
  const tsung = only.has("load") ? ensureTsung(progress) : undefined;
  const epmdBefore = new Set(epmdPids());
  cleanups.push(() => {
    for (const pid of epmdPids().filter((pid) => !epmdBefore.has(pid))) process.kill(pid, "SIGTERM");
  });
  cleanups.push(() => stopAllTsung());

  const measuringStartedAt = Date.now();
  const watchdog = setTimeout(() => {
    progress(`the ${profile.name} profile's limit of ${profile.deadlineMs / 60_000} min is reached: stopping`);
    void cleanUp().then(() => process.exit(124));
  }, profile.deadlineMs);
  watchdog.unref();

  const ca = createTestCa("prosody-appliance bench");
  const certificates = createCertificateFixture(ca);
  cleanups.push(() => certificates.dispose());

  const sections: ResultSection[] = [];
  const notes: string[] = [];
  const run = async (name: SectionName, measure: () => Promise<{ sections: ResultSection[]; notes: string[] }>) => {
    if (!only.has(name)) return;
    progress(`--- ${name}`);
    try {
      const outcome = await measure();
      sections.push(...outcome.sections);
      notes.push(...outcome.notes);
    } catch (error) {
      progress(`${name} failed: ${(error as Error).stack ?? error}`);
      notes.push(`The ${name} measurement failed: ${(error as Error).message.split("\n")[0]}`);
    }
  };
  await run("start", () => measureStartupAndMemory(profile, certificates, progress, compare));
  await run("image", () => measureImage(progress, compare));
  await run("renewal", () => measureRenewal(profile, ca, progress));
  // Leave the hard limit some room for the last step to end and everything to be removed.
  const finishBy = measuringStartedAt + profile.deadlineMs - 120_000;
  await run("load", () => measureLoad(profile, certificates, tsung !== undefined, finishBy, progress));
  await run("soak", () => measureSoak(profile, ca, progress));
  clearTimeout(watchdog);

  const table = renderResultsTable(sections);
  const document = {
    date: new Date(),
    machine: await machineInfo(tsung),
    profile: profile.name,
    image,
    durationSeconds: (Date.now() - measuringStartedAt) / 1000,
    table,
    notes,
  };
  console.log(`\n${table}\n`);
  if (only.size === SECTIONS.length) {
    writeFileSync(RESULTS_PATH, renderResultsMarkdown(document));
    writeFileSync(README_PATH, replaceMarkedSection(readFileSync(README_PATH, "utf8"), renderReadmeSection(document)));
    progress("wrote bench/results/latest.md and the README's Benchmarks section");
  } else {
    writeFileSync(PARTIAL_PATH, renderResultsMarkdown(document));
    progress("partial run: wrote bench/results/partial.md.tmp (latest.md and the README are left alone)");
  }
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    progress(`${signal}: cleaning up`);
    void cleanUp().then(() => process.exit(130));
  });
}

main().then(
  async () => {
    await cleanUp();
    process.exit(0);
  },
  async (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    await cleanUp();
    process.exit(1);
  },
);
