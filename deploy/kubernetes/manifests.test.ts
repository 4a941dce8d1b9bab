import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Certificate } from "@kubernetes-models/cert-manager/cert-manager.io/v1";
import { StatefulSet } from "kubernetes-models/apps/v1";
import { ConfigMap, Service } from "kubernetes-models/v1";
import { beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { certificateNames } from "../../entrypoint/certificate-names.js";
import { LISTENERS } from "../../entrypoint/listeners.js";
import { loadSettings } from "../../entrypoint/settings.js";

const BASE = join(import.meta.dirname);

/** The schema each rendered kind is checked against: the Kubernetes OpenAPI schemas, and cert-manager's CRD. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  "v1 ConfigMap": ConfigMap,
  "v1 Service": Service,
  "apps/v1 StatefulSet": StatefulSet,
  "cert-manager.io/v1 Certificate": Certificate,
};

interface Rendered {
  apiVersion: string;
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [key: string]: any;
}

function render(): Rendered[] {
  let output: string;
  try {
    output = execFileSync("kubectl", ["kustomize", BASE], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    throw new Error(
      missing
        ? "kubectl is not installed: it renders deploy/kubernetes offline (kubectl kustomize). Install it: apt-get install -y kubernetes-client (Debian's kubectl), or run bash .ci/run, which does"
        : `kubectl kustomize ${BASE} failed: ${(error as { stderr?: string }).stderr ?? String(error)}`,
    );
  }
  return parseAllDocuments(output).map((document) => document.toJS() as Rendered);
}

let objects: Rendered[];
const one = (kind: string, name?: string) => {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  expect(found, `one ${kind}${name ? ` ${name}` : ""} in the rendered manifests`).toHaveLength(1);
  return found[0]!;
};
const settingsOf = () => loadSettings(one("ConfigMap").data as Record<string, string>, () => "");

beforeAll(() => {
  objects = render();
});

describe("deploy/kubernetes", () => {
  it("renders offline, and every object is valid against its Kubernetes (or cert-manager) schema", () => {
    expect(objects.map((o) => `${o.kind} ${o.metadata.name}`).sort()).toEqual([
      "Certificate xmpp-tls",
      expect.stringMatching(/^ConfigMap xmpp-settings-/),
      "Service xmpp",
      "Service xmpp-headless",
      "StatefulSet xmpp",
    ]);
    for (const object of objects) {
      const Model = MODELS[`${object.apiVersion} ${object.kind}`];
      expect(Model, `a schema for ${object.apiVersion} ${object.kind}`).toBeDefined();
      expect(() => new Model!(object as never).validate(), `${object.kind} ${object.metadata.name}`).not.toThrow();
    }
  });

  it("runs one replica with the cert-manager Secret mounted whole (no subPath) at XMPP_CERTS_DIR, keys 0440 for the fsGroup", () => {
    const set = one("StatefulSet");
    const pod = set.spec.template.spec;
    const container = pod.containers[0];
    expect(set.spec.replicas).toBe(1);
    expect(set.spec.serviceName).toBe(one("Service", "xmpp-headless").metadata.name);
    const tlsVolume = pod.volumes.find((v: Rendered) => v.secret?.secretName === one("Certificate").spec.secretName);
    expect(tlsVolume.secret).toEqual({ secretName: "xmpp-tls", defaultMode: 0o440 });
    expect(pod.securityContext.fsGroup).toBe(101);
    const mounts = pod.containers.flatMap((c: Rendered) => c.volumeMounts);
    expect(mounts.filter((m: Rendered) => "subPath" in m || "subPathExpr" in m)).toEqual([]);
    expect(container.volumeMounts.find((m: Rendered) => m.name === tlsVolume.name)).toEqual({ name: "tls", mountPath: settingsOf().certsDir, readOnly: true });
    expect(container.volumeMounts.find((m: Rendered) => m.mountPath === "/var/lib/prosody")?.name).toBe(set.spec.volumeClaimTemplates[0].metadata.name);
  });

  it("keeps only the entrypoint's capabilities, with no privilege escalation", () => {
    const container = one("StatefulSet").spec.template.spec.containers[0];
    const compose = readFileSync(join(BASE, "..", "..", "compose.yaml"), "utf8");
    const composeCaps = /cap_add: \[([^\]]*)\]/.exec(compose)![1]!.split(",").map((c) => c.trim());
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ["ALL"], add: composeCaps },
    });
  });

  it("probes with the image's health check, which asks Prosody's loopback health endpoint", () => {
    const container = one("StatefulSet").spec.template.spec.containers[0];
    const healthcheck = /^HEALTHCHECK .* CMD \["([^"]+)"\]$/m.exec(readFileSync(join(BASE, "..", "..", "Dockerfile"), "utf8"))![1];
    for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
      expect(container[probe]?.exec?.command, probe).toEqual([healthcheck]);
    }
  });

  it("asks cert-manager for every name the appliance serves with these settings", () => {
    const certificate = one("Certificate");
    expect([...certificate.spec.dnsNames].sort()).toEqual([...certificateNames(settingsOf())].sort());
  });

  it("publishes every port the image listens on, and the metrics port only to scrapers through the pod annotations", () => {
    const exposed = /^EXPOSE (.*)$/m.exec(readFileSync(join(BASE, "..", "..", "Dockerfile"), "utf8"))![1]!.split(" ")
      .map((port) => (port.includes("/") ? port.toUpperCase() : `${port}/TCP`));
    const published = one("Service", "xmpp").spec.ports.map((p: Rendered) => `${p.port}/${p.protocol}`);
    expect(published.sort()).toEqual(exposed.sort());
    expect(published).toEqual(expect.arrayContaining(Object.values(LISTENERS).map((port) => `${port}/TCP`)));

    const pod = one("StatefulSet").spec.template;
    const metrics = settingsOf().metrics;
    expect(metrics).not.toBe("off");
    const port = String(metrics !== "off" && metrics.port);
    expect(pod.metadata.annotations).toEqual({ "prometheus.io/scrape": "true", "prometheus.io/port": port, "prometheus.io/path": "/metrics" });
    expect(pod.spec.containers[0].ports.find((p: Rendered) => p.name === "metrics")?.containerPort).toBe(Number(port));
    expect(published).not.toContain(`${port}/TCP`);
  });
});
