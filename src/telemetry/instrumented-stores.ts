/**
 * Store decorators for the metrics: every operation of a store port timed
 * (on Redis each is one round trip, mostly one EVALSHA) and its failures
 * counted; attempt-counter refusals reported as limit refusals. Built once in
 * the composition root, so the stores themselves know nothing of metrics.
 */

import type { AttemptCounter } from "../domain/ports/attempt-counter.js";
import type { FlowEvents, LimitKind } from "../domain/ports/flow-events.js";
import type { HandoffMetrics } from "./metrics.js";

/** Methods that are not store operations. */
const NOT_OPERATIONS = new Set(["constructor", "close"]);

function operationsOf(target: object): string[] {
  const names = new Set<string>();
  for (let o = target; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const n of Object.getOwnPropertyNames(o)) {
      const v = (target as Record<string, unknown>)[n];
      if (typeof v === "function" && !NOT_OPERATIONS.has(n) && !n.startsWith("_")) names.add(n);
    }
  }
  return [...names];
}

/**
 * The same store, each async method timed under `store` (device, token,
 * session, attempt) and `backend` (memory, redis, redis-cluster). The
 * wrapper inherits from the store, so `close` and fields stay its own.
 */
export function timedStore<T extends object>(
  target: T,
  metrics: HandoffMetrics,
  backend: string,
  store: string,
): T {
  const wrapped = Object.create(target) as Record<string, unknown>;
  for (const name of operationsOf(target)) {
    const op = (target as Record<string, (...a: unknown[]) => unknown>)[name] as (
      ...a: unknown[]
    ) => unknown;
    const timer = metrics.storeTimer(backend, store, name);
    const failures = metrics.storeErrorCounter(backend, store, name);
    wrapped[name] = (...args: unknown[]) => {
      const started = performance.now();
      const result = op.apply(target, args);
      if (!(result instanceof Promise)) return result;
      return result.then(
        (v) => {
          timer.observe((performance.now() - started) / 1000);
          return v;
        },
        (e: unknown) => {
          timer.observe((performance.now() - started) / 1000);
          failures.inc();
          throw e;
        },
      );
    };
  }
  return wrapped as T;
}

/** Which limit a slot belongs to, from its hash tag (src/auth/attempt-limits.ts names them). */
function limitOf(key: string | undefined): LimitKind | undefined {
  if (key === undefined) return undefined;
  if (key.includes("ratelimit:{code}:")) return "user_code";
  if (key.includes("ratelimit:{signin}:")) return "sign_in";
  if (key.includes("ratelimit:{client}:")) return "client_auth";
  if (key.includes("ratelimit:{authorize}:")) return "device_authorization";
  return undefined;
}

/** The same counter; every refused attempt is reported as a limit refusal. */
export function reportingRefusals(counter: AttemptCounter, events: FlowEvents): AttemptCounter {
  return {
    async attempt(slots, now) {
      const verdict = await counter.attempt(slots, now);
      if (!verdict.allowed) {
        const limit = limitOf(slots[0]?.key);
        if (limit !== undefined) events.limited(limit);
      }
      return verdict;
    },
    forgive: (slots, now) => counter.forgive(slots, now),
    async beginCheck(slots, lease, now, lost) {
      const verdict = await counter.beginCheck(slots, lease, now, lost);
      if (!verdict.allowed) {
        const limit = limitOf(slots[0]?.key);
        if (limit !== undefined) events.limited(limit);
      }
      return verdict;
    },
    endCheck: (slots, leaseId, failed, now) => counter.endCheck(slots, leaseId, failed, now),
  };
}
