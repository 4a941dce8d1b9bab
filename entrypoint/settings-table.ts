import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { settingDefinitions } from "./settings.js";

export const TABLE_START = "<!-- settings-table:start (generated from entrypoint/settings.ts: npm run docs:settings) -->";
export const TABLE_END = "<!-- settings-table:end -->";

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** The README's table of variables, rendered from the same schema that parses them. */
export function renderSettingsTable(): string {
  const rows = settingDefinitions().map((s) => {
    const fallback = s.default === undefined ? "**required**" : s.default === "" ? "(empty)" : `\`${s.default}\``;
    return `| \`${s.env}\` | ${fallback} | ${cell(s.description)} | ${cell(s.accepted)} |`;
  });
  return [
    "| Variable | Default | What it does | Accepted values |",
    "| --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}

/** The document with the text between the markers replaced by the current table. */
export function withSettingsTable(document: string): string {
  const start = document.indexOf(TABLE_START);
  const end = document.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`the markers ${TABLE_START} ... ${TABLE_END} are missing`);
  return `${document.slice(0, start + TABLE_START.length)}\n${renderSettingsTable()}\n${document.slice(end)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const target = process.argv[process.argv.indexOf("--write") + 1] ?? "README.md";
  writeFileSync(target, withSettingsTable(readFileSync(target, "utf8")));
  console.log(`settings table written to ${target}`);
}
