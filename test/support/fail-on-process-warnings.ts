/**
 * vitest setupFiles entry: a process warning fails the test it happened in
 * (or the file, if it came between tests). A TimeoutOverflowWarning means a
 * timer fired after 1 ms instead of its delay (src/domain/timer-delay.ts); a
 * MaxListenersExceededWarning is a listener leak; a DeprecationWarning is an
 * API about to go. Node prints them and carries on, so without this they
 * scroll past in CI.
 *
 * ExperimentalWarning is let through: Node emits it for features a dependency
 * uses on purpose (require() of an ES module, the test runner's own hooks),
 * and it says nothing about our code.
 */
import { afterAll, afterEach } from "vitest";

const LET_THROUGH = new Set(["ExperimentalWarning"]);

// One listener per process, however many test files a worker runs.
const slot = Symbol.for("handoff.test.processWarnings");
const store = globalThis as { [slot]?: Error[] };
const seen: Error[] = store[slot] ?? [];
if (store[slot] === undefined) {
  store[slot] = seen;
  process.on("warning", (warning) => {
    if (!LET_THROUGH.has(warning.name)) seen.push(warning);
  });
}

async function failOnWarnings(): Promise<void> {
  // Node emits a warning on process.nextTick, which waits for the promise
  // jobs the test runner chains its hooks with: let one macrotask pass.
  await new Promise((resolve) => setImmediate(resolve));
  if (seen.length === 0) return;
  const found = seen.splice(0);
  throw new Error(`process warning(s): ${found.map((w) => `${w.name}: ${w.message}`).join(" | ")}`);
}

afterEach(failOnWarnings);
afterAll(failOnWarnings);
