import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAppliance, type Appliance } from "./helpers/appliance.js";

// The image carries ICU data cut to what Prosody and Node use (server/icu/trim-icu-data.sh).
// Every expected value below is what the image printed with Debian's full ICU data.
const DOMAIN = "example.org";

// Node: URL and domainToASCII go through ICU's UTS #46, normalize() through its normalizer,
// Intl through locale, time-zone, plural and collation data, TextDecoder through its converters.
const NODE_PROBE = `
const url = require("node:url");
const when = new Date(Date.UTC(2026, 10, 30, 12, 0, 0));
console.log(JSON.stringify({
  url: new URL("https://Bücher.example/").hostname,
  domainToASCII: url.domainToASCII("bücher.example"),
  domainToUnicode: url.domainToUnicode("xn--bcher-kva.example"),
  nfd: [..."é".normalize("NFD")].map((c) => c.codePointAt(0)),
  nfkc: "\\ufb01".normalize("NFKC"),
  date: new Intl.DateTimeFormat("en-US", { dateStyle: "full", timeStyle: "long", timeZone: "Europe/Berlin" }).format(when),
  dateDefault: when.toLocaleString("en-US", { timeZone: "UTC" }),
  timeZone: new Intl.DateTimeFormat("en-US", { timeZone: "America/New_York", timeZoneName: "short" }).format(when),
  locale: new Intl.DateTimeFormat().resolvedOptions().locale,
  number: (1234567.891).toLocaleString(),
  plural: new Intl.PluralRules("en-US").select(1),
  relative: new Intl.RelativeTimeFormat("en").format(-3, "day"),
  sorted: ["b", "a", "B", "é", "e"].sort((a, b) => a.localeCompare(b)),
  latin1: new TextDecoder("latin1").decode(Uint8Array.from([0x63, 0xe9])),
  utf8: new TextDecoder().decode(Buffer.from("Ünïcödé")),
  upper: "straße".toLocaleUpperCase(),
  words: [...new Intl.Segmenter("en", { granularity: "word" }).segment("Hi there")].map((s) => s.segment),
  regex: /\\p{Script=Greek}/u.test("α"),
}));
`;

// Prosody's util.encodings: the stringprep profiles (nodeprep, nameprep, resourceprep,
// saslprep), IDNA and the confusables skeleton, each from ICU's data.
const LUA_PROBE = `
package.path = "/usr/lib/prosody/?.lua;" .. package.path
package.cpath = "/usr/lib/prosody/?.so;" .. package.cpath
local e = require "util.encodings"
local sp = e.stringprep
print(table.concat({
  "nodeprep=" .. tostring(sp.nodeprep("Ünïcödé")),
  "nodeprep (decomposed)=" .. tostring(sp.nodeprep("U\\204\\136nïcödé")),
  "nodeprep (@)=" .. tostring(sp.nodeprep("a@b")),
  "nameprep=" .. tostring(sp.nameprep("BÜCHER.Example")),
  "resourceprep=" .. tostring(sp.resourceprep("Phone\\194\\160\\239\\172\\129")),
  "saslprep=" .. tostring(sp.saslprep("I\\194\\173X")),
  "idna.to_ascii=" .. tostring(e.idna.to_ascii("bücher.example")),
  "idna.to_unicode=" .. tostring(e.idna.to_unicode("xn--bcher-kva.example")),
  "skeleton=" .. tostring(e.confusable.skeleton("p\\208\\176ypal")),
}, "\\n"))
`;

describe("Unicode text in the image, with ICU data cut to what is used", () => {
  let appliance: Appliance;

  // The probes run inside the container and need no certificate: the self-signed start will do.
  beforeAll(async () => {
    appliance = await startAppliance({ env: { XMPP_DOMAINS: DOMAIN } });
  });
  afterAll(async () => {
    await appliance?.dispose();
  });

  it("should give Node's URL, normalize(), Intl and TextDecoder the results of the full data", async () => {
    const probe = await appliance.exec(["node", "-e", NODE_PROBE]);
    expect(probe.stderr).toBe("");
    expect(JSON.parse(probe.stdout)).toEqual({
      url: "xn--bcher-kva.example",
      domainToASCII: "xn--bcher-kva.example",
      domainToUnicode: "bücher.example",
      nfd: [0x65, 0x301],
      nfkc: "fi",
      date: "Monday, November 30, 2026 at 1:00:00 PM GMT+1",
      dateDefault: "11/30/2026, 12:00:00 PM",
      timeZone: "11/30/2026, EST",
      locale: "en-US",
      number: "1,234,567.891",
      plural: "one",
      relative: "3 days ago",
      sorted: ["a", "b", "B", "e", "é"],
      latin1: "cé",
      utf8: "Ünïcödé",
      upper: "STRASSE",
      words: ["Hi", " ", "there"],
      regex: true,
    });
  });

  it("should prepare names in Prosody with nodeprep, nameprep, resourceprep, saslprep and IDNA as before", async () => {
    const probe = await appliance.exec(["lua5.4", "-e", LUA_PROBE]);
    expect(probe.stderr).toBe("");
    expect(probe.stdout.trim().split("\n")).toEqual([
      "nodeprep=ünïcödé",
      "nodeprep (decomposed)=ünïcödé",
      "nodeprep (@)=nil",
      "nameprep=bücher.example",
      "resourceprep=Phone fi",
      "saslprep=IX",
      "idna.to_ascii=xn--bcher-kva.example",
      "idna.to_unicode=bücher.example",
      "skeleton=paypal",
    ]);
  });

  it("should create a non-ASCII user with prosodyctl and know them under any case and normal form", async () => {
    const created = await appliance.exec(["prosodyctl", "adduser", `Ünïcödé@${DOMAIN}`], { stdin: "unicode-secret\nunicode-secret\n" });
    expect(created.exitCode).toBe(0);
    expect(created.stdout).toContain(`Created Ünïcödé@${DOMAIN}`);
    const list = await appliance.exec(["prosodyctl", "shell", "user", "list", DOMAIN]);
    expect(list.stdout).toContain(`ünïcödé@${DOMAIN}`);

    // Upper case and decomposed (NFD): nodeprep maps it to the same account.
    const again = await appliance.exec(["prosodyctl", "adduser", `${"ÜNÏCÖDÉ".normalize("NFD")}@${DOMAIN}`], { stdin: "other-secret\nother-secret\n" });
    expect(again.exitCode).toBe(1);
    expect(`${again.stdout}${again.stderr}`).toContain("Error: User exists");
  });
});
