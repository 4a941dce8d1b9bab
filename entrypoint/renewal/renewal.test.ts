import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { generateRsaKeyPem } from "../certificates/issue-certificate.js";
import { resolveCertificates, type ServedCertificate } from "../certificates/resolve-certificates.js";
import { writeCertbotLineage } from "../../test-support/certbot-tree.js";
import { makeTempDir } from "../../test-support/file-fixtures.js";
import { issueLeaf } from "../../test-support/test-ca.js";
import type { ProbedCertificate, ProbeOptions } from "../prosody/probe-served-certificate.js";
import { sleep } from "../sleep.js";
import { readFileSync } from "node:fs";
import type { CertificateFiles } from "../certificates/check-certificate.js";
import { Renewal, watchForRenewals, type ProsodyControl, type TurnControl } from "./renewal.js";
import { waitFor } from "../../test-support/wait-for.js";

const NAME = "example.org";
const CERTS_GID = 4321;
const DEBOUNCE_MS = 5;
let cleanups: (() => void)[] = [];
let letsencrypt: string;
let logged: string[];

beforeEach(() => {
  letsencrypt = makeTempDir(cleanups);
  logged = [];
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    const spy = vi.spyOn(stream, "write").mockImplementation(((chunk: string | Uint8Array, ...rest: unknown[]) => {
      if (String(chunk).startsWith("appliance ")) {
        // How the key is made readable (key-access.ts) is not the renewal's to say.
        if (!String(chunk).startsWith("appliance info  certs group: ")) logged.push(String(chunk).trimEnd());
        return true;
      }
      return write(chunk, ...rest);
    }) as typeof stream.write);
    cleanups.push(() => spy.mockRestore());
  }
});
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

type Answer = "serves what Prosody loaded" | "serves the previous certificate" | "does not answer";

/**
 * Prosody as the renewal sees it: a config it is given, a reload that makes its listeners serve
 * what that config names, and listeners that answer as `listener` says (per probe and attempt).
 */
function fakeProsody(startedWith: ReadonlyMap<string, ServedCertificate>, listener: (probe: ProbeOptions, attempt: number) => Answer = () => "serves what Prosody loaded") {
  let written = startedWith;
  let loaded = startedWith;
  let previous = startedWith;
  const prosody = {
    writes: [] as string[],
    reloads: 0,
    attempts: [] as ProbeOptions[],
    writeConfig(served: ReadonlyMap<string, ServedCertificate>) {
      written = served;
      prosody.writes.push(served.get(NAME)!.serial);
    },
    reload() {
      prosody.reloads++;
      previous = loaded;
      loaded = written;
    },
    async probe(options: ProbeOptions): Promise<ProbedCertificate> {
      prosody.attempts.push(options);
      const attempt = prosody.attempts.filter((a) => a.port === options.port && a.sni === options.sni).length;
      const answer = listener(options, attempt);
      if (answer === "does not answer") {
        await sleep(options.timeoutMs!);
        throw new Error(`no answer from 127.0.0.1:${options.port} within ${options.timeoutMs} ms`);
      }
      const cert = (answer === "serves the previous certificate" ? previous : loaded).get(options.domain)!;
      return { serial: cert.serial, fingerprint256: cert.fingerprint256, chain: [] };
    },
  } satisfies ProsodyControl & Record<string, unknown>;
  return prosody;
}

/** Renewal from a running Prosody that serves a valid certbot lineage for NAME. */
function renewalServing(listener?: Parameters<typeof fakeProsody>[1], withTurn = false) {
  const first = issueLeaf({ names: [NAME] });
  writeCertbotLineage(letsencrypt, NAME, first, 1);
  const served = resolveCertificates([NAME], { certsDir: letsencrypt, certsGid: CERTS_GID, groupFix: true }).served;
  const prosody = fakeProsody(served, listener);
  const turn = {
    name: NAME,
    written: [] as string[],
    reloads: 0,
    writeCertificate(files: CertificateFiles) {
      turn.written.push(readFileSync(files.certPath, "utf8"));
    },
    reloadCertificate() {
      turn.reloads++;
    },
  } satisfies TurnControl & Record<string, unknown>;
  const renewal = new Renewal({
    names: [NAME],
    certsDir: letsencrypt,
    certsGid: CERTS_GID,
    groupFix: true,
    topology: { primary: NAME, federation: true, domains: [NAME], https: true, httpsOnly: [], turn: withTurn },
    served,
    prosody,
    ...(withTurn ? { turn } : {}),
    debounceMs: DEBOUNCE_MS,
    settleMs: 300,
    verifyBudget: { switchMs: 100, answerMs: 2_000, firstAttemptMs: 20, retryDelayMs: 5 },
  });
  cleanups.push(() => renewal.stop());
  logged = [];
  return { renewal, prosody, first, turn };
}

