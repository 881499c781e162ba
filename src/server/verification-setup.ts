/** Builds what the verification pages need from the server configuration and the chosen store. */
import { createHmac, randomBytes } from "node:crypto";
import type { AttemptLimiter, AttemptLimits } from "../auth/attempt-limits.js";
import { type AuthenticatorConfig, createAuthenticator } from "../auth/authenticator-config.js";
import { Sessions } from "../auth/sessions.js";
import type { DeviceFlow } from "../domain/device-flow.js";
import type { VerificationPagesOptions } from "../pages/verification-pages.js";
import { MemorySessionStore } from "../store/memory-session-store.js";
import { MemorySignInTransactionStore } from "../store/memory-sign-in-transaction-store.js";
import type { RedisConnection } from "../store/redis-connection.js";
import { RedisSessionStore } from "../store/redis-session-store.js";
import { RedisSignInTransactionStore } from "../store/redis-sign-in-transaction-store.js";

/** The verification-page part of the server configuration (HandoffConfig extends it). */
export interface PagesConfig {
  /** Who may sign in (local users with none: the pages then say nobody may). */
  readonly authenticator: AuthenticatorConfig;
  /** Seconds a page sign-in lasts. */
  readonly sessionTtl: number;
  readonly attemptLimits: AttemptLimits;
  /** Without Redis: sign-ins in progress at an identity provider held at most (HANDOFF_MEMORY_MAX_PENDING). */
  readonly memoryMaxPending: number;
  /**
   * HANDOFF_CSRF_SECRET: the secret every instance binds form tokens with.
   * Unset (start-dev, tests): a random key for this process only.
   */
  readonly csrfSecret?: string;
}

/** The CSRF key, derived from the secret for this one use (not the secret itself). */
function csrfKeyOf(secret: string | undefined): Buffer {
  return secret === undefined
    ? randomBytes(32)
    : createHmac("sha256", secret).update("handoff csrf token binding v1").digest();
}

/**
 * Counters and sessions go where the device records go: Redis when
 * configured (every instance shares them), else memory.
 */
export function verificationPagesSetup(
  c: PagesConfig,
  deps: {
    readonly issuer: string;
    readonly flow: DeviceFlow;
    readonly redis: RedisConnection | undefined;
    readonly keyPrefix: string;
    /** The attempt limiter the server shares with client authentication. */
    readonly limiter: AttemptLimiter;
  },
): Omit<VerificationPagesOptions, "base"> {
  const secure = new URL(deps.issuer).protocol === "https:";
  const sessionStore = deps.redis
    ? new RedisSessionStore(deps.redis, deps.keyPrefix)
    : new MemorySessionStore();
  return {
    flow: deps.flow,
    authenticator: createAuthenticator(c.authenticator, {
      issuer: deps.issuer,
      // Sign-ins in progress live where the sessions do: every instance can take the callback.
      transactions: () =>
        deps.redis
          ? new RedisSignInTransactionStore(deps.redis, deps.keyPrefix)
          : new MemorySignInTransactionStore(c.memoryMaxPending),
    }),
    sessions: new Sessions(sessionStore, { ttlSeconds: c.sessionTtl, secure }),
    limiter: deps.limiter,
    secure,
    csrfKey: csrfKeyOf(c.csrfSecret),
  };
}
