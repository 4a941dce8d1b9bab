import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SerialDebouncer } from "./serial-debouncer.js";

describe("SerialDebouncer", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("should run once after a burst of triggers, with every reason", async () => {
    const runs: string[][] = [];
    const debouncer = new SerialDebouncer<string>(async (reasons) => void runs.push(reasons), 300);
    debouncer.trigger("change live/example.org/cert.pem");
    await vi.advanceTimersByTimeAsync(100);
    debouncer.trigger("change live/example.org/privkey.pem");
    await vi.advanceTimersByTimeAsync(299);
    expect(runs).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs).toEqual([["change live/example.org/cert.pem", "change live/example.org/privkey.pem"]]);
  });

  it("should never run the task twice at once, and run again for a trigger that came during a run", async () => {
    let active = 0;
    let maxActive = 0;
    const runs: string[][] = [];
    const debouncer = new SerialDebouncer<string>(async (reasons) => {
      active++;
      maxActive = Math.max(maxActive, active);
      runs.push(reasons);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      active--;
    }, 100);
    debouncer.trigger("first");
    await vi.advanceTimersByTimeAsync(150);
    debouncer.trigger("during the run");
    await vi.advanceTimersByTimeAsync(5_000);
    expect(runs).toEqual([["first"], ["during the run"]]);
    expect(maxActive).toBe(1);
  });

  it("should keep going after a failed run, so the next change is tried again", async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const debouncer = new SerialDebouncer<string>(
      async () => {
        calls++;
        if (calls === 1) throw new Error("half-written renewal");
      },
      50,
      (error) => errors.push(error),
    );
    debouncer.trigger("a");
    await vi.advanceTimersByTimeAsync(60);
    debouncer.trigger("b");
    await vi.advanceTimersByTimeAsync(60);
    expect(calls).toBe(2);
    expect(errors).toHaveLength(1);
  });

  it("should run at once on flush", async () => {
    const runs: string[][] = [];
    const debouncer = new SerialDebouncer<string>(async (reasons) => void runs.push(reasons), 10_000);
    debouncer.trigger("event");
    await debouncer.flush("SIGHUP");
    expect(runs).toEqual([["event", "SIGHUP"]]);
  });
});
