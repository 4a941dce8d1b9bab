import { mkdirSync } from "node:fs";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createTestVolume, removeTestVolume, startAppliance } from "./helpers/appliance.js";
import { imageAtRef } from "../test-support/image-at-ref.js";
import { letsEncryptFixture } from "./helpers/lets-encrypt-fixture.js";
import { connectClient } from "../test-support/xmpp/connect-client.js";

/** The last commit whose image ran Prosody 13.0.1 from trixie (before trixie-backports). */
const PREVIOUS_REF = "93153f1";
const DOMAIN = "example.org";
const prosodyVersion = (logs: string) => /Hello and welcome to Prosody version (\S+)/.exec(logs)?.[1];

describe("upgrading the image", () => {
  let previousImage: string;
  beforeAll(async () => {
    mkdirSync("image-tests/.logs", { recursive: true });
    previousImage = (await imageAtRef(PREVIOUS_REF, { logPath: `image-tests/.logs/build-image-${PREVIOUS_REF}.log` })).image;
  }, 1_200_000);

  const volume = `appliance-test-upgrade-${process.pid}-${Date.now().toString(36)}`;
  afterEach(async () => {
    await removeTestVolume(volume);
  });

  it("should serve the accounts, roster, offline messages and archive that the previous image wrote", async () => {
    using le = letsEncryptFixture([{ name: DOMAIN, names: [DOMAIN] }]);
    await createTestVolume(volume);
    const options = { env: { XMPP_DOMAINS: DOMAIN }, binds: [le.bind], dataVolume: volume };
    const login = (port: number, username: string) =>
      connectClient({ port, mode: "starttls", domain: DOMAIN, username, password: `pw-${username}`, caPem: le.ca.root.certPem });

    {
      await using old = await startAppliance({ ...options, image: previousImage });
      expect(prosodyVersion(await old.logs())).toBe("13.0.1");
      for (const user of ["alice", "bob", "carol"]) {
        const added = await old.exec(["prosodyctl", "adduser", `${user}@${DOMAIN}`], { stdin: `pw-${user}\npw-${user}\n` });
        expect(added.exitCode).toBe(0);
      }
      await using alice = await login(old.port(5222), "alice");
      await using bob = await login(old.port(5222), "bob");
      await alice.setRosterItem(`bob@${DOMAIN}`, "Bob from work");
      // To bob's session (full JID), so delivery does not race his initial presence.
      await alice.send(bob.jid, "archived while you were here");
      expect((await bob.waitForMessage(`alice@${DOMAIN}`)).body).toBe("archived while you were here");
      await alice.send(`carol@${DOMAIN}`, "kept while you were away");
      expect(await alice.archivedBodies()).toEqual(["archived while you were here", "kept while you were away"]);
      await alice.close();
      await bob.close();
      await old.container.stop({ t: 10 });
      expect(await old.exited()).toBe(0);
    }

    await using next = await startAppliance(options);
    expect(prosodyVersion(await next.logs())).toMatch(/^13\.0\.([6-9]|\d\d+)$/);
    await using alice = await login(next.port(5222), "alice");
    expect(await alice.roster()).toEqual(new Map([[`bob@${DOMAIN}`, "Bob from work"]]));
    expect(await alice.archivedBodies()).toEqual(["archived while you were here", "kept while you were away"]);
    await using carol = await login(next.port(5222), "carol");
    expect((await carol.waitForMessage(`alice@${DOMAIN}`)).body).toBe("kept while you were away");
  });
});