/** Waits until a check that `trigger` started (after the debounce) has finished. */
async function checked(renewal: Renewal): Promise<void> {
  await sleep(DEBOUNCE_MS + 25);
  await renewal.idle();
}

/** certbot renewing: a new version of the lineage, its live/ links re-pointed. */
function renew(pair = issueLeaf({ names: [NAME] }), version = 2) {
  writeCertbotLineage(letsencrypt, NAME, pair, version);
  return pair;
}

describe("Renewal", () => {
  it("should keep a renewed certificate that every listener serves after the reload, and say so", async () => {
    const { renewal, prosody, first } = renewalServing();
    const next = renew();
    renewal.trigger({ kind: "file event", event: "change live/example.org/fullchain.pem" });
    await checked(renewal);

    expect(renewal.current.get(NAME)!.serial).toBe(next.serial);
    expect([prosody.writes, prosody.reloads]).toEqual([[next.serial], 1]);
    expect(prosody.attempts.map((a) => `${a.port} ${a.mode} sni=${a.sni}`)).toEqual([
      "5222 starttls sni=true",
      "5223 direct-tls sni=true",
      "5223 direct-tls sni=false",
      "5269 s2s-starttls sni=true",
      "5281 direct-tls sni=true",
      "5281 direct-tls sni=false",
    ]);
    expect(logged).toEqual([
      `appliance info  certificate for ${NAME} renewed: serial ${first.serial} -> ${next.serial}, expires ${renewal.current.get(NAME)!.notAfter.toISOString()} (${letsencrypt}/live/${NAME}/fullchain.pem, group-fix)`,
    ]);    expect(renewal.outcomes).toEqual(new Map([[NAME, { done: 1, refused: 0, rolled_back: 0 }]]));
  });

  it("should hand the built-in TURN server the renewed certificate with its own reload and verify it on 5349", async () => {
    const { renewal, prosody, turn } = renewalServing(undefined, true);
    const next = renew();
    renewal.trigger({ kind: "file event", event: "change live/example.org/fullchain.pem" });
    await checked(renewal);

    expect(renewal.current.get(NAME)!.serial).toBe(next.serial);
    expect([turn.written, turn.reloads]).toEqual([[next.fullchainPem], 1]);
    expect(prosody.attempts.filter((a) => a.port === 5349).map((a) => `${a.mode} sni=${a.sni}`)).toEqual(["direct-tls sni=true"]);
  });

  it("should roll TURN back with the rest when 5349 keeps serving the previous certificate", async () => {
    const { renewal, prosody, first, turn } = renewalServing(
      (probe) => (probe.port === 5349 ? "serves the previous certificate" : "serves what Prosody loaded"),
      true,
    );
    const next = renew();
    renewal.trigger({ kind: "file event", event: "change live/example.org/fullchain.pem" });
    await checked(renewal);

    expect(renewal.current.get(NAME)!.serial).toBe(first.serial);
    expect([prosody.writes, turn.written, turn.reloads]).toEqual([[next.serial, first.serial], [next.fullchainPem, first.fullchainPem], 2]);
    expect(logged).toEqual([
      `appliance error after the reload, not every listener serves the new certificate (5349 TURNS for ${NAME} serves serial ${first.serial}): going back to the previous certificates`,
    ]);
  });

  it("should refuse a certificate that does not match its key, keep the one served, and say so once", async () => {
    const { renewal, prosody, first } = renewalServing();
    renew({ ...issueLeaf({ names: [NAME] }), keyPem: generateRsaKeyPem() });
    renewal.trigger({ kind: "periodic re-check" });
    await checked(renewal);
    renewal.trigger({ kind: "periodic re-check" });
    await checked(renewal);

    expect(renewal.current.get(NAME)!.serial).toBe(first.serial);
    expect([prosody.writes, prosody.reloads]).toEqual([[], 0]);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(
      new RegExp(`^appliance error certificate for ${NAME} not used: .*key.*; still serving serial ${first.serial}, expires \\S+Z$`),
    );
    expect(renewal.outcomes).toEqual(new Map([[NAME, { done: 0, refused: 1, rolled_back: 0 }]]));
  });

  it("should say nothing of a mismatched pair just after a file event, and check again once it has settled", async () => {
    const { renewal, prosody, first } = renewalServing();
    const next = issueLeaf({ names: [NAME] });
    renew({ ...next, keyPem: generateRsaKeyPem() }); // certbot half-way: the new certificate, not yet its key
    renewal.trigger({ kind: "file event", event: "change live/example.org/fullchain.pem" });
    await checked(renewal);
    expect(logged).toEqual([]);
    expect(renewal.current.get(NAME)!.serial).toBe(first.serial);

    renew(next, 3); // certbot done; no further file event reaches the renewal
    await vi.waitFor(() => expect(renewal.current.get(NAME)!.serial).toBe(next.serial), { timeout: 5_000, interval: 20 });
    expect([prosody.writes, prosody.reloads]).toEqual([[next.serial], 1]);
    expect(logged).toEqual([expect.stringMatching(new RegExp(`^appliance info  certificate for ${NAME} renewed: serial ${first.serial} -> ${next.serial}, `))]);
  });

  it("should roll back when a listener keeps serving the previous certificate after the reload", async () => {
    const { renewal, prosody, first } = renewalServing((probe) =>
      probe.port === 5223 && !probe.sni ? "serves the previous certificate" : "serves what Prosody loaded",
    );
    const next = renew();
    renewal.trigger({ kind: "file event", event: "change live/example.org/fullchain.pem" });
    await checked(renewal);

    expect(renewal.current.get(NAME)!.serial).toBe(first.serial);
    expect([prosody.writes, prosody.reloads]).toEqual([[next.serial, first.serial], 2]);
    expect(logged).toEqual([
      `appliance error after the reload, not every listener serves the new certificate (5223 direct TLS without SNI for ${NAME} serves serial ${first.serial}): going back to the previous certificates`,
    ]);
    expect(renewal.outcomes).toEqual(new Map([[NAME, { done: 0, refused: 0, rolled_back: 1 }]]));
  });

  it("should retry a listener too slow to answer, and keep the certificate once it serves it", async () => {
    const { renewal, prosody, first } = renewalServing((probe, attempt) =>
      probe.port === 5269 && attempt <= 3 ? "does not answer" : "serves what Prosody loaded",
    );
    const next = renew();
    renewal.trigger({ kind: "file event", event: "change live/example.org/fullchain.pem" });
    await checked(renewal);

    expect(prosody.attempts.filter((a) => a.port === 5269).map((a) => a.timeoutMs)).toEqual([20, 40, 80, 160]);
    expect(renewal.current.get(NAME)!.serial).toBe(next.serial);
    expect([prosody.writes, prosody.reloads]).toEqual([[next.serial], 1]);
    expect(logged).toEqual([expect.stringMatching(new RegExp(`^appliance info  certificate for ${NAME} renewed: serial ${first.serial} -> ${next.serial}, `))]);
  });

  it("should hold as many listeners, timers and watches after 10 more renewals and SIGHUPs as after the first ones", async () => {
    const { renewal } = renewalServing();
    const stop = await watchForRenewals(renewal, { certsDir: letsencrypt, polling: false, recheckIntervalMs: 60_000 });
    cleanups.push(() => void stop());
    let version = 1;
    // SIGHUP checks at once: the test does not depend on when the watcher's events arrive.
    const renewAndHangUp = async () => {
      const next = renew(issueLeaf({ names: [NAME] }), ++version);
      await renewal.hangup();
      expect(renewal.current.get(NAME)!.serial).toBe(next.serial);
    };
    // What the entrypoint holds once every event of the last renewal has been seen and checked:
    // the same twice in a row, with no file operation of the watcher's still under way.
    const tally = () => {
      const resources: Record<string, number> = {};
      for (const resource of process.getActiveResourcesInfo()) resources[resource] = (resources[resource] ?? 0) + 1;
      return { hangupListeners: process.listenerCount("SIGHUP"), resources };
    };
    const held = async () => {
      let last = tally();
      for (let attempt = 1; attempt <= 30; attempt++) {
        await sleep(300);
        await renewal.idle();
        const now = tally();
        const busy = Object.keys(now.resources).some((kind) => kind.startsWith("FSReq"));
        if (!busy && JSON.stringify(now) === JSON.stringify(last)) return now;
        last = now;
      }
      throw new Error(`the watcher did not go quiet within 9 s: ${JSON.stringify(last)}`);
    };
    for (let n = 0; n < 3; n++) await renewAndHangUp();
    const warm = await held();
    for (let n = 0; n < 10; n++) await renewAndHangUp();
    expect(await held()).toEqual(warm);
  }, 60_000);

  it("should reload on SIGHUP even when no certificate changed", async () => {
    const { renewal, prosody, first } = renewalServing();
    await renewal.hangup();

    expect([prosody.writes, prosody.reloads, prosody.attempts]).toEqual([[first.serial], 1, []]);
    expect(logged).toEqual(["appliance info  SIGHUP: checking certificates and reloading Prosody"]);
  });
});

