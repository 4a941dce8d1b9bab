import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { chromium, type Browser } from "playwright-core";

const run = promisify(execFile);
export const CHROMIUM = "/usr/bin/chromium";

export interface TestBrowserOptions {
  /** The only CA the browser trusts besides its own store: added to a fresh NSS database. */
  caPem: string;
  /** Names the browser may resolve, each to 127.0.0.1; every other name fails to resolve. */
  names: string[];
}

export interface TestBrowser extends AsyncDisposable {
  browser: Browser;
}

/**
 * Debian's Chromium, headless, driven by playwright-core (no browser download). It trusts the
 * test CA through an NSS database in its own HOME, as an admin would import a private CA, so
 * certificates are verified (names, dates, chain) and not merely ignored. Every name resolves
 * to 127.0.0.1 or nowhere: the page can reach nothing but the appliance's published ports.
 */
export async function launchTestBrowser({ caPem, names }: TestBrowserOptions): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install --no-install-recommends chromium libnss3-tools (bash .ci/run does)`);
  const home = await mkdtemp(path.join(tmpdir(), "appliance-chromium-"));
  try {
    const nssdb = `sql:${path.join(home, ".pki", "nssdb")}`;
    await run("mkdir", ["-p", path.join(home, ".pki", "nssdb")]);
    await run("certutil", ["-N", "-d", nssdb, "--empty-password"]);
    await writeFile(path.join(home, "ca.pem"), caPem);
    await run("certutil", ["-A", "-d", nssdb, "-n", "prosody-appliance test root", "-t", "C,,", "-i", path.join(home, "ca.pem")]);
  } catch (error) {
    await rm(home, { recursive: true, force: true });
    throw new Error(`could not make Chromium's NSS database (is certutil from libnss3-tools installed?): ${(error as Error).message}`);
  }
  const rules = [...names.map((name) => `MAP ${name} 127.0.0.1`), "MAP * ~NOTFOUND"].join(", ");
  let browser: Browser;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      env: { ...process.env, HOME: home },
      args: [`--host-resolver-rules=${rules}`, "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      timeout: 30_000,
    });
  } catch (error) {
    await rm(home, { recursive: true, force: true });
    throw error;
  }
  return {
    browser,
    async [Symbol.asyncDispose]() {
      await browser.close().catch(() => undefined);
      await rm(home, { recursive: true, force: true });
    },
  };
}
