import { readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { afterEach, describe, expect, it, vi } from "vitest";
import { waitFor } from "../test-support/wait-for.js";
import { warmUp } from "./warm-up.js";

const leftovers = () => readdirSync(tmpdir()).filter((entry) => entry.startsWith("appliance-warm-up-"));

afterEach(() => vi.restoreAllMocks());

describe("warmUp", () => {
  it("should run the first steps on throwaway inputs, and leave no file, output or open handle behind", async () => {
    const before = leftovers();
    const stdout = vi.spyOn(process.stdout, "write");
    const stderr = vi.spyOn(process.stderr, "write");
    const activeHandles = () => (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;
    const handles = activeHandles();

    await warmUp();

    expect(leftovers()).toEqual(before);
    expect(stdout).not.toHaveBeenCalled();
    expect(stderr).not.toHaveBeenCalled();
    // A child process's handle closes a moment after its "close" event.
    await waitFor("the warm-up's handles to be closed", () => activeHandles() === handles, { timeoutMs: 2_000 });
  });
});
