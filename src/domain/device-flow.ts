/**
 * The device authorization grant (RFC 8628) as domain operations. The RFC
 * gateway, the Connect service and the verification pages all call these;
 * none of them re-implements a rule.
 */
import {
  authenticateClient,
  type Client,
  type ClientCredentials,
  type ClientOrigin,
  type ClientRegistry,
  DEVICE_CODE_GRANT,
  REFRESH_TOKEN_GRANT,
  requireGrant,
} from "./client.js";
import type { DeviceAuthorization, DeviceStatus } from "./device-authorization.js";
import { type CodeHandle, mintCodes, parseDeviceCode, userCodeHandle } from "./device-code.js";
import { boundedUserAgent } from "./grant-origin.js";
import { DEFAULT_RETRY_WINDOW, issuanceSeed, issueOnce, mintIssuanceNonce } from "./issuance.js";
import { OAuthError, type PollRefusal } from "./oauth-error.js";
import type { AuthorizationQuota } from "./ports/authorization-quota.js";
import type { DecisionNotifier } from "./ports/decision-notifier.js";
import type { DeviceStore, PacingPolicy, RetryPolicy } from "./ports/device-store.js";
import type { FlowEvents, PollOutcome } from "./ports/flow-events.js";
import type { TokenIssuer, TokenSet } from "./ports/token-issuer.js";
import { parseResources, type ResourceLimits } from "./resource.js";
import { checkScopeTokens, requireSubset, resolveScopes } from "./scope.js";
import { checkSubject } from "./subject.js";
import { formatUserCode, mintUserCode, normalizeUserCode } from "./user-code.js";

export interface DeviceFlowOptions {
  /** RFC 8628 §3.2 `verification_uri`. */
  readonly verificationUri: string;
  /** Life of a device code and its user code, in seconds. */
  readonly expiresIn: number;
  /** Base polling interval, in seconds. */
  readonly interval: number;
  /** A poll up to this many ms early is still on time (network and timer jitter). */
  readonly jitterToleranceMs: number;
  /** What `resource` values may be, and how many (RFC 8707; src/domain/resource.ts). */
  readonly resources: ResourceLimits;
  /**
   * Seconds after a consumption during which a poll that follows a failed
   * issuance gets the same token set (docs/failure.md "Exactly once across
   * faults"); 0: a consumed code is spent at once, whatever happened next.
   */
  readonly retryWindow?: number;
  /**
   * How long an issuance attempt may still be running, in ms: the deadlines
   * of its store calls. A poll sooner than this after an attempt that did
   * not release the code is a duplicate, not a retry. At least the base
   * pace; that is the default.
   */
  readonly retryLeaseMs?: number;
}

/** The default of `DeviceFlowOptions.retryWindow`: see `DEFAULT_RETRY_WINDOW` in issuance.ts. */
export { DEFAULT_RETRY_WINDOW };

export interface AuthorizeInput {
  readonly credentials: ClientCredentials;
  /** Requested scope tokens; undefined or empty means the client's defaults. */
  readonly scopes?: readonly string[];
  readonly resources?: readonly string[];
  readonly ipAddress: string;
  readonly userAgent: string;
}

/** RFC 8628 §3.2, transport-neutral. */
export interface AuthorizeResult {
  readonly deviceCode: string;
  /** Formatted for display: ABCD-EFGH. */
  readonly userCode: string;
  readonly verificationUri: string;
  readonly verificationUriComplete: string;
  readonly expiresIn: number;
  readonly interval: number;
}

/** What a consent screen shows about a request (RFC 8628 §5.4). */
export interface DeviceAuthorizationView {
  readonly userCode: string;
  readonly clientId: string;
  readonly clientName: string;
  /** Absent: configured by the operator. Else the page says who vouches for the name. */
  readonly clientOrigin?: ClientOrigin;
  readonly scopes: readonly string[];
  readonly resources: readonly string[];
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly ipAddress: string;
  readonly userAgent: string;
  readonly status: DeviceStatus;
}

