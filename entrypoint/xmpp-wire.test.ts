import net from "node:net";
import tls from "node:tls";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { issueLeaf, sharedTestCa, type IssuedLeaf } from "../test-support/test-ca.js";
import { openSecureStream, type SecureStreamOptions } from "./xmpp-wire.js";

/**
 * A stub of the server side on 127.0.0.1, just enough XMPP to drive the wire module through each
 * path: what it was sent is recorded, and each behaviour below can leave out one answer.
 */
interface Stub {
  port: number;
  /** Everything clients sent before TLS, and the SNI name / ALPN protocol of TLS handshakes. */
  seen: { plaintext: string; servername: string | false | undefined; alpn: string | false | null | undefined };
  /** Settles once the stub's side of a TLS handshake is done (with TLS 1.3 the client's finishes first). */
  secured: Promise<void>;
  close(): Promise<void>;
}

type Behaviour = "xmpp" | "silent" | "no-starttls" | "no-proceed" | "stream-error" | "no-handshake";

const FEATURES_WITH_STARTTLS =
  "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>";
const SERVER_HEADER = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='stub' version='1.0'>";

let certificate: IssuedLeaf;
const stubs: Stub[] = [];

beforeAll(() => {
  certificate = issueLeaf({ names: ["example.org"] });
});

afterEach(async () => {
  await Promise.all(stubs.splice(0).map((stub) => stub.close()));
});

