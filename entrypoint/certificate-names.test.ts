import { describe, expect, it } from "vitest";
import { loadSettings } from "./settings.js";
import { certificateNames } from "./certificate-names.js";

const namesFor = (env: Record<string, string>) => certificateNames(loadSettings({ XMPP_DOMAINS: "example.org", ...env }));

describe("certificateNames", () => {
  it("should list each domain, then its components", () => {
    expect(namesFor({ XMPP_DOMAINS: "example.org example.net" })).toEqual([
      "example.org", "conference.example.org", "upload.example.org", "proxy.example.org",
      "example.net", "conference.example.net", "upload.example.net", "proxy.example.net",
    ]);
  });

  it("should leave out services that are off, and uploads without HTTPS", () => {
    expect(namesFor({ XMPP_MUC: "no", XMPP_PROXY65: "no" })).toEqual(["example.org", "upload.example.org"]);
    expect(namesFor({ XMPP_HTTPS: "no" })).toEqual(["example.org", "conference.example.org", "proxy.example.org"]);
  });

  it("should add the public HTTPS name when clients reach 5281 under it directly", () => {
    expect(namesFor({ XMPP_PUBLIC_URL: "https://xmpp.example.org" }).at(-1)).toBe("xmpp.example.org");
    expect(namesFor({ XMPP_PUBLIC_URL: "https://upload.example.org" }).filter((n) => n === "upload.example.org")).toHaveLength(1);
    // A reverse proxy terminates TLS for that name: it needs no certificate here.
    expect(namesFor({ XMPP_PUBLIC_URL: "https://xmpp.example.org", XMPP_TRUSTED_PROXIES: "10.0.0.1" })).not.toContain("xmpp.example.org");
  });
});