describe("watchForRenewals", () => {
  /** Watches as main.ts does, with the periodic re-check an hour away. */
  async function watching(renewal: Renewal) {
    const stop = await watchForRenewals(renewal, { certsDir: letsencrypt, polling: false, recheckIntervalMs: 3_600_000 });
    cleanups.push(() => void stop());
    return stop;
  }

  it("should check once as it starts: a renewal between the config write and the watch is served without waiting for the re-check", async () => {
    const { renewal, prosody } = renewalServing();
    const next = renew();
    // chokidar may report the links it finds as added, or not: the check must not depend on it.
    const triggered = vi.spyOn(renewal, "trigger");
    await watching(renewal);

    expect(triggered).toHaveBeenCalledWith({ kind: "watch started" });
    await waitFor("the renewed certificate to be served", () => renewal.current.get(NAME)!.serial === next.serial);
    await renewal.idle();
    expect([prosody.writes, prosody.reloads]).toEqual([[next.serial], 1]);
  });

  it("should not say again a refusal already said at startup, whatever the watch reports", async () => {
    writeCertbotLineage(letsencrypt, NAME, issueLeaf({ names: [NAME] }), 1);
    const before = resolveCertificates([NAME], { certsDir: letsencrypt, certsGid: CERTS_GID, groupFix: true }).served;
    // At startup the lineage's newest version does not match its key: refused, and said by main.ts.
    writeCertbotLineage(letsencrypt, NAME, { ...issueLeaf({ names: [NAME] }), keyPem: generateRsaKeyPem() }, 2);
    const startup = resolveCertificates([NAME], { certsDir: letsencrypt, certsGid: CERTS_GID, groupFix: true, current: before });
    expect(startup.refused).toHaveLength(1);
    const prosody = fakeProsody(startup.served);
    const renewal = new Renewal({
      names: [NAME],
      certsDir: letsencrypt,
      certsGid: CERTS_GID,
      groupFix: true,
      topology: { primary: NAME, federation: true, domains: [NAME], https: true, httpsOnly: [], turn: false },
      served: startup.served,
      refused: startup.refused,
      prosody,
      debounceMs: DEBOUNCE_MS,
      settleMs: 50,
    });
    cleanups.push(() => renewal.stop());
    logged = [];
    await watching(renewal);
    // The check as the watch starts, any file events chokidar reports, and their settled re-check.
    await sleep(300);
    await renewal.idle();

    expect([logged, prosody.reloads]).toEqual([[], 0]);
    expect(renewal.outcomes).toEqual(new Map());
  }, 20_000); // three keys made on a shared machine
});

