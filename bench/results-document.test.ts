import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { replaceMarkedSection, README_END_MARKER, README_START_MARKER } from "./results-document.js";

const section = `${README_START_MARKER}\n## Benchmarks\nnew table\n${README_END_MARKER}`;

describe("replaceMarkedSection", () => {
  it("appends the section at the end the first time", () => {
    expect(replaceMarkedSection("# Title\n\nText.\n", section)).toBe(`# Title\n\nText.\n\n${section}\n`);
  });

  it("replaces only what is between the markers afterwards", () => {
    const readme = `# Title\n\n${README_START_MARKER}\nold table\n${README_END_MARKER}\n\nAfter.\n`;
    expect(replaceMarkedSection(readme, section)).toBe(`# Title\n\n${section}\n\nAfter.\n`);
  });
});

describe("the README's bench block", () => {
  it("should hold the Benchmarks section alone: a bench run rewrites everything between the markers", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const block = readme.slice(readme.indexOf(README_START_MARKER), readme.indexOf(README_END_MARKER));
    expect(block.split("\n").filter((line) => line.startsWith("## "))).toEqual(["## Benchmarks"]);
  });
});
