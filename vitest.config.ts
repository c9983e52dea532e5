import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["convex/**/*.test.ts", "devbackend/test/**/*.test.ts"],
    environment: "edge-runtime",
    server: { deps: { inline: ["convex-test"] } },
    // The heaviest tests (hundreds of mutations, a demo seed) take a few seconds on 2 idle cores:
    // vitest's 5 s default fails them on a loaded machine; a hung test still fails, at 30 s.
    testTimeout: 30_000,
  },
});
