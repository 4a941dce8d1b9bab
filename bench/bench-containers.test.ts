import { describe, expect, it } from "vitest";
import { dockerRunArgs, type ContainerPlan } from "./bench-containers.js";

const plan: ContainerPlan = {
  variant: "appliance",
  name: "bench-appliance-1",
  certsDir: "/tmp/le",
  dataDir: "/tmp/data",
  ports: { c2s: [40001, 40002], directTls: 40003 },
};

describe("dockerRunArgs", () => {
  it("publishes only on 127.0.0.1, labels the container and configures the appliance by XMPP_*", () => {
    const args = dockerRunArgs({ ...plan, image: "img" });
    expect(args).toEqual(expect.arrayContaining(["--label", `prosody-appliance.bench=${process.pid}`]));
    expect(args.filter((arg) => arg.includes(":52"))).toEqual([
      "127.0.0.1:40001:5222",
      "127.0.0.1:40002:5222",
      "127.0.0.1:40003:5223",
    ]);
    expect(args.slice(-3)).toEqual(["-e", "XMPP_DOMAINS=example.org", "img"]);
    expect(args).toContain("/tmp/le:/etc/letsencrypt:ro");
  });

  it("runs the appliance's image with another entrypoint and an extra mount when the soak asks", () => {
    const args = dockerRunArgs({ ...plan, entrypoint: ["/usr/bin/tini", "--", "node", "--expose-gc"], volumes: ["/probe:/bench-probe:ro"] }, "img");
    expect(args.slice(-6)).toEqual(["--entrypoint", "/usr/bin/tini", "img", "--", "node", "--expose-gc"]);
    expect(args.slice(args.indexOf("/probe:/bench-probe:ro") - 1, args.indexOf("/probe:/bench-probe:ro") + 1)).toEqual(["-v", "/probe:/bench-probe:ro"]);
  });

  it("mounts no certificates for a first start on a fresh volume (self-signed)", () => {
    const { certsDir: _, ...fresh } = plan;
    expect(dockerRunArgs(fresh, "img").filter((arg) => arg.includes("/etc/letsencrypt"))).toEqual([]);
  });

  it("starts the baseline's Prosody directly, as prosody, with the hand-written config", () => {
    const args = dockerRunArgs({ ...plan, variant: "baseline" }, "img");
    expect(args.slice(-8)).toEqual([
      "--entrypoint", "prosody", "--user", "prosody", "img", "-F", "--config", "/etc/prosody/baseline.cfg.lua",
    ]);
    expect(args.find((arg) => arg.endsWith("baseline/prosody.cfg.lua:/etc/prosody/baseline.cfg.lua:ro"))).toBeDefined();
    expect(args).not.toContain("XMPP_DOMAINS=example.org");
  });
});
