import { defineConfig } from "vitest/config";

// The Convex-side bench (data cost); not part of `make test`.
export default defineConfig({
  test: {
    include: ["bench/convex/**/*.cost.ts"],
    environment: "edge-runtime",
    server: { deps: { inline: ["convex-test"] } },
  },
});
