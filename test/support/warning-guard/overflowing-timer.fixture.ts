// Not part of the suite (its name does not end in .test.ts): run by
// test/server/process-warning-guard.test.ts to show the guard fails a test.
import { it } from "vitest";
import { timerDelay } from "../../../src/domain/timer-delay.js";

const HOURS_99999999 = 99_999_999 * 3_600_000;

it("arms a timer past 2^31 - 1 ms", () => {
  clearTimeout(setTimeout(() => {}, HOURS_99999999));
});

it("arms the same timer through timerDelay", () => {
  clearTimeout(setTimeout(() => {}, timerDelay(HOURS_99999999)));
});
