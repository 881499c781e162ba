/** The limit on failed client authentication (docs/hostile-input.md), over the shared attempt counters. */
import { randomBytes } from "node:crypto";
import type { ClientAuthThrottle } from "../domain/client.js";
import { OAuthError } from "../domain/oauth-error.js";
import type { AttemptVerdict, LostEnd } from "../domain/ports/attempt-counter.js";
import type { AttemptLimiter } from "./attempt-limits.js";

/** Where a refusal is reported (the server's logger). */
export interface ThrottleLog {
  warn(fields: Record<string, unknown>, message: string): void;
}

/** Slots with ends waiting to be delivered, and ends per slot, kept at most (oldest dropped). */
const LOST_MAX_SLOTS = 1024;
const LOST_MAX_PER_SLOT = 64;

/**
 * Ends of checks the store did not take (it failed, or its reply was lost),
 * per slot, until the slot's next check delivers them or their lease is
 * over (then there is nothing left to deliver). Only this instance's; a
 * bounded map, filled only while the store fails.
 */
class LostEnds {
  private readonly bySlot = new Map<string, Array<LostEnd & { readonly until: number }>>();

  add(key: string, end: LostEnd, until: number): void {
    const list = this.bySlot.get(key) ?? [];
    this.bySlot.delete(key); // re-inserted last: the map drops the slot longest untouched
    list.push({ ...end, until });
    this.bySlot.set(key, list.slice(-LOST_MAX_PER_SLOT));
    for (const oldest of this.bySlot.keys()) {
      if (this.bySlot.size <= LOST_MAX_SLOTS) break;
      this.bySlot.delete(oldest);
    }
  }

  /** The slot's ends still worth delivering, taken out (put them back with `add` if not delivered). */
  take(key: string, now: number): Array<LostEnd & { readonly until: number }> {
    const list = this.bySlot.get(key);
    if (list === undefined) return [];
    this.bySlot.delete(key);
    return list.filter((e) => e.until > now);
  }
}

/**
 * Limits failed authentications of a confidential client per client and
 * caller's address, charging only wrong secrets. Before the secret is
 * checked the check takes a place in flight (a lease with a random id);
 * when it is over the domain ends it, which charges a wrong secret and only
 * frees the place of a right one. So no store fault can leave a charge on a
 * right secret: an end the store did not take is kept here and delivered
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
export function clientAuthThrottle(limiter: AttemptLimiter, log: ThrottleLog): ClientAuthThrottle {
  const lost = new LostEnds();
  const leaseMs = limiter.limits.clientAuthCheckLeaseMs;
  return {
    async begin(clientId, address) {
      const slot = limiter.clientAuthSlot(address, clientId);
      const id = randomBytes(12).toString("base64url");
      const started = limiter.clock();
      const end = async (failed: boolean) => {
        try {
          await limiter.endCheck(slot, id, failed);
        } catch {
          lost.add(slot.key, { id, failed }, started + leaseMs);
          log.warn(
            { limit: "client-auth", client_id: clientId, ip: address, failed },
            "could not end a client authentication check; it is delivered with the next one",
          );
        }
      };
      const undelivered = lost.take(slot.key, started);
      let verdict: AttemptVerdict;
      try {
        verdict = await limiter.beginCheck(
          slot,
          id,
          undelivered.map(({ id, failed }) => ({ id, failed })),
        );
      } catch (e) {
        for (const u of undelivered) lost.add(slot.key, u, u.until);
        // The reply may be all that was lost: free the place now, in case it was taken.
        void end(false);
        throw e;
      }
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
      return end;
    },
  };
}
