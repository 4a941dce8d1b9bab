import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { prosodyPid, startAppliance } from "./helpers/appliance.js";
import { WRITABLE_TMPFS, composeHardening, readmeHardening } from "./helpers/hardening.js";
import { DOMAIN, startServicesServer, type ServicesServer } from "../test-support/services-server.js";
import { httpsRequest } from "../test-support/https-request.js";
import { joinRoom, sendGroupMessage, waitForGroupMessage } from "../test-support/xmpp/muc.js";
import { putToSlot, requestSlot } from "../test-support/xmpp/upload.js";
import { waitFor } from "../test-support/wait-for.js";

/** The `key: [a, b]` list of compose.yaml's xmpp service. */
function composeList(key: string): string[] {
  const match = new RegExp(`^\\s+${key}: \\[([^\\]]*)\\]`, "m").exec(readFileSync("compose.yaml", "utf8"));
  return match ? match[1]!.split(",").map((item) => item.trim()) : [];
}

let server: ServicesServer;

beforeAll(async () => {
  server = await startServicesServer({ hostConfig: readmeHardening() });
  for (const user of ["alice", "bob"]) await server.addUser(user);
});

afterAll(async () => {
  await server?.[Symbol.asyncDispose]();
});

describe("the hardened deployment (README's docker run line, compose.yaml)", () => {
  it("should be the same hardening in the README and compose.yaml, with a read-only root and /run the only tmpfs", () => {
    const readme = readmeHardening();
    expect({ CapDrop: readme.CapDrop, CapAdd: readme.CapAdd, SecurityOpt: readme.SecurityOpt }).toEqual(composeHardening());
    expect(readme.ReadonlyRootfs).toBe(true);
    expect(readme.Tmpfs).toEqual(WRITABLE_TMPFS);
    expect(readFileSync("compose.yaml", "utf8")).toMatch(/^ {4}read_only: true$/m);
    expect(Object.fromEntries(composeList("tmpfs").map((path) => [path, ""]))).toEqual(WRITABLE_TMPFS);
  });

  it("should serve a verified login with a read-only root, Prosody and coturn without new privileges", async () => {
    await using alice = await server.connect("alice");
    expect(alice.isOnline()).toBe(true);
    const appliance = server.appliance;

    expect((await appliance.exec(["sh", "-c", "touch /etc/prosody/written"])).exitCode).not.toBe(0);
    const turnPid = (await appliance.exec(["sh", "-c", "pidof turnserver"])).stdout.trim();
    expect(turnPid).toMatch(/^\d+$/);
    for (const pid of [String(await prosodyPid(appliance)), turnPid]) {
      const status = (await appliance.exec(["cat", `/proc/${pid}/status`])).stdout;
      expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
      expect(status).toMatch(/^CapEff:\s+0+$/m);
    }
  });

  it("should carry a group chat message and share a file over HTTPS with a read-only root", async () => {
    await using alice = await server.connect("alice");
    await using bob = await server.connect("bob", "direct-tls");
    const room = `hardened@conference.${DOMAIN}`;
    await joinRoom(alice, room, "Alice");
    await joinRoom(bob, room, "Bob");
    await sendGroupMessage(alice, room, "read-only, still talking");
    await waitForGroupMessage(bob, room, "read-only, still talking");

    const file = randomBytes(64 * 1024);
    const answer = await requestSlot(alice, `upload.${DOMAIN}`, { filename: "notes.bin", size: file.length, contentType: "application/octet-stream" });
    if (!("slot" in answer)) throw new Error(`slot refused: ${answer.refused.error}`);
    const { slot } = answer;
    const put = await putToSlot(slot, file, "application/octet-stream", { caPem: server.caPem, portMap: server.httpsPortMap });
    expect(put.status).toBe(201);
    const get = await httpsRequest(slot.getUrl, { caPem: server.caPem, portMap: server.httpsPortMap });
    expect({ status: get.status, same: get.body.equals(file) }).toEqual({ status: 200, same: true });
  });

  it("should reload its certificates on SIGHUP with a read-only root", async () => {
    const appliance = server.appliance;
    await appliance.container.kill({ signal: "SIGHUP" });
    await waitFor("Prosody to reload its certificates", async () => (await appliance.logs()).includes("Certificates reloaded"));
  });

  it("should refuse to start on a read-only root without a tmpfs at /run, saying how to fix it", async () => {
    await using bare = await startAppliance({ hostConfig: { ...composeHardening(), ReadonlyRootfs: true, Tmpfs: {} }, waitUntil: "started" });
    expect(await bare.exited()).toBe(78);
    expect(await bare.logs()).toContain(
      "/run/prosody-appliance is on a read-only file system (docker run --read-only): the generated Prosody configuration is written there. Accepted: a writable tmpfs at /run, e.g. --tmpfs /run (compose: tmpfs: [/run]).",
    );
  });
});
