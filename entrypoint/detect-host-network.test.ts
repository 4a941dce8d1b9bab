import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDirPerTest } from "../test-support/file-fixtures.js";
import { onHostNetwork } from "./detect-host-network.js";

/** A /sys/class/net look-alike: each device with its type, ifindex and iflink. */
function sysClassNet(parent: string, devices: Record<string, { type: number; ifindex: number; iflink: number }>): string {
  const root = join(parent, "net");
  mkdirSync(root);
  for (const [name, device] of Object.entries(devices)) {
    mkdirSync(join(root, name));
    for (const [file, value] of Object.entries(device)) writeFileSync(join(root, name, file), `${value}\n`);
  }
  return root;
}

const LOOPBACK = { type: 772, ifindex: 1, iflink: 1 };

const temp = tempDirPerTest();
const dir = () => temp.dir();

describe("onHostNetwork", () => {
  it("should see a Docker network when every device but loopback is one end of a veth pair", () => {
    expect(onHostNetwork(sysClassNet(dir(), { lo: LOOPBACK, eth0: { type: 1, ifindex: 3608, iflink: 3609 } }))).toBe(false);
  });

  it("should see the host's network when a device is its own (a NIC or bridge)", () => {
    const root = sysClassNet(dir(), {
      lo: LOOPBACK,
      eth0: { type: 1, ifindex: 4, iflink: 4 },
      docker0: { type: 1, ifindex: 5, iflink: 5 },
      veth0bf66d4: { type: 1, ifindex: 3571, iflink: 3570 },
    });
    expect(onHostNetwork(root)).toBe(true);
  });

  it("should not count loopback or tunnels (iflink 0) as devices of its own, nor an unreadable sysfs", () => {
    expect(onHostNetwork(sysClassNet(dir(), { lo: LOOPBACK, tunl0: { type: 768, ifindex: 2, iflink: 0 } }))).toBe(false);
    expect(onHostNetwork(join(dir(), "missing"))).toBe(false);
  });
});
