import { symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeCertbotLineage } from "../../test-support/certbot-tree.js";
import { makeTempDir, tempDirPerTest, writeFile } from "../../test-support/file-fixtures.js";
import { waitFor } from "../../test-support/wait-for.js";
import { writeSecretVolume } from "../../test-support/secret-volume.js";
import { watchCertificates } from "./watch-certificates.js";

const temp = tempDirPerTest();
const { cleanups } = temp;

const pair = { fullchainPem: "CERT", keyPem: "KEY" };

describe("watchCertificates", () => {
  it("should watch nothing outside the directory and no archived file, and still see a renewal", async () => {
    const outside = makeTempDir(cleanups);
    for (let n = 0; n < 20; n++) writeFile(join(outside, `file${n}`), "x");
    symlinkSync(outside, join(temp.dir(), "link-out"));
    for (let version = 1; version <= 5; version++) writeCertbotLineage(temp.dir(), "example.org", pair, version);

    const events: string[] = [];
    const watcher = await watchCertificates(temp.dir(), { polling: false, onEvent: (event) => events.push(event) });
    cleanups.push(() => void watcher.close());

    const watched = Object.entries(watcher.getWatched()).flatMap(([parent, entries]) => entries.map((entry) => join(parent, entry)));
    expect(watched.filter((path) => !path.startsWith(temp.dir()))).toEqual([]);
    expect(watched.filter((path) => path.startsWith(join(temp.dir(), "link-out") + "/") || path.includes("/archive/"))).toEqual([]);

    // certbot re-points the live/ links at a new archive version.
    writeCertbotLineage(temp.dir(), "example.org", pair, 6);
    await waitFor("an event for the re-pointed link", () => events.some((event) => event.includes("live/example.org/fullchain.pem")));
  });

  for (const polling of [false, true]) {
    it(`should see kubelet's atomic update of a Secret volume (the ..data rename)${polling ? ", polling" : ""}`, async () => {
      writeSecretVolume(temp.dir(), { "tls.crt": "CERT", "tls.key": "KEY" });
      const events: string[] = [];
      const watcher = await watchCertificates(temp.dir(), { polling, onEvent: (event) => events.push(event) });
      cleanups.push(() => void watcher.close());

      writeSecretVolume(temp.dir(), { "tls.crt": "RENEWED", "tls.key": "RENEWED" });
      await waitFor("an event for the swapped ..data link", () => events.some((event) => event.endsWith(" ..data")), { timeoutMs: 5_000 });
    });
  }
});
