import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpsRequest } from "../test-support/https-request.js";
import { discoItems, findService } from "../test-support/xmpp/disco.js";
import { NS_UPLOAD, putToSlot, requestSlot } from "../test-support/xmpp/upload.js";
import { DOMAIN, startServicesServer, type ServicesServer } from "../test-support/services-server.js";

const SIZE_LIMIT = 512 * 1024;

describe("file sharing (XEP-0363) over HTTPS", () => {
  let server: ServicesServer;

  beforeAll(async () => {
    server = await startServicesServer({ env: { XMPP_UPLOAD_SIZE_LIMIT: "512K" } });
    for (const user of ["alice", "bob"]) await server.addUser(user);
  });
  afterAll(async () => {
    await server?.[Symbol.asyncDispose]();
  });

  it("should give a slot, take the PUT with the slot's headers, and serve the same bytes to another user", async () => {
    await using alice = await server.connect("alice");
    const upload = await findService(alice, DOMAIN, NS_UPLOAD);
    expect(upload?.jid).toBe(`upload.${DOMAIN}`);
    expect(upload?.info.forms.get(NS_UPLOAD)?.get("max-file-size")).toEqual([String(SIZE_LIMIT)]);

    const photo = randomBytes(200 * 1024);
    const answer = await requestSlot(alice, upload!.jid, { filename: "vacances.jpg", size: photo.length, contentType: "image/jpeg" });
    if (!("slot" in answer)) throw new Error(`slot refused: ${answer.refused.error}`);
    const { slot } = answer;
    expect(new URL(slot.putUrl).host).toBe(`upload.${DOMAIN}:5281`);

    const put = await putToSlot(slot, photo, "image/jpeg", { caPem: server.caPem, portMap: server.httpsPortMap });
    expect(put.status).toBe(201);
    expect(put.certificateSerial).toBe(server.le.tree.serial(DOMAIN));

    // Bob gets the link in a message, as a client shares it, and fetches it over verified HTTPS.
    await using bob = await server.connect("bob");
    await alice.send(`bob@${DOMAIN}`, slot.getUrl);
    const link = (await bob.waitForMessage(`alice@${DOMAIN}`)).body;
    const get = await httpsRequest(link, { caPem: server.caPem, portMap: server.httpsPortMap });
    expect(get.status).toBe(200);
    expect(get.headers["content-type"]).toBe("image/jpeg");
    expect(get.body.equals(photo)).toBe(true);
  });

  it("should refuse a file over the size limit, saying the limit", async () => {
    await using alice = await server.connect("alice");
    const answer = await requestSlot(alice, `upload.${DOMAIN}`, { filename: "film.mkv", size: SIZE_LIMIT + 1, contentType: "video/x-matroska" });
    if (!("refused" in answer)) throw new Error(`a slot was given for ${SIZE_LIMIT + 1} bytes: ${answer.slot.putUrl}`);
    expect(answer.refused).toMatchObject({ condition: "not-acceptable", maxFileSize: SIZE_LIMIT });
  });

  it("should answer a browser's CORS preflight for the PUT", async () => {
    await using alice = await server.connect("alice");
    const answer = await requestSlot(alice, `upload.${DOMAIN}`, { filename: "note.txt", size: 5, contentType: "text/plain" });
    if (!("slot" in answer)) throw new Error(`slot refused: ${answer.refused.error}`);
    const origin = "https://chat.example.net";
    const preflight = await httpsRequest(answer.slot.putUrl, {
      caPem: server.caPem,
      portMap: server.httpsPortMap,
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "PUT", "access-control-request-headers": "authorization, content-type" },
    });
    expect(preflight.status).toBeGreaterThanOrEqual(200);
    expect(preflight.status).toBeLessThan(300);
    expect([origin, "*"]).toContain(preflight.headers["access-control-allow-origin"]);
    expect(listHeader(preflight.headers["access-control-allow-methods"])).toContain("put");
    expect(listHeader(preflight.headers["access-control-allow-headers"])).toEqual(expect.arrayContaining(["authorization", "content-type"]));
  });
});

describe("file sharing turned off", () => {
  it("should list no upload service with XMPP_UPLOAD=no", async () => {
    await using server = await startServicesServer({ env: { XMPP_UPLOAD: "no" } });
    await server.addUser("alice");
    await using alice = await server.connect("alice");
    expect(await discoItems(alice, DOMAIN)).not.toContain(`upload.${DOMAIN}`);
    expect(await findService(alice, DOMAIN, NS_UPLOAD)).toBeUndefined();
  });
});

function listHeader(value: string | string[] | undefined): string[] {
  return [value ?? []].flat().join(",").split(",").map((item) => item.trim().toLowerCase()).filter(Boolean);
}
