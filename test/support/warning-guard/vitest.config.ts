// Runs only the fixture below, under the suite's warning guard: test/server/process-warning-guard.test.ts.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: new URL("../../..", import.meta.url).pathname,
    include: ["test/support/warning-guard/overflowing-timer.fixture.ts"],
    setupFiles: ["test/support/fail-on-process-warnings.ts"],
    pool: "forks",
    maxWorkers: 1,
  },
});
