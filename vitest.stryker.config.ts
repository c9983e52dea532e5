// vitest for Stryker (stryker.config.mjs): the Convex tests, as vitest.config.ts runs them, without the
// embedded backend's (devbackend/test runs a fixture of its own, never convex/lib).
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["convex/**/*.test.ts"],
    environment: "edge-runtime",
    server: { deps: { inline: ["convex-test"] } },
    // vitest's 5 s default fails the heaviest tests (hundreds of mutations) under instrumented code on
    // a busy machine: a spurious kill, or a failed dry run. Stryker's own timeout catches a mutant that hangs.
    testTimeout: 60_000,
  },
});
