/** The limit on failed client authentication (docs/hostile-input.md), over the shared attempt counters. */
import type { ClientAuthThrottle } from "../domain/client.js";
import { OAuthError } from "../domain/oauth-error.js";
import type { AttemptLimiter } from "./attempt-limits.js";

/** Where a refusal is reported (the server's logger). */
export interface ThrottleLog {
  warn(fields: Record<string, unknown>, message: string): void;
}

/**
 * Charges each authentication of a confidential client to its counter for
 * the caller's address before the secret is checked; the domain refunds the
 * charge when the secret was right. While a delay runs, every attempt from
 * that address (right or wrong) is refused, or a guesser could tell a right
 * guess from a refused one; other addresses are untouched, so wrong secrets
 * sent by others never keep the real client out. Refusals are logged at
 * warn, like the page's guess limits.
 */
export function clientAuthThrottle(limiter: AttemptLimiter, log: ThrottleLog): ClientAuthThrottle {
  return {
    async charge(clientId, address) {
      const slots = limiter.clientAuthSlots(address, clientId);
      const verdict = await limiter.attempt(slots);
      if (!verdict.allowed) {
        const retryAfter = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000));
        log.warn(
          { limit: "client-auth", client_id: clientId, ip: address, retry_after: retryAfter },
          "client authentication attempts limited",
        );
        throw new OAuthError(
          "invalid_client",
          `too many failed authentications; retry in ${retryAfter} s`,
          { retryAfter },
        );
      }
      return () => limiter.forgive(slots);
    },
  };
}
