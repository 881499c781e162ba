/** The limits on creating device authorizations (docs/hostile-input.md), over the shared attempt counters. */
import type { AuthorizationQuota } from "../domain/ports/authorization-quota.js";
import type { AttemptLimiter } from "./attempt-limits.js";
import type { ThrottleLog } from "./client-auth-throttle.js";

/**
 * Charges each device authorization to its address's counter and its
 * client's, in one atomic step in the store; a refusal is logged at warn,
 * like the other limits, with the client and the address.
 */
export function authorizationQuota(limiter: AttemptLimiter, log: ThrottleLog): AuthorizationQuota {
  return {
    async charge(clientId, address) {
      const verdict = await limiter.attempt(limiter.authorizationSlots(address, clientId));
      if (verdict.allowed) return undefined;
      const retryAfter = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000));
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
    },
  };
}
