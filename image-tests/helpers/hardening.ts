import { readFileSync } from "node:fs";
import type Docker from "dockerode";

/** compose.yaml's hardening, read from the file so that the tests and the default deployment agree. */
export function composeHardening(): { CapDrop: string[]; CapAdd: string[]; SecurityOpt: string[] } {
  const compose = readFileSync("compose.yaml", "utf8");
  const list = (key: string) => {
    const match = new RegExp(`^\\s+${key}: \\[([^\\]]*)\\]`, "m").exec(compose);
    if (!match) throw new Error(`compose.yaml has no ${key}: [...] line`);
    return match[1]!.split(",").map((item) => item.trim());
  };
  return { CapDrop: list("cap_drop"), CapAdd: list("cap_add"), SecurityOpt: list("security_opt") };
}

/**
 * The only path the appliance writes outside its data volume and /dev/shm (README "Security"):
 * generated configuration and certificate links. Everything else can be read-only.
 */
export const WRITABLE_TMPFS: Record<string, string> = { "/run": "" };

/** compose.yaml's capabilities and no-new-privileges, plus a read-only root with WRITABLE_TMPFS. */
export function hardenedHostConfig(): Docker.HostConfig {
  return { ...composeHardening(), ReadonlyRootfs: true, Tmpfs: WRITABLE_TMPFS };
}

/**
 * APPLIANCE_HARDENED=1 runs every appliance container the image tests start hardened, so the
 * whole suite shows that the hardened deployment behaves as the default one.
 */
export function hardenedByEnvironment(env: NodeJS.ProcessEnv = process.env): Docker.HostConfig {
  return env.APPLIANCE_HARDENED === "1" ? hardenedHostConfig() : {};
}

/** The README's non-root `docker run` line: `--user` with these options (plus --group-add for the keys). */
export const NON_ROOT_USER = "101:101";

export const NON_ROOT_HOST_CONFIG: Docker.HostConfig = {
  CapDrop: ["ALL"],
  CapAdd: [],
  SecurityOpt: ["no-new-privileges:true"],
  ReadonlyRootfs: true,
  Tmpfs: { "/run": "uid=101,gid=101" },
};
