import type Docker from "dockerode";
import { containerLogs, execIn } from "../container-exec.js";
import { TEST_LABELS, docker } from "../docker-engine.js";
import { waitFor } from "../wait-for.js";
import { postgresImage } from "./postgres-image.js";

export interface PostgresOptions {
  /** A docker network the test created; the server is reachable there as `alias`. */
  network: string;
  alias: string;
  user?: string;
  password: string;
  database?: string;
  /** Durability off by default: tests need speed, not crash safety. The bench passes []. */
  args?: string[];
  /** Labels that let leftovers be swept: the tests' by default. */
  labels?: Record<string, string>;
}

export interface PostgresContainer extends AsyncDisposable {
  container: Docker.Container;
  /** Runs SQL with psql inside the container as the superuser; returns the unaligned rows. */
  psql(sql: string, database?: string): Promise<string>;
  /** The container's address on the network: this engine's DNS has been seen to lose names. */
  address: string;
  /** Stops the server (the container, its address and the data stay), and starts it again. */
  down(): Promise<void>;
  up(): Promise<void>;
  logs(): Promise<string>;
  dispose(): Promise<void>;
}

let counter = 0;

/** A PostgreSQL server on a test network, with no published port, ready for connections. */
export async function startPostgres(options: PostgresOptions): Promise<PostgresContainer> {
  const { network, alias, user = "prosody", password, database = user, args = ["-c", "fsync=off", "-c", "synchronous_commit=off"], labels = TEST_LABELS } = options;
  const container = await docker.createContainer({
    name: `appliance-test-postgres-${process.pid}-${++counter}-${Date.now().toString(36)}`,
    Image: await postgresImage(),
    Cmd: args,
    Env: [`POSTGRES_USER=${user}`, `POSTGRES_PASSWORD=${password}`, `POSTGRES_DB=${database}`],
    Labels: labels,
    NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: [alias] } } },
  });
  const psql = async (sql: string, db = database) => {
    const result = await execIn(container, ["psql", "--no-psqlrc", "--tuples-only", "--no-align", "--set=ON_ERROR_STOP=1", "--username=postgres", `--dbname=${db}`, "--command", sql]);
    if (result.exitCode !== 0) throw new Error(`psql ${JSON.stringify(sql)} failed (exit ${result.exitCode}): ${result.stderr.trim()}`);
    return result.stdout.trim();
  };
  // initdb and the first start take seconds on a quiet machine, a minute or more on a busy one.
  const ready = () =>
    waitFor("PostgreSQL to accept connections over TCP", async () => (await execIn(container, ["pg_isready", "--quiet", "--host=127.0.0.1"])).exitCode === 0, { timeoutMs: 180_000, intervalMs: 500 });
  const dispose = async () => {
    await container.remove({ force: true, v: true }).catch(() => undefined);
  };
  const ensureReady = async () => {
    try {
      await ready();
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- postgres logs ---\n${await containerLogs(container).catch(() => "(none)")}`);
    }
  };
  let address: string;
  try {
    await container.start();
    await ensureReady();
    // Attached to this one network only; keyed by its name, which the caller may not have used.
    address = Object.values((await container.inspect()).NetworkSettings.Networks)[0]?.IPAddress ?? "";
    if (address === "") throw new Error(`the PostgreSQL container has no address on network ${network}`);
  } catch (error) {
    await dispose();
    throw error;
  }
  const run = async (command: string) => {
    const result = await execIn(container, ["sh", "-c", command]);
    if (result.exitCode !== 0) throw new Error(`${command} failed in the PostgreSQL container (exit ${result.exitCode}): ${result.stderr.trim()}`);
  };
  return {
    container,
    address,
    psql,
    down: () => run("touch /tmp/down && pg_ctl stop --mode=fast --wait --silent"),
    up: async () => {
      await run("rm -f /tmp/down");
      await ensureReady();
    },
    logs: () => containerLogs(container),
    dispose,
    [Symbol.asyncDispose]: dispose,
  };
}
