import { describe, expect, it } from "vitest";
import { startAppliance } from "./helpers/appliance.js";
import { servedCertificate } from "../test-support/xmpp/served-certificate.js";

/** A seccomp profile that refuses IPv6 sockets as a kernel booted with ipv6.disable=1 does. */
const NO_IPV6_PROFILE = JSON.stringify({
  defaultAction: "SCMP_ACT_ALLOW",
  syscalls: [{ names: ["socket"], action: "SCMP_ACT_ERRNO", errnoRet: 97, args: [{ index: 0, value: 10, op: "SCMP_CMP_EQ" }] }],
});

describe("a container with IPv6 sockets (Docker's default, even on a network without IPv6 addresses)", () => {
  it("should find it, and have Prosody listen on :: as well as on IPv4", async () => {
    await using appliance = await startAppliance();

    const logs = await appliance.logs();
    expect(logs).toMatch(/detect IPv6: listening on IPv4 and IPv6/);
    // 5222 = 0x1466, listening (state 0A) on the IPv6 wildcard.
    const tcp6 = await appliance.exec(["cat", "/proc/net/tcp6"]);
    expect(tcp6.stdout).toMatch(/^\s*\d+: 0{32}:1466 0{32}:0000 0A /m);
  });
});

describe("a container without IPv6", () => {
  it("should start without the 'Address family not supported' error and serve on IPv4", async () => {
    await using appliance = await startAppliance({ hostConfig: { SecurityOpt: [`seccomp=${NO_IPV6_PROFILE}`] } });
    const probe = await appliance.exec(["node", "-e", "require('net').createServer().listen({host:'::',port:0}).on('error',e=>{console.log(e.code);process.exit(0)}).on('listening',()=>process.exit(3))"]);
    expect(probe.stdout.trim()).toBe("EAFNOSUPPORT"); // the container really has no IPv6

    const logs = await appliance.logs();
    expect(logs).toMatch(/detect IPv6: IPv4 only/);
    expect(logs).not.toMatch(/Address family not supported/i);
    expect(logs).not.toMatch(/Failed to open server port/);
    const served = await servedCertificate({ port: appliance.port(5223), mode: "direct-tls", domain: "example.org", sni: true });
    expect(served.subjectAltName).toContain("DNS:example.org");
  });
});
