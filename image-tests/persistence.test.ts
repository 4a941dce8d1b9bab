import { afterEach, describe, expect, it } from "vitest";
import { createTestVolume, removeTestVolume, startAppliance } from "./helpers/appliance.js";
import { letsEncryptFixture } from "./helpers/lets-encrypt-fixture.js";
import { connectClient } from "../test-support/xmpp/connect-client.js";

const DOMAIN = "example.org";

describe("the data volume", () => {
  const volume = `appliance-test-data-${process.pid}-${Date.now().toString(36)}`;
  afterEach(async () => {
    await removeTestVolume(volume);
  });

  it("should stop cleanly with 0 in under 2 s, and keep accounts and offline messages for the next container", async () => {
    using le = letsEncryptFixture([{ name: DOMAIN, names: [DOMAIN] }]);
    await createTestVolume(volume);
    const login = (port: number, username: string, password: string) =>
      connectClient({ port, mode: "starttls", domain: DOMAIN, username, password, caPem: le.ca.root.certPem });

    {
      await using first = await startAppliance({ env: { XMPP_DOMAINS: DOMAIN }, binds: [le.bind], dataVolume: volume });
      for (const [user, password] of [["alice", "pw-alice"], ["carol", "pw-carol"]]) {
        expect((await first.exec(["prosodyctl", "adduser", `${user}@${DOMAIN}`], { stdin: `${password}\n${password}\n` })).exitCode).toBe(0);
      }
      await using alice = await login(first.port(5222), "alice", "pw-alice");
      await alice.send(`carol@${DOMAIN}`, "kept while you were away");
      await alice.close();

      const started = Date.now();
      await first.container.stop({ t: 10 });
      const stopMs = Date.now() - started;
      expect(await first.exited()).toBe(0);
      expect(stopMs).toBeLessThan(2_000);
      expect(await first.logs()).toContain("Prosody exited with status 0");
    }

    await using second = await startAppliance({ env: { XMPP_DOMAINS: DOMAIN }, binds: [le.bind], dataVolume: volume });
    await using carol = await login(second.port(5222), "carol", "pw-carol");
    expect((await carol.waitForMessage(`alice@${DOMAIN}`)).body).toBe("kept while you were away");
  });
});
