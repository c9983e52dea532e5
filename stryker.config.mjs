// Mutation testing of convex/lib/functions.ts (the builders' capability and tenancy checks) with
// Stryker's vitest runner: `make mutants AREA=convex`. docs/security.md ("Mutation testing")
// lists the survivors kept and why.
//
// - vitest.stryker.config.ts: the Convex tests only (devbackend/test never loads convex/lib).
// - `related: false`: run the tests Stryker's per-test coverage names for each mutant, not vitest's
//   guess from the import graph (convex-test loads every function module through import.meta.glob).
// - One test process: the suite is CPU-bound and mutants run one after another anyway on 2 cores.

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: ["convex/lib/functions.ts"],
  testRunner: "vitest",
  plugins: ["@stryker-mutator/vitest-runner"],
  vitest: { configFile: "vitest.stryker.config.ts", related: false },
  coverageAnalysis: "perTest",
  concurrency: 1,
  // The target: the run fails (exit 1) when less than 90 % of the mutants are killed.
  thresholds: { high: 95, low: 90, break: 90 },
  reporters: ["clear-text", "progress", "html", "json"],
  clearTextReporter: { reportTests: false, reportScoreTable: true },
  htmlReporter: { fileName: "reports/mutation/convex.html" },
  jsonReporter: { fileName: "reports/mutation/convex.json" },
  // Copied into each sandbox otherwise: the Python side and the built or cached files.
  ignorePatterns: [
    "/.venv",
    "/app",
    "/tests",
    "/spa",
    "/bench",
    "/ops",
    "/docs",
    "/devtools",
    "/mutants",
    "/.hypothesis",
    "/.mypy_cache",
    "/.pytest_cache",
    "/.ruff_cache",
    "/*.egg-info",
  ],
  tempDirName: ".stryker-tmp",
  cleanTempDir: true,
};
