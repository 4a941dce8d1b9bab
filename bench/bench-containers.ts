import { fileURLToPath } from "node:url";

import { LISTENERS } from "../entrypoint/listeners.js";
import { execIn, type ExecResult } from "../test-support/container-exec.js";
import { docker } from "../test-support/docker-engine.js";
import { freeLoopbackPort } from "../test-support/free-loopback-port.js";
import { BENCH_IMAGE, BENCH_LABEL, BENCH_RUN, dockerCli } from "./bench-docker.js";

/** `postgres`: the appliance with XMPP_STORAGE=postgres, beside the appliance with its files. */
export type Variant = "appliance" | "baseline" | "postgres";

export const BENCH_DOMAIN = "example.org";
const BASELINE_CONFIG_HOST_PATH = fileURLToPath(new URL("./baseline/prosody.cfg.lua", import.meta.url));
const BASELINE_CONFIG_PATH = "/etc/prosody/baseline.cfg.lua";
// Enough for 10,000 sessions, and no more than dockerd here may grant (its own limit is 20,000).
const NOFILE = 20_000;

export interface PublishedPorts {
  /** Host ports on 127.0.0.1 for the container's 5222. More than one spreads load over several
   *  docker-proxy processes, each limited to dockerd's open-file limit. */
  c2s: number[];
  /** Host port on 127.0.0.1 for the container's 5223. */
  directTls: number;
}

export interface ContainerPlan {
  variant: Variant;
  name: string;
  /** Host directory mounted read-only at /etc/letsencrypt (a certbot tree); none: self-signed. */
  certsDir?: string;
  /** Host directory mounted at /var/lib/prosody. */
  dataDir: string;
  ports: PublishedPorts;
  /** The image to run; BENCH_IMAGE unless another build is compared (--compare). */
  image?: string;
  /** Settings added to the appliance's XMPP_DOMAINS (e.g. every service off). */
  env?: Record<string, string>;
  /** A docker network to join (the PostgreSQL variant's). */
  network?: string;
  /** The appliance's entrypoint and its arguments instead of the image's (the soak's memory probe). */
  entrypoint?: string[];
  /** More `-v` mounts, as `host:container[:options]`. */
  volumes?: string[];
}

let counter = 0;

export async function planContainer(
  variant: Variant,
  mounts: { certsDir?: string; dataDir: string },
  {
    c2sPorts = 1,
    image,
    env,
    network,
    entrypoint,
    volumes,
  }: { c2sPorts?: number; image?: string; env?: Record<string, string>; network?: string; entrypoint?: string[]; volumes?: string[] } = {},
): Promise<ContainerPlan> {
  const c2s: number[] = [];
  for (let index = 0; index < c2sPorts; index++) c2s.push(await freeLoopbackPort());
  return {
    variant,
    name: `bench-${variant}-${process.pid}-${++counter}`,
    ...mounts,
    ports: { c2s, directTls: await freeLoopbackPort() },
    ...(image ? { image } : {}),
    ...(env ? { env } : {}),
    ...(network ? { network } : {}),
    ...(entrypoint ? { entrypoint } : {}),
    ...(volumes ? { volumes } : {}),
  };
}

/** `docker run -d ...` for the appliance (its entrypoint, XMPP_* settings) or the baseline. */
export function dockerRunArgs(plan: ContainerPlan, image = plan.image ?? BENCH_IMAGE): string[] {
  const common = [
    "run", "-d",
    "--name", plan.name,
    "--label", `${BENCH_LABEL}=${BENCH_RUN}`,
    "--ulimit", `nofile=${NOFILE}:${NOFILE}`,
    ...(plan.network ? ["--network", plan.network] : []),
    ...(plan.certsDir ? ["-v", `${plan.certsDir}:/etc/letsencrypt:ro`] : []),
    "-v", `${plan.dataDir}:/var/lib/prosody`,
    ...(plan.volumes ?? []).flatMap((volume) => ["-v", volume]),
    ...plan.ports.c2s.flatMap((port) => ["-p", `127.0.0.1:${port}:${LISTENERS.c2s}`]),
    "-p", `127.0.0.1:${plan.ports.directTls}:${LISTENERS.c2sDirectTls}`,
  ];
  if (plan.variant !== "baseline") {
    return [
      ...common,
      "-e", `XMPP_DOMAINS=${BENCH_DOMAIN}`,
      ...Object.entries(plan.env ?? {}).flatMap(([name, value]) => ["-e", `${name}=${value}`]),
      ...(plan.entrypoint ? ["--entrypoint", plan.entrypoint[0]!] : []),
      image,
      ...(plan.entrypoint?.slice(1) ?? []),
    ];
  }
  return [
    ...common,
    "-v", `${BASELINE_CONFIG_HOST_PATH}:${BASELINE_CONFIG_PATH}:ro`,
    "--entrypoint", "prosody",
    "--user", "prosody",
    image,
    "-F", "--config", BASELINE_CONFIG_PATH,
  ];
}

export interface BenchContainer {
  plan: ContainerPlan;
  /** prosodyctl with the variant's config, inside the container. */
  prosodyctl(args: readonly string[]): Promise<ExecResult>;
  remove(): Promise<void>;
}

/** Starts the container; resolves when `docker run -d` returns (not when Prosody is ready). */
export async function runContainer(plan: ContainerPlan): Promise<BenchContainer> {
  await dockerCli(dockerRunArgs(plan));
  return attachContainer(plan);
}

export function attachContainer(plan: ContainerPlan): BenchContainer {
  const container = docker.getContainer(plan.name);
  const configArgs = plan.variant === "baseline" ? ["--config", BASELINE_CONFIG_PATH] : [];
  return {
    plan,
    prosodyctl: (args) => execIn(container, ["prosodyctl", ...configArgs, ...args]),
    remove: async () => {
      await dockerCli(["rm", "-f", "-v", plan.name]).catch(() => undefined);
    },
  };
}

/** Authenticated, resource-bound client sessions, counted inside Prosody. */
export async function boundSessionCount(container: BenchContainer): Promise<number> {
  const result = await container.prosodyctl([
    "shell",
    ">local n = 0 for _ in pairs(prosody.full_sessions) do n = n + 1 end return n",
  ]);
  const match = /Result:\s*(\d+)/.exec(result.stdout);
  if (!match) throw new Error(`could not count sessions: ${result.stdout}${result.stderr}`);
  return Number(match[1]);
}
