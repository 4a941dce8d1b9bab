import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["entrypoint/**/*.test.ts", "bench/**/*.test.ts", "deploy/**/*.test.ts"],
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: "image",
          include: ["image-tests/**/*.test.ts"],
          globalSetup: ["image-tests/global-setup.ts"],
          // Each file starts its own containers; two cores run two files at once comfortably.
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
