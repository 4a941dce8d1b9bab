export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  kernel: string;
  docker: string;
  node: string;
  tsung: string;
}

export interface ResultsDocument {
  date: Date;
  machine: MachineInfo;
  profile: "full" | "quick";
  /** Image reference, id and version label. */
  image: string;
  durationSeconds: number;
  table: string;
  notes: string[];
}

export const README_START_MARKER = "<!-- bench:start -->";
export const README_END_MARKER = "<!-- bench:end -->";

export function describeMachine(machine: MachineInfo): string {
  return (
    `${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB.toFixed(1)} GiB memory; ` +
    `${machine.os}, Linux ${machine.kernel}; Docker ${machine.docker}; Node ${machine.node}; ${machine.tsung}`
  );
}

function formatDate(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** bench/results/latest.md: the machine first, then the table, then how each number was taken. */
export function renderResultsMarkdown(doc: ResultsDocument): string {
  const command = doc.profile === "quick" ? "npm run bench -- --quick" : "npm run bench";
  return [
    "# prosody-appliance benchmarks",
    "",
    `**Machine:** ${describeMachine(doc.machine)}`,
    "",
    `**Run:** ${formatDate(doc.date)}, \`${command}\` (${doc.profile} profile), ${doc.image}, ` +
      `${(doc.durationSeconds / 60).toFixed(1)} min. Baseline: the same image's Prosody started directly ` +
      "(`--entrypoint prosody --user prosody`) with the hand-written `bench/baseline/prosody.cfg.lua`. " +
      "Ratio = appliance median / baseline median.",
    "",
    doc.table,
    "",
    "## Notes",
    "",
    ...doc.notes.map((note) => `- ${note}`),
    "",
  ].join("\n");
}

export function renderReadmeSection(doc: ResultsDocument): string {
  return [
    README_START_MARKER,
    "## Benchmarks",
    "",
    "`npm run bench` builds the image (`npm run build:image`, tagged `prosody-appliance:bench`), measures the",
    "appliance against a baseline (the same image's Prosody started directly with the hand-written",
    "`bench/baseline/prosody.cfg.lua`), prints the table below and writes it to",
    "[`bench/results/latest.md`](bench/results/latest.md) with notes on how each number is taken.",
    "`npm run bench -- --quick` is a ~3 minute run with fewer repetitions and at most 1,000 sessions.",
    "`npm run bench -- --compare=REF` also builds the image of git ref REF (once, tagged",
    "`prosody-appliance:ref-<commit>`) and reports its start, start breakdown, memory and size in the",
    "same run, so a performance change is shown side by side. `BENCH_IMAGE` changes the bench's tag.",
    "It is not part of `npm test` or CI. It needs root (bind-mounted data and certificates are",
    "given to uid/gid 101), a Docker engine and Debian's `tsung` (installed with apt-get when",
    "missing); everything it starts is labelled `prosody-appliance.bench=<its process id>` and removed",
    "when it ends; a run also removes what a run that is gone left behind, never another live run's.",
    "",
    `Latest run: ${formatDate(doc.date)}, ${doc.profile} profile (${(doc.durationSeconds / 60).toFixed(1)} min), ` +
      `on ${describeMachine(doc.machine)}. How each number is taken, and what lies behind the misses: ` +
      "[`bench/results/latest.md`](bench/results/latest.md).",
    "",
    doc.table,
    README_END_MARKER,
  ].join("\n");
}

/** Replaces the marked block, or appends it at the end when the markers are not there yet. */
export function replaceMarkedSection(text: string, section: string): string {
  const start = text.indexOf(README_START_MARKER);
  const end = text.indexOf(README_END_MARKER);
  if (start >= 0 && end > start) {
    return text.slice(0, start) + section + text.slice(end + README_END_MARKER.length);
  }
  return `${text.replace(/\n*$/, "")}\n\n${section}\n`;
}
