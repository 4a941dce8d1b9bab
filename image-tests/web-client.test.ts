import { randomBytes, X509Certificate } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Page, Request, Response } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchTestBrowser, type TestBrowser } from "../test-support/chromium.js";
import { freeLoopbackPort } from "../test-support/free-loopback-port.js";
import { httpsRequest } from "../test-support/https-request.js";
import { DOMAIN, SERVICE_NAMES, startServicesServer, type ServicesServer } from "../test-support/services-server.js";
import { sleep, waitFor } from "../test-support/wait-for.js";
import type { XmppTestClient } from "../test-support/xmpp/connect-client.js";
import { joinRoom, waitForGroupMessage } from "../test-support/xmpp/muc.js";

const LOGS = path.join(import.meta.dirname, ".logs");
const STEP_MS = 30_000;
const ROOM = `lobby@conference.${DOMAIN}`;

/** Takes a screenshot named after the step; on failure says what the page showed. */
async function step<T>(page: Page, name: string, action: () => Promise<T>): Promise<T> {
  try {
    const result = await action();
    await page.screenshot({ path: path.join(LOGS, `web-client-${name}.png`) });
    return result;
  } catch (error) {
    await page.screenshot({ path: path.join(LOGS, `web-client-${name}-FAILED.png`) }).catch(() => undefined);
    const shown = (await page.locator("body").innerText({ timeout: 2_000 }).catch(() => "(nothing)")).replace(/\s+/g, " ").slice(0, 600);
    throw new Error(`step "${name}" failed at ${page.url()}: ${(error as Error).message.split("\n")[0]}\nThe page showed: ${shown}`, { cause: error });
  }
}

/**
 * page.goto, then waits for `ready`. Chromium aborts loads with ERR_NETWORK_CHANGED when an
 * interface appears on the host (every container another test starts adds one): only such an
 * abort is retried, any other failure is the test's.
 */
async function open(page: Page, url: string, ready?: string): Promise<Response | null> {
  let networkChanged = false;
  const onFailed = (request: Request) => {
    if (request.failure()?.errorText === "net::ERR_NETWORK_CHANGED") networkChanged = true;
  };
  page.on("requestfailed", onFailed);
  try {
    for (let attempt = 1; ; attempt++) {
      networkChanged = false;
      try {
        const response = await page.goto(url);
        if (ready !== undefined) await page.locator(ready).first().waitFor({ timeout: STEP_MS });
        return response;
      } catch (error) {
        // The aborted load shows Chromium's error page, which may interrupt the next goto too.
        const aborted = networkChanged || /ERR_NETWORK_CHANGED|chrome-error:/.test(String(error));
        if (attempt >= 4 || !aborted) throw error;
        await sleep(500);
      }
    }
  } finally {
    page.off("requestfailed", onFailed);
  }
}

/** Every request a page makes and every Content-Security-Policy report: all must stay on the appliance. */
function watchPage(page: Page, origin: string) {
  const foreign: string[] = [];
  const violations: string[] = [];
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (!["data:", "blob:"].includes(url.protocol) && url.origin !== origin && url.origin !== origin.replace("https:", "wss:")) foreign.push(request.url());
  });
  page.on("websocket", (ws) => {
    if (new URL(ws.url()).host !== new URL(origin).host) foreign.push(ws.url());
  });
  page.on("console", (message) => {
    if (/Content.Security.Policy/i.test(message.text())) violations.push(message.text());
  });
  return { foreign, violations };
}

