import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { settingDefinitions } from "../entrypoint/settings.js";
import { IMAGE, TEST_LABELS, docker } from "../test-support/docker-engine.js";

/*
 * Every setting in the schema (a new one is covered without touching this file) meets each class
 * of hostile value. One container runs the image's own entrypoint command once per class, every
 * setting holding that class's value at once: the entrypoint reports every bad setting in one go.
 * Each must be refused with exit 78 in the fixed phrasing, before anything else runs, unless it
 * is listed in acceptedBy() with the reason it is a valid value.
 */

const SETTINGS = settingDefinitions();

interface ValueClass {
  name: string;
  /** The value for one setting; `viaFile` puts it in a file named by NAME_FILE. */
  value(setting: (typeof SETTINGS)[number]): string;
  viaFile?: boolean;
}

const KB_100 = "a".repeat(100 * 1024);

const CLASSES: ValueClass[] = [
  { name: "empty", value: () => "" },
  { name: "whitespace", value: () => " \t\n " },
  { name: "unicode", value: () => "ünïcödé\u202e\u200b\u{1F600}" },
  { name: "100 KB", value: () => KB_100 },
  { name: "100 KB via _FILE", value: () => KB_100, viaFile: true },
  { name: "NUL via _FILE", value: (setting) => `${setting.example}\0`, viaFile: true },
  { name: "wrong type: a negative number", value: () => "-1" },
  { name: "wrong type: a word", value: () => "maybe" },
  { name: "wrong type: JSON", value: () => '{"value": [1, 2]}' },
  { name: "wrong type: a list", value: () => "yes,no" },
];

const PASSWORD = "a password is any text without control characters (whether it has an account is reported on XMPP_ADMINS, invalid here too)";

/**
 * The settings that accept a class's value by design, each with why. Every other setting must
 * refuse it, so a new setting is held to all of them until it is listed here.
 */
function acceptedBy(valueClass: string, setting: (typeof SETTINGS)[number]): string | undefined {
  const emptyAllowed = /\bempty\b/.test(setting.accepted) || setting.env === "XMPP_ACCOUNTS";
  const reasons: Record<string, Record<string, string>> = {
    empty: emptyAllowed ? { [setting.env]: "its Accepted text allows empty (no accounts, for XMPP_ACCOUNTS)" } : {},
    // Values are trimmed; the password alone keeps its tab and line break, and is refused for them.
    whitespace: emptyAllowed && setting.env !== "XMPP_ADMIN_PASSWORD" ? { [setting.env]: "trimmed, it is empty, which this setting allows" } : {},
    unicode: { XMPP_ADMIN_PASSWORD: PASSWORD },
    "wrong type: a negative number": { XMPP_ADMIN_PASSWORD: PASSWORD },
    "wrong type: a word": {
      XMPP_ADMIN_PASSWORD: PASSWORD,
      XMPP_DOMAINS: "maybe is a valid (single-label) domain name",
      XMPP_MUC_SUBDOMAIN: "maybe is a valid DNS label (the other services' subdomains are refused as the same name)",
      XMPP_PROXY65_ADDRESS: "maybe is a valid host name",
      XMPP_DB_NAME: "maybe is a valid PostgreSQL database name",
      XMPP_DB_USER: "maybe is a valid PostgreSQL role name",
    },
    "wrong type: JSON": { XMPP_ADMIN_PASSWORD: PASSWORD },
    "wrong type: a list": { XMPP_ADMIN_PASSWORD: PASSWORD, XMPP_DOMAINS: "yes and no are valid (single-label) domain names" },
  };
  return reasons[valueClass]?.[setting.env];
}

/** Names the entrypoint does not know: always refused, so no run goes past the settings. */
const SENTINEL = "XMPP_MATRIX_SENTINEL";

interface Run {
  id: string;
  valueClass: ValueClass;
}

const RUNS: Run[] = CLASSES.map((valueClass, index) => ({ id: String(index).padStart(2, "0"), valueClass }));

