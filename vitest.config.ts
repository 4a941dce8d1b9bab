import { defineConfig } from "vitest/config";

const IMAGE_TESTS = {
  include: ["image-tests/**/*.test.ts"],
  globalSetup: ["image-tests/global-setup.ts"],
  // Each file starts its own containers; two cores run two files at once comfortably.
  maxWorkers: 2,
  testTimeout: 120_000,
  hookTimeout: 300_000,
};

/**
 * The files the hardened pass leaves out, each because hardening means nothing to it: every
 * other image test runs a second time with APPLIANCE_HARDENED=1, i.e. with compose.yaml's
 * capabilities, no-new-privileges, a read-only root and the /run tmpfs (helpers/hardening.ts).
 */
const NOT_HARDENED_AGAIN: Record<string, string> = {
  "image-tests/hardened-deployment.test.ts": "already runs the README's and compose.yaml's hardened options, and only them",
  "image-tests/least-privilege.test.ts": "already sets compose.yaml's hardening itself; the setuid check is about the image, not how it runs",
  "image-tests/non-root-user.test.ts": "already runs with --user 101:101 and every capability dropped, stricter than the hardened pass",
  "image-tests/compose.test.ts": "runs compose.yaml, whose options are the hardened ones already",
  "image-tests/compose-certbot.test.ts": "runs compose.yaml, whose options are the hardened ones already",
  "image-tests/tls-profile.test.ts": "TLS protocols and ciphers only (testssl.sh, ~270 s): privileges do not change what Prosody offers",
  "image-tests/hostile-settings.test.ts": "creates its containers itself (not startAppliance): each exits 78 at the settings step, before anything is written",
  "image-tests/swarm.test.ts": "runs deploy/swarm/stack.yml as a swarm service, not through startAppliance",
  "image-tests/early-start.test.ts": "runs the read-only root where it changes how Prosody starts; elsewhere the hardened pass starts it as the default does",
};

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
        test: { name: "image", ...IMAGE_TESTS, sequence: { groupOrder: 1 } },
      },
      {
        // The same image tests again, hardened: `npm test`'s counts cover both deployments.
        test: {
          name: "image-hardened",
          ...IMAGE_TESTS,
          exclude: Object.keys(NOT_HARDENED_AGAIN),
          env: { APPLIANCE_HARDENED: "1" },
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
