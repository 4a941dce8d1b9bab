import { describe, expect, it, vi } from "vitest";
import { step } from "./log.js";

describe("step", () => {
  it("should fail a step that does not finish in time, naming it", async () => {
    vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    await expect(step("detect IPv6", () => new Promise<never>(() => {}), undefined, { timeoutMs: 50 })).rejects.toThrow(
      'the startup step "detect IPv6" did not finish within 0.05 s',
    );
  }, 2_000);
});
