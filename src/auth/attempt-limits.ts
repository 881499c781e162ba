/**
 * Limits on guessing at the verification page (RFC 8628 §5.1): wrong user
 * codes per source address, per person and globally; failed sign-ins per
 * source address, per account and globally, where the per-account and
 * global delays only slow callers that have failed themselves. The counters live in the store,
 * so every instance shares them. docs/verification-page.md works out the odds.
 */
import { hash, randomBytes } from "node:crypto";
import { isIPv6 } from "node:net";
import { SETTING_DEFAULTS, type Settings } from "../config/settings.js";
import type {
  AttemptCounter,
  AttemptPolicy,
  AttemptSlot,
  AttemptVerdict,
} from "../domain/ports/attempt-counter.js";
import { LostEnds } from "./lost-ends.js";

/** Failures allowed per window before delays start, per counter; and the window. */
export interface AttemptLimits {
  readonly codePerAddress: number;
  readonly codePerSession: number;
  readonly codeGlobal: number;
  readonly signInPerAddress: number;
  readonly signInPerAccount: number;
  readonly signInGlobal: number;
  /** Failed authentications of one confidential client from one address (docs/hostile-input.md). */
  readonly clientAuthPerAddress: number;
  /**
   * Ms a client-authentication check holds its place in flight if it is
   * never ended (a lost store reply, a crash): the longest a Redis fault can
   * keep one of an address's places taken (docs/hostile-input.md).
   */
  readonly clientAuthCheckLeaseMs: number;
  /**
   * Ms a user-code entry or a sign-in holds its places in flight if it is
   * never ended (a lost store reply, a crash): the longest a Redis fault can
   * keep one of a person's, address's or account's places taken
   * (docs/verification-page.md). Longer than such a check takes.
   */
  readonly pageCheckLeaseMs: number;
  /** Device authorizations created from one address per window (each one counts). */
  readonly authorizePerAddress: number;
  /** Device authorizations created for one client per window, from everyone: a ceiling on storage. */
  readonly authorizePerClient: number;
  /** RFC 7591 registrations from one address (each one counts, successful or not). */
  readonly registrationPerAddress: number;
  /** RFC 7591 registrations from everyone together. */
  readonly registrationGlobal: number;
  /** Client ID Metadata Document fetches (cache misses) one address causes. */
  readonly metadataFetchPerAddress: number;
  /** Seconds; a counter is forgotten this long after its first failure. */
  readonly windowSeconds: number;
  /**
   * The first delay, in ms, of the per-source counters (default 2000; the
   * global ones start at half). Not a setting: tests that assert a refusal
   * raise it so that a slow machine cannot outlast the delay.
   */
  readonly firstDelayMs?: number;
}

/** The limits the HANDOFF_*_LIMIT_* settings (and HANDOFF_LIMIT_WINDOW) give. */
export function attemptLimitsOf(s: Settings): AttemptLimits {
  return {
    codePerAddress: s.HANDOFF_CODE_LIMIT_PER_ADDRESS,
    codePerSession: s.HANDOFF_CODE_LIMIT_PER_SESSION,
    codeGlobal: s.HANDOFF_CODE_LIMIT_GLOBAL,
    signInPerAddress: s.HANDOFF_SIGNIN_LIMIT_PER_ADDRESS,
    signInPerAccount: s.HANDOFF_SIGNIN_LIMIT_PER_ACCOUNT,
    signInGlobal: s.HANDOFF_SIGNIN_LIMIT_GLOBAL,
    clientAuthPerAddress: s.HANDOFF_CLIENT_AUTH_LIMIT_PER_ADDRESS,
    clientAuthCheckLeaseMs: s.HANDOFF_CLIENT_AUTH_CHECK_LEASE_MS,
    pageCheckLeaseMs: s.HANDOFF_PAGE_CHECK_LEASE_MS,
    authorizePerAddress: s.HANDOFF_AUTHORIZE_LIMIT_PER_ADDRESS,
    authorizePerClient: s.HANDOFF_AUTHORIZE_LIMIT_PER_CLIENT,
    registrationPerAddress: s.HANDOFF_REGISTRATION_LIMIT_PER_ADDRESS,
    registrationGlobal: s.HANDOFF_REGISTRATION_LIMIT_GLOBAL,
    metadataFetchPerAddress: s.HANDOFF_CIMD_FETCH_LIMIT_PER_ADDRESS,
    windowSeconds: s.HANDOFF_LIMIT_WINDOW,
  };
}

/** The defaults, as the settings declare them (README table). */
export const DEFAULT_ATTEMPT_LIMITS: AttemptLimits = attemptLimitsOf(SETTING_DEFAULTS);

/** Delays per source and per session/account: 2 s, doubling, at most 5 minutes. */
const LOCAL_DELAY = { baseDelayMs: 2_000, maxDelayMs: 300_000 };
/**
 * Delays for the global counters: 1 s, doubling, at most 1 minute. Shorter,
 * because a global delay also holds back every honest person.
 */
const GLOBAL_DELAY = { baseDelayMs: 1_000, maxDelayMs: 60_000 };

