/** The limit on failed client authentication (docs/hostile-input.md), over the shared attempt counters. */
import type { ClientAuthThrottle } from "../domain/client.js";
import { OAuthError } from "../domain/oauth-error.js";
import { type AttemptLimiter, endWarned, type WarnLog } from "./attempt-limits.js";

/**
 * Limits failed authentications of a confidential client per client and
 * caller's address, charging only wrong secrets. Before the secret is
 * checked the check takes a place in flight (a lease with a random id);
 * when it is over the domain ends it, which charges a wrong secret and only
 * frees the place of a right one. So no store fault can leave a charge on a
 * right secret: an end the store did not take is kept (AttemptLimiter.check) and delivered
 * with the same address's next check (a failure is then charged only if its
 * lease was still held, so never twice), and a begin whose reply was lost is
 * ended at once, in case it ran. Whatever is not delivered frees itself
 * when its lease ends (`clientAuthCheckLeaseMs`).
 *
 * While a delay runs, or while the address's checks in flight fill what is
 * left before the next delay, every attempt from that address (right or
 * wrong) is refused, or a guesser could tell a right guess from a refused
 * one; other addresses are untouched, so wrong secrets sent by others never
 * keep the real client out. Refusals are logged at warn, like the page's
 * guess limits.
 */
export function clientAuthThrottle(limiter: AttemptLimiter, log: WarnLog): ClientAuthThrottle {
  const leaseMs = limiter.limits.clientAuthCheckLeaseMs;
  return {
    async begin(clientId, address) {
      const slot = limiter.clientAuthSlot(address, clientId);
      const check = await limiter.check([slot], leaseMs);
      if (!check.allowed) {
        const retryAfter = Math.max(1, Math.ceil(check.retryAfterMs / 1000));
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
      return endWarned(
        check,
        log,
        { limit: "client-auth", client_id: clientId, ip: address },
        "client authentication",
      );
    },
  };
}
