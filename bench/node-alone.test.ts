import { describe, expect, it } from "vitest";
import { nodeAloneCommand } from "./node-alone.js";

describe("nodeAloneCommand", () => {
  it("should keep tini, Node and its flags, and run nothing instead of the entrypoint's snapshot", () => {
    const entrypoint = ["/usr/bin/tini", "--", "node", "--jitless", "--max-old-space-size=48", "--snapshot-blob", "/usr/local/lib/prosody-appliance/entrypoint.blob"];
    expect(nodeAloneCommand(entrypoint)).toEqual({
      entrypoint: "/usr/bin/tini",
      args: ["--", "node", "--jitless", "--max-old-space-size=48", "-e", "0"],
    });
  });

  it("should leave out what the image runs between tini and Node (start-appliance)", () => {
    const entrypoint = ["/usr/bin/tini", "--", "/usr/local/lib/prosody-appliance/start-appliance", "node", "--jitless", "--snapshot-blob", "/x.blob"];
    expect(nodeAloneCommand(entrypoint)?.args).toEqual(["--", "node", "--jitless", "-e", "0"]);
  });

  it("should drop the snapshot written as one argument too", () => {
    expect(nodeAloneCommand(["/usr/bin/tini", "--", "node", "--snapshot-blob=/x.blob", "--jitless"])?.args).toEqual(["--", "node", "--jitless", "-e", "0"]);
  });

  it("should measure nothing for an ENTRYPOINT that is not tini then Node", () => {
    expect(nodeAloneCommand(["/usr/local/bin/entrypoint.sh"])).toBeUndefined();
    expect(nodeAloneCommand(["node", "/app/main.js"])).toBeUndefined();
    expect(nodeAloneCommand([])).toBeUndefined();
  });
});