/**
 * The part of an address that one party controls: an IPv4 address, or an
 * IPv6 /64 (one customer's subnet; counting single IPv6 addresses would give
 * a guesser 2^64 fresh counters).
 */
export function addressKey(ip: string): string {
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (v4?.[1]) return v4[1];
  // No colon, no IPv6 (isIPv6 runs a long regex; most addresses are IPv4).
  if (!ip.includes(":") || !isIPv6(ip)) return ip;
  const [head = "", tail = ""] = ip.split("::");
  const h = head === "" ? [] : head.split(":");
  const t = tail === "" ? [] : tail.split(":");
  const groups = ip.includes("::") ? [...h, ...Array(8 - h.length - t.length).fill("0"), ...t] : h;
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

const digest = (s: string) => hash("sha256", s, "base64url").slice(0, 22);

/** Builds the counters for each kind of attempt and charges them in the store. */
export class AttemptLimiter {
  private readonly local: (free: number) => AttemptPolicy;
  private readonly global: (free: number) => AttemptPolicy;
  /** The device authorization's two policies: charged on every request, so made once. */
  private readonly authorizePolicies: readonly [AttemptPolicy, AttemptPolicy];
  /** Client id → its counter key part (a hash); bounded, cleared when full. */
  private readonly clientDigests = new Map<string, string>();
  /** Ends of checks the store did not take, for the same slots' next check. */
  private readonly lost = new LostEnds();

  constructor(
    private readonly counter: AttemptCounter,
    readonly limits: AttemptLimits,
    private readonly keyPrefix = "",
    readonly clock: () => number = Date.now,
  ) {
    const windowMs = limits.windowSeconds * 1000;
    const first = limits.firstDelayMs;
    const local = first === undefined ? LOCAL_DELAY : { ...LOCAL_DELAY, baseDelayMs: first };
    const global = first === undefined ? GLOBAL_DELAY : { ...GLOBAL_DELAY, baseDelayMs: first / 2 };
    this.local = (free) => ({ free, windowMs, ...local });
    this.global = (free) => ({ free, windowMs, ...global });
    this.authorizePolicies = [
      this.local(limits.authorizePerAddress),
      this.global(limits.authorizePerClient),
    ];
  }

  /**
   * Counters for entering a user code: per address, per signed-in person
   * (`personKey`, a hash of the subject: all their sessions together, so a
   * new sign-in buys no fresh allowance) and globally. The global delay
   * slows only an address or a person that has already guessed wrong in its
   * window (or has a guess in flight): a guesser cannot make honest people
   * with the right code wait. Checked with `check`, so only wrong codes are
   * charged. docs/verification-page.md gives the odds.
   */
  codeSlots(ip: string, personKey: string): AttemptSlot[] {
    const k = `${this.keyPrefix}ratelimit:{code}:`;
    return [
      { key: `${k}ip:${addressKey(ip)}`, policy: this.local(this.limits.codePerAddress) },
      { key: `${k}person:${personKey}`, policy: this.local(this.limits.codePerSession) },
      { key: `${k}global`, policy: this.global(this.limits.codeGlobal), gates: [0, 1] },
    ];
  }

  /**
   * Counters for a sign-in; the account is keyed by a hash of its lower-cased
   * name. The per-address delay binds always. The per-account and global
   * delays bind only an address that has failed a sign-in in its window:
   * wrong passwords sent by others, from however many
   * addresses, never keep out a person who types the right one from an
   * address with a clean record. docs/verification-page.md gives the price.
   */
  signInSlots(ip: string, username: string): AttemptSlot[] {
    const k = `${this.keyPrefix}ratelimit:{signin}:`;
    return [
      { key: `${k}ip:${addressKey(ip)}`, policy: this.local(this.limits.signInPerAddress) },
      {
        key: `${k}user:${digest(username.toLowerCase())}`,
        policy: this.local(this.limits.signInPerAccount),
        gates: [0],
      },
      { key: `${k}global`, policy: this.global(this.limits.signInGlobal), gates: [0] },
    ];
  }

  /**
   * The counter for authenticating a confidential client (docs/hostile-input.md):
   * per client *and* address only. A per-client or global counter would let
   * anyone who knows a client id keep the real client out by sending wrong
   * secrets from a few addresses; the guesser's own
   * addresses are what is slowed. docs/hostile-input.md gives the odds.
   */
  clientAuthSlot(ip: string, clientId: string): AttemptSlot {
    const k = `${this.keyPrefix}ratelimit:{client}:`;
    return {
      key: `${k}ip:${addressKey(ip)}:${digest(clientId)}`,
      policy: this.local(this.limits.clientAuthPerAddress),
    };
  }

  /**
   * Counters for creating device authorizations (docs/hostile-input.md): per
   * address (the limit that binds a flood) and per client (a ceiling that
   * bounds what one client's requests can hold in the store). Every request
   * is charged and none refunded, like registrations. A refusal by the
   * address counter charges nothing to the client's, so an address that is
   * being refused stops using up the client's ceiling.
   */
  authorizationSlots(ip: string, clientId: string): AttemptSlot[] {
    const k = `${this.keyPrefix}ratelimit:{authorize}:`;
    let client = this.clientDigests.get(clientId);
    if (client === undefined) {
      if (this.clientDigests.size >= 1024) this.clientDigests.clear();
      client = digest(clientId);
      this.clientDigests.set(clientId, client);
    }
    const [perAddress, perClient] = this.authorizePolicies;
    return [
      { key: `${k}ip:${addressKey(ip)}`, policy: perAddress },
      { key: `${k}client:${client}`, policy: perClient },
    ];
  }

  /**
   * Counters for dynamic client registration (RFC 7591 §3): per address and
   * globally. Every registration is charged and none is refunded: this is a
   * rate, not a failure count, so open registration cannot flood the store.
   */
  registrationSlots(ip: string): AttemptSlot[] {
    const k = `${this.keyPrefix}ratelimit:{register}:`;
    return [
      { key: `${k}ip:${addressKey(ip)}`, policy: this.local(this.limits.registrationPerAddress) },
      { key: `${k}global`, policy: this.global(this.limits.registrationGlobal) },
    ];
  }

  /**
   * The counter for fetching Client ID Metadata Documents: per address only.
   * Each cache miss counts (a rate: one address cannot make this server fetch
   * an endless list of URLs). No global counter: the fetches in flight are
   * already capped per instance, and a global delay would let one party keep
   * every new metadata-document client out (docs/client-registration.md).
   */
  metadataFetchSlots(ip: string): AttemptSlot[] {
    const k = `${this.keyPrefix}ratelimit:{cimd}:`;
    return [
      { key: `${k}ip:${addressKey(ip)}`, policy: this.local(this.limits.metadataFetchPerAddress) },
    ];
  }

  /** Charges an attempt (a rate: every one counts), or refuses it while a delay runs. */
  attempt(slots: readonly AttemptSlot[]): Promise<AttemptVerdict> {
    return this.counter.attempt(slots, this.clock());
  }

  /**
   * Begins a check that is charged only if it fails (user codes, sign-ins,
   * client authentication): refused while a delay runs on a slot that
   * applies, or while the checks in flight fill what is left of its
   * allowance; otherwise the check holds a place on every slot under a
   * random lease id for `leaseMs` at most, and `end` ends it: a failure is
   * charged to every slot, a success only frees the places. So no store
   * fault can leave a charge on a right answer:
   *
   * - an end the store did not take is kept here and delivered with the
   *   next check on the same slots from this instance (charged only where
   *   its lease was still held, so never twice); `end` then resolves false
   *   and never rejects;
   * - a begin whose reply was lost (it may have run) is ended at once, as a
   *   success, and its error thrown (the caller answers 503);
   * - whatever is not delivered (another instance takes the next check, the
   *   process died) frees itself when its lease ends.
   *
   * The begin throws what the store throws (503 `temporarily_unavailable`).
   */
  async check(slots: readonly AttemptSlot[], leaseMs: number): Promise<Check> {
    const key = slots.map((s) => s.key).join(" ");
    const id = randomBytes(12).toString("base64url");
    const started = this.clock();
    const end = async (failed: boolean): Promise<boolean> => {
      try {
        await this.counter.endCheck(slots, id, failed, this.clock());
        return true;
      } catch {
        this.lost.add(key, { id, failed }, started + leaseMs);
        return false;
      }
    };
    const undelivered = this.lost.take(key, started);
    let verdict: AttemptVerdict;
    try {
      verdict = await this.counter.beginCheck(
        slots,
        { id, ms: leaseMs },
        started,
        undelivered.map(({ id, failed }) => ({ id, failed })),
      );
    } catch (e) {
      for (const u of undelivered) this.lost.add(key, u, u.until);
      // The reply may be all that was lost: free the places now, in case they were taken.
      void end(false);
      throw e;
    }
    return verdict.allowed ? { allowed: true, end } : verdict;
  }
}

/** Where a limit's warnings go (pino and fastify's request logger alike). */
export interface WarnLog {
  warn(fields: Record<string, unknown>, message: string): void;
}

/**
 * A let-through check's `end`, warning when the store did not take it (it is
 * delivered with the next check, `AttemptLimiter.check`). `fields` name the
 * limit and the caller (limit, client id, address, request id), never a
 * code or a secret; `what` names the check in the message.
 */
export function endWarned(
  check: { end(failed: boolean): Promise<boolean> },
  log: WarnLog,
  fields: Record<string, unknown>,
  what: string,
): (failed: boolean) => Promise<void> {
  return async (failed) => {
    if (!(await check.end(failed))) {
      log.warn(
        { ...fields, failed },
        `could not end a ${what} check; it is delivered with the next one`,
      );
    }
  };
}

/**
 * A check begun by `AttemptLimiter.check`: refused with a wait, or let
 * through with its `end` (true: a failure, charged; false: freed). `end`
 * never rejects; it resolves false when the store did not take it (it is
 * then kept and delivered later).
 */
export type Check =
  | { readonly allowed: true; end(failed: boolean): Promise<boolean> }
  | { readonly allowed: false; readonly retryAfterMs: number };
