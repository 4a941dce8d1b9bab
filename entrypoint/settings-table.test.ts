import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { renderSettingsTable, withSettingsTable } from "./settings-table.js";
import { settingDefinitions } from "./settings.js";

describe("the README's settings table", () => {
  it("should list every setting the entrypoint reads", () => {
    const table = renderSettingsTable();
    for (const setting of settingDefinitions()) expect(table).toContain(`| \`${setting.env}\` |`);
  });

  it("should match the settings schema (run `npm run docs:settings` after changing settings.ts)", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    expect(readme).toBe(withSettingsTable(readme));
  });
});
