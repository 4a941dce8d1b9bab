import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findService } from "../test-support/xmpp/disco.js";
import { joinRoom, NS_MUC, queryArchive, sendGroupMessage, waitForGroupMessage } from "../test-support/xmpp/muc.js";
import { DOMAIN, startServicesServer, type ServicesServer } from "../test-support/services-server.js";

describe("group chat (XEP-0045) with its archive", () => {
  let server: ServicesServer;

  beforeAll(async () => {
    server = await startServicesServer();
    for (const user of ["alice", "bob", "carol"]) await server.addUser(user);
  });
  afterAll(async () => {
    await server?.[Symbol.asyncDispose]();
  });

  it("should let two users chat in a room, and a third who joins later read it from the room's archive", async () => {
    await using alice = await server.connect("alice");
    await using bob = await server.connect("bob", "direct-tls");

    const muc = await findService(alice, DOMAIN, NS_MUC);
    expect(muc?.jid).toBe(`conference.${DOMAIN}`);
    const room = `lounge@conference.${DOMAIN}`;

    expect((await joinRoom(alice, room, "Alice")).statusCodes).toContain("201"); // a local user creates the room
    await joinRoom(bob, room, "Bob");
    await sendGroupMessage(alice, room, "Bonjour à tous !");
    await waitForGroupMessage(bob, room, "Bonjour à tous !");
    await sendGroupMessage(bob, room, "Salut Alice, bien arrivé.");
    await waitForGroupMessage(alice, room, "Salut Alice, bien arrivé.");

    // Carol joins afterwards, asking for no join history: what she reads comes from the archive.
    await using carol = await server.connect("carol");
    await joinRoom(carol, room, "Carol", { maxHistory: 0 });
    const archive = await queryArchive(carol, room);
    expect(archive.messages).toEqual([
      { from: `${room}/Alice`, body: "Bonjour à tous !" },
      { from: `${room}/Bob`, body: "Salut Alice, bien arrivé." },
    ]);
    expect(archive.complete).toBe(true);
  });
});
