import { expect } from "vitest";
import { ConfigError } from "./errors.js";
import { loadSettings } from "./settings.js";

/** The problems loadSettings reports for `env`; fails the test if it accepts the settings. */
export function problemsOf(env: Record<string, string>, readFile?: (path: string) => string): string[] {
  try {
    loadSettings(env, readFile);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("expected loadSettings to fail");
}