export interface DecideInput {
  readonly userCode: string;
  readonly subject: string;
  readonly approve: boolean;
  /** Where the decision comes from: the person's browser, or the calling service ("" if unknown). */
  readonly approverAddress?: string;
  /** "I didn't start this": deny and record a phishing report (only with approve false). */
  readonly reportPhishing?: boolean;
  /** Narrower scopes to grant; undefined or empty grants all requested. */
  readonly scopes?: readonly string[];
  /**
   * Refuse a request already decided even by this same decision (an
   * operator's cancellation: cancelling twice is `already_decided`, README
   * "Operator listings"). Without it the same person's same decision again
   * is answered as the first was.
   */
  readonly refuseRepeat?: boolean;
}

export interface DecideResult {
  readonly clientId: string;
  /** For the result page ("… is connected"). */
  readonly clientName: string;
  readonly approved: boolean;
  readonly grantedScopes: readonly string[];
  /** Where the device's request came from (the result page of a phishing report names it). */
  readonly requesterAddress: string;
}

/** What a poll ends in: tokens, or one of the expected refusals (RFC 8628 §3.5). */
export type PollResult =
  | { readonly ok: true; readonly tokens: TokenSet }
  | { readonly ok: false; readonly refusal: PollRefusal };

const DENIED: PollResult = {
  ok: false,
  refusal: { code: "access_denied", description: "the request was denied" },
};
const EXPIRED: PollResult = {
  ok: false,
  refusal: { code: "expired_token", description: "the device code has expired" },
};

/**
 * The pending and slow_down answers per interval, made once: the interval
 * takes few values (the base, then +stepSeconds per slow_down), and these are
 * the answers to nearly every poll.
 */
class PacingAnswers {
  private readonly pending = new Map<number, PollResult>();
  private readonly slowDown = new Map<number, PollResult>();

  forPending(interval: number): PollResult {
    return once(this.pending, interval, () => ({
      code: "authorization_pending",
      description: "the request has not been decided yet",
      interval,
    }));
  }

  forSlowDown(interval: number): PollResult {
    return once(this.slowDown, interval, () => ({
      code: "slow_down",
      description: `polling too fast; wait ${interval} seconds between requests`,
      interval,
    }));
  }
}

/**
 * Intervals whose pending and slow_down answers are kept, per kind. A code's
 * interval grows by the slow_down step each time its client polls too fast
 * (RFC 8628 §3.5), so a client that ignores slow_down walks through new
 * intervals: 1024 covers one that ignored it a thousand times, where 64 was
 * passed within a minute by a client polling in a loop. Past it the answer is
 * made per poll, the same bytes. The transports keep one encoded answer per
 * kept refusal (a few hundred bytes each), so this bounds them too.
 */
export const PACING_ANSWERS_KEPT = 1024;

/** The cached answer for an interval; at most PACING_ANSWERS_KEPT kept. */
function once(cache: Map<number, PollResult>, interval: number, make: () => PollRefusal) {
  let r = cache.get(interval);
  if (r === undefined) {
    r = { ok: false, refusal: make() };
    if (cache.size < PACING_ANSWERS_KEPT) cache.set(interval, r);
  }
  return r;
}

/** A store poll outcome as the poll counter's label. */
const POLL_LABEL = {
  issued: "issued",
  pending: "pending",
  slow_down: "slow_down",
  denied: "denied",
  expired: "expired",
  unknown: "invalid_grant",
  wrong_client: "invalid_grant",
  consumed: "invalid_grant",
  invalid_target: "invalid_target",
  reissued: "issued",
} as const satisfies Record<string, PollOutcome>;

/** A device code as `parseDeviceCode` reads it. */
export type ParsedDeviceCode = NonNullable<ReturnType<typeof parseDeviceCode>>;

/** A waiting stream's re-check is never `slow_down`: only its opening is paced. */
const UNPACED: PacingPolicy = { minGapMs: 0, stepSeconds: 0 };

