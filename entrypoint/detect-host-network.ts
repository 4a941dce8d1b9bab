import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const ARPHRD_ETHER = "1";

function read(dir: string, file: string): string | undefined {
  try {
    return readFileSync(join(dir, file), "utf8").trim();
  } catch {
    return undefined;
  }
}

/**
 * Whether the container shares the host's network (`--network host`): it then sees a network
 * device of its own (a NIC or a bridge, whose iflink is its own ifindex). On a Docker network
 * every device but loopback is one end of a veth pair, whose iflink is the peer's index; its
 * ports reach the host only where they are published (`-p`), which the container cannot see.
 */
export function onHostNetwork(sysClassNet = "/sys/class/net"): boolean {
  let devices: string[];
  try {
    devices = readdirSync(sysClassNet);
  } catch {
    return false;
  }
  return devices.some((name) => {
    const dir = join(sysClassNet, name);
    const ifindex = read(dir, "ifindex");
    return read(dir, "type") === ARPHRD_ETHER && ifindex !== undefined && read(dir, "iflink") === ifindex;
  });
}
