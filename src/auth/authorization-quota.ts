/** The limits on creating device authorizations (docs/hostile-input.md), over the shared attempt counters. */
import type { AuthorizationQuota } from "../domain/ports/authorization-quota.js";
import type { FlowEvents } from "../domain/ports/flow-events.js";
import type { AttemptLimiter, WarnLog } from "./attempt-limits.js";

/**
 * Charges each device authorization to its address's counter and its
 * client's, in one atomic step in the store (through the attempt counter,
 * or in the write's own step where the device store can: `stepCharge`); a
 * refusal is logged at warn, like the other limits, with the client and the
 * address, and counted as a limit refusal however the store met it.
 */
export function authorizationQuota(
  limiter: AttemptLimiter,
  log: WarnLog,
  events: Pick<FlowEvents, "limited">,
): AuthorizationQuota {
  const refused = (clientId: string, address: string, retryAfterMs: number): number => {
    const retryAfter = Math.max(1, Math.ceil(retryAfterMs / 1000));
    log.warn(
      {
        limit: "device-authorization",
        client_id: clientId,
        ip: address,
        retry_after: retryAfter,
      },
      "device authorizations limited",
    );
    return retryAfter;
  };
  return {
    async charge(clientId, address) {
      // A refusal here is counted by the attempt counter's reporting (src/telemetry/instrumented-stores.ts).
      const verdict = await limiter.attempt(limiter.authorizationSlots(address, clientId));
      return verdict.allowed ? undefined : refused(clientId, address, verdict.retryAfterMs);
    },
    stepCharge: (clientId, address) => ({
      slots: limiter.authorizationSlots(address, clientId),
      now: limiter.clock(),
    }),
    limited(clientId, address, retryAfterMs) {
      events.limited("device_authorization");
      return refused(clientId, address, retryAfterMs);
    },
  };
}
