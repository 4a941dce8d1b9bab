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
