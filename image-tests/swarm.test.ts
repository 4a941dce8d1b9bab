import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { letsEncryptFixture, type LetsEncryptFixture } from "./helpers/lets-encrypt-fixture.js";
import { IMAGE, docker } from "../test-support/docker-engine.js";
import { freeLoopbackPort } from "../test-support/free-loopback-port.js";
import { dockerCli as ok, useOneNodeSwarm, type OneNodeSwarm } from "../test-support/one-node-swarm.js";
import { postgresImage } from "../test-support/postgres/postgres-image.js";
import { shellCommand } from "../test-support/shell-command.js";
import { waitFor } from "../test-support/wait-for.js";
import { connectClient } from "../test-support/xmpp/connect-client.js";

const DOMAIN = "example.org";
const NODE_LABEL = "xmpp-data";

describe("deploy/swarm/stack.yml on a one-node swarm", () => {
  const stack = `appliance-test-${process.pid}`;
  const service = `${stack}_xmpp`;
  const secrets = mkdtempSync(join(tmpdir(), "swarm-secrets-"));
  const adminPassword = `pw-admin-${Math.random().toString(36).slice(2, 10)}`;
  const dbPassword = `pw-db-${Math.random().toString(36).slice(2, 10)}`;
  let le: LetsEncryptFixture;
  let swarm: OneNodeSwarm | undefined;
  let labelledNode = "";
  let ports: Record<string, number>;

  /** The service's task container that is running and healthy, other than `not`. */
  async function healthyTask(not?: string): Promise<string> {
    return waitFor(
      `a healthy task of ${service}${not ? " other than the one before the update" : ""}`,
      async () => {
        const running = await docker.listContainers({ filters: JSON.stringify({ label: [`com.docker.swarm.service.name=${service}`], status: ["running"] }) });
        for (const info of running.filter((c) => c.Id !== not)) {
          if ((await docker.getContainer(info.Id).inspect()).State.Health?.Status === "healthy") return info.Id;
        }
        return undefined;
      },
      { timeoutMs: 150_000, intervalMs: 1_000 },
    );
  }

  const login = (username: string, password: string) =>
    connectClient({ port: ports.XMPP_C2S_TLS_PORT!, mode: "direct-tls", domain: DOMAIN, username, password, caPem: le.ca.root.certPem });

  beforeAll(async () => {
    swarm = await useOneNodeSwarm();
    const node = swarm.nodeId;
    if (!(await ok(`docker node inspect ${node} --format '{{json .Spec.Labels}}'`)).includes(`"${NODE_LABEL}"`)) {
      await ok(`docker node update --label-add ${NODE_LABEL}=true ${node}`);
      labelledNode = node;
    }
    le = letsEncryptFixture([{ name: DOMAIN, names: [DOMAIN] }]);
    writeFileSync(join(secrets, "xmpp-admin-password"), `${adminPassword}\n`);
    writeFileSync(join(secrets, "xmpp-db-password"), `${dbPassword}\n`);
    ports = {};
    for (const name of ["XMPP_C2S_PORT", "XMPP_C2S_TLS_PORT", "XMPP_S2S_PORT", "XMPP_HTTPS_PORT", "XMPP_PROXY65_PORT"]) ports[name] = await freeLoopbackPort();
    const env = {
      APPLIANCE_IMAGE: IMAGE,
      XMPP_DOMAINS: DOMAIN,
      XMPP_ADMINS: `admin@${DOMAIN}`,
      XMPP_ADMIN_PASSWORD_SECRET: join(secrets, "xmpp-admin-password"),
      XMPP_DB_PASSWORD_SECRET: join(secrets, "xmpp-db-password"),
      // PostgreSQL built from Debian's package (no registry here), in place of the official image.
      POSTGRES_IMAGE: await postgresImage(),
      LETSENCRYPT_DIR: le.tree.root,
      ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    };
    const assignments = Object.entries(env).map(([k, v]) => `${k}='${v}'`).join(" ");
    // The locally built tag, as is: no registry to resolve it against.
    await ok(`${assignments} docker stack deploy --resolve-image never --compose-file deploy/swarm/stack.yml ${stack}`);
  });

  afterAll(async () => {
    await shellCommand(`docker stack rm ${stack}`);
    // stack rm returns at once: the task, its network and then its volume go afterwards.
    await waitFor(
      `the containers of ${stack} to be gone`,
      async () => (await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`com.docker.stack.namespace=${stack}`] }) })).length === 0,
      { timeoutMs: 60_000, intervalMs: 500 },
    ).catch(() => undefined);
    for (const volume of ["xmpp-data", "postgres-data"]) {
      await waitFor(`the volume ${volume} of ${stack} to be removed`, async () => (await shellCommand(`docker volume rm ${stack}_${volume}`)).stderr.includes("in use") === false, {
        timeoutMs: 30_000,
        intervalMs: 500,
      }).catch(() => undefined);
    }
    if (labelledNode) await shellCommand(`docker node update --label-rm ${NODE_LABEL} ${labelledNode}`);
    await swarm?.[Symbol.asyncDispose]();
    le?.[Symbol.dispose]();
    rmSync(secrets, { recursive: true, force: true });
  });

  it("should serve over verified TLS with the admin from the secret, and keep the data (in PostgreSQL) through a forced service update", async () => {
    const first = await healthyTask();
    const added = await shellCommand(`printf 'pw-alice\\npw-alice\\n' | docker exec -i ${first} prosodyctl adduser alice@${DOMAIN}`);
    expect(added.status, added.stderr + added.stdout).toBe(0);
    {
      await using admin = await login("admin", adminPassword);
      expect(admin.serverCertificateSerial).toBe(le.tree.serial(DOMAIN));
      await admin.setRosterItem(`alice@${DOMAIN}`, "Alice");
      await admin.send(`alice@${DOMAIN}`, "sent before the update"); // alice is offline
      await admin.close();
    }

    await ok(`docker service update --force --detach ${service}`);
    const second = await healthyTask(first);
    expect(second).not.toBe(first);

    await using admin = await login("admin", adminPassword);
    expect(await admin.roster()).toEqual(new Map([[`alice@${DOMAIN}`, "Alice"]]));
    await using alice = await login("alice", "pw-alice");
    expect((await alice.waitForMessage(`admin@${DOMAIN}`)).body).toBe("sent before the update");
    // Kept in the stack's PostgreSQL, not in the xmpp volume.
    const [database] = await docker.listContainers({ filters: JSON.stringify({ label: [`com.docker.swarm.service.name=${stack}_postgres`], status: ["running"] }) });
    const rosters = await ok(`docker exec ${database!.Id} psql --no-psqlrc --tuples-only --no-align --username=postgres --dbname=prosody --command "SELECT count(*) FROM prosody WHERE store = 'roster' AND \\"user\\" = 'admin' AND key = 'alice@${DOMAIN}'"`);
    expect(rosters).toBe("1");
  }, 360_000); // two task starts, each waited for up to 150 s on a loaded machine
});
