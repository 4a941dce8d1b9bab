import type Docker from "dockerode";
import { expect } from "vitest";
import { IMAGE, TEST_LABELS, docker } from "../../test-support/docker-engine.js";
import { startPostgres, type PostgresContainer } from "../../test-support/postgres/postgres-container.js";
import { connectClient, type XmppTestClient } from "../../test-support/xmpp/connect-client.js";
import { createTestVolume, startAppliance, type Appliance, type ApplianceOptions } from "./appliance.js";
import { letsEncryptFixture, type LetsEncryptFixture } from "./lets-encrypt-fixture.js";

export const DOMAIN = "example.org";
export const DB_PASSWORD = "db pass phrase";
export const ACCOUNTS = { alice: "pw-alice", bob: "pw-bob" } as const;
export const OFFLINE_BODY = "kept for bob while he was away";
/** XMPP_ACCOUNTS for alice and bob. */
export const ACCOUNTS_SETTING = Object.entries(ACCOUNTS).map(([user, pw]) => `${user}@${DOMAIN} ${pw}`).join("\n");

/** A test network with PostgreSQL on it, and certificates for example.org. */
export interface StorageFixture extends AsyncDisposable {
  network: Docker.Network;
  postgres: PostgresContainer;
  le: LetsEncryptFixture;
  /** Starts the appliance on the network with the certificates, and these settings. */
  appliance(options?: ApplianceOptions): Promise<Appliance>;
  login(appliance: Appliance, user: keyof typeof ACCOUNTS): Promise<XmppTestClient>;
  /** XMPP_STORAGE=postgres with the fixture's server, by address (this engine's DNS has lost names). */
  postgresEnv(database?: string): Record<string, string>;
  /** How the appliance names that database in its logs. */
  where(database?: string): string;
}

export async function storageFixture(): Promise<StorageFixture> {
  const tag = `${process.pid}-${Date.now().toString(36)}`;
  const network = await docker.createNetwork({ Name: `appliance-storage-${tag}`, Labels: TEST_LABELS });
  const le = letsEncryptFixture([{ name: DOMAIN, names: [DOMAIN] }]);
  let postgres: PostgresContainer;
  try {
    postgres = await startPostgres({ network: network.id, alias: "db", password: DB_PASSWORD });
  } catch (error) {
    le[Symbol.dispose]();
    await network.remove().catch(() => undefined);
    throw error;
  }
  const dispose = async () => {
    await postgres.dispose();
    le[Symbol.dispose]();
    await network.remove().catch(() => undefined);
  };
  return {
    network,
    postgres,
    le,
    appliance: (options = {}) =>
      startAppliance({
        ...options,
        env: { XMPP_DOMAINS: DOMAIN, XMPP_TURN: "off", ...options.env },
        binds: [le.bind, ...(options.binds ?? [])],
        network: { name: network.id, aliases: [DOMAIN] },
        // A start with SQL waits for the database and may migrate first: slow on a busy machine.
        readyTimeoutMs: options.readyTimeoutMs ?? 150_000,
      }),
    login: (appliance, user) =>
      connectClient({ port: appliance.port(5222), mode: "starttls", domain: DOMAIN, username: user, password: ACCOUNTS[user], caPem: le.ca.root.certPem }),
    postgresEnv: (database = "prosody") => ({ XMPP_STORAGE: "postgres", XMPP_DB_HOST: postgres.address, XMPP_DB_NAME: database, XMPP_DB_PASSWORD: DB_PASSWORD }),
    where: (database = "prosody") => `PostgreSQL database ${database} at ${postgres.address}:5432`,
    [Symbol.asyncDispose]: dispose,
  };
}

/**
 * A volume with today's file storage holding what a user would miss: two accounts, alice's
 * roster entry for bob, a message to bob kept offline, and alice's archive of it.
 */
export async function seedInternalVolume(fixture: StorageFixture, volume: string): Promise<void> {
  await createTestVolume(volume);
  await using server = await fixture.appliance({ dataVolume: volume, env: { XMPP_ACCOUNTS: ACCOUNTS_SETTING } });
  await using alice = await fixture.login(server, "alice");
  await alice.setRosterItem(`bob@${DOMAIN}`, "Bob");
  await alice.send(`bob@${DOMAIN}`, OFFLINE_BODY);
  // The archive answers once the message is stored: the offline copy is written first.
  expect(await alice.archivedBodies()).toEqual([OFFLINE_BODY]);
  await alice.close();
  await server.container.stop({ t: 10 });
}

/** A copy of a volume, so one seeding serves several migrations. */
export async function copyVolume(from: string, to: string): Promise<void> {
  await createTestVolume(to);
  const container = await docker.createContainer({
    Image: IMAGE,
    Entrypoint: ["cp", "-a", "/from/.", "/to/"],
    Labels: TEST_LABELS,
    HostConfig: { Binds: [`${from}:/from:ro`, `${to}:/to`] },
  });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    if (StatusCode !== 0) throw new Error(`copying volume ${from} to ${to} failed (exit ${StatusCode})`);
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}

/**
 * Everything seedInternalVolume wrote, seen by the users: their accounts, roster, archive, and
 * the offline message unless it was delivered at an earlier start (it is delivered once).
 */
export async function expectSeededData(fixture: StorageFixture, server: Appliance, { offlineDelivered = false } = {}): Promise<void> {
  await using bob = await fixture.login(server, "bob");
  if (!offlineDelivered) expect((await bob.waitForMessage(`alice@${DOMAIN}`)).body).toBe(OFFLINE_BODY);
  await using alice = await fixture.login(server, "alice");
  expect(await alice.roster()).toEqual(new Map([[`bob@${DOMAIN}`, "Bob"]]));
  expect(await alice.archivedBodies()).toEqual([OFFLINE_BODY]);
}
