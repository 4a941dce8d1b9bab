import { afterEach, describe, expect, it } from "vitest";
import { guardSignals, takeHeldHangup } from "./signal-guard.js";

describe("guardSignals", () => {
  afterEach(() => {
    process.removeAllListeners("SIGHUP");
    process.removeAllListeners("SIGUSR2");
  });

  it("should hold a SIGHUP that arrives before the renewal listens, once, and not one a listener took", () => {
    guardSignals();
    expect(takeHeldHangup()).toBe(false);
    process.emit("SIGHUP", "SIGHUP");
    expect(takeHeldHangup()).toBe(true);
    expect(takeHeldHangup()).toBe(false);

    const renewal = () => undefined;
    process.on("SIGHUP", renewal);
    process.emit("SIGHUP", "SIGHUP");
    expect(takeHeldHangup()).toBe(false);
  });
});