// Runs the command it is given once per case directory, with that case's variables only, two at a
// time. 40 values of 100 KB pass Linux's limit on a new process's environment (a quarter of the
// stack limit): a 64 MB stack limit lifts it to its 6 MB ceiling.
const RUNNER = `#!/bin/bash
ulimit -s 65536
run_case() {
  local dir=$1; shift
  (
    cd / && unset HOSTNAME HOME
    for f in "$dir"env/*; do [ -e "$f" ] || continue; v=$(cat "$f"; printf x); export "\${f##*/}=\${v%x}"; done
    for f in "$dir"file/*; do [ -e "$f" ] || continue; export "\${f##*/}_FILE=$f"; done
    exec "$@"
  ) >"$dir/output" 2>&1
  echo "$?" >"$dir/exit-code"
}
for dir in /matrix/cases/*/; do
  run_case "$dir" "$@" &
  while [ "$(jobs -rp | wc -l)" -ge 2 ]; do wait -n; done
done
wait
`;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The one error line a refused setting must produce, whatever the value and its source. */
function refusalPattern(setting: (typeof SETTINGS)[number], filePath: string | undefined): RegExp {
  const v = escapeRegExp(setting.env);
  const source = filePath === undefined ? `(="[^\\n]*")?` : ` \\(from ${v}_FILE=${escapeRegExp(filePath)}\\)`;
  return new RegExp(
    `^appliance error ${v}(${source} is invalid: [^\\n]+| is required but not set)\\. ` +
      `Accepted: ${escapeRegExp(setting.accepted)}, e\\.g\\. ${v}=${escapeRegExp(setting.example)}\\.$`,
  );
}

describe("hostile setting values", () => {
  let root: string;
  const results = new Map<string, { exitCode: number; output: string }>();

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "hostile-settings-"));
    chmodSync(root, 0o755);
    writeFileSync(join(root, "run.sh"), RUNNER, { mode: 0o755 });
    for (const run of RUNS) {
      const dir = join(root, "cases", run.id);
      for (const sub of ["env", "file"]) mkdirSync(join(dir, sub), { recursive: true });
      writeFileSync(join(dir, "env", SENTINEL), "1");
      for (const setting of SETTINGS) {
        writeFileSync(join(dir, run.valueClass.viaFile ? "file" : "env", setting.env), run.valueClass.value(setting));
      }
    }
    // The image's own command, without tini (PID 1 here is the runner).
    const entrypoint = (await docker.getImage(IMAGE).inspect()).Config.Entrypoint as string[];
    const node = entrypoint.slice(entrypoint.indexOf("--") + 1);
    const container = await docker.createContainer({
      Image: IMAGE,
      Entrypoint: ["/matrix/run.sh", ...node],
      Labels: TEST_LABELS,
      HostConfig: { Binds: [`${root}:/matrix`], NetworkMode: "none" },
    });
    try {
      const started = Date.now();
      await container.start();
      const { StatusCode } = (await container.wait()) as { StatusCode: number };
      if (StatusCode !== 0) throw new Error(`the runner exited with ${StatusCode}`);
      const seconds = (Date.now() - started) / 1000;
      console.log(`${RUNS.length} runs of the entrypoint in ${seconds.toFixed(1)} s`);
      for (const run of RUNS) {
        const dir = join(root, "cases", run.id);
        results.set(run.id, {
          exitCode: Number(readFileSync(join(dir, "exit-code"), "utf8")),
          output: readFileSync(join(dir, "output"), "utf8"),
        });
      }
    } finally {
      await container.remove({ force: true, v: true });
    }
  });

  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it.each(RUNS.map((run) => [run.valueClass.name, run] as const))(
    "should refuse %s with exit 78 and one clear line per setting, before anything starts",
    (_, run) => {
      const { exitCode, output } = results.get(run.id)!;
      const lines = output.replace(/\n$/, "").split("\n");
      expect(exitCode, output.slice(0, 2000)).toBe(78);
      // Nothing but the settings step ran: Node's start line, one line per problem, the verdict.
      expect(lines[0]).toMatch(/^appliance info {2}entrypoint loaded \(\d+ ms after Node started\)$/);
      expect(lines.at(-1)).toBe("appliance error not starting Prosody: fix the settings above (exit 78)");
      const problems = lines.slice(1, -1);
      // A 100 KB value is never echoed; no value can forge a line or hide text.
      expect(output.length).toBeLessThan(64 * 1024);
      for (const line of lines) expect(line).not.toMatch(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u);
      expect(problems.filter((line) => line.startsWith(`appliance error ${SENTINEL} is not a known setting.`))).toHaveLength(1);

      const refused: string[] = [];
      for (const setting of SETTINGS) {
        const filePath = run.valueClass.viaFile ? `/matrix/cases/${run.id}/file/${setting.env}` : undefined;
        const pattern = refusalPattern(setting, filePath);
        const matching = problems.filter((line) => pattern.test(line));
        if (matching.length > 0) refused.push(setting.env);
        expect(matching.length, `${setting.env}: ${matching.join("\n")}`).toBeLessThanOrEqual(1);
      }
      const expected = SETTINGS.filter((s) => acceptedBy(run.valueClass.name, s) === undefined).map((s) => s.env);
      expect(refused, problems.map((line) => line.slice(0, 300)).join("\n")).toEqual(expected);
      // Every line is accounted for: the sentinel's, or one refusal each.
      expect(problems, problems.map((line) => line.slice(0, 300)).join("\n")).toHaveLength(refused.length + 1);
    },
  );
});