/**
 * Seconds added to a code's polling interval on each `slow_down`: "the
 * interval MUST be increased by 5 seconds for this and all subsequent
 * requests".
 * @see https://www.rfc-editor.org/rfc/rfc8628#section-3.5
 */
export const SLOW_DOWN_STEP_SECONDS = 5;

/** Tries before giving up on finding a free user code (31^8 codes: a clash is already rare). */
const USER_CODE_ATTEMPTS = 5;

/** A device authorization past its quota, with the seconds to wait. */
function quotaRefusal(retryAfter: number): OAuthError {
  return new OAuthError(
    "temporarily_unavailable",
    `too many device authorizations; retry in ${retryAfter} s`,
    { retryAfter },
  );
}

export class DeviceFlow {
  private readonly pacing: PacingPolicy;
  private readonly retry: RetryPolicy;
  private readonly answers = new PacingAnswers();
  /** verification_uri with the query prefix for the code, built once (RFC 8628 §3.3.1). */
  private readonly completePrefix: string;

  constructor(
    private readonly deps: {
      readonly clients: ClientRegistry;
      readonly store: DeviceStore;
      readonly tokens: TokenIssuer;
      /** Announces decisions to WaitToken streams; without one, streams rely on re-checks. */
      readonly notifier?: DecisionNotifier;
      readonly options: DeviceFlowOptions;
      /** Audit events and counters (docs/operations.md). */
      readonly events: FlowEvents;
      /** Limits on creating authorizations per address and per client; absent: none. */
      readonly quota?: AuthorizationQuota;
      readonly clock?: () => number;
    },
  ) {
    const base = deps.options.interval * 1000;
    this.pacing = {
      minGapMs: base - Math.min(deps.options.jitterToleranceMs, base / 2),
      stepSeconds: SLOW_DOWN_STEP_SECONDS,
    };
    // A poll sooner than the lease after an attempt is no retry after its
    // failure (a client waits the interval, or Retry-After, first): it is a
    // duplicate racing an attempt that may still succeed, and stays `consumed`.
    // An attempt that fails releases the code, so its retry need not wait.
    this.retry = {
      windowMs: (deps.options.retryWindow ?? DEFAULT_RETRY_WINDOW) * 1000,
      leaseMs: Math.max(this.pacing.minGapMs, deps.options.retryLeaseMs ?? 0),
    };
    const uri = new URL(deps.options.verificationUri);
    this.completePrefix = `${uri.href}${uri.search === "" ? "?" : "&"}user_code=`;
  }

  /** The name a person is shown for a client (its id if it has since been removed). */
  private async clientName(clientId: string): Promise<string> {
    return (await this.deps.clients.find(clientId))?.name ?? clientId;
  }

  /**
   * The client of a request a person is about to see or approve, read from
   * the registry now: a client disabled (or removed) after its request
   * started gets no consent, on any instance, at once; its polls are refused
   * already (`invalid_client`), so no approval could ever reach it.
   * `unauthorized_client`: PERMISSION_DENIED over RPC, a 403 page.
   */
  private async consentingClient(clientId: string): Promise<Client> {
    const client = await this.deps.clients.find(clientId);
    if (client === undefined) {
      throw new OAuthError("unauthorized_client", "the client is not registered");
    }
    if (!client.active) throw new OAuthError("unauthorized_client", "the client is disabled");
    return client;
  }

  private now(): number {
    return (this.deps.clock ?? Date.now)();
  }

