import { describe, expect, it } from "vitest";
import type { ProbedCertificate, ProbeOptions } from "./probe-served-certificate.js";
import { describeProbe, probesFor, verifyListeners, type VerifyBudget } from "./verify-listeners.js";

// HTTPS off here: the tests of the retry logic count the XMPP listeners' probes.
const topology = { primary: "example.org", federation: true, domains: ["example.org", "example.net"], https: false, httpsOnly: [], turn: false };
const NEW = { serial: "02", fingerprint256: "NEW" };
const OLD = { serial: "01", fingerprint256: "OLD" };
const budget: VerifyBudget = { switchMs: 100, answerMs: 400, firstAttemptMs: 20, retryDelayMs: 5 };

/** Fake listeners: `behaviour` says what each attempt gets (its number counts from 1 per probe); a silent one times out. */
function listeners(behaviour: (probe: ProbeOptions, attempt: number) => { silent: true } | typeof NEW) {
  const attempts: Array<{ port: number; sni: boolean; timeoutMs: number }> = [];
  const probe = async (options: ProbeOptions): Promise<ProbedCertificate> => {
    attempts.push({ port: options.port, sni: options.sni, timeoutMs: options.timeoutMs! });
    const answer = behaviour(options, attempts.filter((a) => a.port === options.port && a.sni === options.sni).length);
    if ("silent" in answer) {
      await new Promise((resolve) => setTimeout(resolve, options.timeoutMs));
      throw new Error(`no answer from 127.0.0.1:${options.port} within ${options.timeoutMs} ms`);
    }
    return { ...answer, chain: [] };
  };
  return { probe, attempts };
}

describe("probesFor", () => {
  it("should reach the primary domain on every listener, and without SNI on direct TLS", () => {
    expect(probesFor("example.org", topology)).toEqual([
      { port: 5222, mode: "starttls", domain: "example.org", sni: true },
      { port: 5223, mode: "direct-tls", domain: "example.org", sni: true },
      { port: 5223, mode: "direct-tls", domain: "example.org", sni: false },
      { port: 5269, mode: "s2s-starttls", domain: "example.org", sni: true },
    ]);
  });

  it("should reach another domain by SNI only, and not on s2s without federation", () => {
    expect(probesFor("example.net", { ...topology, federation: false })).toEqual([
      { port: 5222, mode: "starttls", domain: "example.net", sni: true },
      { port: 5223, mode: "direct-tls", domain: "example.net", sni: true },
    ]);
  });
});

describe("probesFor with HTTPS and components", () => {
  const full = { ...topology, https: true, httpsOnly: ["xmpp.example.org"] };

  it("should reach the primary domain on 5281 too, with and without SNI", () => {
    expect(probesFor("example.org", full).filter((p) => p.port === 5281)).toEqual([
      { port: 5281, mode: "direct-tls", domain: "example.org", sni: true },
      { port: 5281, mode: "direct-tls", domain: "example.org", sni: false },
    ]);
  });

  it("should reach a component where servers and browsers reach it: s2s and HTTPS", () => {
    expect(probesFor("upload.example.org", full)).toEqual([
      { port: 5269, mode: "s2s-starttls", domain: "upload.example.org", sni: true },
      { port: 5281, mode: "direct-tls", domain: "upload.example.org", sni: true },
    ]);
  });

  it("should reach the public HTTPS name on 5281 only", () => {
    expect(probesFor("xmpp.example.org", full)).toEqual([{ port: 5281, mode: "direct-tls", domain: "xmpp.example.org", sni: true }]);
  });

  it("should name the HTTPS listener in problems", () => {
    expect(describeProbe({ port: 5281, mode: "direct-tls", domain: "example.org", sni: false })).toBe("5281 HTTPS without SNI");
  });
});

describe("probesFor with the built-in TURN server", () => {
  const withTurn = { ...topology, turn: true };

  it("should reach the primary domain on 5349 (TURNS), and no other name there", () => {
    expect(probesFor("example.org", withTurn).filter((p) => p.port === 5349)).toEqual([{ port: 5349, mode: "direct-tls", domain: "example.org", sni: true }]);
    expect(probesFor("example.net", withTurn).filter((p) => p.port === 5349)).toEqual([]);
    expect(probesFor("example.org", topology).filter((p) => p.port === 5349)).toEqual([]);
    expect(describeProbe({ port: 5349, mode: "direct-tls", domain: "example.org", sni: true })).toBe("5349 TURNS");
  });
});

describe("verifyListeners", () => {
  it("should pass when every listener serves the new certificate", async () => {
    const { probe, attempts } = listeners(() => NEW);
    expect(await verifyListeners([{ name: "example.org", fingerprint256: "NEW" }], { topology, probe, budget })).toEqual([]);
    expect(attempts).toHaveLength(4);
  });

  it("should retry a listener that does not answer, allowing each attempt longer, and pass once it serves the new certificate", async () => {
    // Silent for 20 + 40 + 80 ms, past the switch budget: slow is not the same as serving the wrong certificate.
    const { probe, attempts } = listeners((p, attempt) => (p.port === 5269 && attempt <= 3 ? { silent: true } : NEW));
    const started = Date.now();
    expect(await verifyListeners([{ name: "example.org", fingerprint256: "NEW" }], { topology, probe, budget })).toEqual([]);
    expect(Date.now() - started).toBeGreaterThan(budget.switchMs);
    expect(attempts.filter((a) => a.port === 5269).map((a) => a.timeoutMs)).toEqual([20, 40, 80, 160]);
  });

  it("should fail a listener that still serves the previous certificate after the switch budget", async () => {
    const { probe } = listeners((p) => (p.port === 5222 ? OLD : NEW));
    const started = Date.now();
    const problems = await verifyListeners([{ name: "example.org", fingerprint256: "NEW" }], { topology, probe, budget });
    expect(problems).toEqual(["5222 STARTTLS for example.org serves serial 01"]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(budget.switchMs);
    expect(Date.now() - started).toBeLessThan(budget.answerMs);
  });

  it("should fail a listener that never answers, once the answer budget is spent", async () => {
    const { probe } = listeners((p) => (p.port === 5223 && !p.sni ? { silent: true } : NEW));
    const started = Date.now();
    const problems = await verifyListeners([{ name: "example.org", fingerprint256: "NEW" }], { topology, probe, budget });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^5223 direct TLS without SNI for example\.org: no answer from 127\.0\.0\.1:5223 within \d+ ms$/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(budget.answerMs);
  });

  it("should report failures in listener order", async () => {
    const { probe } = listeners((p) => (p.port === 5269 ? OLD : p.port === 5222 ? { serial: "03", fingerprint256: "OTHER" } : NEW));
    const problems = await verifyListeners([{ name: "example.org", fingerprint256: "NEW" }], { topology, probe, budget });
    expect(problems).toEqual(["5222 STARTTLS for example.org serves serial 03", "5269 s2s STARTTLS for example.org serves serial 01"]);
  });
});
