/**
 * Where a grant came from: the address and user agent of the request that
 * asked for it, and where the approval came from. A refresh family keeps it
 * from its creation, and the person's "Connected devices" page shows it
 * (RFC 8628 §5.4 asks that a person can tell which device they let in).
 * What each grant records is in docs/token-lifecycle.md ("Connected devices").
 */

export interface GrantOrigin {
  /**
   * The device grant: the address the device authorization request came from.
   * The authorization code grant: the address of the token request.
   */
  readonly requesterAddress: string;
  /** That request's User-Agent, bounded and without control characters ("" if none). */
  readonly requesterUserAgent: string;
  /** Where the approval came from (the person's browser, or the calling service); absent if unknown. */
  readonly approverAddress?: string;
}

/** C0 and C1 controls and DEL: never stored (the Redis records use U+001F as their separator). */
const CONTROL_CHARS = /\p{Cc}/gu;

/** The most characters of a User-Agent that are kept. */
export const MAX_USER_AGENT = 512;

/** The longest address kept (an IPv6 address with a zone fits several times over). */
const MAX_ADDRESS = 128;

/** Client-supplied text as the stores keep it: at most `max` characters, control characters replaced. */
export function boundedText(text: string, max: number): string {
  return text.slice(0, max).replace(CONTROL_CHARS, "\uFFFD");
}

/** A User-Agent as the stores keep it (shown on the consent and Connected devices pages). */
export function boundedUserAgent(userAgent: string): string {
  return boundedText(userAgent, MAX_USER_AGENT);
}

/** A grant origin with every field bounded; an empty approver address is left out. */
export function grantOrigin(
  requesterAddress: string,
  requesterUserAgent: string,
  approverAddress?: string,
): GrantOrigin {
  return {
    requesterAddress: boundedText(requesterAddress, MAX_ADDRESS),
    requesterUserAgent: boundedUserAgent(requesterUserAgent),
    ...(approverAddress ? { approverAddress: boundedText(approverAddress, MAX_ADDRESS) } : {}),
  };
}
