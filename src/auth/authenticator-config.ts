/** Choosing the authenticator from configuration. */
import type { Authenticator } from "./authenticator.js";
import { LocalAuthenticator } from "./local-authenticator.js";
import { TrustedHeaderAuthenticator } from "./trusted-header-authenticator.js";
import type { LocalUser } from "./users-file.js";

/** How people sign in to the verification page (HANDOFF_AUTHENTICATOR). */
export type AuthenticatorConfig =
  | { readonly kind: "local"; readonly users: readonly LocalUser[] }
  | {
      readonly kind: "trusted-header";
      /** The header carrying the user name (HANDOFF_TRUSTED_HEADER). */
      readonly header: string;
      /** Addresses or CIDR ranges of the proxies allowed to set it (HANDOFF_TRUSTED_HEADER_PROXIES). */
      readonly proxies: readonly string[];
    };

/** Builds the configured authenticator. */
export function createAuthenticator(c: AuthenticatorConfig): Authenticator {
  return c.kind === "local"
    ? new LocalAuthenticator(c.users)
    : new TrustedHeaderAuthenticator({ header: c.header, proxies: c.proxies });
}
