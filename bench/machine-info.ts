import { readFileSync } from "node:fs";
import os from "node:os";

import { dockerCli } from "./bench-docker.js";
import type { MachineInfo } from "./results-document.js";

export async function machineInfo(tsung: string | undefined): Promise<MachineInfo> {
  const docker = await dockerCli(["version", "--format", "{{.Server.Version}}"])
    .then(({ stdout }) => stdout.trim())
    .catch(() => "unknown");
  let osName = os.type();
  try {
    osName = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync("/etc/os-release", "utf8"))?.[1] ?? osName;
  } catch {
    // not Linux, or no os-release
  }
  return {
    cores: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? "unknown CPU",
    memoryGiB: os.totalmem() / 1024 ** 3,
    os: osName,
    kernel: os.release(),
    docker,
    node: process.version,
    tsung: tsung ?? "no tsung",
  };
}
