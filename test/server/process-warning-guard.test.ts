/**
 * The suite's warning guard (test/support/fail-on-process-warnings.ts, a
 * vitest setupFiles entry) must be able to fail: a child vitest runs a fixture
 * with one timer past Node's range and one clamped by timerDelay.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));

describe("the process-warning guard", () => {
  it("fails the test whose timer overflows (TimeoutOverflowWarning), passes the clamped one", async () => {
    const run = await promisify(execFile)(
      process.execPath,
      [
        "node_modules/vitest/vitest.mjs",
        "run",
        "--config",
        "test/support/warning-guard/vitest.config.ts",
        "--reporter",
        "verbose",
      ],
      { cwd: root, env: { ...process.env, NO_COLOR: "1", CI: "1" } },
    ).then(
      () => ({ code: 0, output: "" }),
      (e: { code: number; stdout: string; stderr: string }) => ({
        code: e.code,
        output: e.stdout + e.stderr,
      }),
    );
    expect(run.code).toBe(1);
    expect(run.output).toMatch(/×.*arms a timer past 2\^31 - 1 ms/);
    expect(run.output).toMatch(/✓.*arms the same timer through timerDelay/);
    expect(run.output).toContain("process warning(s): TimeoutOverflowWarning");
    expect(run.output).toMatch(/1 failed \| 1 passed/);
  }, 30_000);
});