  /** RFC 8628 §3.1–3.2: checks the client, mints both codes, stores them atomically. */
  async authorize(input: AuthorizeInput): Promise<AuthorizeResult> {
    const { clients, store, options } = this.deps;
    const client = await authenticateClient(clients, input.credentials);
    requireGrant(client, DEVICE_CODE_GRANT);
    const scopes = resolveScopes(client, input.scopes && checkScopeTokens(input.scopes));
    const resources = parseResources(input.resources ?? [], options.resources);
    const now = this.now();
    const expiresAt = now + options.expiresIn * 1000;
    const record: DeviceAuthorization = {
      clientId: client.id,
      scopes,
      resources,
      createdAt: now,
      expiresAt,
      interval: options.interval,
      lastPolledAt: 0,
      status: "pending",
      ipAddress: input.ipAddress,
      // Shown on the consent page and packed into the store: bounded, no control characters.
      userAgent: boundedUserAgent(input.userAgent),
      issuanceNonce: mintIssuanceNonce(),
    };
    for (let attempt = 0; attempt < USER_CODE_ATTEMPTS; attempt++) {
      const userCode = mintUserCode();
      const { deviceCode, device, user } = mintCodes(userCode, expiresAt);
      // The quota is charged once, with the first write.
      const created =
        attempt === 0 && this.deps.quota !== undefined
          ? await this.createCharged(this.deps.quota, device, user, record)
          : await store.create(device, user, record);
      if (created) {
        this.deps.events.record({
          event: "authorized",
          clientId: client.id,
          ipAddress: record.ipAddress,
          userAgent: record.userAgent,
        });
        const display = formatUserCode(userCode);
        return {
          deviceCode,
          userCode: display,
          verificationUri: options.verificationUri,
          verificationUriComplete: this.completePrefix + encodeURIComponent(display),
          expiresIn: options.expiresIn,
          interval: options.interval,
        };
      }
    }
    throw new OAuthError("temporarily_unavailable", "could not allocate a user code; try again");
  }

  /**
   * The first write of a request with its quota charge: in the write's own
   * step where the store can (one Redis: one round trip), else charged
   * beside it (the counter's keys never share the record's Cluster slot)
   * and the write undone on refusal. Past a limit the request is refused
   * with `retryAfter`: 429 with Retry-After (RFC 6585 §4), RPC
   * RESOURCE_EXHAUSTED. The OAuth code is `temporarily_unavailable` (RFC
   * 6749 §4.1.2.1; RFC 8628 §3.2 uses the RFC 6749 §5.2 error shape, whose
   * codes have no rate limit).
   */
  private async createCharged(
    quota: AuthorizationQuota,
    device: CodeHandle,
    user: CodeHandle,
    record: DeviceAuthorization,
  ): Promise<boolean> {
    const { store } = this.deps;
    const { clientId, ipAddress } = record;
    if (store.createCharged !== undefined) {
      const r = await store.createCharged(
        device,
        user,
        record,
        quota.stepCharge(clientId, ipAddress),
      );
      if (r.kind === "limited")
        throw quotaRefusal(quota.limited(clientId, ipAddress, r.retryAfterMs));
      return r.kind === "created";
    }
    const [charged, created] = await Promise.allSettled([
      quota.charge(clientId, ipAddress),
      store.create(device, user, record),
    ]);
    const refusal =
      charged.status === "rejected"
        ? charged.reason
        : charged.value === undefined
          ? undefined
          : quotaRefusal(charged.value);
    if (refusal === undefined) {
      if (created.status === "rejected") throw created.reason;
      return created.value;
    }
    if (created.status === "fulfilled" && created.value) await store.discard(device, user);
    throw refusal;
  }

  /**
   * RFC 8628 §3.4–3.5: one poll. Pacing, the state check and, after approval,
   * consumption happen in one atomic store step, so tokens are issued once.
   * Pending, slow_down, denied and expired come back as values (the usual
   * answers, not faults); a bad request or client still throws an OAuthError.
   */
  async poll(
    credentials: ClientCredentials,
    deviceCode: string,
    request: { readonly resources?: readonly string[] } = {},
  ): Promise<PollResult> {
    const client = await this.pollingClient(credentials);
    // RFC 8707 §2.2: checked against the grant inside the atomic poll, so a
    // resource that was not bound is refused without spending the code.
    const resources = parseResources(request.resources ?? [], this.deps.options.resources);
    return this.redeem(client, this.parseCode(deviceCode), "poll", resources);
  }

