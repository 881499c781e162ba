import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Each test file spawns its own redis-server processes on free ports, so
    // files can run in parallel; two workers match this project's 2-core CI.
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Any process warning (TimeoutOverflowWarning …) fails the test it came in.
    setupFiles: ["test/support/fail-on-process-warnings.ts"],
  },
});
