import type Docker from "dockerode";
import { LISTENERS } from "../../entrypoint/listeners.js";
import { containerLogs, execIn, type ExecResult } from "../../test-support/container-exec.js";
import { IMAGE, TEST_LABELS, docker } from "../../test-support/docker-engine.js";
import { waitFor } from "../../test-support/wait-for.js";
import { hardenedByEnvironment } from "./hardening.js";

// Every TLS listener, and the file-transfer proxy's default port (XMPP_PROXY65_PORT), which has no TLS.
const XMPP_PORTS = [...Object.values(LISTENERS), 5000];

export interface ApplianceOptions {
  /** Another image than the one under test, e.g. an earlier commit's (imageAtRef). */
  image?: string;
  /** Added to XMPP_DOMAINS=example.org; `undefined` leaves a variable out. */
  env?: Record<string, string | undefined>;
  /** Host bind mounts, `host:container[:ro]`. */
  binds?: string[];
  /** Named volume mounted at /var/lib/prosody (created and labelled for cleanup). */
  dataVolume?: string;
  /** `docker run --user`, e.g. "101:101"; the image's default (root) when absent. */
  user?: string;
  /** Extra HostConfig (security options, sysctls, tmpfs ...). */
  hostConfig?: Docker.HostConfig;
  /** Docker network to attach to, with DNS aliases. */
  network?: { name: string; aliases: string[] };
  /**
   * More container ports to publish on 127.0.0.1, on a random host port, or on the same port
   * (`samePort`) for a service that advertises its own port to clients (proxy65), or on a
   * given `hostPort` (chosen before the start, e.g. to name it in XMPP_PUBLIC_URL).
   */
  extraPorts?: Array<number | { port: number; samePort: true } | { port: number; hostPort: number }>;
  /** Wait until Prosody answers (default), or only until the container has started. */
  waitUntil?: "ready" | "started";
  /** Another ENTRYPOINT than the image's (e.g. the same Node with a fault injected: injected-fault.ts). */
  entrypoint?: string[];
  readyTimeoutMs?: number;
}

export interface Appliance extends AsyncDisposable {
  container: Docker.Container;
  /** The 127.0.0.1 port that a container port is published on. */
  port(containerPort: number): number;
  /** Everything the container has printed so far (stdout and stderr interleaved). */
  logs(): Promise<string>;
  exec(command: string[], options?: { stdin?: string }): Promise<ExecResult>;
  /** Resolves with the container's exit code once it has stopped. */
  exited(): Promise<number>;
  dispose(): Promise<void>;
}

export async function createTestVolume(name: string): Promise<string> {
  await docker.createVolume({ Name: name, Labels: TEST_LABELS });
  return name;
}

export async function removeTestVolume(name: string): Promise<void> {
  await docker.getVolume(name).remove().catch(() => undefined);
}

let counter = 0;

function hardenedWith(hostConfig: Docker.HostConfig = {}): Docker.HostConfig {
  const hardened = hardenedByEnvironment();
  return { ...hardened, ...hostConfig, Tmpfs: { ...hardened.Tmpfs, ...hostConfig.Tmpfs } };
}

/**
 * Starts the appliance image with ports published on 127.0.0.1 (random host ports) and, by
 * default, waits until the health endpoint says Prosody serves clients. `await using` or
 * `dispose()` removes the container even when a test fails.
 */