  /** The client a poll or a token stream comes from: authenticated, with the device grant. */
  async pollingClient(credentials: ClientCredentials): Promise<Client> {
    const client = await authenticateClient(this.deps.clients, credentials);
    requireGrant(client, DEVICE_CODE_GRANT);
    return client;
  }

  /** A device code's store handle and expiry; `invalid_grant` if it is not one of ours. */
  parseCode(deviceCode: string): ParsedDeviceCode {
    const parsed = parseDeviceCode(deviceCode);
    if (!parsed) throw new OAuthError("invalid_grant", "the device code is invalid");
    return parsed;
  }

  /**
   * One atomic check-and-consume of a device code: the only place tokens for
   * a device code are issued, for polls and WaitToken streams alike. `poll`
   * is paced (RFC 8628 §3.5) and counted as a poll; `recheck` is a waiting
   * stream looking again (woken by a decision, or on its timer), never
   * refused as too fast: the stream's opening was paced.
   */
  async redeem(
    client: Client,
    parsed: ParsedDeviceCode,
    mode: "poll" | "recheck",
    resources: readonly string[] = [],
  ): Promise<PollResult> {
    // A stream authenticated its client when it opened; a client disabled
    // since (ClientService.DisableClient) gets nothing more from it.
    if (mode === "recheck" && !(await this.deps.clients.find(client.id))?.active) {
      throw new OAuthError("invalid_client", "client authentication failed");
    }
    const now = this.now();
    const outcome = await this.deps.store.poll(
      parsed.handle,
      client.id,
      now,
      mode === "poll" ? this.pacing : UNPACED,
      resources,
      this.retry,
    );
    // The TTL removes the record at expiry, and the store may answer after
    // the clock passed it: the code itself says when that was, read against
    // the clock once the store has answered, not when the poll began.
    const expiredUnknown = outcome.kind === "unknown" && parsed.expiresAtMs <= this.now();
    if (mode === "poll") {
      this.deps.events.polled(expiredUnknown ? "expired" : POLL_LABEL[outcome.kind]);
    }
    switch (outcome.kind) {
      case "issued":
      case "reissued": {
        // The consumption is one store step and the tokens come after it; a
        // fault between them (store, signing, a crash) must not lose the
        // approval. The set is named by the code and its nonce, so this
        // attempt and any retry of it give the same one, written at most once
        // (docs/failure.md "Exactly once across faults").
        const { issuance } = outcome;
        const { issued: tokens } = await issueOnce({
          issue: () =>
            this.deps.tokens.issue(outcome.grant, {
              resources,
              refresh: client.grantTypes.includes(REFRESH_TOKEN_GRANT),
              issuance: {
                seed: issuanceSeed(parsed.code, issuance.nonce),
                issuedAt: issuance.issuedAt,
                retryUntil: issuance.retryUntil,
              },
            }),
          // A failed attempt is over: its retry need not wait out the lease.
          release: () => this.deps.store.release(parsed.handle, now),
          // Handed over from here: later polls are `consumed`.
          confirm: () => this.deps.store.confirm(parsed.handle, now),
        });
        const { clientId, subject } = outcome.grant;
        this.deps.events.record({ event: "issued", clientId, subject, grant: "device_code" });
        return { ok: true, tokens };
      }
      case "pending":
        return this.answers.forPending(outcome.interval);
      case "slow_down":
        return this.answers.forSlowDown(outcome.interval);
      case "denied":
        return DENIED;
      case "expired":
        return EXPIRED;
      case "unknown":
        if (expiredUnknown) return EXPIRED;
        throw new OAuthError("invalid_grant", "the device code is invalid");
      case "wrong_client":
        throw new OAuthError("invalid_grant", "the device code was issued to another client");
      case "consumed":
        throw new OAuthError("invalid_grant", "the device code has already been used");
      case "invalid_target":
        throw new OAuthError(
          "invalid_target",
          "a resource was not part of the authorization request",
        );
    }
  }