async function startStub(behaviour: Behaviour, { directTls = false } = {}): Promise<Stub> {
  const seen: Stub["seen"] = { plaintext: "", servername: undefined, alpn: undefined };
  const sockets = new Set<net.Socket>();
  let markSecured!: () => void;
  const secured = new Promise<void>((resolve) => (markSecured = resolve));
  const secure = (socket: tls.TLSSocket) => {
    socket.on("error", () => undefined);
    socket.on("secure", () => {
      seen.servername = (socket as tls.TLSSocket & { servername?: string | false }).servername;
      seen.alpn = socket.alpnProtocol;
      markSecured();
    });
  };
  const tlsOptions = { cert: certificate.fullchainPem, key: certificate.keyPem, ALPNProtocols: ["xmpp-client"] };

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
    if (directTls) {
      if (behaviour === "no-handshake") return; // accepts TCP, never speaks TLS
      secure(new tls.TLSSocket(socket, { isServer: true, ...tlsOptions }));
      return;
    }
    socket.on("data", (data) => {
      seen.plaintext += data.toString("utf8");
      if (data.includes("<stream:stream")) {
        if (behaviour === "silent") return;
        if (behaviour === "stream-error") {
          socket.write(`${SERVER_HEADER}<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>`);
          return;
        }
        socket.write(SERVER_HEADER + (behaviour === "no-starttls" ? "<stream:features/>" : FEATURES_WITH_STARTTLS));
      } else if (data.includes("<starttls") && behaviour !== "no-proceed") {
        socket.removeAllListeners("data");
        socket.write("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
        secure(new tls.TLSSocket(socket, { isServer: true, ...tlsOptions }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const stub: Stub = {
    port: (server.address() as net.AddressInfo).port,
    seen,
    secured,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  stubs.push(stub);
  return stub;
}

const open = (stub: Stub, options: Partial<SecureStreamOptions> & Pick<SecureStreamOptions, "mode">) =>
  openSecureStream({ port: stub.port, domain: "example.org", sni: true, verify: false, timeoutMs: 2_000, ...options });

/** Runs `attempt`, which must fail, and returns its message and the limit (ms) the message names. */
async function failure(attempt: Promise<unknown>): Promise<{ message: string; limitMs: number }> {
  const error = await attempt.then(() => new Error("did not fail"), (e: Error) => e);
  return { message: error.message, limitMs: Number(/(?:after|within) (\d+) ms/.exec(error.message)?.[1]) };
}

describe("openSecureStream", () => {
  it("should open a c2s stream to the domain, ask for STARTTLS and hand over a TLS socket with SNI", async () => {
    const stub = await startStub("xmpp");
    const socket = await open(stub, { mode: "starttls" });
    expect(socket.getPeerCertificate().serialNumber.toUpperCase()).toBe(certificate.serial);
    await stub.secured;
    socket.destroy();
    expect(stub.seen.plaintext).toBe(
      "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.org' version='1.0'>" +
        "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
    );
    expect(stub.seen.servername).toBe("example.org");
  });

  it("should open a server-to-server stream for s2s STARTTLS", async () => {
    const stub = await startStub("xmpp");
    (await open(stub, { mode: "s2s-starttls" })).destroy();
    expect(stub.seen.plaintext).toMatch(/^<\?xml version='1\.0'\?><stream:stream xmlns='jabber:server' [^>]*to='example\.org'/);
  });

  it("should speak TLS from the first byte for direct TLS, with SNI and the xmpp-client ALPN protocol", async () => {
    const stub = await startStub("xmpp", { directTls: true });
    const socket = await open(stub, { mode: "direct-tls" });
    await stub.secured;
    socket.destroy();
    expect(stub.seen).toEqual({ plaintext: "", servername: "example.org", alpn: "xmpp-client" });
  });

  it("should send no server name when SNI is off", async () => {
    const stub = await startStub("xmpp", { directTls: true });
    const socket = await open(stub, { mode: "direct-tls", sni: false });
    await stub.secured;
    socket.destroy();
    expect(stub.seen.servername).toBe(false);
  });

  it("should check the certificate against the CA and the XMPP domain when asked to verify", async () => {
    const stub = await startStub("xmpp", { directTls: true });
    const verified = await open(stub, { mode: "direct-tls", verify: true, caPem: sharedTestCa().root.certPem });
    expect(verified.authorized).toBe(true);
    verified.destroy();
    await expect(open(stub, { mode: "direct-tls", domain: "example.net", verify: true, caPem: sharedTestCa().root.certPem })).rejects.toThrow(
      `TLS handshake with 127.0.0.1:${stub.port} (direct-tls, SNI example.net) failed: Hostname/IP does not match certificate's altnames: Host: example.net. is not in the cert's altnames: DNS:example.org (ERR_TLS_CERT_ALTNAME_INVALID)`,
    );
  });

  it("should say which answer it waited for when the server stays silent", async () => {
    const stub = await startStub("silent");
    const { message, limitMs } = await failure(open(stub, { mode: "starttls", timeoutMs: 300 }));
    expect(message).toBe(`Timed out after ${limitMs} ms waiting for <stream:features/> from 127.0.0.1:${stub.port} (starttls, SNI example.org); received: nothing`);
    expect(limitMs).toBeGreaterThan(250);
    expect(limitMs).toBeLessThanOrEqual(300);
  });

  it("should say it waited for <proceed/> when STARTTLS gets no answer", async () => {
    const stub = await startStub("no-proceed");
    const { message, limitMs } = await failure(open(stub, { mode: "starttls", timeoutMs: 300 }));
    expect(message).toBe(`Timed out after ${limitMs} ms waiting for <proceed/> from 127.0.0.1:${stub.port} (starttls, SNI example.org); received: nothing`);
    // One limit for the whole: what the features took is not given again to <proceed/>.
    expect(limitMs).toBeLessThanOrEqual(300);
  });

  it("should say the handshake did not come when a direct TLS port never answers TLS", async () => {
    const stub = await startStub("no-handshake", { directTls: true });
    const { message, limitMs } = await failure(open(stub, { mode: "direct-tls", timeoutMs: 300 }));
    expect(message).toBe(`TLS handshake with 127.0.0.1:${stub.port} (direct-tls, SNI example.org) failed: no handshake within ${limitMs} ms`);
    expect(limitMs).toBeLessThanOrEqual(300);
  });

  it("should refuse a server that does not offer STARTTLS, quoting its features", async () => {
    const stub = await startStub("no-starttls");
    await expect(open(stub, { mode: "starttls" })).rejects.toThrow(
      `127.0.0.1:${stub.port} (starttls, SNI example.org) did not offer STARTTLS; features: <stream:features/>`,
    );
  });

  it("should quote a stream error sent instead of features", async () => {
    const stub = await startStub("stream-error");
    await expect(open(stub, { mode: "starttls" })).rejects.toThrow(
      `127.0.0.1:${stub.port} (starttls, SNI example.org) sent a stream error while we waited for <stream:features/>: <stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>`,
    );
  });

  it("should name the address when nothing listens", async () => {
    const stub = await startStub("xmpp");
    await stub.close();
    await expect(open(stub, { mode: "starttls" })).rejects.toThrow(`TCP connect to 127.0.0.1:${stub.port} failed: connect ECONNREFUSED 127.0.0.1:${stub.port}`);
  });
});
