/**
 * A fault wrapper around a real AttemptCounter, for the fault tests of the
 * limits (docs/hostile-input.md "Client authentication"). Each call takes the
 * next fault of the plan: `pass` runs it; `fail` throws without running it
 * (the command was lost in a failover); `lost-reply` runs it and then throws
 * (it ran on Redis, but its answer did not come back in time). The errors
 * are the ones RedisConnection raises (503 `temporarily_unavailable`).
 */

import { OAuthError } from "../../src/domain/oauth-error.js";
import type { AttemptCounter } from "../../src/domain/ports/attempt-counter.js";

export type Fault = "pass" | "fail" | "lost-reply";

/** The faults for the next calls in order (then `pass`), or one fault per call by method name. */
export type FaultPlan = readonly Fault[] | ((method: string) => Fault);

export interface FaultyCounter {
  readonly counter: AttemptCounter;
  /** Replaces the plan. */
  plan(faults: FaultPlan): void;
  /** The calls made, as `method:fault`, oldest first. */
  readonly calls: string[];
}

export function withFaults(real: AttemptCounter): FaultyCounter {
  let plan: FaultPlan = [];
  let next = 0;
  const calls: string[] = [];
  const take = (method: string): Fault => {
    if (typeof plan === "function") return plan(method);
    return plan[next++] ?? "pass";
  };
  const counter = new Proxy(real, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function" || typeof prop !== "string") return value;
      return async (...args: unknown[]) => {
        const fault = take(prop);
        calls.push(`${prop}:${fault}`);
        if (fault === "fail") {
          throw new OAuthError("temporarily_unavailable", "the state store is unavailable");
        }
        const result = await value.apply(target, args);
        if (fault === "lost-reply") {
          throw new OAuthError("temporarily_unavailable", "the state store did not answer in time");
        }
        return result;
      };
    },
  });
  return {
    counter,
    calls,
    plan(faults) {
      plan = faults;
      next = 0;
    },
  };
}
