/** The limits on failed client authentication (STANDARDS T7), over the shared attempt counters. */
import type { ClientAuthThrottle } from "../domain/client.js";
import { OAuthError } from "../domain/oauth-error.js";
import type { AttemptLimiter } from "./attempt-limits.js";

/**
 * Charges each authentication of a confidential client to its counters
 * before the secret is checked; the domain refunds the charge when the secret
 * was right. While a delay runs, every attempt (right or wrong) is refused, or
 * a guesser could tell a right guess from a refused one.
 */
export function clientAuthThrottle(limiter: AttemptLimiter): ClientAuthThrottle {
  return {
    async charge(clientId, address) {
      const slots = limiter.clientAuthSlots(address, clientId);
      const verdict = await limiter.attempt(slots);
      if (!verdict.allowed) {
        const retryAfter = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000));
        throw new OAuthError(
          "invalid_client",
          `too many failed authentications; retry in ${retryAfter} s`,
          {
            retryAfter,
          },
        );
      }
      return () => limiter.forgive(slots);
    },
  };
}