async function logIn(page: Page, username: string, password: string): Promise<void> {
  await page.locator("#converse-login-jid").fill(username);
  await page.locator("#converse-login-password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.locator("converse-roster").first().waitFor({ state: "attached", timeout: STEP_MS });
}

/** When the certificate the page was served with starts (Chromium reports no serial): unix seconds. */
async function servedNotBefore(page: Page, url: string): Promise<number> {
  const response = await open(page, url);
  const details = await response?.securityDetails();
  if (details?.validFrom === undefined) throw new Error(`Chromium reports no certificate for ${url}`);
  return details.validFrom;
}

function notBeforeOf(pemPath: string): number {
  return Math.round(new Date(new X509Certificate(readFileSync(pemPath)).validFrom).getTime() / 1000);
}

describe("the web client and invite page in Chromium, over verified HTTPS", () => {
  let server: ServicesServer;
  let chromium: TestBrowser;
  let origin: string;
  let bob: XmppTestClient;

  beforeAll(async () => {
    mkdirSync(LOGS, { recursive: true });
    // Published on a port chosen first, so XMPP_PUBLIC_URL can name it: every URL the server
    // gives the page (websocket, uploads, invites) is then one the browser can reach.
    const port = await freeLoopbackPort();
    origin = `https://${DOMAIN}:${port}`;
    server = await startServicesServer({ env: { XMPP_PUBLIC_URL: origin, XMPP_REGISTRATION: "invite", XMPP_TURN: "off" }, extraPorts: [{ port: 5281, hostPort: port }] });
    for (const user of ["alice", "bob"]) await server.addUser(user);
    chromium = await launchTestBrowser({ caPem: server.caPem, names: SERVICE_NAMES });
    bob = await server.connect("bob");
  }, 120_000);
  afterAll(async () => {
    await bob?.close();
    await chromium?.[Symbol.asyncDispose]();
    await server?.[Symbol.asyncDispose]();
  });

  it("should serve the page with strict security headers and nothing from elsewhere", async () => {
    const page = await httpsRequest(`${origin}/`, { caPem: server.caPem });
    expect(page.status).toBe(200);
    const csp = String(page.headers["content-security-policy"]);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(page.headers["x-content-type-options"]).toBe("nosniff");
    expect(page.headers["x-frame-options"]).toBe("DENY");
    expect(page.headers["referrer-policy"]).toBe("no-referrer");
    const script = await httpsRequest(`${origin}/dist/converse.min.js`, { caPem: server.caPem });
    expect(script.status).toBe(200);
    expect(script.headers["content-type"]).toMatch(/^text\/javascript/);
    expect(script.headers["content-security-policy"]).toBe(csp);
  });

  it("should let alice chat with bob, join a room and share a file, all in the page", async () => {
    const context = await chromium.browser.newContext();
    const page = await context.newPage();
    const watched = watchPage(page, origin);
    await step(page, "1-login-page", async () => {
      await open(page, `${origin}/`, "#converse-login-password");
    });
    await step(page, "2-logged-in", () => logIn(page, "alice", server.passwordOf("alice")));
    // The policy is enforced, not only sent: a picture from elsewhere is refused by the browser.
    const blocked = "https://conversejs.org/media/logos/blokt.png";
    const refused = await page.evaluate<string>(`new Promise((resolve) => {
      document.addEventListener("securitypolicyviolation", (e) => resolve(e.effectiveDirective + " " + e.blockedURI), { once: true });
      const img = document.createElement("img");
      img.src = ${JSON.stringify(blocked)};
      document.body.append(img);
      setTimeout(() => resolve("loaded or failed without a policy violation"), 5000);
    })`);
    expect(refused).toBe(`img-src ${blocked}`);
    watched.violations.length = 0;
    watched.foreign.length = 0;

    await step(page, "3-message-from-bob", async () => {
      await bob.send(`alice@${DOMAIN}`, "Salut Alice, tu me vois dans le navigateur ?");
      await page.locator("converse-roster").getByText(`bob@${DOMAIN}`).first().click();
      await page.getByText("Salut Alice, tu me vois dans le navigateur ?").waitFor({ timeout: STEP_MS });
    });
    await step(page, "4-reply-to-bob", async () => {
      const textarea = page.locator("converse-chat textarea.chat-textarea").first();
      await textarea.fill("Oui Bob, depuis Converse.");
      await textarea.press("Enter");
      expect((await bob.waitForMessage((m) => m.body === "Oui Bob, depuis Converse.", STEP_MS)).from).toMatch(new RegExp(`^alice@${DOMAIN}/`));
    });

    const photo = randomBytes(64 * 1024);
    await step(page, "5-file-shared", async () => {
      await page.locator("converse-chat input.fileupload").first().setInputFiles({ name: "photo.bin", mimeType: "application/octet-stream", buffer: photo });
      const message = await bob.waitForMessage((m) => /^https:\/\/\S+\/photo\.bin$/.test(m.body ?? ""), STEP_MS);
      const download = await httpsRequest(message.body!, { caPem: server.caPem });
      expect(download.status).toBe(200);
      expect(Buffer.compare(download.body, photo)).toBe(0);
    });

    await step(page, "6-room-joined", async () => {
      await joinRoom(bob, ROOM, "bob");
      await open(page, `${origin}/#converse/room?jid=${ROOM}`);
      const textarea = page.locator("converse-muc textarea.chat-textarea").first();
      await textarea.waitFor({ timeout: STEP_MS });
      await textarea.fill("Bonjour le salon !");
      await textarea.press("Enter");
      await waitForGroupMessage(bob, ROOM, "Bonjour le salon !");
    });

    expect(watched.foreign).toEqual([]);
    expect(watched.violations).toEqual([]);
    await context.close();
  });

  it("should register a friend through an invite link, then log them in to the web client", async () => {
    const made = await server.appliance.exec(["appliance-invite"]);
    expect(made.exitCode, made.stderr).toBe(0);
    const link = /Link: {2}(https:\S+)/.exec(made.stdout)?.[1];
    expect(link, made.stdout).toMatch(new RegExp(`^${origin}/invites_page\\?`));

    const context = await chromium.browser.newContext();
    const page = await context.newPage();
    const watched = watchPage(page, origin);
    await step(page, "7-invite-page", async () => {
      await open(page, link!, "text=Scan with mobile device");
      await page.getByText(`Invite to ${DOMAIN}`).first().waitFor({ timeout: STEP_MS });
      await page.getByText("Scan with mobile device").click();
      await page.locator(".modal img[src^='data:image/png']").first().waitFor({ timeout: STEP_MS });
    });
    await step(page, "8-register-form", async () => {
      await page.locator(".modal-footer").getByRole("button", { name: "Close" }).click();
      await page.getByText("register an account manually").click();
      await page.locator('input[name="user"]').fill("carol");
      await page.locator('input[name="password"]').fill("Un-mot-de-passe-bien-choisi-42");
    });
    await step(page, "9-registered", async () => {
      await page.locator('button[type="submit"]').click();
      await page.getByText("Congratulations!").waitFor({ timeout: STEP_MS });
      expect(await page.locator("input[readonly]").first().inputValue()).toBe(`carol@${DOMAIN}`);
    });
    await step(page, "10-new-account-logged-in", async () => {
      await page.getByText("Log in via web").click();
      await logIn(page, "carol", "Un-mot-de-passe-bien-choisi-42");
    });

    await step(page, "11-used-invite", async () => {
      await open(page, link!, "text=Invite expired");
    });
    const reused = await httpsRequest(link!, { caPem: server.caPem });
    expect(reused.status).toBe(200);
    expect(reused.body.toString("utf8")).toContain("Sorry, it looks like this invite code has expired!");
    expect(reused.headers["content-security-policy"]).toContain("default-src 'none'");
    const forged = await httpsRequest(`${origin}/invites_page?not-a-token`, { caPem: server.caPem });
    expect(forged.body.toString("utf8")).toContain("Sorry, it looks like this invite code has expired!");
    expect(watched.foreign).toEqual([]);
    await context.close();
  });

  it("should give a new browser session the renewed certificate while the open page stays connected", async () => {
    const context = await chromium.browser.newContext();
    const page = await context.newPage();
    let sockets = 0;
    page.on("websocket", () => sockets++);
    const before = await servedNotBefore(page, `${origin}/`);
    expect(before).toBe(notBeforeOf(server.le.tree.livePath(DOMAIN, "cert")));
    await open(page, `${origin}/`, "#converse-login-password");
    await logIn(page, "alice", server.passwordOf("alice"));

    // Issued a second later at least, so the two certificates' start times differ.
    await sleep(1_100);
    await server.le.tree.renew(DOMAIN);
    const renewed = notBeforeOf(server.le.tree.livePath(DOMAIN, "cert"));
    expect(renewed).not.toBe(before);
    let freshPage: Page | undefined;
    await waitFor("a new browser session to get the renewed certificate", async () => {
      await freshPage?.context().close();
      freshPage = await (await chromium.browser.newContext()).newPage();
      return (await servedNotBefore(freshPage, `${origin}/`)) === renewed;
    }, { timeoutMs: 30_000, intervalMs: 250 });
    await step(freshPage!, "12-renewed-certificate", () => open(freshPage!, `${origin}/`, "#converse-login-password"));

    await step(page, "13-still-connected", async () => {
      await bob.send(`alice@${DOMAIN}`, "Après le renouvellement.");
      await page.locator("converse-roster").getByText(`bob@${DOMAIN}`).first().click();
      await page.getByText("Après le renouvellement.").waitFor({ timeout: STEP_MS });
    });
    expect(sockets).toBe(1);
    await freshPage!.context().close();
    await context.close();
  });
});