  /** The request behind a user code, for the consent screen; `not_found` if none is live. */
  async describe(userCodeInput: string): Promise<DeviceAuthorizationView> {
    const userCode = normalizeUserCode(userCodeInput);
    const record =
      userCode === null
        ? null
        : await this.deps.store.findByUserCode(userCodeHandle(userCode), this.now());
    if (userCode === null || record === null) {
      throw new OAuthError("not_found", "no pending request has this code; it may have expired");
    }
    const client = await this.consentingClient(record.clientId);
    return {
      userCode: formatUserCode(userCode),
      clientId: record.clientId,
      clientName: client.name,
      ...(client.origin === undefined ? {} : { clientOrigin: client.origin }),
      scopes: record.scopes,
      resources: record.resources,
      createdAt: new Date(record.createdAt),
      expiresAt: new Date(record.expiresAt),
      ipAddress: record.ipAddress,
      userAgent: record.userAgent,
      status: record.status,
    };
  }

  /** Records a person's decision; at most one decision per request ever succeeds. */
  async decide(input: DecideInput): Promise<DecideResult> {
    checkSubject(input.subject);
    const userCode = normalizeUserCode(input.userCode);
    const user = userCode === null ? null : userCodeHandle(userCode);
    const now = this.now();
    // Requested scopes never change after creation, so reading them first is not a check-then-act race.
    const record = user === null ? null : await this.deps.store.findByUserCode(user, now);
    if (user === null || record === null) {
      throw new OAuthError("not_found", "no pending request has this code; it may have expired");
    }
    let granted: readonly string[] = [];
    let approving: Client | undefined;
    if (input.approve) {
      granted =
        input.scopes && input.scopes.length > 0 ? checkScopeTokens(input.scopes) : record.scopes;
      requireSubset(granted, record.scopes);
      // A denial of a disabled client's request is still recorded (and may be a report).
      approving = await this.consentingClient(record.clientId);
    }
    const outcome = await this.deps.store.decide(
      user,
      {
        approve: input.approve,
        subject: input.subject,
        grantedScopes: granted,
        ...(input.approverAddress ? { approverAddress: input.approverAddress } : {}),
      },
      now,
    );
    if (outcome.kind === "not_found") {
      throw new OAuthError("not_found", "no pending request has this code; it may have expired");
    }
    // The same person's same decision again is answered as the first was: a
    // retry after a lost answer (a 503 from a deadline or a short WAIT,
    // docs/failure.md "Replication") must not be told it failed. It is
    // announced and audited again: the first answer may never have been.
    if (
      outcome.kind === "already_decided" &&
      (input.refuseRepeat === true || !sameDecision(outcome.authorization, input))
    ) {
      throw new OAuthError("already_decided", "this request has already been decided");
    }
    // After the commit: wake the streams waiting on this request, on any
    // instance. Best effort; they re-check the store anyway.
    void this.deps.notifier?.publish(user.tag);
    const who = {
      clientId: record.clientId,
      subject: input.subject,
      requesterAddress: record.ipAddress,
      approverAddress: input.approverAddress ?? "",
    };
    this.deps.events.record({ event: input.approve ? "approved" : "denied", ...who });
    if (!input.approve && input.reportPhishing === true) {
      this.deps.events.record({
        event: "phishing_reported",
        ...who,
        userAgent: record.userAgent,
      });
    }
    return {
      clientId: record.clientId,
      clientName: approving?.name ?? (await this.clientName(record.clientId)),
      approved: input.approve,
      // A retry keeps what the first decision granted.
      grantedScopes: outcome.authorization.grantedScopes ?? granted,
      requesterAddress: record.ipAddress,
    };
  }
}

/**
 * A decided record that `input` would have made: the same subject, and an
 * approval (the device may since have redeemed it) or a denial as asked.
 */
function sameDecision(a: DeviceAuthorization, input: DecideInput): boolean {
  if (a.subject !== input.subject) return false;
  return input.approve ? a.status === "approved" || a.status === "consumed" : a.status === "denied";
}