export async function startAppliance(options: ApplianceOptions = {}): Promise<Appliance> {
  const env: Record<string, string | undefined> = { XMPP_DOMAINS: "example.org", ...options.env };
  if (env.XMPP_DOMAINS_FILE !== undefined && !("XMPP_DOMAINS" in (options.env ?? {}))) delete env.XMPP_DOMAINS;
  const exposed: Record<string, object> = {};
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  const published = [...XMPP_PORTS, ...(options.extraPorts ?? [])].map((p) =>
    typeof p === "number" ? { port: p, hostPort: "" } : { port: p.port, hostPort: String("samePort" in p ? p.port : p.hostPort) },
  );
  for (const { port, hostPort } of published) {
    exposed[`${port}/tcp`] = {};
    bindings[`${port}/tcp`] = [{ HostIp: "127.0.0.1", HostPort: hostPort }];
  }
  const binds = [...(options.binds ?? [])];
  if (options.dataVolume) binds.push(`${options.dataVolume}:/var/lib/prosody`);

  const container = await docker.createContainer({
    name: `appliance-test-${process.pid}-${++counter}-${Date.now().toString(36)}`,
    Image: options.image ?? IMAGE,
    ...(options.entrypoint ? { Entrypoint: options.entrypoint } : {}),
    Env: Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`])),
    Labels: TEST_LABELS,
    ...(options.user ? { User: options.user } : {}),
    ExposedPorts: exposed,
    // APPLIANCE_HARDENED=1 first, so that a test's own options (e.g. a tmpfs it needs) still apply.
    HostConfig: { PortBindings: bindings, Binds: binds, ...hardenedWith(options.hostConfig) },
    ...(options.network
      ? { NetworkingConfig: { EndpointsConfig: { [options.network.name]: { Aliases: options.network.aliases } } } }
      : {}),
  });

  const dispose = async () => {
    await container.remove({ force: true, v: true }).catch(() => undefined);
  };

  try {
    await container.start();
    const inspected = await container.inspect();
    const ports = new Map<number, number>();
    for (const { port } of published) {
      const hostPort = inspected.NetworkSettings.Ports[`${port}/tcp`]?.[0]?.HostPort;
      if (hostPort) ports.set(port, Number(hostPort));
    }
    let exitCode: Promise<number> | undefined;
    const appliance: Appliance = {
      container,
      port(containerPort) {
        const hostPort = ports.get(containerPort);
        if (hostPort === undefined) throw new Error(`container port ${containerPort} is not published`);
        return hostPort;
      },
      logs: () => containerLogs(container),
      exec: (command, execOptions) => execIn(container, command, execOptions),
      exited() {
        exitCode ??= container.wait().then((result: { StatusCode: number }) => result.StatusCode);
        return exitCode;
      },
      dispose,
      [Symbol.asyncDispose]: dispose,
    };
    if ((options.waitUntil ?? "ready") === "ready") await waitUntilReady(appliance, options.readyTimeoutMs ?? 60_000);
    return appliance;
  } catch (error) {
    const logs = await containerLogs(container).catch(() => "(no logs)");
    await dispose();
    throw new Error(`${(error as Error).message}\n--- container logs ---\n${logs}`);
  }
}

export async function waitUntilReady(appliance: Appliance, timeoutMs = 60_000): Promise<void> {
  let stoppedWith: number | undefined;
  await waitFor(
    "the appliance's health check to pass",
    async () => {
      const state = (await appliance.container.inspect()).State;
      if (!state.Running) {
        stoppedWith = state.ExitCode;
        return true;
      }
      return (await appliance.exec(["appliance-healthcheck"])).exitCode === 0;
    },
    { timeoutMs, intervalMs: 200 },
  );
  if (stoppedWith !== undefined) throw new Error(`the container stopped with exit code ${stoppedWith} before it was ready`);
  // Healthy means Prosody serves; the entrypoint then starts TURN and the certificate watcher.
  // Tests begin once the whole start is done, as they did before that order existed.
  await waitFor("the entrypoint's last startup step (watch certificates)", async () => {
    const state = (await appliance.container.inspect()).State;
    return !state.Running || (await appliance.logs()).includes("appliance info  watch certificates");
  }, { timeoutMs, intervalMs: 200 });
}

/** Every process in the container as "pid: argv joined by spaces", from /proc. */
const PROCESS_LIST = 'for p in /proc/[0-9]*; do printf "%s: " "${p#/proc/}"; tr "\\0" " " < "$p/cmdline"; echo; done 2>/dev/null';

/**
 * The pid of the Prosody server, found by its command line as start-prosody.ts runs it (not any
 * Lua process: prosodyctl is Lua too). Fails unless exactly one process matches.
 */
export async function prosodyPid(appliance: Pick<Appliance, "exec">): Promise<number> {
  const listing = (await appliance.exec(["sh", "-c", PROCESS_LIST])).stdout;
  const servers = listing.split("\n").filter((line) => PROSODY_COMMAND_LINE.test(line));
  if (servers.length !== 1) throw new Error(`expected one Prosody server process, found ${servers.length}; processes:\n${listing}`);
  return Number.parseInt(servers[0]!, 10);
}

/** As start-prosody.ts spawns it, or as server/start-appliance starts it early. */
const PROSODY_COMMAND_LINE =
  /^\d+: lua5\.4 -e dofile "\/usr\/local\/lib\/prosody-appliance\/bytecode\/load-bytecode\.lua" (\/usr\/local\/lib\/prosody-appliance\/early-prosody\.lua )?\/usr\/bin\/prosody -F --config \/etc\/prosody\/prosody\.cfg\.lua $/;

/**
 * Runs a command on a terminal, as `docker exec -it` does, answering each prompt as it
 * appears (e.g. prosodyctl's "Enter new password:"). Returns everything the terminal showed.
 */
export async function execOnTerminal(
  container: Docker.Container,
  command: string[],
  answers: Array<{ prompt: RegExp; reply: string }>,
  timeoutMs = 20_000,
): Promise<ExecResult> {
  const exec = await container.exec({ Cmd: command, AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: true });
  const stream = await exec.start({ hijack: true, stdin: true, Tty: true });
  let screen = "";
  let answered = 0;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${command.join(" ")} did not finish within ${timeoutMs} ms; the terminal showed: ${screen}`)),
      timeoutMs,
    );
    stream.on("data", (chunk: Buffer) => {
      screen += chunk.toString("utf8");
      const next = answers[answered];
      if (next && next.prompt.test(screen.slice(-200))) {
        answered++;
        stream.write(next.reply);
      }
    });
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    stream.on("end", done);
    stream.on("close", done);
    stream.on("error", reject);
  });
  const inspected = await exec.inspect();
  return { exitCode: inspected.ExitCode ?? -1, stdout: screen, stderr: "" };
}
