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
 * The only paths the appliance writes outside its data volume and /dev/shm (README "Security"):
 * generated configuration and certificate links (/run), backup and restore work (/tmp).
 * Everything else can be read-only.
 */
export const WRITABLE_TMPFS: Record<string, string> = { "/run": "", "/tmp": "" };

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

/** A `docker run` block of the README (the one after `lead`), as the options Docker's API takes. */
export interface ReadmeRun {
  /** --user, when given. */
  user?: string;
  hostConfig: Required<Pick<Docker.HostConfig, "CapDrop" | "CapAdd" | "SecurityOpt" | "Tmpfs" | "GroupAdd">> & Docker.HostConfig;
}

export function readmeRun(lead: string): ReadmeRun {
  const readme = readFileSync("README.md", "utf8");
  const start = readme.indexOf(lead);
  const block = start < 0 ? undefined : /```sh\n([\s\S]*?)```/.exec(readme.slice(start))?.[1];
  if (!block) throw new Error(`README.md has no \`docker run\` block after "${lead}"`);
  const words = block.replace(/\\\n/g, " ").split(/\s+/).filter(Boolean);
  const run: ReadmeRun = { hostConfig: { CapDrop: [], CapAdd: [], SecurityOpt: [], Tmpfs: {}, GroupAdd: [] } };
  const config = run.hostConfig;
  for (let i = 0; i < words.length; i++) {
    const [flag, value] = [words[i], words[i + 1]!];
    if (flag === "--cap-drop") config.CapDrop.push(value);
    else if (flag === "--cap-add") config.CapAdd.push(value);
    else if (flag === "--security-opt") config.SecurityOpt.push(value);
    else if (flag === "--group-add") config.GroupAdd.push(value);
    else if (flag === "--user") run.user = value;
    else if (flag === "--tmpfs") {
      const [path, options = ""] = value.split(/:(.*)/s);
      config.Tmpfs[path!] = options;
    } else if (flag === "--read-only") config.ReadonlyRootfs = true;
  }
  return run;
}

/** The README's hardened `docker run` line (as root, compose.yaml's capabilities). */
export const readmeHardening = () => readmeRun("The hardened `docker run`").hostConfig;

/** The README's `docker run --user 101:101` line: no root, no capability. */
export const readmeNonRoot = () => readmeRun("**Without root: `--user 101:101`.**");
