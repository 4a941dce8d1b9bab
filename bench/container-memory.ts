import { readFileSync } from "node:fs";

import { docker } from "../test-support/docker-engine.js";

export interface ProcessRow {
  pid: number;
  rssKb: number;
  args: string;
}

export type ProcessRole = "prosody" | "entrypoint" | "init" | "transient" | "other";

export interface MemorySample {
  prosodyRssKb: number;
  /** The Node entrypoint; undefined in the baseline. */
  entrypointRssKb?: number;
  /** Its anonymous (private, non-file) resident memory, where /proc can be read. */
  entrypointAnonKb?: number;
  /** Every long-lived process in the container, RSS summed. */
  containerRssKb: number;
  /** What `docker stats` shows: the cgroup's usage minus inactive page cache. */
  cgroupBytes?: number;
}

/** Exec'd helpers (prosodyctl, the healthcheck) come and go; they are not the container's idle cost. */
export function processRole(args: string): ProcessRole {
  if (/prosodyctl|appliance-healthcheck/.test(args)) return "transient";
  if (/(^|\/)tini\b/.test(args)) return "init";
  if (/^(\S*\/)?node\b/.test(args)) return "entrypoint";
  if (/(^|\s|\/)prosody\b/.test(args)) return "prosody";
  return "other";
}

export function summarizeProcesses(rows: readonly ProcessRow[]): Omit<MemorySample, "entrypointAnonKb" | "cgroupBytes"> {
  let prosodyRssKb = 0;
  let entrypointRssKb: number | undefined;
  let containerRssKb = 0;
  for (const row of rows) {
    const role = processRole(row.args);
    if (role === "transient") continue;
    containerRssKb += row.rssKb;
    if (role === "prosody") prosodyRssKb += row.rssKb;
    if (role === "entrypoint") entrypointRssKb = (entrypointRssKb ?? 0) + row.rssKb;
  }
  return { prosodyRssKb, containerRssKb, ...(entrypointRssKb !== undefined ? { entrypointRssKb } : {}) };
}

export async function sampleMemory(containerName: string): Promise<MemorySample> {
  const container = docker.getContainer(containerName);
  const top = (await container.top({ ps_args: "-o pid,rss,args" })) as { Processes: string[][] };
  const rows: ProcessRow[] = top.Processes.map(([pid, rss, ...args]) => ({
    pid: Number(pid),
    rssKb: Number(rss),
    args: args.join(" "),
  }));
  const sample: MemorySample = summarizeProcesses(rows);

  const entrypoint = rows.find((row) => processRole(row.args) === "entrypoint");
  if (entrypoint) {
    const anon = anonymousRssKb(entrypoint.pid);
    if (anon !== undefined) sample.entrypointAnonKb = anon;
  }

  const stats = (await container.stats({ stream: false, "one-shot": true } as { stream: false })) as {
    memory_stats?: { usage?: number; stats?: Record<string, number> };
  };
  const usage = stats.memory_stats?.usage;
  if (usage !== undefined) {
    const inactive = stats.memory_stats?.stats?.total_inactive_file ?? stats.memory_stats?.stats?.inactive_file ?? 0;
    sample.cgroupBytes = inactive < usage ? usage - inactive : usage;
  }
  return sample;
}

/** RssAnon of a host pid (docker top reports host pids), when this process may read it. */
function anonymousRssKb(pid: number): number | undefined {
  try {
    const match = /RssAnon:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}
