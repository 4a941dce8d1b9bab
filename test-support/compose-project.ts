import { spawn, spawnSync } from "node:child_process";
import type Docker from "dockerode";
import { docker } from "./docker-engine.js";

/** `docker compose` (v2) where it exists, else Debian's docker-compose 1.29. */
export function composeCommand(): string[] {
  if (spawnSync("docker", ["compose", "version"]).status === 0) return ["docker", "compose"];
  if (spawnSync("docker-compose", ["version"]).status === 0) return ["docker-compose"];
  throw new Error("Neither `docker compose` nor `docker-compose` is installed: apt-get install docker-compose (or the compose plugin).");
}

export interface ComposeResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface ComposeProjectOptions {
  /** Unique per test run: other runs use the same engine at the same time. */
  name: string;
  files: string[];
  /** Where relative paths in the files start (the repository, for compose.yaml's ./ paths). */
  projectDirectory: string;
  /** The variables compose.yaml interpolates, as a user's .env would set them. */
  env: Record<string, string>;
}

export interface ComposeProject extends AsyncDisposable {
  readonly name: string;
  /** Runs one compose command; never throws on a non-zero status. */
  run(...args: string[]): Promise<ComposeResult>;
  /** Like run, but a non-zero status throws with what compose printed. */
  ok(...args: string[]): Promise<ComposeResult>;
  /**
   * A service's container, straight from the engine: polling through the compose command line
   * costs seconds per call (Debian's docker-compose is a Python program).
   */
  container(service: string): Promise<Docker.Container>;
  /** The 127.0.0.1 host port a service's container port is published on. */
  port(service: string, containerPort: number): Promise<number>;
}

/**
 * A compose project driven as a user drives it, through the compose command line (not the
 * engine API), asynchronously so XMPP sessions held by the test keep running meanwhile.
 * Disposing it takes the project down with its volumes.
 */
export function composeProject(options: ComposeProjectOptions): ComposeProject {
  const [command, ...prefix] = composeCommand();
  const base = [...prefix, "--project-name", options.name, "--project-directory", options.projectDirectory, ...options.files.flatMap((file) => ["--file", file])];
  const run = (...args: string[]) =>
    new Promise<ComposeResult>((resolve, reject) => {
      const child = spawn(command!, [...base, ...args], { env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
      child.once("error", reject);
      child.once("close", (status) => resolve({ status, stdout, stderr }));
    });
  const ok = async (...args: string[]) => {
    const result = await run(...args);
    if (result.status !== 0) throw new Error(`compose ${args.join(" ")} exited with ${result.status}:\n${result.stderr}${result.stdout}`);
    return result;
  };
  async function container(service: string): Promise<Docker.Container> {
    const filters = JSON.stringify({ label: [`com.docker.compose.project=${options.name}`, `com.docker.compose.service=${service}`] });
    const [found] = await docker.listContainers({ all: true, filters });
    if (!found) throw new Error(`compose project ${options.name} has no container for service ${service}`);
    return docker.getContainer(found.Id);
  }
  const dispose = async () => {
    await run("down", "--volumes", "--timeout", "5");
  };
  return {
    name: options.name,
    run,
    ok,
    container,
    async port(service, containerPort) {
      const binding = (await (await container(service)).inspect()).NetworkSettings.Ports[`${containerPort}/tcp`]?.[0];
      if (binding?.HostIp !== "127.0.0.1") throw new Error(`${service}'s port ${containerPort} is not published on 127.0.0.1: ${JSON.stringify(binding)}`);
      return Number(binding.HostPort);
    },
    [Symbol.asyncDispose]: dispose,
  };
}
