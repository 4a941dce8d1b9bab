import type Docker from "dockerode";
import { docker } from "../test-support/docker-engine.js";
import { startPostgres, type PostgresContainer } from "../test-support/postgres/postgres-container.js";
import { BENCH_LABEL, BENCH_RUN } from "./bench-docker.js";

const PASSWORD = "bench database pass phrase";

/** PostgreSQL beside the bench's containers: each appliance that uses it gets a database of its own. */
export interface BenchPostgres {
  network: string;
  /** A new, empty database, and the appliance settings that use it (its files migrate there at start). */
  freshDatabase(): Promise<Record<string, string>>;
  dispose(): Promise<void>;
}

let counter = 0;

/**
 * A test network and the Debian-built PostgreSQL on it with its default durability (fsync on):
 * the storage a deployment would have, not a test's shortcut.
 */
export async function startBenchPostgres(): Promise<BenchPostgres> {
  const name = `bench-postgres-${process.pid}-${Date.now().toString(36)}`;
  const network: Docker.Network = await docker.createNetwork({ Name: name, Labels: { [BENCH_LABEL]: BENCH_RUN } });
  let postgres: PostgresContainer;
  try {
    postgres = await startPostgres({ network: name, alias: "db", password: PASSWORD, args: [], labels: { [BENCH_LABEL]: BENCH_RUN } });
  } catch (error) {
    await network.remove().catch(() => undefined);
    throw error;
  }
  return {
    network: name,
    async freshDatabase() {
      const database = `bench_${++counter}`;
      await postgres.psql(`CREATE DATABASE ${database} OWNER prosody`, "postgres");
      return { XMPP_STORAGE: "postgres", XMPP_DB_HOST: postgres.address, XMPP_DB_NAME: database, XMPP_DB_PASSWORD: PASSWORD };
    },
    async dispose() {
      await postgres.dispose();
      await network.remove().catch(() => undefined);
    },
  };
}
