/**
 * The per-address budget of Client ID Metadata Document fetches
 * (docs/client-registration.md), on the shared attempt counters: every
 * fetch counts, none is refunded (a rate, like registration). Past it the
 * lookup is `temporarily_unavailable` with `Retry-After`; the refusal is
 * logged at warn, without the URL (a client id, but chosen by the caller).
 */
import type { MetadataFetchBudget } from "../domain/metadata-document-clients.js";
import { OAuthError } from "../domain/oauth-error.js";
import type { AttemptLimiter } from "./attempt-limits.js";

interface BudgetLog {
  warn(fields: Record<string, unknown>, message: string): void;
}

export function metadataFetchBudget(limiter: AttemptLimiter, log: BudgetLog): MetadataFetchBudget {
  return {
    async charge(address) {
      const verdict = await limiter.attempt(limiter.metadataFetchSlots(address));
      if (verdict.allowed) return;
      const retryAfter = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000));
      log.warn(
        { limit: "metadata-document-fetch", ip: address, retry_after: retryAfter },
        "client metadata document fetches limited",
      );
      throw new OAuthError(
        "temporarily_unavailable",
        `too many client metadata documents fetched for this address; retry in ${retryAfter} s`,
        { retryAfter },
      );
    },
  };
}
