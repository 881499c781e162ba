/** Verification-page settings (HANDOFF_AUTHENTICATOR and friends) turned into server configuration. */
import type { Logger } from "pino";
import { attemptLimitsOf } from "../auth/attempt-limits.js";
import type { AuthenticatorConfig } from "../auth/authenticator-config.js";
import { proxyList } from "../auth/trusted-header-authenticator.js";
import { loadUsersFile } from "../auth/users-file.js";
import { DEMO_USER } from "../config/dev-seed.js";
import type { Settings } from "../config/settings.js";
import { hashScrypt } from "../domain/secret-hash.js";
import { oidcConfig } from "./oidc-settings.js";
import type { PagesConfig } from "./verification-setup.js";
import { weakUserProblems } from "./weak-settings.js";

/**
 * Development seeds the user `demo` (password `demo`) unless the users file
 * already has one; production seeds nothing. Production with no users at all
 * still starts, with a warning: an internal service may approve over RPC.
 */
export async function pagesConfig(s: Settings, mode: string, logger: Logger): Promise<PagesConfig> {
  let authenticator: AuthenticatorConfig;
  if (s.HANDOFF_AUTHENTICATOR === "trusted-header") {
    if (!s.HANDOFF_TRUSTED_HEADER_PROXIES) {
      throw new Error(
        "HANDOFF_TRUSTED_HEADER_PROXIES: required with HANDOFF_AUTHENTICATOR=trusted-header (the proxy addresses or CIDR ranges allowed to set the header)",
      );
    }
    const proxies = s.HANDOFF_TRUSTED_HEADER_PROXIES.split(",").map((p) => p.trim());
    try {
      proxyList(proxies);
    } catch (e) {
      throw new Error(`HANDOFF_TRUSTED_HEADER_PROXIES: ${(e as Error).message}`);
    }
    authenticator = { kind: "trusted-header", header: s.HANDOFF_TRUSTED_HEADER, proxies };
  } else if (s.HANDOFF_AUTHENTICATOR === "oidc") {
    authenticator = await oidcConfig(s, mode === "production" ? "production" : "development");
  } else {
    const users = s.HANDOFF_USERS_FILE ? await loadUsersFile(s.HANDOFF_USERS_FILE) : [];
    if (mode === "development" && !users.some((u) => u.username === DEMO_USER.username)) {
      users.unshift({
        username: DEMO_USER.username,
        passwordHash: await hashScrypt(DEMO_USER.password),
      });
    }
    if (mode === "production") {
      const weak = await weakUserProblems(users);
      if (weak.length > 0)
        throw new Error(`handoff start refuses weak users:\n  ${weak.join("\n  ")}`);
    }
    if (users.length === 0) {
      logger.warn(
        "no users can sign in to the verification page (set HANDOFF_USERS_FILE; add users with `handoff users add`)",
      );
    }
    authenticator = { kind: "local", users };
  }
  return {
    authenticator,
    sessionTtl: s.HANDOFF_SESSION_TTL,
    ...(s.HANDOFF_CSRF_SECRET === undefined ? {} : { csrfSecret: s.HANDOFF_CSRF_SECRET }),
    memoryMaxPending: s.HANDOFF_MEMORY_MAX_PENDING,
    attemptLimits: attemptLimitsOf(s),
  };
}
