import { spawn } from "node:child_process";
import { createGzip } from "node:zlib";

import { BENCH_IMAGE, BENCH_LABEL, BENCH_RUN, dockerCli } from "./bench-docker.js";
import type { ResultSection } from "./results-table.js";
import { summarize } from "./summary-stats.js";

export const BASE_IMAGE = "debian:trixie-slim";
const MB = 1_000_000; // as `docker images` counts
/** What the official slim images leave out; a seeded base should not carry them either. */
const SLIM_EXCLUDED = ["/usr/share/locale", "/usr/share/doc", "/usr/share/man", "/usr/share/info", "/var/lib/apt/lists", "/var/cache/apt", "/var/log"];

export interface ImageOutcome {
  sections: ResultSection[];
  notes: string[];
}

export async function measureImage(progress: (line: string) => void, compare?: { image: string; label: string }): Promise<ImageOutcome> {
  const imageBytes = await imageSize(BENCH_IMAGE);
  const compareBytes = compare ? await imageSize(compare.image) : undefined;
  const baseBytes = await imageSize(BASE_IMAGE);
  progress(`image ${(imageBytes / MB).toFixed(1)} MB, base ${(baseBytes / MB).toFixed(1)} MB; compressing docker save`);
  const gzippedBytes = await savedAndGzippedSize(BENCH_IMAGE);
  const baseLeftovers = await leftoverKb(BASE_IMAGE);
  const leftoverBytes = [...baseLeftovers.values()].reduce((sum, kb) => sum + kb * 1024, 0);
  const packages = await largestPackages(BENCH_IMAGE, 12);
  const layers = await largestLayers(BENCH_IMAGE, 4);

  const one = (value: number) => summarize([value]);
  const sections: ResultSection[] = [
    {
      title: "3. Image size",
      rows: [
        { metric: "uncompressed (MB, as `docker images`)", appliance: one(imageBytes / MB), goal: { on: "appliance", atMost: 170 } },
        ...(compare && compareBytes !== undefined
          ? [{ metric: `… build ${compare.label} (--compare), uncompressed (MB)`, appliance: one(compareBytes / MB) }]
          : []),
        { metric: "`docker save | gzip` (MB)", appliance: one(gzippedBytes / MB) },
        { metric: `base image ${BASE_IMAGE} as seeded here (MB)`, appliance: one(baseBytes / MB) },
        { metric: "added by the appliance's layers (MB)", appliance: one((imageBytes - baseBytes) / MB) },
        {
          metric: "estimated on a clean slim base: minus the base's leftovers (MB)",
          appliance: one((imageBytes - leftoverBytes) / MB),
          goal: { on: "appliance", atMost: 170 },
        },
      ],
    },
  ];

  const leftovers = [...baseLeftovers]
    .filter(([, kb]) => kb >= 1024)
    .map(([path, kb]) => `${path} ${(kb / 1024).toFixed(1)} MiB`);
  const notes = [
    `Largest packages in the image (dpkg Installed-Size): ${packages.map((p) => `${p.name} ${(p.kb / 1024).toFixed(1)} MiB`).join(", ")}.`,
    `Largest layers: ${layers.join("; ")}.`,
    leftovers.length > 0
      ? `The seeded ${BASE_IMAGE} is not as clean as the official slim image: it still holds ${leftovers.join(", ")} ` +
        "(the official image keeps only locale.alias and copyright files there). The estimate above subtracts them."
      : `The seeded ${BASE_IMAGE} is as clean as the official slim image (no locales, docs, man pages, apt lists or caches).`,
  ];
  return { sections, notes };
}

async function imageSize(image: string): Promise<number> {
  const { stdout } = await dockerCli(["image", "inspect", "--format", "{{.Size}}", image]);
  return Number(stdout.trim());
}

function savedAndGzippedSize(image: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const save = spawn("docker", ["save", image], { stdio: ["ignore", "pipe", "pipe"] });
    const timer = setTimeout(() => save.kill("SIGKILL"), 300_000);
    let bytes = 0;
    let stderr = "";
    save.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const gzip = createGzip();
    gzip.on("data", (chunk: Buffer) => (bytes += chunk.length));
    save.stdout.pipe(gzip);
    let exitCode: number | null = null;
    let gzipDone = false;
    const finish = () => {
      if (exitCode === null || !gzipDone) return;
      clearTimeout(timer);
      if (exitCode === 0) resolve(bytes);
      else reject(new Error(`docker save ${image} failed (${exitCode}): ${stderr.trim()}`));
    };
    gzip.on("end", () => ((gzipDone = true), finish()));
    save.on("close", (code) => ((exitCode = code ?? 1), finish()));
    save.on("error", reject);
  });
}

async function inImage(image: string, command: string[]): Promise<string> {
  const { stdout } = await dockerCli(["run", "--rm", "--label", `${BENCH_LABEL}=${BENCH_RUN}`, "--network", "none", "--entrypoint", command[0]!, image, ...command.slice(1)]);
  return stdout;
}

async function leftoverKb(image: string): Promise<Map<string, number>> {
  const script = `for d in ${SLIM_EXCLUDED.join(" ")}; do [ -d "$d" ] && du -sk "$d"; done; true`;
  const sizes = new Map<string, number>();
  for (const line of (await inImage(image, ["sh", "-c", script])).split("\n")) {
    const [kb, path] = line.split("\t");
    if (kb && path) sizes.set(path, Number(kb));
  }
  // The official slim images keep locale.alias and copyright files; do not count those.
  for (const [path, kb] of sizes) sizes.set(path, Math.max(0, kb - 8));
  return sizes;
}

async function largestPackages(image: string, count: number): Promise<Array<{ name: string; kb: number }>> {
  const output = await inImage(image, ["dpkg-query", "-Wf", "${Installed-Size}\\t${Package}\\n"]);
  return output
    .split("\n")
    .map((line) => line.split("\t"))
    .filter((parts): parts is [string, string] => parts.length === 2 && parts[0] !== "")
    .map(([kb, name]) => ({ name, kb: Number(kb) }))
    .sort((a, b) => b.kb - a.kb)
    .slice(0, count);
}

async function largestLayers(image: string, count: number): Promise<string[]> {
  const { stdout } = await dockerCli(["history", "--no-trunc", "--human=false", "--format", "{{.Size}}\t{{.CreatedBy}}", image]);
  return stdout
    .split("\n")
    .map((line) => line.split("\t"))
    .filter((parts): parts is [string, string] => parts.length === 2)
    .map(([size, createdBy]) => ({ bytes: Number(size), createdBy }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, count)
    .map((layer) => `${(layer.bytes / MB).toFixed(1)} MB \`${describeLayer(layer.createdBy)}\``);
}

function describeLayer(createdBy: string): string {
  const text = createdBy.replace(/^\/bin\/sh -c (#\(nop\)\s*)?/, "").replace(/^\|\d+ \S+=\S+ \/bin\/sh -c /, "").replace(/\s+/g, " ").trim();
  if (text === "") return "base image";
  const copy = /^COPY (?:dir|file):\S+ in (\S+)/.exec(text);
  if (copy) return `COPY … ${copy[1]}`;
  return text.length > 70 ? `${text.slice(0, 67)}...` : text;
}
